"""Reading input layers: only what is needed, into the working CRS, checked and repaired at the boundary."""

from __future__ import annotations

import unicodedata
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import landuse, sources
from .crs import to_working
from .errors import InputFileError, LayerError
from .parallel import geos_map
from .report import Repair, RunReport
from .scenario import AdminSpec, LayerRef, ParcelsSpec, ProjectSpec


def layer_crs(ref: LayerRef) -> pyproj.CRS | None:
    """The CRS a layer declares, or ``None``."""
    try:
        return sources.layer_crs(ref.path, ref.layer)
    except sources.SourceError as exc:
        raise InputFileError(f"{ref.label()}: cannot be read ({exc}); check the file is complete") from None


def read_layer(ref: LayerRef, crs: pyproj.CRS, *, columns: list[str] | None = None,
               mask: shapely.Geometry | np.ndarray | None = None, report: RunReport | None = None,
               beside: bool = False) -> gpd.GeoDataFrame:
    """Read a layer into the working ``crs``.

    ``mask`` (a geometry or an array of them, in the working CRS) limits reading to features that intersect it, using the
    file's spatial index, so memory follows the projects rather than the whole city. With ``beside``, the
    features that may overlap one of those read are read too (:func:`landplan.sources.read`), marked
    ``True`` in a column ``_beside``.
    """
    src_crs = layer_crs(ref)
    if src_crs is None:
        raise LayerError(
            f"{ref.label()}: the layer has no coordinate reference system. Fix: set it in QGIS "
            f"(Layer ▸ Set CRS, then save) or add the .prj; Cần Thơ cadastre is usually EPSG:5897 (VN-2000 / TM-3 105°)"
        )
    if mask is not None and not src_crs.equals(crs):
        tr = pyproj.Transformer.from_crs(crs, src_crs, always_xy=True)
        mask = shapely.transform(shapely.segmentize(mask, 500.0), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = sources.read(ref.path, ref.layer, columns=columns, where=ref.where, mask=mask, beside=beside and mask is not None)
        if report is not None:  # what GDAL repaired on the way in (an unclosed ring, say) is reported
            for msg in dict.fromkeys(str(w.message).splitlines()[0] for w in caught if issubclass(w.category, RuntimeWarning)):
                if "non conformant file extension" not in msg:
                    report.warn(f"{ref.label()}: GDAL: {msg}")
    except sources.SourceError as exc:
        msg = str(exc)
        if "closed linestring" in msg.lower():
            hint = "a polygon ring is not closed: repair the layer (QGIS: Vector ▸ Geometry Tools ▸ Fix Geometries)"
        elif ref.where and "where" in msg.lower():
            hint = "check the `where` filter"
        else:
            hint = "check the file is complete and not open for writing"
        raise InputFileError(f"{ref.label()}: cannot be read ({msg}); {hint}") from None
    if gdf.crs is None:
        gdf = gdf.set_crs(src_crs)
    return to_working(gdf, crs, source=ref.label())


def repair_polygons(gdf: gpd.GeoDataFrame, *, layer: str, id_column: str | None, report: RunReport) -> gpd.GeoDataFrame:
    """Drop empty geometries and repair invalid ones with ``make_valid``; each repair is recorded.

    Never uses ``buffer(0)``, which drops a lobe of a self-intersecting ("bowtie") polygon; ``make_valid``
    keeps both lobes. Points and lines produced by the repair are dropped (they have no area).
    """
    geoms = np.asarray(gdf.geometry.values)
    empty = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if empty.any():
        report.warn(f"{layer}: {int(empty.sum())} feature(s) with empty or missing geometry ignored")
        gdf = gdf.loc[~empty]
        geoms = np.asarray(gdf.geometry.values)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    coords_ok = np.ones(len(geoms), dtype=bool)
    np.logical_and.at(coords_ok, owner, np.isfinite(coords).all(axis=1))
    if not coords_ok.all():
        bad = gdf[id_column].to_numpy()[~coords_ok] if id_column else gdf.index.to_numpy()[~coords_ok]
        report.warn(f"{layer}: {int((~coords_ok).sum())} feature(s) with NaN or infinite coordinates ignored "
                    f"({', '.join(map(str, bad[:5]))}{' …' if len(bad) > 5 else ''}); fix their vertices")
        gdf = gdf.loc[coords_ok]
        geoms = np.asarray(gdf.geometry.values)
    if shapely.has_z(geoms).any():
        gdf = gdf.set_geometry(shapely.force_2d(geoms))  # heights play no part in land area
        geoms = np.asarray(gdf.geometry.values)
    types = shapely.get_type_id(geoms)
    not_poly = ~np.isin(types, [3, 6])
    if not_poly.all() and len(gdf):
        raise LayerError(f"{layer}: holds no polygons (geometry type {shapely.get_type_id(geoms[0])}); parcels must be polygons")
    if not_poly.any():
        report.warn(f"{layer}: {int(not_poly.sum())} non-polygon feature(s) ignored")
        gdf = gdf.loc[~not_poly]
        geoms = np.asarray(gdf.geometry.values)
    invalid = ~geos_map(shapely.is_valid, geoms)
    if not invalid.any():
        return gdf
    from .footprints import polygonal

    idx = np.flatnonzero(invalid)
    before = shapely.area(geoms[idx])
    fixed = polygonal(shapely.make_valid(geoms[idx]))
    after = shapely.area(fixed)
    ids = gdf[id_column].to_numpy()[idx] if id_column else gdf.index.to_numpy()[idx]
    for fid, reason, b, a in zip(ids, shapely.is_valid_reason(geoms[idx]), before, after):
        report.repaired(Repair(layer, str(fid), f"make_valid: {reason}", float(b), float(a)))
    new = np.asarray(geoms, dtype=object).copy()
    new[idx] = fixed
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
    report.warn(f"{layer}: {len(idx)} invalid polygon(s) repaired with make_valid (listed in manifest.json)")
    return out


def _text(values: pd.Series, *, label: str, column: str, report: RunReport) -> pd.Series:
    """A text column as Unicode NFC: legacy Vietnamese encodings converted (and reported), then NFC."""
    from . import textenc

    fixed, enc = textenc.repair(values.fillna("").astype(str))
    if enc:
        report.warn(f"{label}: column {column!r} was in {textenc.NAMES[enc]}, converted to Unicode "
                    f"(e.g. {values.iloc[0]!r} → {fixed.iloc[0]!r})")
    return _nfc(fixed)


def _nfc(values: pd.Series) -> pd.Series:
    """Text as Unicode NFC, stripped: "Nguyễn" typed with combining marks (NFD, as some software saves
    it) and with precomposed letters (NFC) become the same string. Each distinct value is normalised once."""
    text = values.astype(str)
    ascii_ = text.str.isascii().to_numpy(dtype=bool)
    if ascii_.all():  # ids and codes: nothing to compose
        return text.str.strip()
    uniq = {v: unicodedata.normalize("NFC", v).strip() for v in text[~ascii_].unique()}
    return text.where(ascii_, text.map(uniq)).str.strip()


def read_parcels(spec: ParcelsSpec, crs: pyproj.CRS, *, mask: shapely.Geometry | np.ndarray | None, report: RunReport) -> gpd.GeoDataFrame:
    """Read parcels touching ``mask`` into columns ``parcel_id``, ``landuse``, ``owner``, ``neighbour``, geometry.

    Land-use codes are normalised (``" luc"`` → ``"LUC"``); unknown codes are kept and reported.
    A parcel id used twice is an error. With a ``mask``, the parcels that overlap a parcel read
    (but do not touch the mask) are read as well, with ``neighbour = True``: the parcel-overlap
    rule needs them, so that what a parcel counts does not depend on which other projects the
    run measures. They take no part in anything else.
    """
    label = spec.source.label()
    cols = [spec.id_column, spec.landuse_column] + ([spec.owner_column] if spec.owner_column else [])
    raw = read_layer(spec.source, crs, columns=cols, mask=mask, report=report, beside=mask is not None)
    if "_beside" not in raw:
        raw = raw.assign(_beside=False)
    missing = sources.features_without_geometry(spec.source.path, spec.source.layer)
    if missing:
        report.warn(f"{label}: {missing} feature(s) without geometry ignored (they cannot lie under a footprint); "
                    f"fix or delete them in the layer")
    ids = raw[spec.id_column]
    if ids.isna().any():
        n = int(ids.isna().sum())
        raise LayerError(f"{label}: {n} parcel(s) have no id in column {spec.id_column!r}; give every parcel an id")
    ids = _nfc(ids)
    beside = raw["_beside"].to_numpy(dtype=bool)
    if beside.any():  # a feature read both by the mask and beside it is the same feature: keep it once
        main_geom = dict(zip(ids[~beside], raw.geometry.values[~beside]))
        again = np.zeros(len(raw), dtype=bool)
        for k in np.flatnonzero(beside):
            i = ids.iloc[k]
            again[k] = i in main_geom and bool(shapely.equals_exact(raw.geometry.values[k], main_geom[i], 0.0))
        if again.any():
            raw, ids, beside = raw[~again], ids[~again], beside[~again]
    dup = ids[ids.duplicated(keep=False)]
    if len(dup):
        first = sorted(set(dup))[:5]
        raise LayerError(f"{label}: parcel id(s) used more than once in column {spec.id_column!r}: "
                         f"{', '.join(first)}{' …' if dup.nunique() > 5 else ''}; make ids unique")
    lu = raw[spec.landuse_column].fillna("")
    codes = lu.map({v: landuse.normalize_code(v) for v in lu.unique()})
    out = gpd.GeoDataFrame(
        {
            "parcel_id": ids.to_numpy(),
            "landuse": codes.to_numpy(),
            "owner": (_text(raw[spec.owner_column], label=label, column=spec.owner_column, report=report).to_numpy()
                      if spec.owner_column else ""),
            "neighbour": beside,
        },
        geometry=raw.geometry.values, crs=raw.crs,
    )
    main = out[~out["neighbour"]]
    unknown = sorted(c for c in main["landuse"].unique() if not landuse.is_known(c))
    if unknown:
        counts = main["landuse"].value_counts()
        shown = ", ".join(f"{c or '(empty)'} ×{counts[c]}" for c in unknown[:10])
        report.warn(f"{label}: land-use code(s) not in landplan's table, kept as group 'other': {shown}")
    out = repair_polygons(out, layer=label, id_column="parcel_id", report=report)
    return _overlapping_neighbours_only(out)


def _overlapping_neighbours_only(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the neighbours (``neighbour = True``) whose interior meets a parcel read under the mask."""
    nb = parcels["neighbour"].to_numpy(dtype=bool)
    if not nb.any():
        return parcels
    geoms = np.asarray(parcels.geometry.values)
    main_idx, nb_idx = np.flatnonzero(~nb), np.flatnonzero(nb)
    tree = shapely.STRtree(geoms[main_idx])
    qi, mi = tree.query(geoms[nb_idx], predicate="intersects")
    real = shapely.relate_pattern(geoms[nb_idx[qi]], geoms[main_idx[mi]], "T********")
    keep = ~nb
    keep[nb_idx[np.unique(qi[real])]] = True
    return parcels[keep]


def read_admin(spec: AdminSpec, crs: pyproj.CRS, *, mask: shapely.Geometry | None, report: RunReport) -> gpd.GeoDataFrame:
    """Read administrative units into ``admin_unit`` and geometry."""
    raw = read_layer(spec.source, crs, columns=[spec.name_column], mask=mask)
    names = _text(raw[spec.name_column], label=spec.source.label(), column=spec.name_column, report=report)
    out = gpd.GeoDataFrame({"admin_unit": names.to_numpy()},
                           geometry=raw.geometry.values, crs=raw.crs)
    return repair_polygons(out, layer=spec.source.label(), id_column="admin_unit", report=report)


def read_project(spec: ProjectSpec, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Read a project's features (centreline segments or acquisition polygons)."""
    cols = [spec.width_column] if spec.width_column else []
    gdf = read_layer(spec.source, crs, columns=cols)
    if gdf.empty:
        where = f" with where = {spec.source.where!r}" if spec.source.where else ""
        raise LayerError(f"{spec.source.label()}: no features for project {spec.id!r}{where}; check the layer and the filter")
    return gdf
