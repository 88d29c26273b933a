"""Vector files of every supported format: list layers and fields, read CRS, read features under a mask.

GDAL (through pyogrio, with Arrow) reads GeoPackage, shapefile, GeoJSON, FlatGeobuf and the rest;
GeoParquet is read with pyarrow (the GDAL in pyogrio's wheels has no Parquet driver), using the
file's bbox covering column and row-group statistics to skip data outside the mask.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import pyproj
import shapely

from .parallel import geos_map, workers

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
    except Exception as exc:  # noqa: BLE001 - GDAL and Arrow fail in many classes
        raise SourceError(first_line(exc)) from None


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


def layer_crs(path: Path, layer: str) -> pyproj.CRS | None:
    """The CRS a layer declares, or ``None`` when it declares none."""
    try:
        if is_parquet(path):
            return _parquet_crs(_parquet_geo(path))
        info = _info(path, layer=layer)
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
            b = _info(path, layer=layer, force_total_bounds=True).get("total_bounds")
        return None if b is None else (float(b[0]), float(b[1]), float(b[2]), float(b[3]))
    except Exception:  # noqa: BLE001
        return None


def read(path: Path, layer: str, *, columns: list[str] | None, where: str | None,
         mask: shapely.Geometry | np.ndarray | None) -> gpd.GeoDataFrame:
    """Read features of a layer that intersect ``mask`` (in the layer's CRS), with only ``columns``.

    ``mask`` is a geometry or an array of them (e.g. footprint tiles); many small parts are
    cheaper to test against than one large outline.
    """
    if mask is not None:
        mask = shapely.get_parts(np.atleast_1d(np.asarray(mask, dtype=object)))
        mask = mask[~shapely.is_empty(mask)]
    try:
        if is_parquet(path):
            return _read_parquet(path, columns=columns, where=where, mask=mask)
        kwargs: dict[str, Any] = {"layer": layer, "columns": columns, "use_arrow": _USE_ARROW, **_enc(path)}
        if mask is not None and not where:
            fids = _gpkg_rtree_fids(path, layer, mask)
            if fids is not None:
                gdf = _exact(pyogrio.read_dataframe(path, fids=fids, fid_as_index=True, **kwargs), mask)
                gdf.attrs["fid_index"] = True  # the index holds the features' FIDs (read_beside uses them)
                return gdf
        if where:
            kwargs["where"] = where
        if mask is not None:
            kwargs["mask"] = shapely.union_all(mask)
        return pyogrio.read_dataframe(path, **kwargs)
    except SourceError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise SourceError(first_line(exc)) from None


def _exact(gdf: gpd.GeoDataFrame, parts: np.ndarray) -> gpd.GeoDataFrame:
    """Keep the features that really intersect one of the mask's ``parts`` (after a bbox pre-selection)."""
    tree = shapely.STRtree(parts)
    geoms = np.asarray(gdf.geometry.values)
    hits = geos_map(lambda g: np.isin(np.arange(len(g)), tree.query(g, predicate="intersects")[0]), geoms)
    # features whose coordinates hold NaN or infinity meet nothing; keep them so they are reported, not lost.
    # An invalid polygon is kept too: the test above is unreliable on it (a hole drawn outside its shell
    # is not seen), and whether it meets the mask is decided again once it is repaired
    miss = np.flatnonzero(~hits)
    coords, owner = shapely.get_coordinates(geoms[miss], return_index=True)
    broken = np.zeros(len(miss), dtype=bool)
    np.logical_or.at(broken, owner, ~np.isfinite(coords).all(axis=1))
    hits[miss[broken]] = True
    rest = miss[~broken]
    if len(rest):
        hits[rest[~geos_map(shapely.is_valid, geoms[rest])]] = True
    return gdf.iloc[np.flatnonzero(hits)]


def read_beside(path: Path, layer: str, *, columns: list[str] | None, where: str | None, geoms: np.ndarray,
                fids: np.ndarray | None, mask: np.ndarray | None = None) -> gpd.GeoDataFrame:
    """Features that may overlap the features already read (``geoms``, in the layer's CRS): those whose
    bounding box overlaps one of theirs with a positive area (a neighbour sharing only an edge does not).

    Used so that the parcel-overlap rule sees every parcel overlapping a parcel it measures, not only
    those the footprints' mask returned. For a GeoPackage with a spatial index, ``fids`` (the features
    already read) and the ``mask`` they were read with, the R-tree is searched with the mask's boxes
    grown to cover the features read, and the candidates' exact bounding boxes come from their
    geometry blobs' headers, so only real candidates are read; other formats read every feature whose
    box meets the boxes of ``geoms``. The result may include features already read (drop them by id).
    """
    geoms = np.asarray(geoms, dtype=object)
    ok = ~(shapely.is_empty(geoms) | shapely.is_missing(geoms))
    b = shapely.bounds(geoms[ok])
    b = b[np.isfinite(b).all(axis=1)]
    kwargs: dict[str, Any] = {"layer": layer, "columns": columns, "use_arrow": _USE_ARROW, **_enc(path)}
    if len(b) == 0:
        return read(path, layer, columns=columns, where=where, mask=np.zeros(0, dtype=object)).iloc[:0]
    if fids is not None and mask is not None and not where and not is_parquet(path):
        table = _rtree_table(path, layer)
        cand = None
        if table is not None:
            try:
                cand = _rtree_beside(path, layer, table, np.asarray(fids, dtype="int64"), geoms[ok], mask)
            except Exception:  # noqa: BLE001 - no usable index or envelopes: the general path below
                cand = None
        if cand is not None:
            if len(cand) == 0:
                return gpd.GeoDataFrame({c: [] for c in columns or []}, geometry=gpd.GeoSeries([], crs=layer_crs(path, layer)))
            return pyogrio.read_dataframe(path, fids=cand, **kwargs)
    boxes = shapely.box(b[:, 0], b[:, 1], b[:, 2], b[:, 3])
    got = read(path, layer, columns=columns, where=where, mask=boxes)
    gb = shapely.bounds(np.asarray(got.geometry.values))
    return got.iloc[np.flatnonzero(_overlapping_boxes(gb, b))]


def _overlapping_boxes(cand: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """For each candidate box (``(n, 4)``), whether it overlaps one of ``boxes`` with a positive area;
    candidates with no finite box (unknown) are kept."""
    out = ~np.isfinite(cand).all(axis=1)
    fin = np.flatnonzero(~out)
    if len(fin) == 0 or len(boxes) == 0:
        return out
    tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    c = cand[fin]
    ci, bi = tree.query(shapely.box(c[:, 0], c[:, 1], c[:, 2], c[:, 3]))
    strict = ((np.minimum(c[ci, 2], boxes[bi, 2]) > np.maximum(c[ci, 0], boxes[bi, 0]))
              & (np.minimum(c[ci, 3], boxes[bi, 3]) > np.maximum(c[ci, 1], boxes[bi, 1])))
    out[fin[np.unique(ci[strict])]] = True
    return out


def _rtree_beside(path: Path, layer: str, table: str, fids: np.ndarray, geoms: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """FIDs of features not in ``fids`` whose exact bounding box overlaps the box of one of ``geoms``
    (the features read) with a positive area; ``None`` when the layer's names or geometry blobs do not
    allow it.

    The mask's boxes, each grown to cover the features read that meet it, hold the box of every
    feature that overlaps a feature read; the R-tree returns those features with its stored boxes
    (single precision, rounded outward, so never smaller than the exact box), which rule out most of
    them at once; the exact boxes of the rest come from their geometry blobs' headers.
    """
    import json

    info = _info(path, layer=layer)
    gcol = info.get("geometry_name") or "geom"
    fid_col = info.get("fid_column") or "fid"
    if not re.fullmatch(r"\w+", f"{layer}{gcol}{fid_col}"):
        return None
    bounds = shapely.bounds(geoms)
    parts = shapely.get_parts(np.atleast_1d(np.asarray(mask, dtype=object)))
    boxes = np.array(_mask_boxes(parts[~shapely.is_empty(parts)]), dtype="float64").reshape(-1, 4)
    fi, bi = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3])).query(geoms)
    grown = boxes.copy()
    for k, op in ((0, np.minimum), (1, np.minimum), (2, np.maximum), (3, np.maximum)):
        op.at(grown[:, k], bi, bounds[fi, k])
    ids, stored = _rtree_search_boxes(path, table, [tuple(x) for x in grown])
    new = ~np.isin(ids, fids)
    ids, stored = ids[new], stored[new]
    # stored boxes are printed by SQLite to 15 digits: widen them by far more than that can lose
    stored = stored + np.array([-1e-6, -1e-6, 1e-6, 1e-6]) * (1.0 + np.abs(stored))
    ci, gi = _strict_pairs(stored, geoms, bounds)
    if len(ci) == 0:
        return np.zeros(0, dtype="int64")
    ask = np.unique(ci)
    with _sqlite(path) as con:
        got, head = con.execute(
            f'SELECT group_concat("{fid_col}"), group_concat(hex(substr("{gcol}", 1, 40)), \'\') FROM "{layer}" '
            f'WHERE "{fid_col}" IN (SELECT value FROM json_each(?))', (json.dumps(ids[ask].tolist()),)).fetchone()
    got_ids = np.array(got.split(","), dtype="int64") if got else np.zeros(0, dtype="int64")
    env = _gpkg_envelopes(head or "", len(got_ids))
    if env is None:
        return None
    exact = np.full((len(ids), 4), np.nan)
    exact[np.searchsorted(ids, got_ids)] = env  # ids are sorted (np.unique in the search)
    e, g = exact[ci], bounds[gi]
    hit = ~np.isfinite(e).all(axis=1) | ((np.minimum(e[:, 2], g[:, 2]) > np.maximum(e[:, 0], g[:, 0]))
                                         & (np.minimum(e[:, 3], g[:, 3]) > np.maximum(e[:, 1], g[:, 1])))
    return np.unique(ids[ci[hit]])


def _strict_pairs(cand: np.ndarray, geoms: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (candidate, geometry) whose boxes overlap with a positive area: ``cand`` are boxes ``(n, 4)``,
    ``geoms`` geometries with boxes ``bounds``."""
    if len(cand) == 0 or len(geoms) == 0:
        return np.zeros(0, dtype="int64"), np.zeros(0, dtype="int64")
    tree = shapely.STRtree(geoms)
    diag = shapely.linestrings(cand.reshape(-1, 2, 2))  # a box's diagonal has the box as its envelope
    ci, gi = tree.query(diag)
    c, g = cand[ci], bounds[gi]
    strict = ((np.minimum(c[:, 2], g[:, 2]) > np.maximum(c[:, 0], g[:, 0]))
              & (np.minimum(c[:, 3], g[:, 3]) > np.maximum(c[:, 1], g[:, 1])))
    return ci[strict], gi[strict]


def _rtree_search_boxes(path: Path, table: str, boxes: list[tuple[float, float, float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_rtree_search` returning also each feature's stored box ``(n, 4)`` (minx, miny, maxx, maxy),
    sorted by FID."""
    term = f'SELECT id, minx, miny, maxx, maxy FROM "{table}" WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?'
    ids, vals = [np.zeros(0, dtype="int64")], [np.zeros((0, 4))]
    with _sqlite(path) as con:
        for k in range(0, len(boxes), _RTREE_BATCH):
            batch = boxes[k:k + _RTREE_BATCH]
            sql = (f"SELECT group_concat(id), group_concat(minx), group_concat(miny), group_concat(maxx), group_concat(maxy) "
                   f"FROM ({' UNION ALL '.join([term] * len(batch))})")
            args = [float(v) for b in batch for v in (b[0], b[2], b[1], b[3])]
            row = con.execute(sql, args).fetchone()
            if row[0]:
                ids.append(np.array(row[0].split(","), dtype="int64"))
                vals.append(np.column_stack([np.array(c.split(","), dtype="float64") for c in row[1:]]))
    i, v = np.concatenate(ids), np.concatenate(vals)
    u, first = np.unique(i, return_index=True)
    return u, v[first]


def _gpkg_envelopes(hex_headers: str, n: int) -> np.ndarray | None:
    """Bounding boxes ``(n, 4)`` (minx, miny, maxx, maxy) from the first 40 bytes of ``n`` GeoPackage
    geometry blobs (concatenated, in hex); ``None`` unless every blob is little-endian with an XY
    envelope (what GDAL writes for polygons)."""
    raw = bytes.fromhex(hex_headers)
    if len(raw) != 40 * n:
        return None
    head = np.frombuffer(raw, dtype=np.uint8).reshape(n, 40)
    if n and not ((head[:, 0] == ord("G")) & (head[:, 1] == ord("P")) & (head[:, 3] & 1 == 1)
                  & ((head[:, 3] >> 1) & 7 >= 1) & ((head[:, 3] >> 1) & 7 <= 4)).all():
        return None
    env = np.frombuffer(head[:, 8:40].tobytes(), dtype="<f8").reshape(n, 4)  # minx, maxx, miny, maxy
    return env[:, [0, 2, 1, 3]].copy()


def _rtree_table(path: Path, layer: str) -> str | None:
    """The name of a GeoPackage layer's R-tree table (``rtree_<layer>_<geometry column>``), or
    ``None`` for other formats and for names that are not plain identifiers."""
    if path.suffix.lower() != ".gpkg":
        return None
    table = f"rtree_{layer}_{_info(path, layer=layer).get('geometry_name') or 'geom'}"
    return table if re.fullmatch(r"\w+", table) else None


def _sqlite(path: Path) -> closing[Any]:
    """A read-only connection to a GeoPackage through Python's own SQLite."""
    import sqlite3

    return closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True))


def features_without_geometry(path: Path, layer: str) -> int:
    """How many features of a GeoPackage layer are missing from its spatial index (no geometry):
    they can lie under no footprint, and are counted so they can be reported."""
    try:
        table = _rtree_table(path, layer)
        if table is None:
            return 0
        # the R-tree's rowid shadow table counts its entries in milliseconds (the R-tree itself takes far longer)
        with _sqlite(path) as con:
            n = con.execute(f'SELECT count(*) FROM "{table}_rowid"').fetchone()[0]
        return max(int(_info(path, layer=layer)["features"]) - int(n), 0)
    except Exception:  # noqa: BLE001 - no index: nothing to say
        return 0


#: SQLite refuses compound SELECTs of more than 500 terms.
_RTREE_BATCH = 400


def _gpkg_rtree_fids(path: Path, layer: str, mask: np.ndarray) -> np.ndarray | None:
    """FIDs whose bounding box meets one of the small boxes covering ``mask``, from the GeoPackage's
    R-tree; ``None`` when the file is not a GeoPackage with a spatial index.

    GDAL's own spatial filter searches the R-tree with the mask's whole envelope (for a long diagonal
    corridor, most of the city) and then tests every feature in it; covering the mask with small boxes
    reads only what lies near the footprints.
    """
    table = _rtree_table(path, layer)
    if table is None:
        return None
    boxes = _mask_boxes(mask)
    try:
        return _rtree_search(path, table, boxes)
    except Exception:  # noqa: BLE001 - no R-tree, or Python's SQLite without the R-tree module: ask GDAL
        return _rtree_search_gdal(path, table, boxes)


def _rtree_search(path: Path, table: str, boxes: list[tuple[float, float, float, float]]) -> np.ndarray:
    """FIDs from the R-tree ``table`` whose boxes meet any of ``boxes``, through Python's own SQLite,
    read-only: compound queries of up to :data:`_RTREE_BATCH` boxes, each answered as one
    comma-separated string (no Python object per feature)."""
    term = f'SELECT id FROM "{table}" WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?'
    found = [np.zeros(0, dtype="int64")]
    with _sqlite(path) as con:
        for k in range(0, len(boxes), _RTREE_BATCH):
            batch = boxes[k:k + _RTREE_BATCH]
            sql = f"SELECT group_concat(id) FROM ({' UNION ALL '.join([term] * len(batch))})"
            args = [float(v) for b in batch for v in (b[0], b[2], b[1], b[3])]
            text = con.execute(sql, args).fetchone()[0]
            if text:
                found.append(np.array(text.split(","), dtype="int64"))
    return np.unique(np.concatenate(found))


def _rtree_search_gdal(path: Path, table: str, boxes: list[tuple[float, float, float, float]]) -> np.ndarray | None:
    """:func:`_rtree_search` through GDAL's SQL; ``None`` when the layer has no R-tree (GDAL's own
    spatial filter is then used)."""
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
    return np.unique(np.concatenate(found))


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


def _read_parquet(path: Path, *, columns: list[str] | None, where: str | None, mask: np.ndarray | None) -> gpd.GeoDataFrame:
    """Read GeoParquet: with a mask, only row groups whose statistics meet it, then only rows whose
    bbox covering meets one of the mask's boxes, then an exact test."""
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

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
        return gdf if mask is None else _exact(gdf, mask)
    if where:
        raise SourceError("GeoParquet parcels with a `where` filter are not supported; filter the file first")
    bcol = covering["xmin"][0]
    boxes = np.array(_mask_boxes(mask), dtype="float64").reshape(-1, 4)
    tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    pf = pq.ParquetFile(path)
    names = [f"{bcol}.{k}" for k in ("xmin", "ymin", "xmax", "ymax")]
    groups: list[tuple[int, np.ndarray]] = []  # row groups the mask may meet, each with the mask boxes near it
    for i in range(pf.metadata.num_row_groups):
        rg = pf.metadata.row_group(i)
        stats = {rg.column(j).path_in_schema: rg.column(j).statistics for j in range(rg.num_columns)}
        st = [stats.get(n) for n in names]
        if any(s is None or not s.has_min_max for s in st):
            groups.append((i, np.arange(len(boxes))))
            continue
        lo_x, lo_y, hi_x, hi_y = (s.min if k < 2 else s.max for k, s in enumerate(st) if s is not None)
        near = tree.query(shapely.box(lo_x, lo_y, hi_x, hi_y))  # boxes against a box: envelopes are exact
        if len(near):
            groups.append((i, near))
    import pyarrow as pa

    def read_share(share: list[tuple[int, np.ndarray]]) -> list[tuple[int, pa.Table]]:
        # one row group at a time, so memory holds one group per thread, not every group the mask meets;
        # each thread reads through its own handle
        own = pq.ParquetFile(path)
        out = []
        for i, near in share:
            bb = own.read_row_group(i, columns=[bcol]).column(bcol)
            xmin, ymin, xmax, ymax = (np.asarray(pc.struct_field(bb, k), dtype="float64") for k in ("xmin", "ymin", "xmax", "ymax"))
            rows = _rows_meeting(xmin, ymin, xmax, ymax, boxes[near])
            if len(rows):
                out.append((i, own.read_row_group(i, columns=cols, use_threads=False).take(rows)))
        return out

    k = max(1, min(workers(), len(groups)))
    with ThreadPoolExecutor(k) as ex:
        done = [t for part in ex.map(read_share, [groups[j::k] for j in range(k)]) for t in part]
    kept = [t for _, t in sorted(done, key=lambda it: it[0])]  # file order, whatever the threads did
    table = pa.concat_tables(kept) if kept else pf.schema_arrow.empty_table().select(cols or pf.schema_arrow.names)
    gdf = gpd.GeoDataFrame.from_arrow(table) if hasattr(gpd.GeoDataFrame, "from_arrow") else None
    if gdf is None:  # pragma: no cover - geopandas < 1.0
        raise SourceError("GeoParquet input needs geopandas >= 1.0")
    gdf = gdf.set_geometry(gcol).set_crs(_parquet_crs(geo), allow_override=True) if gdf.geometry.name == gcol else gdf
    return _exact(gdf, mask)


def _rows_meeting(xmin: np.ndarray, ymin: np.ndarray, xmax: np.ndarray, ymax: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Positions of the rows whose bounding box meets (or touches) one of ``boxes`` (``(m, 4)``).

    A row group of a spatially sorted file lies near few of the mask's boxes: those are compared
    with every row in numpy, box by box. Against many boxes an index of them is quicker.
    """
    if len(boxes) <= 64:
        hit = np.zeros(len(xmin), dtype=bool)
        for bx0, by0, bx1, by1 in boxes:
            hit |= (xmax >= bx0) & (xmin <= bx1) & (ymax >= by0) & (ymin <= by1)
        return np.flatnonzero(hit)
    tree = shapely.STRtree(shapely.box(boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]))
    rows, _ = tree.query(shapely.box(xmin, ymin, xmax, ymax))
    return np.unique(rows)


#: A box covering part of the mask is split in two while it is more than this many times the area
#: of the part it covers, so look-ups fetch few features that lie beside the mask.
MASK_BOX_SLACK = 3.0
#: Boxes are not split below this fraction of the mask's extent, nor beyond this many boxes in all.
MASK_BOX_MIN_FRACTION = 1 / 4000
MASK_BOX_MAX = 20_000


def _mask_boxes(parts: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Cover the mask's ``parts`` with boxes for bounding-box look-ups in a spatial index.

    Each part's envelope is split in half across its longer side, the part clipped to each half,
    until the envelope is at most :data:`MASK_BOX_SLACK` times the area it covers: a diagonal
    corridor becomes a staircase of boxes that hug it, a street crossing a few boxes along its arms,
    a compact hub one box. The boxes cover the mask (clipping loses none of it), so no feature that
    meets the mask is missed.
    """
    parts = np.asarray(parts, dtype=object)
    parts = parts[~(shapely.is_empty(parts) | shapely.is_missing(parts))]
    if len(parts) == 0:
        return []
    tb = shapely.total_bounds(parts)
    min_side = max(tb[2] - tb[0], tb[3] - tb[1]) * MASK_BOX_MIN_FRACTION
    boxes: list[tuple[float, float, float, float]] = []
    stack = list(parts)
    while stack:
        g = stack.pop()
        x0, y0, x1, y1 = shapely.bounds(g).tolist()
        w, h = x1 - x0, y1 - y0
        if (max(w, h) <= min_side or w * h <= MASK_BOX_SLACK * shapely.area(g)
                or len(boxes) + len(stack) >= MASK_BOX_MAX):
            boxes.append((x0, y0, x1, y1))
            continue
        if w >= h:
            xm = (x0 + x1) / 2
            halves = (shapely.clip_by_rect(g, x0, y0, xm, y1), shapely.clip_by_rect(g, xm, y0, x1, y1))
        else:
            ym = (y0 + y1) / 2
            halves = (shapely.clip_by_rect(g, x0, y0, x1, ym), shapely.clip_by_rect(g, x0, ym, x1, y1))
        stack.extend(half for half in halves if not shapely.is_empty(half))
    return boxes


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (GDAL's are long)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
