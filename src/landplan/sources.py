"""Vector files of every supported format: list layers and fields, read CRS, read features under a mask.

GDAL (through pyogrio, with Arrow) reads GeoPackage, shapefile, GeoJSON, FlatGeobuf and the rest;
GeoParquet is read with pyarrow (the GDAL in pyogrio's wheels has no Parquet driver), using the
file's bbox covering column and row-group statistics to skip data outside the mask.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

PARQUET_SUFFIXES = (".parquet", ".geoparquet")

try:  # Arrow makes reading several times faster; fall back when it is not installed.
    import pyarrow  # noqa: F401

    _USE_ARROW = True
except ImportError:  # pragma: no cover
    _USE_ARROW = False


class SourceError(Exception):
    """A file could not be read; the message is GDAL's or pyarrow's first line."""


def is_parquet(path: Path) -> bool:
    """True for GeoParquet files (by suffix)."""
    return path.suffix.lower() in PARQUET_SUFFIXES


def list_layers(path: Path) -> list[str]:
    """Layer names in ``path`` (a GeoParquet file has one layer, named after the file)."""
    try:
        if is_parquet(path):
            _parquet_geo(path)
            return [path.stem]
        return [str(x) for x in pyogrio.list_layers(path)[:, 0]]
    except Exception as exc:  # noqa: BLE001 - GDAL and Arrow fail in many classes
        raise SourceError(first_line(exc)) from None


def fields(path: Path, layer: str) -> list[str]:
    """Attribute column names of a layer."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        geo = _parquet_geo(path)
        skip = set(geo.get("columns", {})) | {c for c in ("bbox",)}
        return [n for n in pq.read_schema(path).names if n not in skip]
    return [str(f) for f in pyogrio.read_info(path, layer=layer)["fields"]]


def layer_crs(path: Path, layer: str) -> pyproj.CRS | None:
    """The CRS a layer declares, or ``None`` when it declares none."""
    try:
        if is_parquet(path):
            geo = _parquet_geo(path)
            col = geo["columns"][geo["primary_column"]]
            crs = col.get("crs", "OGC:CRS84")  # the GeoParquet default when the key is absent
            return None if crs is None else pyproj.CRS.from_user_input(crs)
        info = pyogrio.read_info(path, layer=layer)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(first_line(exc)) from None
    return pyproj.CRS(info["crs"]) if info.get("crs") else None


def total_bounds(path: Path, layer: str) -> tuple[float, float, float, float] | None:
    """The layer's extent in its own CRS, when the format records it cheaply."""
    try:
        if is_parquet(path):
            geo = _parquet_geo(path)
            b = geo["columns"][geo["primary_column"]].get("bbox")
        else:
            b = pyogrio.read_info(path, layer=layer, force_total_bounds=True).get("total_bounds")
        return None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    except Exception:  # noqa: BLE001
        return None


def read(path: Path, layer: str, *, columns: list[str] | None, where: str | None,
         mask: shapely.Geometry | None) -> gpd.GeoDataFrame:
    """Read features of a layer that intersect ``mask`` (in the layer's CRS), with only ``columns``."""
    try:
        if is_parquet(path):
            return _read_parquet(path, columns=columns, where=where, mask=mask)
        kwargs: dict[str, Any] = {"layer": layer, "columns": columns, "use_arrow": _USE_ARROW}
        if where:
            kwargs["where"] = where
        if mask is not None:
            kwargs["mask"] = mask
        return pyogrio.read_dataframe(path, **kwargs)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SourceError(first_line(exc)) from None


def _parquet_geo(path: Path) -> dict[str, Any]:
    import json

    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"geo")
    if raw is None:
        raise SourceError("a Parquet file without GeoParquet metadata (no 'geo' key); write it with geopandas.to_parquet")
    return dict(json.loads(raw))


_WHERE = re.compile(r"""^\s*"?(\w+)"?\s*=\s*'((?:[^']|'')*)'\s*$""")


def _read_parquet(path: Path, *, columns: list[str] | None, where: str | None, mask: shapely.Geometry | None) -> gpd.GeoDataFrame:
    import pyarrow.compute as pc

    geo = _parquet_geo(path)
    gcol = geo["primary_column"]
    covering = geo["columns"][gcol].get("covering", {}).get("bbox")
    filters = None
    if where:
        m = _WHERE.match(where)
        if not m:
            raise SourceError(f"GeoParquet layers take only filters of the form column = 'value', got {where!r}")
        filters = pc.field(m.group(1)) == m.group(2).replace("''", "'")
    if mask is not None and covering:
        bcol = covering["xmin"][0]
        boxes = _mask_boxes(mask)
        expr = None
        for xmin, ymin, xmax, ymax in boxes:
            e = ((pc.field(bcol, "xmin") <= xmax) & (pc.field(bcol, "xmax") >= xmin)
                 & (pc.field(bcol, "ymin") <= ymax) & (pc.field(bcol, "ymax") >= ymin))
            expr = e if expr is None else expr | e
        filters = expr if filters is None else filters & expr
    cols = None if columns is None else [*columns, gcol]
    gdf = gpd.read_parquet(path, columns=cols, filters=filters)
    if mask is not None:
        gdf = gdf[shapely.intersects(gdf.geometry.values, mask)]
    return gdf


def _mask_boxes(mask: shapely.Geometry, size: float | None = None) -> list[tuple[float, float, float, float]]:
    """Cover ``mask`` with small boxes (one per part, long parts cut in pieces) for a bbox filter."""
    parts = shapely.get_parts(mask)
    xmin, ymin, xmax, ymax = shapely.total_bounds(parts)
    cell = size or max(xmax - xmin, ymax - ymin) / 64 or 1.0
    boxes: list[tuple[float, float, float, float]] = []
    for part in parts:
        bx0, by0, bx1, by1 = shapely.bounds(part)
        nx, ny = int(np.ceil((bx1 - bx0) / cell)) or 1, int(np.ceil((by1 - by0) / cell)) or 1
        if nx * ny == 1:
            boxes.append((bx0, by0, bx1, by1))
            continue
        xs = np.linspace(bx0, bx1, nx + 1)
        ys = np.linspace(by0, by1, ny + 1)
        cells = shapely.box(*np.meshgrid(xs[:-1], ys[:-1]), *np.meshgrid(xs[1:], ys[1:]))
        hit = cells[shapely.intersects(cells.ravel(), part).reshape(cells.shape)]
        boxes.extend(tuple(b) for b in shapely.bounds(hit))
    return boxes


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (GDAL's are long)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
