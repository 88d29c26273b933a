"""Prepare a parcel layer for fast masked reads: a GeoParquet copy in spatial (Hilbert) order.

A masked read of GeoParquet skips the row groups whose bounding boxes (row-group statistics of the
bbox covering columns) miss the projects' footprints. That only pays when each row group holds one
part of the map: a file written in arbitrary order has row groups that each span the whole layer,
and every run then decodes every row. :func:`sort_layer` writes the sorted copy once; the input is
never changed and the copy appears whole or not at all.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import geopandas as gpd
import numpy as np

from . import sources
from .errors import InputFileError, LayerError

log = logging.getLogger(__name__)

#: Rows per row group of the sorted copy: small enough that a corridor's few kilometres meet few
#: groups, large enough that the file's metadata stays small (4M parcels: 400 groups).
ROW_GROUP_SIZE = 10_000


def sort_layer(src: str | Path, dst: str | Path, *, layer: str | None = None,
               row_group_size: int = ROW_GROUP_SIZE) -> Path:
    """Write ``src`` (any vector layer landplan reads) to ``dst`` as GeoParquet in Hilbert order, with a
    bbox covering column and ``row_group_size`` rows per group; return ``dst``.

    Every column and the CRS are kept; features without geometry come last. ``dst`` is written
    beside itself under a temporary name and renamed into place, so a reader never sees half a file.
    """
    src, dst = Path(src), Path(dst)
    if not src.exists():
        raise InputFileError(f"{src}: no such file")
    if dst.suffix.lower() not in sources.PARQUET_SUFFIXES:
        raise LayerError(f"{dst}: the sorted copy is GeoParquet; give it a .parquet name")
    if dst.exists() and dst.resolve() == src.resolve():
        raise LayerError(f"{dst}: the sorted copy must be a new file; the input is never overwritten")
    if row_group_size < 1:
        raise LayerError(f"row groups must hold at least one row, not {row_group_size}")
    try:
        gdf = _read_all(src, layer)
    except sources.SourceError as exc:
        raise LayerError(f"{src}: cannot be read ({exc})") from exc
    if gdf.crs is None:
        raise LayerError(f"{src}: the layer has no CRS; set it (in QGIS: Layer Properties → Source) before sorting")
    geoms = gdf.geometry
    present = ~(geoms.isna() | geoms.is_empty).to_numpy()
    key = np.full(len(gdf), np.iinfo("int64").max, dtype="int64")
    if present.any():
        key[present] = gdf[present].hilbert_distance(total_bounds=gdf[present].total_bounds).to_numpy(dtype="int64")
    order = np.argsort(key, kind="stable")
    log.info("writing %d features in Hilbert order, %d row groups …", len(gdf), -(-len(gdf) // row_group_size))
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        gdf.iloc[order].to_parquet(tmp, write_covering_bbox=True, row_group_size=row_group_size, index=False)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return dst


def _read_all(src: Path, layer: str | None) -> gpd.GeoDataFrame:
    """Every feature and column of ``src``'s layer (the only one, or ``layer``)."""
    layers = sources.list_layers(src)
    if layer is None and sources.is_parquet(src):
        layer = layers[0]
    if layer is None:
        if len(layers) != 1:
            raise LayerError(f"{src}: holds {len(layers)} layers ({', '.join(layers[:8])}); name one with --layer")
        layer = layers[0]
    elif layer not in layers:
        raise LayerError(f"{src}: no layer {layer!r}; its layers are {', '.join(layers[:8])}")
    try:
        if sources.is_parquet(src):
            return gpd.read_parquet(src)
        return gpd.read_file(src, layer=layer, engine="pyogrio", use_arrow=True)
    except Exception as exc:  # a corrupt file: GDAL's or pyarrow's words, one line
        raise sources.SourceError(sources.first_line(exc)) from exc
