"""Vector files of every supported format: list layers and fields, read CRS, read features under a mask.

GDAL (through pyogrio, with Arrow) reads GeoPackage, shapefile, GeoJSON, FlatGeobuf and the rest;
GeoParquet is read with pyarrow (the GDAL in pyogrio's wheels has no Parquet driver), using the
file's bbox covering column and row-group statistics to skip data outside the mask.
"""

from __future__ import annotations

import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pyproj
import shapely

from . import rtree
from .arrays import unique
from .parallel import geos_map, tree_query, workers

PARQUET_SUFFIXES = (".parquet", ".geoparquet")

try:  # Arrow makes reading several times faster; fall back when it is not installed.
    import pyarrow  # noqa: F401

    _USE_ARROW = True
except ImportError:  # pragma: no cover
    _USE_ARROW = False


class SourceError(Exception):
    """A file could not be read; the message is GDAL's or pyarrow's first line."""


def _info(path: Path, layer: str | None = None, **kwargs: Any) -> dict[str, Any]:
    """``pyogrio.read_info``, remembered while the file is unchanged (a run asks several times)."""
    st = Path(path).stat()
    key = (str(path), layer, st.st_mtime_ns, st.st_size, tuple(sorted(kwargs.items())))
    if key not in _INFO_CACHE:
        if len(_INFO_CACHE) > 256:
            _INFO_CACHE.clear()
        _INFO_CACHE[key] = dict(pyogrio.read_info(path, layer=layer, **kwargs))
    return _INFO_CACHE[key]


_INFO_CACHE: dict[tuple[Any, ...], dict[str, Any]] = {}


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
    except Exception as exc:
        raise SourceError(first_line(exc)) from exc


def gdal_encoding(path: Path) -> str | None:
    """The encoding to ask GDAL for, where its own would lose text.

    GDAL recodes a Windows-1258 DBF (``.cpg`` = 1258) through iconv, which holds back each string's
    last letter waiting for a combining tone mark: field names and values lose their last
    character. Such files are read as Latin-1 (every byte kept) and converted to Unicode by
    :mod:`landplan.textenc`, which recognises Windows-1258.
    """
    if path.suffix.lower() != ".shp":
        return None
    cpg = path.with_suffix(".cpg")
    if not cpg.exists():
        cpg = path.with_suffix(".CPG")
    if cpg.exists() and cpg.read_text(encoding="ascii", errors="ignore").strip().lower().replace("-", "") in (
            "1258", "cp1258", "windows1258", "ansi1258"):
        return "ISO-8859-1"
    if not cpg.exists():
        # no code page: say what GDAL assumed (from the DBF's language byte, else ISO-8859-1), so that
        # reading through Arrow decodes the bytes instead of taking them for UTF-8
        try:
            enc = _info(path).get("encoding")
        except Exception:  # noqa: BLE001 - unreadable: the read itself will say so
            return None
        return str(enc) if enc and str(enc).upper().replace("-", "") != "UTF8" else None
    return None


def _enc(path: Path) -> dict[str, Any]:
    enc = gdal_encoding(path)
    return {"encoding": enc} if enc else {}


def fields(path: Path, layer: str) -> list[str]:
    """Attribute column names of a layer."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        geo = _parquet_geo(path)
        skip = set(geo.get("columns", {})) | {c for c in ("bbox",)}
        return [n for n in pq.read_schema(path).names if n not in skip]
    return [str(f) for f in _info(path, layer=layer, **_enc(path))["fields"]]


def feature_count(path: Path, layer: str) -> int:
    """How many features a layer holds (a GeoParquet file: its rows)."""
    if is_parquet(path):
        import pyarrow.parquet as pq

        return int(pq.ParquetFile(path).metadata.num_rows)
    return int(_info(path, layer=layer)["features"])


def layer_crs(path: Path, layer: str) -> pyproj.CRS | None:
    """The CRS a layer declares, or ``None`` when it declares none."""
    try:
        if is_parquet(path):
            return _parquet_crs(_parquet_geo(path))
        info = _info(path, layer=layer)
    except Exception as exc:
        raise SourceError(first_line(exc)) from exc
    return pyproj.CRS(info["crs"]) if info.get("crs") else None


def total_bounds(path: Path, layer: str) -> tuple[float, float, float, float] | None:
    """The layer's extent in its own CRS, when the format records it cheaply."""
    try:
        if is_parquet(path):
            geo = _parquet_geo(path)
            b = geo["columns"][geo["primary_column"]].get("bbox")
        else:
            b = _info(path, layer=layer, force_total_bounds=True).get("total_bounds")
        return None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    except Exception:  # noqa: BLE001
        return None


def read(path: Path, layer: str, *, columns: list[str] | None, where: str | None,
         mask: shapely.Geometry | np.ndarray | None, beside: bool = False) -> gpd.GeoDataFrame:
    """Read features of a layer that intersect ``mask`` (in the layer's CRS), with only ``columns``.

    ``mask`` is a geometry or an array of them (e.g. footprint tiles); many small parts are
    cheaper to test against than one large outline. With ``beside`` (and a mask), the features that
    may overlap a feature read are read too (their bounding box overlaps one of theirs with a
    positive area; a neighbour sharing only an edge does not), marked ``True`` in a column
    ``_beside``; features read both ways may appear twice (drop them by id). The parcel-overlap rule
    needs them, so that what a parcel counts does not depend on what else the mask reached.
    """
    if mask is not None:
        mask = np.atleast_1d(np.asarray(mask, dtype=object))
        if (shapely.get_type_id(mask) != 3).any():  # single polygons are kept as they are (the same objects)
            mask = shapely.get_parts(mask)
        mask = mask[~shapely.is_empty(mask)]
    try:
        if is_parquet(path):
            return _read_parquet(path, columns=columns, where=where, mask=mask, beside=beside and mask is not None)
        kwargs: dict[str, Any] = {"layer": layer, "columns": columns, "use_arrow": _USE_ARROW, **_enc(path)}
        if mask is not None and not where:
            got = _gpkg_read_masked(path, layer, mask, kwargs, beside=beside)
            if got is not None:
                return got
        if where:
            kwargs["where"] = where
        if mask is not None:
            # GDAL's own filter with a polygon drops features whose geometry GEOS cannot handle (an
            # unclosed ring): filter by the mask's extent, which only compares envelopes, then test here
            kwargs["bbox"] = tuple(float(v) for v in shapely.total_bounds(mask))
        gdf = _frame(path, **kwargs)
        if mask is None:
            return gdf
        gdf = _exact(gdf, mask)
        return _with_beside(path, layer, gdf, columns=columns, where=where) if beside else gdf
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(first_line(exc)) from exc


#: Features read by FID in one query, for drivers whose SQL limits it (GDAL's OGRSQL: 4,997).
FIDS_PER_QUERY = 4_000


def read_column(path: Path, layer: str, column: str, *, where: str | None) -> tuple[np.ndarray, Any]:
    """One attribute column of every feature (no geometry): the features' numbers (FIDs; row numbers
    for GeoParquet) and the values as a pyarrow array. With :func:`read_features`, an attribute filter
    (not a spatial one) whose comparison is the caller's, so text can be compared as the caller
    normalises it (legacy encodings, Unicode forms)."""
    try:
        if is_parquet(path):
            return _parquet_column(path, column, where=where)
        meta: dict[str, Any] | None = None
        if path.suffix.lower() == ".gpkg" and layer and where is None:  # SQLite's own SELECT: a quarter less time than a layer read
            try:
                fid, col, lay = ('"' + c.replace('"', '""') + '"' for c in (pyogrio.read_info(path, layer=layer)["fid_column"], column, layer))
                meta, table = pyogrio.read_arrow(path, sql=f"SELECT {fid}, {col} FROM {lay} ORDER BY {fid}", read_geometry=False,
                                                 return_fids=True)
            except Exception:  # noqa: BLE001 - a table without a FID column, a view …: the layer read says what is wrong, if anything
                meta = None
        if meta is None:
            meta, table = pyogrio.read_arrow(path, layer=layer, columns=[column], read_geometry=False, return_fids=True,
                                             where=where, **_enc(path))
        fid_col = meta.get("fid_column") or "fid"
        value_col = next(c for c in table.column_names if c != fid_col)
        return np.asarray(table.column(fid_col).to_numpy(zero_copy_only=False), dtype="int64"), table.column(value_col).combine_chunks()
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(first_line(exc)) from exc


def read_features(path: Path, layer: str, numbers: np.ndarray, *, columns: list[str] | None) -> gpd.GeoDataFrame:
    """The features numbered ``numbers`` (as :func:`read_column` numbers them), with ``columns`` and
    geometry; index = the numbers."""
    try:
        numbers = np.asarray(numbers, dtype="int64")
        if is_parquet(path):
            return _parquet_rows_at(path, numbers, columns)
        # GDAL's own SQL (shapefiles, GeoJSON …) takes at most 4,997 FIDs a query; SQLite (GeoPackage) any number
        step = len(numbers) if path.suffix.lower() == ".gpkg" or len(numbers) <= FIDS_PER_QUERY else FIDS_PER_QUERY
        parts = [_frame(path, layer=layer, columns=columns, fids=numbers[k:k + step], use_arrow=_USE_ARROW, **_enc(path))
                 for k in range(0, max(len(numbers), 1), max(step, 1))]
        return parts[0] if len(parts) == 1 else pd.concat(parts)
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(first_line(exc)) from exc


def _parquet_column(path: Path, column: str, *, where: str | None) -> tuple[np.ndarray, Any]:
    """:func:`read_column` for GeoParquet (the ``where`` filter of the form column = 'value')."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    m = None
    if where:
        m = _WHERE.match(where)
        if not m:
            raise SourceError(f"GeoParquet layers take only filters of the form column = 'value', got {where!r}")
    need = [column] + ([m.group(1)] if m and m.group(1) != column else [])
    table = pq.ParquetFile(path).read(columns=need)  # not pq.read_table: it imports pyarrow.dataset (0.15 s of CPU)
    rows = np.arange(table.num_rows, dtype="int64")
    values = table.column(column).combine_chunks()
    if m:
        keep = np.asarray(pc.equal(table.column(m.group(1)).cast(pa.string()), m.group(2).replace("''", "'")).fill_null(False))
        rows, values = rows[keep], values.filter(pa.array(keep))
    return rows, values


def _parquet_rows_at(path: Path, rows: np.ndarray, columns: list[str] | None) -> gpd.GeoDataFrame:
    """Rows of a GeoParquet file by number, reading only the row groups that hold them."""
    import pyarrow.parquet as pq

    geo = _parquet_geo(path)
    cols = None if columns is None else [*columns, geo["primary_column"]]
    pf = pq.ParquetFile(path)
    sizes = np.array([pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)], dtype="int64")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rows = np.sort(rows)
    group = np.searchsorted(starts, rows, side="right") - 1
    parts, got = [], []
    for g in np.unique(group):
        local = rows[group == g] - starts[g]
        parts.append(pf.read_row_group(int(g), columns=cols).take(local))
        got.append(rows[group == g])
    gdf = _parquet_frame(path, geo, parts, cols)
    gdf.index = pd.Index(np.concatenate(got) if got else np.zeros(0, dtype="int64"))
    return gdf


#: Column naming what was mended while reading a feature (an unclosed ring closed), "" for none.
REPAIRED_ON_READ = "_read_repair"


def _frame(path: Path, **kwargs: Any) -> gpd.GeoDataFrame:
    """``pyogrio.read_dataframe`` (index = FIDs), where a geometry that cannot be built as stored is
    mended, not lost: GDAL accepts a polygon ring that is not closed, which shapely refuses; such a
    feature is read again and its ring closed (``shapely.from_wkb(..., on_invalid="fix")``), and
    :data:`REPAIRED_ON_READ` says so, so the repair is reported by feature."""
    kwargs.setdefault("fid_as_index", True)
    gdf = pyogrio.read_dataframe(path, on_invalid="ignore", **kwargs)
    gdf[REPAIRED_ON_READ] = ""
    missing = np.flatnonzero(gdf.geometry.isna().to_numpy())
    if len(missing) and kwargs.get("fid_as_index") and "sql" not in kwargs:
        fids = gdf.index.to_numpy()[missing]
        meta, table = pyogrio.read_arrow(path, layer=kwargs.get("layer"), fids=fids, columns=[],
                                         **({"encoding": kwargs["encoding"]} if "encoding" in kwargs else {}))
        wkb = table.column(meta.get("geometry_name") or "wkb_geometry").to_numpy(zero_copy_only=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fixed = shapely.from_wkb(wkb, on_invalid="fix")
        order = np.argsort(fids, kind="stable")  # features come back in FID order
        ok = ~shapely.is_missing(fixed)
        rows = missing[order][ok]
        col = gdf.geometry.name
        gdf.loc[gdf.index[rows], col] = gpd.GeoSeries(fixed[ok], index=gdf.index[rows], crs=gdf.crs)
        gdf.loc[gdf.index[rows], REPAIRED_ON_READ] = "a polygon ring was not closed: closed on reading"
    return gdf


def _gpkg_read_masked(path: Path, layer: str, mask: np.ndarray, kwargs: dict[str, Any], *, beside: bool) -> gpd.GeoDataFrame | None:
    """A GeoPackage read through its R-tree (:mod:`landplan.rtree`); ``None`` when it has none.

    With ``beside``, the search for neighbours (:func:`_beside_candidates`) runs on a second thread
    while the features are read, from what the R-tree said of them (their stored boxes, and the union
    of those near each of the mask's boxes)."""
    table = _rtree_table(path, layer)
    if table is None:
        return None
    boxes, _ = mask_boxes(mask)
    try:
        index = rtree.Index(path, table)
        ids, id_boxes, covers = rtree.covers(index, boxes)
    except Exception:  # noqa: BLE001 - an index this reader does not know: ask GDAL, no neighbours search
        fids = _rtree_search_gdal(path, table, [(b[0], b[1], b[2], b[3]) for b in boxes.tolist()])
        if fids is None:
            return None
        gdf = _exact(_frame(path, fids=fids, **kwargs), mask)
        return _with_beside(path, layer, gdf, columns=kwargs.get("columns"), where=None) if beside else gdf
    future = None
    if beside and len(ids):
        pool = ThreadPoolExecutor(1)
        future = pool.submit(_beside_candidates, path, layer, index, ids, id_boxes, covers)
        pool.shutdown(wait=False)
    raw = _frame(path, fids=ids, **kwargs)
    hits = _exact_hits(raw, mask)
    missed = np.flatnonzero(~hits)
    gdf = raw.iloc[np.flatnonzero(hits)] if len(missed) else raw
    if not beside:
        return gdf
    b = shapely.bounds(np.asarray(gdf.geometry.values))
    b = b[np.isfinite(b).all(axis=1)]
    # features whose box met the mask but not their geometry are neighbours too, already read
    if len(missed):
        missed = missed[boxes_meeting(shapely.bounds(np.asarray(raw.geometry.values)[missed]), b, strict=True)]
    parts = [raw.iloc[missed]] if len(missed) else []
    if future is not None:
        cand = future.result()
        if cand is None:  # envelopes not readable: the general way
            return _with_beside(path, layer, gdf, columns=kwargs.get("columns"), where=None)
        cand_ids, cand_env = cand
        near_ids = cand_ids[boxes_meeting(cand_env, b, strict=True)]
        if len(near_ids):
            parts.append(_frame(path, fids=near_ids, **kwargs))
    return _with_near(gdf, parts)


def _with_beside(path: Path, layer: str, gdf: gpd.GeoDataFrame, *, columns: list[str] | None, where: str | None) -> gpd.GeoDataFrame:
    """``gdf`` with the features whose box overlaps one of its features' boxes with a positive area, read
    through a mask of those boxes (any format), marked in ``_beside``."""
    geoms = np.asarray(gdf.geometry.values)
    b = shapely.bounds(geoms[~(shapely.is_empty(geoms) | shapely.is_missing(geoms))])
    b = b[np.isfinite(b).all(axis=1)]
    if len(b) == 0:
        return gdf.assign(_beside=False)
    got = read(path, layer, columns=columns, where=where, mask=shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3]))
    return _with_near(gdf, [got.iloc[np.flatnonzero(boxes_meeting(shapely.bounds(np.asarray(got.geometry.values)), b, strict=True))]])


def _with_near(main: gpd.GeoDataFrame, near: list[gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """The features read under the mask (``main``, ``_beside`` False) followed by those of ``near`` that
    may overlap one of them (``_beside`` True), as every masked read with neighbours returns them."""
    near = [part for part in near if len(part)]
    if not near:
        return main.assign(_beside=False)
    return pd.concat([main.assign(_beside=False), *(part.assign(_beside=True) for part in near)])


def _exact(gdf: gpd.GeoDataFrame, parts: np.ndarray) -> gpd.GeoDataFrame:
    """Keep the features that really intersect one of the mask's ``parts`` (after a bbox pre-selection)."""
    return gdf.iloc[np.flatnonzero(_exact_hits(gdf, parts))]


#: Above this many parts, a mask's parts are small (a city's network cut into tiles): a feature is tested
#: against the parts its box meets (an index of the parts) rather than each part's boxes searching an
#: index of the features (:func:`meeting`), which suits a few large parts. Both give the same hits.
MANY_MASK_PARTS = 64


def _exact_hits(gdf: gpd.GeoDataFrame, parts: np.ndarray) -> np.ndarray:
    """For each feature, whether it really intersects one of the mask's ``parts`` (see :func:`_exact`)."""
    geoms = np.asarray(gdf.geometry.values)
    # GEOS refuses coordinates that are NaN or infinite: such features are tested here by nothing, and kept
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    finite = np.ones(len(geoms), dtype=bool)
    finite[owner[~np.isfinite(coords).all(axis=1)]] = False
    hits = np.zeros(len(geoms), dtype=bool)
    ok = np.flatnonzero(finite)
    if len(ok) and len(parts) > MANY_MASK_PARTS:  # many small parts (tiles): each feature searches an index of them
        met, _ = tree_query(shapely.STRtree(parts), geoms[ok], predicate="intersects")
        hits[ok[met]] = True
    elif len(ok):  # a few large parts: their boxes search an index of the features
        _, met = meeting(parts, geoms[ok])
        hits[ok[met]] = True
    hits[~finite] = True
    # features whose coordinates hold NaN or infinity are kept (above) so they are reported, not lost.
    # An invalid polygon is kept too: the test above is unreliable on it (a hole drawn outside its shell
    # is not seen), and whether it meets the mask is decided again once it is repaired
    rest = np.flatnonzero(~hits)
    if len(rest):
        hits[rest[~geos_map(shapely.is_valid, geoms[rest])]] = True
    return hits


def _beside_candidates(path: Path, layer: str, index: rtree.Index, ids: np.ndarray, id_boxes: np.ndarray,
                       covers: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Features other than ``ids`` that may overlap one of them, with their exact boxes from their
    geometry blobs' headers (no geometry is read); ``None`` when the layer's names or geometry blobs
    do not allow it.

    ``index`` (a :class:`landplan.rtree.Index`) is searched with ``covers`` (one per box of the mask,
    covering the stored boxes of the features under it: more boxes than a coarse grouping would give,
    but hugging the features read); of what it finds, only features whose stored box overlaps one of
    ``id_boxes`` (the stored boxes of ``ids``) with a positive area can overlap a feature read. Stored
    boxes are rounded outward, so none is missed; which really overlap a feature read is decided from
    the exact boxes once the features are read.
    """
    info = _info(path, layer=layer)
    gcol = info.get("geometry_name") or "geom"
    fid_col = info.get("fid_column") or "fid"
    if not re.fullmatch(r"\w+", f"{layer}{gcol}{fid_col}") or len(covers) == 0:
        return None
    more, more_boxes = rtree.meeting(index, covers)
    keep = ~np.isin(more, ids, assume_unique=True)
    more = more[keep][boxes_meeting(more_boxes[keep], id_boxes, strict=True)]
    if len(more) == 0:
        return more, np.zeros((0, 4))
    import json

    with rtree.connect(path) as con:
        got, head = con.execute(
            f'SELECT group_concat("{fid_col}"), group_concat(hex(substr("{gcol}", 1, 40)), \'\') FROM "{layer}" '
            f'WHERE "{fid_col}" IN (SELECT value FROM json_each(?))', (json.dumps(more.tolist()),)).fetchone()
    got_ids = np.array(got.split(","), dtype="int64") if got else np.zeros(0, dtype="int64")
    env = _gpkg_envelopes(head or "", len(got_ids))
    if env is None:
        return None
    return got_ids, env


def box_pairs(a: np.ndarray, b: np.ndarray, *, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(i, j)`` of boxes (``(n, 4)`` arrays of minx, miny, maxx, maxy) that meet, or with
    ``strict`` overlap with a positive area; a box with a non-finite side meets everything of ``b``.
    Sorted by ``i``, then ``j``.

    Boxes are hashed into a grid whose cell is as large as most boxes, so each lands in at most four
    cells; the few larger boxes go through a spatial index.
    """
    a, b = np.asarray(a, dtype="float64").reshape(-1, 4), np.asarray(b, dtype="float64").reshape(-1, 4)
    ia, ib = _box_candidates(a, b, strict=strict)
    key = unique(ia * (len(b) + 1) + ib)
    return key // (len(b) + 1), key % (len(b) + 1)


def boxes_meeting(a: np.ndarray, b: np.ndarray, *, strict: bool) -> np.ndarray:
    """Whether each box of ``a`` meets (``strict``: overlaps with a positive area) a box of ``b``:
    ``np.isin(np.arange(len(a)), box_pairs(a, b, strict=strict)[0])``, without making the pairs unique."""
    a, b = np.asarray(a, dtype="float64").reshape(-1, 4), np.asarray(b, dtype="float64").reshape(-1, 4)
    out = np.zeros(len(a), dtype=bool)
    out[_box_candidates(a, b, strict=strict)[0]] = True
    return out


def _box_candidates(a: np.ndarray, b: np.ndarray, *, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """:func:`box_pairs`' pairs, some of them more than once (a pair sharing several grid cells)."""
    empty = (np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64"))
    if len(a) == 0 or len(b) == 0:
        return empty
    unknown = ~np.isfinite(a).all(axis=1)
    bad_b = ~np.isfinite(b).all(axis=1)
    # the cell as wide and as tall as most boxes (each axis apart: parcels are often strips), from a
    # sample of the boxes; any cell gives the same pairs, a well-sized one fewer candidates to test
    fa, fb = np.flatnonzero(~unknown), np.flatnonzero(~bad_b)
    sa, sb = fa[::max(1, len(fa) // _CELL_SAMPLE)], fb[::max(1, len(fb) // _CELL_SAMPLE)]
    cw, ch = (max(float(np.quantile(np.concatenate([a[sa, k + 2] - a[sa, k], b[sb, k + 2] - b[sb, k]]), 0.95)), 1e-6)
              if len(sa) + len(sb) else 1.0 for k in (0, 1))
    big_a = ~unknown & ((a[:, 2] - a[:, 0] > cw) | (a[:, 3] - a[:, 1] > ch))
    big_b = ~bad_b & ((b[:, 2] - b[:, 0] > cw) | (b[:, 3] - b[:, 1] > ch))
    small_a, small_b = np.flatnonzero(~unknown & ~big_a), np.flatnonzero(~bad_b & ~big_b)
    pa, pb = [], []
    if len(small_a) and len(small_b):
        def cells(boxes: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            x0, y0 = np.floor(boxes[rows, 0] / cw), np.floor(boxes[rows, 1] / ch)
            x1, y1 = np.floor(boxes[rows, 2] / cw), np.floor(boxes[rows, 3] / ch)
            keys, own = [], []
            for dx in (0, 1):
                for dy in (0, 1):
                    ok = (x0 + dx <= x1) & (y0 + dy <= y1)
                    keys.append(((x0 + dx) * 4_194_304.0 + (y0 + dy))[ok])
                    own.append(rows[ok])
            return np.concatenate(keys), np.concatenate(own)

        ka, ra = cells(a, small_a)
        kb, rb = cells(b, small_b)
        order = np.argsort(kb, kind="stable")
        kb, rb = kb[order], rb[order]
        lo, hi = np.searchsorted(kb, ka, "left"), np.searchsorted(kb, ka, "right")
        n = hi - lo
        rep = np.repeat(np.arange(len(ka)), n)
        pos = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n) + np.repeat(lo, n)
        pa.append(ra[rep])
        pb.append(rb[pos])
    big = np.flatnonzero(big_a)
    if len(big) or big_b.any():  # the few large boxes, through an index (of the fewer side)
        fin_b = np.flatnonzero(~bad_b)
        if len(big) and len(big) < len(fin_b):
            qb, qa = shapely.STRtree(shapely.box(a[big, 0], a[big, 1], a[big, 2], a[big, 3])).query(
                shapely.box(b[fin_b, 0], b[fin_b, 1], b[fin_b, 2], b[fin_b, 3]))
            pa.append(big[qa])
            pb.append(fin_b[qb])
        elif len(big):
            qa, qb = shapely.STRtree(shapely.box(b[fin_b, 0], b[fin_b, 1], b[fin_b, 2], b[fin_b, 3])).query(
                shapely.box(a[big, 0], a[big, 1], a[big, 2], a[big, 3]))
            pa.append(big[qa])
            pb.append(fin_b[qb])
        bb = np.flatnonzero(big_b)
        if len(bb) and len(small_a):
            tree_a = shapely.STRtree(shapely.box(a[small_a, 0], a[small_a, 1], a[small_a, 2], a[small_a, 3]))
            qb, qa = tree_a.query(shapely.box(b[bb, 0], b[bb, 1], b[bb, 2], b[bb, 3]))
            pa.append(small_a[qa])
            pb.append(bb[qb])
    for u in np.flatnonzero(unknown):  # a box we cannot place meets all of b
        pa.append(np.full(len(b), u))
        pb.append(np.arange(len(b)))
    if not pa:
        return empty
    ia, ib = np.concatenate(pa).astype("int64"), np.concatenate(pb).astype("int64")
    meet = np.greater if strict else np.greater_equal  # by column: no (n, 4) copies of the candidates' boxes
    ok = meet(np.minimum(a[:, 2][ia], b[:, 2][ib]), np.maximum(a[:, 0][ia], b[:, 0][ib]))
    ok &= meet(np.minimum(a[:, 3][ia], b[:, 3][ib]), np.maximum(a[:, 1][ia], b[:, 1][ib]))
    ok |= unknown[ia]
    return ia[ok], ib[ok]


#: How many boxes of each side :func:`_box_candidates` sizes its grid cell from.
_CELL_SAMPLE = 10_000


def _gpkg_envelopes(hex_headers: str, n: int) -> np.ndarray | None:
    """Bounding boxes ``(n, 4)`` (minx, miny, maxx, maxy) from the first 40 bytes of ``n`` GeoPackage
    geometry blobs (concatenated, in hex); ``None`` unless every blob's header gives one
    (:func:`gpkg_header_boxes`)."""
    raw = bytes.fromhex(hex_headers)
    if len(raw) != 40 * n:
        return None
    box, ok = gpkg_header_boxes(np.frombuffer(raw, dtype=np.uint8).reshape(n, 40))
    return box if ok.all() else None


def gpkg_header_boxes(head: np.ndarray, *, envelopes: tuple[int, ...] = (1, 2, 3, 4)) -> tuple[np.ndarray, np.ndarray]:
    """From the first bytes (40 or more) of GeoPackage geometry blobs, ``(n, k)`` unsigned bytes: each
    blob's box ``(n, 4)`` (minx, miny, maxx, maxy) and whether its header gives one: "GP", little-endian,
    not flagged empty, with an envelope of one of the kinds ``envelopes`` (1 XY, 2 XYZ, 3 XYM, 4 XYZM:
    each begins with the XY box). NaN boxes where it does not.

    >>> import struct
    >>> head = b"GP" + bytes([0, 3]) + struct.pack("<i4d", 5897, 1.0, 3.0, 2.0, 4.0)
    >>> box, ok = gpkg_header_boxes(np.frombuffer(head + b"GQ" + head[2:], dtype=np.uint8).reshape(2, 40))
    >>> box[0].tolist(), ok.tolist()
    ([1.0, 2.0, 3.0, 4.0], [True, False])
    """
    head = np.asarray(head, dtype=np.uint8)
    flags = head[:, 3]
    ok = ((head[:, 0] == ord("G")) & (head[:, 1] == ord("P")) & (flags & 1 == 1) & np.isin((flags >> 1) & 7, envelopes)
          & ((flags >> 4) & 1 == 0))
    box = np.full((len(head), 4), np.nan)
    box[ok] = np.ascontiguousarray(head[ok, 8:40]).view("<f8")[:, [0, 2, 1, 3]]  # stored minx, maxx, miny, maxy
    return box, ok


def _rtree_table(path: Path, layer: str) -> str | None:
    """The name of a GeoPackage layer's R-tree table (``rtree_<layer>_<geometry column>``), or
    ``None`` for other formats and for names that are not plain identifiers."""
    if path.suffix.lower() != ".gpkg":
        return None
    table = f"rtree_{layer}_{_info(path, layer=layer).get('geometry_name') or 'geom'}"
    return table if re.fullmatch(r"\w+", table) else None


def features_without_geometry(path: Path, layer: str) -> np.ndarray:
    """FIDs of a GeoPackage layer's features that have no geometry (missing from its spatial index):
    they can lie under no footprint, and are named so they can be reported."""
    try:
        table = _rtree_table(path, layer)
        if table is None:
            return np.zeros(0, dtype="int64")
        info = _info(path, layer=layer)
        gcol = info.get("geometry_name") or "geom"
        fid_col = info.get("fid_column") or "fid"
        with rtree.connect(path) as con:
            # the R-tree's rowid shadow table counts its entries in milliseconds (the R-tree itself takes far longer)
            n = con.execute(f'SELECT count(*) FROM "{table}_rowid"').fetchone()[0]
            if int(info["features"]) <= int(n):
                return np.zeros(0, dtype="int64")
            text = con.execute(f'SELECT group_concat("{fid_col}") FROM "{layer}" WHERE "{gcol}" IS NULL OR length("{gcol}") <= 8 '
                               f'OR "{fid_col}" NOT IN (SELECT rowid FROM "{table}_rowid")').fetchone()[0]
        return np.array(text.split(","), dtype="int64") if text else np.zeros(0, dtype="int64")
    except Exception:  # noqa: BLE001 - no index: nothing to say
        return np.zeros(0, dtype="int64")


def where_fids(path: Path, layer: str, where: str) -> np.ndarray:
    """The FIDs of the features an attribute filter keeps (no geometry read): SQLite itself for a
    GeoPackage (its filters are SQLite's), GDAL for other formats, the ``column = 'value'`` form for
    GeoParquet (row numbers)."""
    try:
        if is_parquet(path):
            import pyarrow.compute as pc
            import pyarrow.parquet as pq

            m = _WHERE.match(where)
            if not m:
                raise SourceError(f"GeoParquet layers take only filters of the form column = 'value', got {where!r}")
            col = pq.read_table(path, columns=[m.group(1)]).column(0)
            return np.flatnonzero(np.asarray(pc.equal(col, m.group(2).replace("''", "'")).fill_null(False)))
        if path.suffix.lower() == ".gpkg":
            info = _info(path, layer=layer)
            fid_col = info.get("fid_column") or "fid"
            if re.fullmatch(r"\w+", f"{layer}{fid_col}"):
                with rtree.connect(path) as con:
                    text = con.execute(f'SELECT group_concat("{fid_col}") FROM "{layer}" WHERE {where}').fetchone()[0]
                return np.array(text.split(","), dtype="int64") if text else np.zeros(0, dtype="int64")
        df = pyogrio.read_dataframe(path, layer=layer, where=where, columns=[], read_geometry=False, fid_as_index=True, **_enc(path))
        return df.index.to_numpy(dtype="int64")
    except SourceError:
        raise
    except Exception as exc:
        raise SourceError(first_line(exc)) from exc


def attribute_values(path: Path, layer: str, column: str, fids: np.ndarray) -> list[str]:
    """The values of ``column`` of the features ``fids`` (as text; the FID where it cannot be read)."""
    try:
        df = pyogrio.read_dataframe(path, layer=layer, fids=np.asarray(fids, dtype="int64"), columns=[column], read_geometry=False,
                                    fid_as_index=True, **_enc(path))
        got = dict(zip(df.index, df[column].astype(str)))
        return [got.get(int(f), f"FID {int(f)}") for f in fids]
    except Exception:  # noqa: BLE001 - name them by FID
        return [f"FID {int(f)}" for f in fids]


def features_outside(path: Path, layer: str, box: tuple[float, float, float, float]) -> gpd.GeoDataFrame | None:
    """The features of a layer whose bounding box is not within ``box`` (in the layer's CRS), geometry
    only, indexed by FID; ``None`` when they cannot be listed."""
    x0, y0, x1, y1 = box
    try:
        table = _rtree_table(path, layer)
        if table is not None:
            with rtree.connect(path) as con:
                text = con.execute(f'SELECT group_concat(id) FROM "{table}" WHERE minx < ? OR miny < ? OR maxx > ? OR maxy > ?',
                                   (x0, y0, x1, y1)).fetchone()[0]
            fids = np.array(text.split(","), dtype="int64") if text else np.zeros(0, dtype="int64")
            return _frame(path, layer=layer, fids=fids, columns=[], use_arrow=_USE_ARROW) if len(fids) else None
        gdf = _frame(path, layer=layer, columns=[], use_arrow=_USE_ARROW, **_enc(path))
        b = shapely.bounds(np.asarray(gdf.geometry.values))
        with np.errstate(invalid="ignore"):
            out = (b[:, 0] < x0) | (b[:, 1] < y0) | (b[:, 2] > x1) | (b[:, 3] > y1)
        return gdf.iloc[np.flatnonzero(out)]
    except Exception:  # noqa: BLE001 - not listable: the features are checked when read
        return None


#: SQLite refuses compound SELECTs of more than 500 terms.
_RTREE_BATCH = 400


def _rtree_search_gdal(path: Path, table: str, boxes: list[tuple[float, float, float, float]]) -> np.ndarray | None:
    """The FIDs of the features whose box in the R-tree ``table`` meets one of ``boxes``, through GDAL's SQL (for an
    index :mod:`landplan.rtree` cannot read); ``None`` when the layer has no R-tree (GDAL's own spatial filter is
    then used)."""
    try:
        pyogrio.read_dataframe(path, sql=f'SELECT id FROM "{table}" LIMIT 0', read_geometry=False)
    except Exception:  # noqa: BLE001 - no R-tree
        return None
    found = [np.zeros(0, dtype="int64")]
    for k in range(0, len(boxes), _RTREE_BATCH):
        terms = [
            f'SELECT id FROM "{table}" WHERE maxx >= {float(b[0])!r} AND minx <= {float(b[2])!r} AND maxy >= {float(b[1])!r} AND miny <= {float(b[3])!r}'
            for b in boxes[k:k + _RTREE_BATCH]
        ]
        df = pyogrio.read_dataframe(path, sql=" UNION ".join(terms), read_geometry=False, use_arrow=_USE_ARROW)
        found.append(df["id"].to_numpy(dtype="int64"))
    return unique(np.concatenate(found))


def _parquet_geo(path: Path) -> dict[str, Any]:
    import json

    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(b"geo")
    if raw is None:
        raise SourceError("a Parquet file without GeoParquet metadata (no 'geo' key); write it with geopandas.to_parquet")
    return dict(json.loads(raw))


def _parquet_crs(geo: dict[str, Any]) -> pyproj.CRS | None:
    """The CRS in a file's GeoParquet metadata (``None`` when it says none)."""
    crs = geo["columns"][geo["primary_column"]].get("crs", "OGC:CRS84")  # the GeoParquet default when the key is absent
    return None if crs is None else pyproj.CRS.from_user_input(crs)


_WHERE = re.compile(r"""^\s*"?(\w+)"?\s*=\s*'((?:[^']|'')*)'\s*$""")


def _read_parquet(path: Path, *, columns: list[str] | None, where: str | None, mask: np.ndarray | None,
                  beside: bool = False) -> gpd.GeoDataFrame:
    """Read GeoParquet: with a mask, only row groups whose statistics meet it, then only rows whose
    bbox covering meets one of the mask's boxes, then an exact test. With ``beside``, a second pass
    over the row groups near the features read adds the rows whose bbox covering (exact) overlaps
    one of theirs with a positive area (``_beside``; see :func:`read`)."""
    import pyarrow.compute as pc

    geo = _parquet_geo(path)
    gcol = geo["primary_column"]
    covering = geo["columns"][gcol].get("covering", {}).get("bbox")
    cols = None if columns is None else [*columns, gcol]
    if mask is None or not covering:
        filters = None
        if where:
            m = _WHERE.match(where)
            if not m:
                raise SourceError(f"GeoParquet layers take only filters of the form column = 'value', got {where!r}")
            filters = pc.field(m.group(1)) == m.group(2).replace("''", "'")
        gdf = gpd.read_parquet(path, columns=cols, filters=filters)
        if mask is None:
            return gdf
        return _with_beside(path, "", _exact(gdf, mask), columns=columns, where=where) if beside else _exact(gdf, mask)
    if where:
        raise SourceError("GeoParquet parcels with a `where` filter are not supported; filter the file first")
    bcol = covering["xmin"][0]
    boxes, _ = mask_boxes(mask)
    seen: dict[int, np.ndarray] = {}
    met: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # with beside: each row group's (row, mask box) pairs

    def pick(bb: np.ndarray, near: np.ndarray, i: int) -> np.ndarray:
        if not beside:
            return _rows_meeting(bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3], boxes[near])
        r, j = _row_box_pairs(bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3], boxes[near])
        rows = unique(r)
        met[i] = (np.searchsorted(rows, r), near[j])
        return rows

    # the rows whose box meets one of the mask's boxes (their bbox covering only), then their data on
    # threads, while this thread looks for the rows that may overlap them
    picks = _parquet_pick(path, bcol, boxes, pick, seen)
    reading = _parquet_take(path, cols, picks)
    keys = np.concatenate([i * _ROW_KEY + rows for i, rows in picks]) if picks else np.zeros(0, dtype="int64")
    rowbox = np.concatenate([seen[i][rows] for i, rows in picks]) if picks else np.zeros((0, 4))
    if beside:
        first = np.cumsum([0] + [len(rows) for _, rows in picks])
        si = np.concatenate([first[n] + met[i][0] for n, (i, _) in enumerate(picks)]) if picks else np.zeros(0, dtype="int64")
        bi = np.concatenate([met[i][1] for i, _ in picks]) if picks else np.zeros(0, dtype="int64")
        near_keys, near_boxes = _parquet_near(path, bcol, boxes, (bi, si), keys, rowbox, seen)
    gdf = _parquet_frame(path, geo, reading(), cols)
    hits = _exact_hits(gdf, mask)
    missed = np.flatnonzero(~hits)
    main = gdf.iloc[np.flatnonzero(hits)] if len(missed) else gdf
    if not beside:
        return main
    # of the rows that may overlap a feature read, those whose box overlaps the box of one with a positive area
    hit_boxes = rowbox[hits]
    parts = []
    if len(missed):  # rows whose box met the mask but not their geometry: already read
        missed = missed[boxes_meeting(rowbox[missed], hit_boxes, strict=True)]
        if len(missed):
            parts.append(gdf.iloc[missed])
    near_keys = near_keys[boxes_meeting(near_boxes, hit_boxes, strict=True)]
    if len(near_keys):
        groups, starts = np.unique(near_keys // _ROW_KEY, return_index=True)
        rows = np.split(near_keys % _ROW_KEY, starts[1:])
        parts.append(_parquet_frame(path, geo, _parquet_take(path, cols, list(zip(groups.tolist(), rows)))(), cols))
    return _with_near(main, parts)


#: Row keys: row group × this + row (row groups hold fewer rows than this).
_ROW_KEY = 1 << 32


def _parquet_groups(path: Path, bcol: str, boxes: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """The row groups whose statistics (of the bbox covering) meet one of ``boxes``, each with the boxes
    near it; every row group where the statistics are missing."""
    stats = _row_group_boxes(path, bcol)
    known = np.isfinite(stats).all(axis=1)
    rows = np.flatnonzero(known)
    tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    gi, bi = tree.query(shapely.box(stats[rows, 0], stats[rows, 1], stats[rows, 2], stats[rows, 3]))  # envelopes: exact
    gi = rows[gi]
    order = np.lexsort((bi, gi))
    gi, bi = gi[order], bi[order]
    every = np.arange(len(stats))
    lo, hi = np.searchsorted(gi, every, "left"), np.searchsorted(gi, every, "right")
    return [(i, bi[lo[i]:hi[i]] if known[i] else np.arange(len(boxes))) for i in every.tolist() if hi[i] > lo[i] or not known[i]]


def _row_group_boxes(path: Path, bcol: str) -> np.ndarray:
    """Each row group's box from the statistics of the bbox covering ``bcol`` (``(n, 4)``; NaN where a
    statistic is missing), read once for each version of the file."""
    import pyarrow.parquet as pq

    st_ = path.stat()
    key = (str(path.resolve()), st_.st_mtime_ns, st_.st_size, bcol)
    if key in _GROUP_BOXES:
        return _GROUP_BOXES[key]
    meta = pq.ParquetFile(path).metadata
    names = [f"{bcol}.{k}" for k in ("xmin", "ymin", "xmax", "ymax")]
    out = np.full((meta.num_row_groups, 4), np.nan)
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        stats = {rg.column(j).path_in_schema: rg.column(j).statistics for j in range(rg.num_columns)}
        st = [stats.get(n) for n in names]
        if any(s is None or not s.has_min_max for s in st):
            continue
        out[i] = [st[0].min, st[1].min, st[2].max, st[3].max]  # type: ignore[union-attr]
    out.flags.writeable = False
    if len(_GROUP_BOXES) > 8:
        _GROUP_BOXES.clear()
    _GROUP_BOXES[key] = out
    return out


#: :func:`_row_group_boxes` of the files read in this process.
_GROUP_BOXES: dict[tuple[str, int, int, str], np.ndarray] = {}


def _parquet_pick(path: Path, bcol: str, boxes: np.ndarray, select: Any, seen: dict[int, np.ndarray]) -> list[tuple[int, np.ndarray]]:
    """Rows of the row groups whose statistics meet ``boxes``, chosen by ``select(bbox (n, 4), near boxes, row group)``
    from their bbox covering, as ``(row group, rows)`` in file order (groups where none is chosen left out).
    ``seen`` keeps each row group's bbox covering (read once, whatever asks for it again)."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    groups = _parquet_groups(path, bcol, boxes)

    def pick_share(share: list[tuple[int, np.ndarray]]) -> list[tuple[int, np.ndarray]]:
        own = pq.ParquetFile(path)  # each thread reads through its own handle
        out = []
        for i, near in share:
            box = seen.get(i)
            if box is None:
                bb = own.read_row_group(i, columns=[bcol]).column(bcol)
                box = np.column_stack([np.asarray(pc.struct_field(bb, k), dtype="float64") for k in ("xmin", "ymin", "xmax", "ymax")])
                seen[i] = box  # each thread writes its own row groups' keys
            rows = select(box, near, i)
            if len(rows):
                out.append((i, rows))
        return out

    k = max(1, min(workers(), len(groups)))
    if k == 1:
        return pick_share(groups)
    with ThreadPoolExecutor(k) as ex:
        return sorted((t for part in ex.map(pick_share, [groups[j::k] for j in range(k)]) for t in part), key=lambda t: t[0])


def _parquet_take(path: Path, cols: list[str] | None, picks: list[tuple[int, np.ndarray]]) -> Any:
    """Start reading the rows ``picks`` (``(row group, rows)``) on threads, one row group at a time (memory
    holds one group per thread, not every group); returns a function that waits for the Arrow tables, in
    the order of ``picks``."""
    import pyarrow.parquet as pq

    def take_share(share: list[tuple[int, np.ndarray]]) -> list[Any]:
        own = pq.ParquetFile(path)
        return [own.read_row_group(i, columns=cols, use_threads=False).take(rows) for i, rows in share]

    k = max(1, min(workers(), len(picks)))
    pool = ThreadPoolExecutor(k)
    futures = [pool.submit(take_share, picks[j::k]) for j in range(k)]
    pool.shutdown(wait=False)

    def tables() -> list[Any]:
        got = [f.result() for f in futures]
        return [got[n % k][n // k] for n in range(len(picks))]

    return tables


def _parquet_near(path: Path, bcol: str, boxes: np.ndarray, pairs: tuple[np.ndarray, np.ndarray], keys: np.ndarray,
                  rowbox: np.ndarray, seen: dict[int, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows other than ``keys`` (rows whose box meets one of the mask's ``boxes``, with their boxes
    ``rowbox``; ``pairs`` says which box each meets, as (box, row) positions) whose box overlaps one of
    ``rowbox`` with a positive area: the rows that may overlap a feature read, as keys (:data:`_ROW_KEY`,
    file order) and boxes.

    Each mask box is grown to cover the rows that meet it; only row groups near the grown boxes, and in
    them the rows that meet one, are compared with the boxes of the rows read near them."""
    bi, si = pairs
    grown = boxes.copy()
    for c, op in ((0, np.minimum), (1, np.minimum), (2, np.maximum), (3, np.maximum)):
        op.at(grown[:, c], bi, rowbox[si, c])
    read_rows: dict[int, np.ndarray] = {}
    if len(keys):
        groups_of, starts = np.unique(keys // _ROW_KEY, return_index=True)
        read_rows = dict(zip(groups_of.tolist(), np.split(keys % _ROW_KEY, starts[1:])))

    def pool(bb: np.ndarray, near: np.ndarray, i: int) -> np.ndarray:
        return _rows_meeting(bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3], grown[near])

    found_keys, found_boxes = [], []
    for i, rows in _parquet_pick(path, bcol, grown, pool, seen):
        here = read_rows.get(i)
        if here is not None:
            rows = rows[~np.isin(rows, here, assume_unique=True)]
        found_keys.append(i * _ROW_KEY + rows)
        found_boxes.append(seen[i][rows])
    if not found_keys:
        return np.zeros(0, dtype="int64"), np.zeros((0, 4))
    near_keys, near_boxes = np.concatenate(found_keys), np.concatenate(found_boxes)
    close = boxes_meeting(near_boxes, rowbox, strict=True)
    return near_keys[close], near_boxes[close]


def _parquet_frame(path: Path, geo: dict[str, Any], tables: list[Any], cols: list[str] | None) -> gpd.GeoDataFrame:
    """A GeoDataFrame of the Arrow ``tables`` read from a GeoParquet file (its CRS set)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    gcol = geo["primary_column"]
    if tables:
        table = pa.concat_tables(tables)
    else:
        schema = pq.ParquetFile(path).schema_arrow
        table = schema.empty_table().select(cols or schema.names)
    gdf = gpd.GeoDataFrame.from_arrow(table) if hasattr(gpd.GeoDataFrame, "from_arrow") else None
    if gdf is None:  # pragma: no cover - geopandas < 1.0
        raise SourceError("GeoParquet input needs geopandas >= 1.0")
    return gdf.set_geometry(gcol).set_crs(_parquet_crs(geo), allow_override=True) if gdf.geometry.name == gcol else gdf


def _near_envelope(xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray, boxes: np.ndarray) -> np.ndarray | None:
    """The rows that meet the envelope of several ``boxes`` (four comparisons a row), or ``None`` where that
    leaves none out or is not worth it: in a file in no spatial order they are a small share of each
    row group, and only those need comparing box by box."""
    if len(boxes) < 2 or len(xmin) <= 4 * len(boxes):
        return None
    with np.errstate(invalid="ignore"):
        env = np.flatnonzero((xmax >= boxes[:, 0].min()) & (xmin <= boxes[:, 2].max())
                             & (ymax >= boxes[:, 1].min()) & (ymin <= boxes[:, 3].max()))
    return env if len(env) < len(xmin) else None


def _rows_meeting(xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Positions of the rows whose bounding box meets (or touches) one of ``boxes`` (``(m, 4)``).

    A row group of a spatially sorted file lies near few of the mask's boxes: those are compared
    with every row in numpy, box by box (after :func:`_near_envelope`). Against many boxes an index of them is quicker.
    """
    env = _near_envelope(xmin, ymin, xmax, ymax, boxes)
    if env is not None:
        return env[_rows_meeting(xmin[env], ymin[env], xmax[env], ymax[env], boxes)]
    if len(boxes) <= 64:
        hit = np.zeros(len(xmin), dtype=bool)
        for bx0, by0, bx1, by1 in boxes:
            hit |= (xmax >= bx0) & (xmin <= bx1) & (ymax >= by0) & (ymin <= by1)
        return np.flatnonzero(hit)
    bb = np.column_stack([xmin, ymin, xmax, ymax])
    finite = np.flatnonzero(np.isfinite(bb).all(axis=1))  # a row without a box (no geometry) meets nothing
    return finite[boxes_meeting(bb[finite], boxes, strict=False)]


def _row_box_pairs(xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray,
                   boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (row, box) of a row whose bounding box meets (or touches) one of ``boxes``: the rows of
    :func:`_rows_meeting`, each with the boxes it meets."""
    env = _near_envelope(xmin, ymin, xmax, ymax, boxes)
    if env is not None:
        sub_rows, sub_boxes = _row_box_pairs(xmin[env], ymin[env], xmax[env], ymax[env], boxes)
        return env[sub_rows], sub_boxes
    if len(boxes) <= 64:
        rows, which = [np.zeros(0, dtype="int64")], [np.zeros(0, dtype="int64")]
        for k, (bx0, by0, bx1, by1) in enumerate(boxes):
            hit = np.flatnonzero((xmax >= bx0) & (xmin <= bx1) & (ymax >= by0) & (ymin <= by1))
            rows.append(hit)
            which.append(np.full(len(hit), k, dtype="int64"))
        return np.concatenate(rows), np.concatenate(which)
    bb = np.column_stack([xmin, ymin, xmax, ymax])
    finite = np.flatnonzero(np.isfinite(bb).all(axis=1))
    ia, ib = box_pairs(bb[finite], boxes, strict=False)
    return finite[ia], ib


#: A box covering part of the mask is split in two while it is more than this many times the area
#: of the part it covers, so look-ups fetch few features that lie beside the mask.
MASK_BOX_SLACK = 3.0
#: Boxes are not split below this fraction of the mask's extent, nor beyond this many boxes in all.
MASK_BOX_MIN_FRACTION = 1 / 4000
MASK_BOX_MAX = 20_000


def mask_boxes(parts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cover polygons with boxes for bounding-box look-ups in a spatial index: the boxes ``(k, 4)`` and,
    for each, the position of the part it covers.

    Each part's envelope is split in half across its longer side, the part clipped to each half,
    until the envelope is at most :data:`MASK_BOX_SLACK` times the area it covers: a diagonal
    corridor becomes a staircase of boxes that hug it, a street crossing a few boxes along its arms,
    a compact hub one box. The boxes cover the part (clipping loses none of it), so no feature that
    meets the part is missed by a search with its boxes.
    """
    parts = np.asarray(parts, dtype=object)
    for kept, done in _BOXES_MEMO:  # a run covers the same footprint tiles to read and to measure
        if len(kept) == len(parts) and all(a is b for a, b in zip(kept, parts)):
            return done
    ok = np.flatnonzero(~(shapely.is_empty(parts) | shapely.is_missing(parts)))
    if len(ok) == 0:
        return np.zeros((0, 4)), np.zeros(0, dtype="int64")
    tb = shapely.total_bounds(parts[ok])
    min_side = max(tb[2] - tb[0], tb[3] - tb[1]) * MASK_BOX_MIN_FRACTION
    boxes: list[np.ndarray] = []
    owner: list[np.ndarray] = []
    n_boxes = 0
    geoms, rows = parts[ok], ok.astype("int64")
    while len(geoms):  # level by level, every part of a level at once (on all cores)
        b = shapely.bounds(geoms)
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        done = (np.maximum(w, h) <= min_side) | (w * h <= MASK_BOX_SLACK * geos_map(shapely.area, geoms))
        if n_boxes + len(geoms) + int((~done).sum()) >= MASK_BOX_MAX:  # enough boxes: keep these as they are
            done[:] = True
        boxes.append(b[done])
        owner.append(rows[done])
        n_boxes += int(done.sum())
        split = np.flatnonzero(~done)
        if not len(split):
            break
        b, across = b[split], w[split] >= h[split]
        xm, ym = (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2
        g = geoms[split]
        halves = np.concatenate([
            geos_map(_clip, g, b[:, 0], b[:, 1], np.where(across, xm, b[:, 2]), np.where(across, b[:, 3], ym)),
            geos_map(_clip, g, np.where(across, xm, b[:, 0]), np.where(across, b[:, 1], ym), b[:, 2], b[:, 3])])
        keep = ~shapely.is_empty(halves)
        geoms, rows = halves[keep], np.concatenate([rows[split], rows[split]])[keep]
    out = np.concatenate(boxes).reshape(-1, 4), np.concatenate(owner).astype("int64")
    for a in out:
        a.flags.writeable = False
    _BOXES_MEMO[:] = [*_BOXES_MEMO[-3:], (parts.copy(), out)]
    return out


def _clip(geoms: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """Each geometry clipped to its own rectangle (GEOS's rectangle clipping, as :func:`shapely.clip_by_rect`,
    whose wrapper takes one rectangle for all; its ufunc takes one each)."""
    return np.asarray(shapely.lib.clip_by_rect(geoms, x0, y0, x1, y1))


#: The last few :func:`mask_boxes` answers, with the parts they cover (geometries are immutable: the
#: same objects, the same boxes).
_BOXES_MEMO: list[tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = []


def meeting(parts: np.ndarray, geoms: np.ndarray, *, cover: tuple[np.ndarray, np.ndarray] | None = None,
            inside: bool = False) -> tuple[np.ndarray, ...]:
    """Pairs ``(part, geom)`` that intersect, found through an index of ``geoms`` searched with each part's
    boxes (:func:`mask_boxes`, or ``cover``), then each candidate tested against the part, prepared.
    With ``inside``, also whether the geom lies wholly inside the part (``contains_properly``).

    Searching with a long diagonal corridor's envelope would test every feature in most of the city;
    its boxes hug it. The parts are shared out between threads (every k-th part to each), so that a
    prepared part, whose indexes GEOS builds on first use, is only ever used by one thread. Pairs come
    sorted by part, then geom.
    """
    parts = np.asarray(parts, dtype=object)
    geoms = np.asarray(geoms, dtype=object)
    boxes, owner = cover if cover is not None else mask_boxes(parts)
    empty = np.zeros(0, dtype="int64")
    if len(boxes) == 0 or len(geoms) == 0:
        return (empty, empty, np.zeros(0, dtype=bool)) if inside else (empty, empty)
    tree = shapely.STRtree(geoms)
    bi, gi = tree.query(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    key = unique(owner[bi] * np.int64(len(geoms)) + gi)  # a feature under two boxes of a part: one pair
    pi, gi = key // len(geoms), key % len(geoms)
    k = max(1, min(workers(), len(unique(pi)), len(pi) // 2_000 + 1))

    def work(j: int) -> tuple[np.ndarray, ...]:
        sel = np.flatnonzero(pi % k == j)
        a, g = pi[sel], gi[sel]
        shapely.prepare(parts[unique(a)])
        hit = shapely.intersects(parts[a], geoms[g])
        a, g = a[hit], g[hit]
        return (sel[hit], shapely.contains_properly(parts[a], geoms[g])) if inside else (sel[hit],)

    if k == 1:
        res = [work(0)]
    else:
        with ThreadPoolExecutor(k) as ex:
            res = list(ex.map(work, range(k)))
    rows = np.concatenate([r[0] for r in res])
    order = np.argsort(rows, kind="stable")
    rows = rows[order]
    if inside:
        return pi[rows], gi[rows], np.concatenate([r[1] for r in res])[order]
    return pi[rows], gi[rows]


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (GDAL's are long)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def parquet_order(path: Path) -> tuple[int, float] | None:
    """How well a GeoParquet file's row groups keep to their own part of the map: ``(row groups, spread)``,
    where ``spread`` is the mean area of a row group's bounding box (from the bbox covering's
    statistics) as a share of the whole file's box. A spatially sorted file has a spread near
    ``1 / row groups``; a file in arbitrary order near 1 (every row group spans the map, so a masked
    read must decode every row). ``None`` when the file has no bbox covering or no statistics, or
    fewer than two row groups.
    """
    geo = _parquet_geo(path)
    covering = geo["columns"][geo["primary_column"]].get("covering", {}).get("bbox")
    if not covering:
        return None
    b = _row_group_boxes(path, covering["xmin"][0])
    if len(b) < 2 or not np.isfinite(b).all():
        return None
    whole = (b[:, 2].max() - b[:, 0].min()) * (b[:, 3].max() - b[:, 1].min())
    if not whole > 0:
        return None
    spread = float(np.mean((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])) / whole)
    return len(b), spread
