"""Reading input layers: only what is needed, into the working CRS, checked and repaired at the boundary."""

from __future__ import annotations

import functools
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from . import landuse, sources
from .arrays import unique
from .crs import to_working
from .errors import InputFileError, LayerError
from .parallel import geos_map, tree_query
from .report import Repair, RunReport, SetAside
from .scenario import AdminSpec, LayerRef, ParcelsSpec, ProjectSpec


def layer_crs(ref: LayerRef) -> pyproj.CRS | None:
    """The CRS a layer declares, or ``None``."""
    try:
        return sources.layer_crs(ref.path, ref.layer)
    except sources.SourceError as exc:
        raise InputFileError(f"{ref.label()}: cannot be read ({exc}); check the file is complete") from exc


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
        from .crs import transformer

        transformer(src_crs, crs, source=ref.label())  # a CRS that cannot be placed in the working CRS is refused, named
        tr = pyproj.Transformer.from_crs(crs, src_crs, always_xy=True)
        mask = shapely.transform(shapely.segmentize(mask, 500.0), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gdf = sources.read(ref.path, ref.layer, columns=columns, where=ref.where, mask=mask, beside=beside and mask is not None)
        if report is not None:  # what GDAL repaired on the way in (an unclosed ring, say) is reported
            for msg in dict.fromkeys(str(w.message).splitlines()[0] for w in caught if issubclass(w.category, RuntimeWarning)):
                # an unclosed ring is closed on reading and reported by feature (repair_polygons)
                if "non conformant file extension" not in msg and "Non closed ring" not in msg:
                    report.warn(f"{ref.label()}: GDAL: {msg}")
    except sources.SourceError as exc:
        msg = str(exc)
        if "closed linestring" in msg.lower():
            hint = "a polygon ring is not closed: repair the layer (QGIS: Vector ▸ Geometry Tools ▸ Fix Geometries)"
        elif ref.where and "where" in msg.lower():
            hint = "check the `where` filter"
        else:
            hint = "check the file is complete and not open for writing"
        raise InputFileError(f"{ref.label()}: cannot be read ({msg}); {hint}") from exc
    if gdf.crs is None:
        gdf = gdf.set_crs(src_crs)
    return to_working(gdf, crs, source=ref.label())


@dataclass(frozen=True)
class TextColumn:
    """A text column of every feature of a layer, as :func:`read_parcels` reads text (a legacy encoding
    converted, Unicode NFC, stripped): the features' numbers and the values (a pyarrow array)."""

    numbers: np.ndarray
    values: Any


def _normal_text(arr: Any) -> Any:
    """A pyarrow text array as :func:`read_parcels` reads text: a legacy encoding converted (detected on a
    sample, as one program wrote the column), Unicode NFC, stripped."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from . import textenc

    text = pc.cast(arr, pa.string()).fill_null("")
    enc = textenc.detect(text.slice(0, 20_000).to_pylist())
    if enc:  # rare: the slow way, value by value, as the parcels' own read converts them
        return pa.array(_nfc(textenc.convert(pd.Series(text.to_pylist()), enc).fillna("")).to_list(), type=pa.string())
    # composed (NFC) where combining marks are found (text saved in NFD), the rest as it is: a third of the time of
    # composing every value, for the same strings
    marks = textenc.combining_marks(text)
    if marks.any():
        values = np.asarray(text.to_numpy(zero_copy_only=False), dtype=object)
        values[marks] = [unicodedata.normalize("NFC", v) for v in values[marks]]
        text = pa.array(values, type=pa.string())
    return pc.utf8_trim_whitespace(text)


def text_column(ref: LayerRef, column: str) -> TextColumn:
    """Every feature's ``column`` (no geometry), read as :func:`read_parcels` reads text: the first half
    of :func:`read_where_in`, which a caller may run early (it does not depend on the values sought)."""
    try:
        numbers, values = sources.read_column(ref.path, ref.layer, column, where=ref.where)
    except sources.SourceError as exc:
        raise InputFileError(f"{ref.label()}: cannot be read ({exc}); check the file is complete") from exc
    return TextColumn(numbers, _normal_text(values))


def read_where_in(ref: LayerRef, crs: pyproj.CRS, column: str, values: set[str], *, columns: list[str],
                  scanned: TextColumn | None = None) -> gpd.GeoDataFrame:
    """Features of a layer whose text ``column`` is one of ``values``, into the working ``crs``: an
    attribute-filtered read (not a spatial one), e.g. every parcel of the owners a project affects,
    wherever they lie. The column is compared as :func:`read_parcels` reads text
    (:func:`text_column`, or ``scanned`` when already read), and comes back so; ``columns`` are read
    as they are."""
    import pyarrow as pa
    import pyarrow.compute as pc

    src_crs = layer_crs(ref)
    if src_crs is None:
        raise LayerError(f"{ref.label()}: the layer has no coordinate reference system")
    col = scanned if scanned is not None else text_column(ref, column)
    chosen = np.asarray(pc.is_in(col.values, value_set=pa.array(sorted(values), type=pa.string())).to_numpy(zero_copy_only=False),
                        dtype=bool)
    try:
        gdf = sources.read_features(ref.path, ref.layer, col.numbers[chosen], columns=[c for c in dict.fromkeys(columns) if c != column])
    except sources.SourceError as exc:
        raise InputFileError(f"{ref.label()}: cannot be read ({exc}); check the file is complete") from exc
    at = pd.Index(col.numbers).get_indexer(gdf.index.to_numpy())
    gdf[column] = np.asarray(col.values.take(pa.array(at)).to_numpy(zero_copy_only=False), dtype=object)
    if gdf.crs is None:
        gdf = gdf.set_crs(src_crs)
    return to_working(gdf, crs, source=ref.label())


def _names(ids: np.ndarray, n: int = 5) -> str:
    """The first ``n`` of ``ids`` for a message, with "…" when there are more."""
    return ", ".join(map(str, ids[:n])) + (f" … ({len(ids)} in all)" if len(ids) > n else "")


def repair_polygons(gdf: gpd.GeoDataFrame, *, layer: str, id_column: str | None, report: RunReport) -> gpd.GeoDataFrame:
    """Measure every feature, repair it, or set it aside naming it: never lose one silently.

    * a ring left open in the file was closed on reading (:data:`landplan.sources.REPAIRED_ON_READ`):
      reported as a repair;
    * a geometry collection keeps its polygons (reported as a repair; its lines and points hold no land);
    * invalid polygons are repaired with ``make_valid`` (never ``buffer(0)``, which drops a lobe of a
      self-intersecting "bowtie"), each recorded with its area before and after; points and lines
      the repair produces are dropped (they have no area);
    * set aside, each named with the land it held: features with no geometry, with NaN or infinite
      coordinates, far outside the area the CRS is meant for (a feature at 10¹⁵ m), and points or
      lines among polygons.
    """
    from . import sources
    from .footprints import polygonal

    ids_all = gdf[id_column].astype(str).to_numpy() if id_column else gdf.index.astype(str).to_numpy()
    if sources.REPAIRED_ON_READ in gdf:
        note = gdf[sources.REPAIRED_ON_READ].fillna("").to_numpy()
        for k in np.flatnonzero(note != ""):
            g = gdf.geometry.values[k]
            report.repaired(Repair(layer, ids_all[k], str(note[k]), float("nan"), float(shapely.area(g)) if g is not None else 0.0))
        if (note != "").any():
            report.warn(f"{layer}: {int((note != '').sum())} polygon(s) whose ring was not closed in the file, closed on reading "
                        f"({_names(ids_all[note != ''])}; listed in manifest.json)")
        gdf = gdf.drop(columns=sources.REPAIRED_ON_READ)
    geoms = np.asarray(gdf.geometry.values)
    aside = np.zeros(len(gdf), dtype=bool)
    reasons: dict[str, np.ndarray] = {}

    def set_aside(mask: np.ndarray, reason: str, area: np.ndarray | float) -> None:
        mask = mask & ~aside
        if not mask.any():
            return
        areas = np.broadcast_to(np.asarray(area, dtype="float64"), (len(gdf),))
        for k in np.flatnonzero(mask):
            report.aside(SetAside(layer, ids_all[k], reason, float(areas[k])))
        held = np.nansum(areas[mask])
        report.warn(f"{layer}: {int(mask.sum())} feature(s) set aside, {reason} ({_names(ids_all[mask])}); "
                    f"land they held: {held:,.2f} m²" + ("" if np.isfinite(areas[mask]).all() else " (and some of unknown area)"))
        reasons[reason] = mask
        aside[mask] = True

    set_aside(shapely.is_empty(geoms) | shapely.is_missing(geoms), "no geometry: fix or delete them in the layer", 0.0)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    coords_ok = np.ones(len(geoms), dtype=bool)
    coords_ok[owner[~np.isfinite(coords).all(axis=1)]] = False
    set_aside(~coords_ok, "NaN or infinite coordinates: fix their vertices", np.nan)
    far = _far_outside(geoms, gdf.crs) & ~aside
    if far.any():
        set_aside(far, "far outside the area its CRS is meant for: check the vertices and the layer's CRS",
                  np.nan_to_num(shapely.area(_only(geoms, far)), nan=0.0))
    live = ~aside
    if shapely.has_z(geoms[live]).any():
        geoms = geoms.copy()
        geoms[live] = shapely.force_2d(geoms[live])  # heights play no part in land area
    types: np.ndarray = np.asarray(shapely.get_type_id(_only(geoms, live)))
    collections = live & (types == 7)
    if collections.any():
        geoms = geoms.copy()
        for k in np.flatnonzero(collections):
            kept = polygonal(np.array([geoms[k]], dtype=object))[0]
            dropped = [shapely.get_type_id(p) for p in shapely.get_parts(geoms[k]) if shapely.get_type_id(p) not in (3, 6)]
            if not shapely.is_empty(kept):
                report.repaired(Repair(layer, ids_all[k], f"geometry collection: its polygons kept, {len(dropped)} line(s)/point(s) "
                                       f"dropped (no area)", float(shapely.area(kept)), float(shapely.area(kept))))
                geoms[k] = kept
        types = np.asarray(shapely.get_type_id(_only(geoms, live)))
        n = int((collections & np.isin(types, [3, 6])).sum())
        if n:
            report.warn(f"{layer}: {n} geometry collection(s) kept as their polygons ({_names(ids_all[collections & np.isin(types, [3, 6])])}; "
                        f"listed in manifest.json)")
    not_poly = live & ~np.isin(types, [3, 6])
    if not_poly.all() and len(gdf):
        names = {0: "points", 1: "lines", 2: "rings", 4: "points", 5: "lines", 7: "collections of lines or points"}
        raise LayerError(f"{layer}: holds no polygons (its features are {names.get(int(types[0]), 'not polygons')}); "
                         f"parcels must be polygons: check that it is the right layer")
    set_aside(not_poly, "points or lines, not polygons: they hold no land", 0.0)
    if aside.any() or collections.any():
        gdf = gdf.copy()
        gdf[gdf.geometry.name] = gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs)
        gdf, geoms, ids_all = gdf.loc[~aside], geoms[~aside], ids_all[~aside]
    invalid = ~geos_map(shapely.is_valid, geoms)
    if not invalid.any():
        return gdf

    idx = np.flatnonzero(invalid)
    before = shapely.area(geoms[idx])
    fixed = polygonal(shapely.make_valid(geoms[idx]))
    after = shapely.area(fixed)
    for fid, reason, b, a in zip(ids_all[idx], shapely.is_valid_reason(geoms[idx]), before, after):
        report.repaired(Repair(layer, str(fid), f"make_valid: {reason}", float(b), float(a)))
    new = np.asarray(geoms, dtype=object).copy()
    new[idx] = fixed
    out = gdf.copy()
    out[out.geometry.name] = gpd.GeoSeries(new, index=gdf.index, crs=gdf.crs)
    report.warn(f"{layer}: {len(idx)} invalid polygon(s) repaired with make_valid ({_names(ids_all[idx])}; listed in manifest.json)")
    return out


def _only(geoms: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``geoms`` where ``keep``, None elsewhere."""
    out = np.full(len(geoms), None, dtype=object)
    out[keep] = geoms[keep]
    return out


#: A feature whose box reaches farther than this (m) beyond the CRS's area of use is set aside.
FAR_OUTSIDE_M = 1_000_000.0


def _far_outside(geoms: np.ndarray, crs: object) -> np.ndarray:
    """True for geometries reaching more than :data:`FAR_OUTSIDE_M` beyond the area the CRS is meant for
    (its area of use, projected), e.g. a vertex typed at 10¹⁵ m; all False when the CRS says no area."""
    out = np.zeros(len(geoms), dtype=bool)
    try:
        area = _crs_area(pyproj.CRS(crs))
    except Exception:  # noqa: BLE001 - no CRS to compare with
        area = None
    if area is None:
        return out
    ok = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    b = shapely.bounds(geoms[ok])
    with np.errstate(invalid="ignore"):
        far = (b[:, 0] < area[0]) | (b[:, 1] < area[1]) | (b[:, 2] > area[2]) | (b[:, 3] > area[3])
    out[np.flatnonzero(ok)[far]] = True
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


def read_parcels(spec: ParcelsSpec, crs: pyproj.CRS, *, mask: shapely.Geometry | np.ndarray | None, report: RunReport,
                 neighbours: bool = True) -> gpd.GeoDataFrame:
    """Read parcels touching ``mask`` into columns ``parcel_id``, ``landuse``, ``owner``, ``neighbour``, geometry.

    Land-use codes are normalised (``" luc"`` → ``"LUC"``); unknown codes are kept and reported.
    A parcel id used twice is an error. With a ``mask``, the parcels that overlap a parcel read
    (but do not touch the mask) are read as well, with ``neighbour = True``: the parcel-overlap
    rule needs them, so that what a parcel counts does not depend on which other projects the
    run measures. They take no part in anything else. ``neighbours=False`` reads only the parcels
    touching ``mask`` (for drawing, where no overlap is resolved).
    """
    if spec.partitions:  # several sources (landplan.scale): each read into ``crs``, one frame
        from dataclasses import replace

        parts = [read_parcels(replace(spec, source=p.source, partitions=()), crs, mask=mask, report=report,
                              neighbours=neighbours) for p in spec.partitions]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    label = spec.source.label()
    cols = ([spec.id_column, spec.landuse_column] + ([spec.owner_column] if spec.owner_column else [])
            + ([spec.register_area_column] if spec.register_area_column else []))
    if mask is not None and sources.is_parquet(spec.source.path):
        _check_parquet_order(spec.source.path, label, report)
    raw = read_layer(spec.source, crs, columns=cols, mask=mask, report=report, beside=mask is not None and neighbours)
    if "_beside" not in raw:
        raw = raw.assign(_beside=False)
    _report_unread(spec, label, report)
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
    raw, ids, beside = _drop_exact_duplicates(raw, ids, beside, cols, label=label, id_column=spec.id_column, report=report)
    lu = raw[spec.landuse_column].fillna("")
    norm = {v: landuse.normalize_code(v) for v in lu.unique()}
    codes = lu.map(norm)
    changed = {v: c for v, c in norm.items() if str(v) != c and c}
    if changed:
        counts = lu[~raw["_beside"].to_numpy(dtype=bool)].value_counts()
        shown = ", ".join(f"{str(v)!r} → {c} ×{int(counts.get(v, 0))}" for v, c in list(changed.items())[:10] if counts.get(v, 0))
        if shown:
            report.warn(f"{label}: land-use codes written another way, read as landplan's codes: {shown}")
    out = gpd.GeoDataFrame(
        {
            "parcel_id": ids.to_numpy(),
            "landuse": codes.to_numpy(),
            "owner": (_text(raw[spec.owner_column], label=label, column=spec.owner_column, report=report).to_numpy()
                      if spec.owner_column else ""),
            "neighbour": beside,
            "register_area_m2": (_register_area(raw[spec.register_area_column], label=label, column=spec.register_area_column,
                                                main=~beside, report=report)
                                 if spec.register_area_column else np.nan),
            sources.REPAIRED_ON_READ: raw[sources.REPAIRED_ON_READ].to_numpy() if sources.REPAIRED_ON_READ in raw else "",
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


#: A GeoParquet file whose row groups' boxes each cover more than this share of the file's box (on
#: average) is in no spatial order: a masked read decodes nearly every row.
PARQUET_SPREAD_WARN = 0.25


def _check_parquet_order(path: Path, label: str, report: RunReport) -> None:
    """Say when a GeoParquet parcel file cannot be read in part (no bbox covering, or rows in no spatial
    order): every run then decodes the whole file, and the fix is one command."""
    fix = (f"write a sorted copy once with `landplan sort {path.name} {path.stem}_sorted.parquet` "
           "(Hilbert order, bbox covering, 10,000-row groups) and name it in the scenario")
    geo = sources._parquet_geo(path)
    if not geo["columns"][geo["primary_column"]].get("covering", {}).get("bbox"):
        report.warn(f"{label}: this GeoParquet file has no bbox covering column, so every run reads all of it; {fix}")
        return
    order = sources.parquet_order(path)
    if order is not None and order[0] >= 4 and order[1] > PARQUET_SPREAD_WARN:
        report.warn(f"{label}: rows in no spatial order (each of its {order[0]:,} row groups spans {order[1]:.0%} of "
                    f"the layer on average), so every run decodes nearly every row and slows as the file grows; {fix}")


def _report_unread(spec: ParcelsSpec, label: str, report: RunReport) -> None:
    """Name the features a masked read cannot reach but the user must hear of: those without geometry
    (outside the spatial index) and those far outside the area the layer's CRS is meant for (a vertex
    typed at 10¹⁵ m), with the land they hold."""
    ref = spec.source
    fids = sources.features_without_geometry(ref.path, ref.layer)
    if len(fids):
        names = sources.attribute_values(ref.path, ref.layer, spec.id_column, fids)
        for n in names:
            report.aside(SetAside(label, n, "no geometry", 0.0))
        report.warn(f"{label}: {len(fids)} feature(s) set aside, no geometry: they cannot lie under a footprint "
                    f"({_names(np.asarray(names))}); land they held: 0.00 m²; fix or delete them in the layer")
    src_crs = layer_crs(ref)
    bounds = sources.total_bounds(ref.path, ref.layer)
    if src_crs is None or bounds is None:
        return
    area = _crs_area(src_crs)
    if area is None or _within(bounds, area):
        return
    far = sources.features_outside(ref.path, ref.layer, area)
    if far is None or len(far) == 0:
        return
    names = sources.attribute_values(ref.path, ref.layer, spec.id_column, far.index.to_numpy())
    held = np.asarray(shapely.area(np.asarray(far.geometry.values)), dtype="float64")
    for n, a in zip(names, held):
        report.aside(SetAside(label, n, "far outside the area its CRS is meant for", float(a)))
    report.warn(f"{label}: {len(far)} feature(s) set aside, far outside the area its CRS is meant for: check the vertices and "
                f"the layer's CRS ({_names(np.asarray(names))}); land they held: {np.nansum(held):,.2f} m²")


def _crs_area(crs: pyproj.CRS) -> tuple[float, float, float, float] | None:
    """The area a projected CRS is meant for, in its own coordinates, widened by :data:`FAR_OUTSIDE_M`."""
    return _crs_area_of(crs.to_wkt())


@functools.lru_cache(maxsize=32)
def _crs_area_of(wkt: str) -> tuple[float, float, float, float] | None:
    crs = pyproj.CRS.from_wkt(wkt)
    try:
        aou = crs.area_of_use
        if aou is None or not crs.is_projected or crs.geodetic_crs is None:
            return None
        # from the CRS's own longitudes and latitudes (its projection alone, a millisecond to set up,
        # where a transformation from WGS 84 takes twenty): the datums differ by metres, the margin is 1,000 km
        x0, y0, x1, y1 = pyproj.Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True).transform_bounds(
            aou.west, aou.south, aou.east, aou.north)
    except Exception:  # noqa: BLE001 - no usable area of use
        return None
    if not np.isfinite([x0, y0, x1, y1]).all():
        return None
    return x0 - FAR_OUTSIDE_M, y0 - FAR_OUTSIDE_M, x1 + FAR_OUTSIDE_M, y1 + FAR_OUTSIDE_M


def _within(b: tuple[float, float, float, float], area: tuple[float, float, float, float]) -> bool:
    return b[0] >= area[0] and b[1] >= area[1] and b[2] <= area[2] and b[3] <= area[3]


def _register_area(values: pd.Series, *, label: str, column: str, main: np.ndarray, report: RunReport) -> np.ndarray:
    """The register (legal) area column as float m²; values that are not positive numbers are NaN and reported."""
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", copy=True)  # a float column comes back read-only
    bad = ~(np.isfinite(num) & (num > 0))
    num[bad] = np.nan
    shown = bad & main
    if shown.any():
        report.warn(f"{label}: {int(shown.sum())} parcel(s) without a usable register area in column {column!r} "
                    f"(empty, zero or not a number; e.g. {', '.join(repr(v) for v in values[shown].head(3))})")
    return num


def _drop_exact_duplicates(raw: gpd.GeoDataFrame, ids: pd.Series, beside: np.ndarray, cols: list[str], *, label: str,
                           id_column: str, report: RunReport) -> tuple[gpd.GeoDataFrame, pd.Series, np.ndarray]:
    """Rows repeated exactly (same id, attributes and geometry: an export artefact) are counted once and
    reported; the same id on different features is an error naming them (their FIDs and how they differ)."""
    dup = ids.duplicated(keep=False).to_numpy()
    if not dup.any():
        return raw, ids, beside
    rows = np.flatnonzero(dup)
    geoms = np.asarray(raw.geometry.values)
    attrs = [c for c in cols if c in raw]
    repeated = np.zeros(len(raw), dtype=bool)
    clashes: list[str] = []
    for pid, grp in pd.Series(rows).groupby(ids.to_numpy()[rows]):
        k = grp.to_numpy()
        first = k[0]
        same = [bool(shapely.equals_exact(geoms[j], geoms[first], 0.0)) and all(
            str(raw[c].iloc[j]) == str(raw[c].iloc[first]) for c in attrs) for j in k[1:]]
        if all(same):
            repeated[k[1:]] = True
        else:
            fids = ", ".join(f"FID {raw.index[j]}" for j in k)
            what = "geometry" if not all(bool(shapely.equals_exact(geoms[j], geoms[first], 0.0)) for j in k[1:]) else "attributes"
            clashes.append(f"{pid} ({fids}: different {what})")
    if clashes:
        raise LayerError(f"{label}: parcel id(s) used more than once in column {id_column!r} for different features: "
                         f"{'; '.join(clashes[:5])}{' …' if len(clashes) > 5 else ''}; make ids unique")
    report.warn(f"{label}: {int(repeated.sum())} row(s) repeated exactly (same id, attributes and geometry), counted once "
                f"({_names(ids.to_numpy()[repeated])})")
    return raw[~repeated], ids[~repeated], beside[~repeated]


def _overlapping_neighbours_only(parcels: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Keep the neighbours (``neighbour = True``) whose interior meets a parcel read under the mask."""
    nb = parcels["neighbour"].to_numpy(dtype=bool)
    if not nb.any():
        return parcels
    geoms = np.asarray(parcels.geometry.values)
    main_idx, nb_idx = np.flatnonzero(~nb), np.flatnonzero(nb)
    tree = shapely.STRtree(geoms[main_idx])
    qi, mi = tree_query(tree, geoms[nb_idx], predicate="intersects")
    real = geos_map(lambda x, y: np.asarray(shapely.relate_pattern(x, y, "T********")), geoms[nb_idx[qi]], geoms[main_idx[mi]])
    keep = ~nb
    keep[nb_idx[unique(qi[real])]] = True
    return parcels[keep]


def read_admin(spec: AdminSpec, crs: pyproj.CRS, *, mask: shapely.Geometry | None, report: RunReport) -> gpd.GeoDataFrame:
    """Read administrative units into ``admin_unit`` and geometry."""
    raw = read_layer(spec.source, crs, columns=[spec.name_column], mask=mask)
    names = _text(raw[spec.name_column], label=spec.source.label(), column=spec.name_column, report=report)
    out = gpd.GeoDataFrame({"admin_unit": names.to_numpy(),
                            sources.REPAIRED_ON_READ: raw[sources.REPAIRED_ON_READ].to_numpy() if sources.REPAIRED_ON_READ in raw else ""},
                           geometry=raw.geometry.values, crs=raw.crs)
    return repair_polygons(out, layer=spec.source.label(), id_column="admin_unit", report=report)


def read_project(spec: ProjectSpec, crs: pyproj.CRS) -> gpd.GeoDataFrame:
    """Read a project's features (centreline segments or acquisition polygons)."""
    return read_projects([spec], crs)[spec.id]


def read_projects(specs: list[ProjectSpec] | tuple[ProjectSpec, ...], crs: pyproj.CRS) -> dict[str, gpd.GeoDataFrame]:
    """Read every project's features, by project id. Projects drawn in one layer (told apart by their
    ``where`` filters) are read with one reading of the layer: each filter only picks rows (256
    corridors in one GeoPackage: one read, not 256)."""
    groups: dict[tuple[Path, str], list[ProjectSpec]] = {}
    for p in specs:
        groups.setdefault((p.source.path, p.source.layer), []).append(p)
    out: dict[str, gpd.GeoDataFrame] = {}
    for (path, layer), group in groups.items():
        cols = sorted({p.width_column for p in group if p.width_column})
        if len(group) == 1:
            p = group[0]
            found = {p.id: read_layer(p.source, crs, columns=cols)}
        else:
            whole = read_layer(LayerRef(path, layer), crs, columns=cols)
            fid_order = np.argsort(whole.index.to_numpy(), kind="stable")
            sorted_fids = whole.index.to_numpy()[fid_order]
            found = {}
            for p in group:
                if p.source.where:
                    try:
                        fids = sources.where_fids(path, layer, p.source.where)
                    except sources.SourceError as exc:
                        raise InputFileError(f"{p.source.label()}: cannot be read ({exc}); check the `where` filter") from exc
                    at = np.searchsorted(sorted_fids, fids).clip(0, max(len(sorted_fids) - 1, 0))
                    hit = sorted_fids[at] == fids if len(sorted_fids) else np.zeros(len(fids), dtype=bool)
                    found[p.id] = whole.iloc[np.sort(fid_order[at[hit]])]  # in the layer's order, as drawn
                else:
                    found[p.id] = whole
        for p in group:
            if found[p.id].empty:
                where = f" with where = {p.source.where!r}" if p.source.where else ""
                raise LayerError(f"{p.source.label()}: no features for project {p.id!r}{where}; check the layer and the filter")
            out[p.id] = found[p.id]
    return out
