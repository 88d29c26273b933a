"""The households' land: every parcel of the affected owners, read by attribute, its geometry only where its box does not settle it.

Support depends on a household's **whole** farmland in the commune, not only on the parcels a
corridor crosses, so every parcel of those owners is read by the owner column, wherever it lies
(:func:`read_land`). What the estimate needs of such a parcel is its legal area and its unit; the
register (certificate) area gives the first, and a box lying in one unit gives the second, so the
parcel's geometry is read only where one of them is missing.

Notes
-----
A parcel is placed **by its box** (no geometry read) when all of these hold:

* the layer is a GeoPackage (the boxes from the geometry blobs' envelope headers, with the geometry
  type, read in the same SQLite query as the attributes; a blob without a little-endian XY envelope
  has its geometry read) or a GeoParquet file with a bbox covering and only polygon types, in the
  working CRS;
* the parcel is a polygon with a box of positive width and height;
* it has a register area (finite, positive): its legal area;
* its box lies within one unit of the ``[costs] admin`` layer (covered by it): then the unit holding
  most of the parcel is that unit, as :func:`landplan.rules.positions.unit_of` would find, since
  the units do not overlap.

Every other parcel is read with its geometry, repaired or set aside as the run's own read does
(:func:`landplan.layers.repair_polygons`), measured and placed by
:func:`~landplan.rules.positions.unit_of`. The result is the same either way, but for a parcel whose
drawing is degenerate (it collapses to nothing when repaired) yet has a register area and a box in
one unit: read by its box, it counts there.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import shapely

from .. import landuse
from ..sources import gpkg_header_boxes
from .settings import CostSettings

log = logging.getLogger("landplan")

#: Columns of the attribute table :func:`_attributes` adds: the box (minx, miny, maxx, maxy) and
#: whether the feature is a polygon.
BOX = ["_x0", "_y0", "_x1", "_y1"]
#: Feature numbers per GeoPackage query (the SQL names each).
NUMBERS_PER_QUERY = 100_000


def read_land(scenario: Any, owners: set[str], units: Any, *, placed: pd.DataFrame | None = None,
              scanned: Any = None) -> pd.DataFrame:
    """Every parcel of ``owners`` in the parcel layer, read by attribute: ``parcel_id``, ``owner``,
    ``landuse``, ``admin_unit`` (the unit holding most of it; taken from ``placed``, ``parcel_id`` →
    ``price_unit``, for the parcels already placed), ``area_m2`` (legal: the register area where the
    layer has one, else the area as drawn, after any repair) and ``persons`` (NaN when the scenario
    names no persons column or the cell is empty), in the layer's order. ``scanned`` is the owner
    column already read (:func:`landplan.layers.text_column`). See the module notes."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from .. import layers, sources
    from ..errors import InputFileError, LayerError

    sc = scenario
    spec = sc.parcels
    cs: CostSettings = sc.costs
    cols = [spec.id_column, spec.landuse_column]
    if spec.register_area_column:
        cols.append(spec.register_area_column)
    persons_col = cs.support.persons_column
    if persons_col:
        cols.append(persons_col)
    cols = [c for c in dict.fromkeys(cols) if c != spec.owner_column]
    empty = pd.DataFrame({"parcel_id": pd.Series(dtype=object), "owner": pd.Series(dtype=object), "landuse": pd.Series(dtype=object),
                          "admin_unit": pd.Series(dtype=object), "area_m2": pd.Series(dtype="float64"),
                          "persons": pd.Series(dtype="float64")})
    if not owners or spec.owner_column is None:
        return empty
    if getattr(spec, "partitions", ()):
        return _read_partitions(scenario, owners, units, placed=placed)
    ref = spec.source
    src_crs = layers.layer_crs(ref)
    if src_crs is None:
        raise LayerError(f"{ref.label()}: the layer has no coordinate reference system")
    col = scanned if scanned is not None else layers.text_column(ref, spec.owner_column)
    mask = pc.is_in(col.values, value_set=pa.array(sorted(owners), type=pa.string()))
    numbers = np.asarray(col.numbers, dtype="int64")[np.asarray(mask.to_numpy(zero_copy_only=False), dtype=bool)]
    owner_of = col.values.filter(mask)  # text kept as Arrow holds it
    if len(numbers) == 0:
        return empty
    try:
        attrs = _attributes(ref.path, ref.layer, numbers, cols) if src_crs.equals(sc.crs) else None
        if attrs is None:  # every parcel read with its geometry
            attrs = sources.read_features(ref.path, ref.layer, numbers, columns=cols)
    except sources.SourceError as exc:
        raise InputFileError(f"{ref.label()}: cannot be read ({exc}); check the file is complete") from exc
    at = pd.Index(numbers).get_indexer(attrs.index.to_numpy())
    raw = pd.DataFrame({c: attrs[c].array for c in cols}, index=attrs.index)
    raw["_owner"] = owner_of.take(pa.array(at)).to_pandas().array
    raw["parcel_id"] = layers._nfc(raw[spec.id_column]).array
    keep = ~raw["parcel_id"].duplicated().to_numpy()  # a row repeated in the file counts once (the run reports it)
    raw = raw[keep]
    if spec.register_area_column:
        reg = pd.to_numeric(raw[spec.register_area_column], errors="coerce").to_numpy(dtype="float64")
        has_reg = np.isfinite(reg) & (reg > 0)
    else:
        reg, has_reg = np.full(len(raw), np.nan), np.zeros(len(raw), dtype=bool)
    unit, placed_already = _placed_units(raw["parcel_id"], placed)
    area = np.where(has_reg, reg, np.nan)
    by_box = np.zeros(len(raw), dtype=bool)
    if "_polygon" in attrs:  # placed by the box: no geometry read
        box, polygon = attrs[BOX].to_numpy(dtype="float64")[keep], attrs["_polygon"].to_numpy(dtype=bool)[keep]
        ok = has_reg & polygon & np.isfinite(box).all(axis=1) & (box[:, 2] > box[:, 0]) & (box[:, 3] > box[:, 1])
        inside = np.full(len(raw), "", dtype=object)
        inside[ok] = _unit_of_boxes(box[ok], units)
        by_box = inside != ""
        unit = np.where(by_box & ~placed_already, inside, unit)
    alive = np.ones(len(raw), dtype=bool)
    rest = np.flatnonzero(~by_box)
    if len(rest):  # read with the geometry: repaired or set aside as the run's read does, measured, placed
        rest_numbers = raw.index.to_numpy()[rest]
        try:
            gdf = attrs if "_polygon" not in attrs else sources.read_features(ref.path, ref.layer, rest_numbers, columns=cols)
        except sources.SourceError as exc:
            raise InputFileError(f"{ref.label()}: cannot be read ({exc}); check the file is complete") from exc
        if gdf.crs is None:
            gdf = gdf.set_crs(src_crs)
        gdf = gdf.loc[rest_numbers]
        gdf = layers.to_working(gdf.assign(parcel_id=raw["parcel_id"].to_numpy()[rest]), sc.crs, source=ref.label())
        from ..report import RunReport

        gdf = layers.repair_polygons(gdf, layer=ref.label(), id_column="parcel_id", report=RunReport(quiet=True))
        kept = rest[pd.Index(rest_numbers).get_indexer(gdf.index.to_numpy())]
        alive[rest] = False
        alive[kept] = True
        geoms = np.asarray(gdf.geometry.values)
        area[kept] = np.where(has_reg[kept], reg[kept], np.asarray(shapely.area(geoms), dtype="float64"))
        todo = ~placed_already[kept]
        if todo.any():
            from .positions import unit_of

            unit[kept[todo]] = unit_of(geoms[todo], units)
    raw = raw[alive]
    unit, area = unit[alive], area[alive]
    persons = (pd.to_numeric(raw[persons_col], errors="coerce").to_numpy(dtype="float64") if persons_col
               else np.full(len(raw), np.nan))
    codes, distinct = pd.factorize(raw[spec.landuse_column].to_numpy(dtype=object), use_na_sentinel=False)
    log.debug("costs: %d parcels of %d owners read, %d placed by their box", len(raw), len(owners), int(by_box[alive].sum()))
    return pd.DataFrame({
        "parcel_id": raw["parcel_id"].array, "owner": raw["_owner"].array,
        "landuse": np.array([landuse.normalize_code(c) for c in distinct], dtype=object)[codes], "admin_unit": unit, "area_m2": area,
        "persons": persons,
    })


def _read_partitions(scenario: Any, owners: set[str], units: Any, *, placed: pd.DataFrame | None) -> pd.DataFrame:
    """:func:`read_land` over a parcel layer of several sources (:mod:`landplan.scale.partitions`): each
    source read, measured and placed in the CRS its parcels were measured in (the units brought there,
    densified first), a parcel found in two sources counted once (the first)."""
    from dataclasses import replace

    from ..scale.engine import DENSIFY_M
    from ..scale.partitions import measuring_crs

    spec = scenario.parcels
    parts = []
    for part in spec.partitions:
        crs = measuring_crs(part, scenario.crs)
        sub = replace(scenario, crs=crs, parcels=replace(spec, source=part.source, partitions=()))
        there = units
        if not crs.equals(scenario.crs):
            there = units.set_geometry(shapely.segmentize(np.asarray(units.geometry.values), DENSIFY_M), crs=units.crs).to_crs(crs)
        parts.append(read_land(sub, owners, there, placed=placed))
    out = pd.concat(parts, ignore_index=True)
    return out[~out["parcel_id"].duplicated().to_numpy()].reset_index(drop=True)


def _placed_units(ids: pd.Series, placed: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """The unit of each parcel already placed (``placed``: ``parcel_id`` → ``price_unit``; ``""`` for the
    others) and whether it was."""
    out = np.full(len(ids), "", dtype=object)
    if placed is None or not len(placed):
        return out, np.zeros(len(ids), dtype=bool)
    at = np.asarray(pd.Index(placed["parcel_id"]).get_indexer(pd.Index(ids)), dtype="int64")
    out[at >= 0] = np.asarray(placed["price_unit"].array.take(at[at >= 0]), dtype=object)
    return out, at >= 0


def _unit_of_boxes(box: np.ndarray, units: Any) -> np.ndarray:
    """The name of the one unit covering each box ``(n, 4)``; ``""`` where no unit covers it whole."""
    out = np.full(len(box), "", dtype=object)
    if len(box) == 0 or len(units) == 0:
        return out
    from .positions import prepared

    boxes = shapely.box(box[:, 0], box[:, 1], box[:, 2], box[:, 3])
    ug = prepared(units)
    bi, ui = shapely.STRtree(ug).query(boxes)
    hit = shapely.covers(ug[ui], boxes[bi])
    bi, ui = bi[hit], ui[hit]
    one = np.bincount(bi, minlength=len(box)) == 1
    sel = one[bi]
    out[bi[sel]] = units["admin_unit"].to_numpy(dtype=object)[ui[sel]]
    return out


def _attributes(path: Any, layer: str | None, numbers: np.ndarray, columns: list[str]) -> pd.DataFrame | None:
    """The features ``numbers`` with ``columns``, their boxes (:data:`BOX`) and ``_polygon``, no geometry,
    index = the numbers, in their order; ``None`` where the format gives no boxes without the geometry
    (then the caller reads the geometry)."""
    from .. import sources

    try:
        if sources.is_parquet(path):
            return _parquet_attributes(path, numbers, columns)
        if path.suffix.lower() == ".gpkg" and layer:
            return _gpkg_attributes(path, layer, numbers, columns)
    except Exception as exc:  # noqa: BLE001 - the geometry read says what is wrong, if anything
        log.debug("costs: the owners' parcels read with their geometry (%s)", exc)
    return None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _gpkg_attributes(path: Any, layer: str, numbers: np.ndarray, columns: list[str]) -> pd.DataFrame:
    """:func:`_attributes` for a GeoPackage: one SQLite query per :data:`NUMBERS_PER_QUERY` features,
    which reads the first bytes of each geometry blob besides the attributes: its header holds the
    envelope, and the WKB's type follows (:func:`_blob_heads`; a fifth less time than GDAL's ``ST_MinX``
    … and ``ST_GeometryType``, which parse each blob five times)."""
    import pyarrow as pa
    import pyogrio

    info = pyogrio.read_info(path, layer=layer)
    gcol, fid = info.get("geometry_name") or "geom", info.get("fid_column") or "fid"
    select = ", ".join([*(_quote(c) for c in columns), f"substr({_quote(gcol)}, 1, {_HEAD_BYTES}) AS _head"])
    parts, heads = [], []
    for k in range(0, len(numbers), NUMBERS_PER_QUERY):
        ids = ",".join(map(str, numbers[k:k + NUMBERS_PER_QUERY].tolist()))
        _, table = pyogrio.read_arrow(path, sql=f"SELECT {_quote(fid)}, {select} FROM {_quote(layer)} WHERE {_quote(fid)} IN ({ids})",
                                      read_geometry=False, return_fids=True)
        heads.append(table.column("_head"))
        parts.append(table.drop_columns(["_head"]).to_pandas())
    df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    df.index = pd.Index(df.pop(fid).to_numpy(dtype="int64"))
    chunks = [c for h in heads for c in h.chunks]  # not pa.chunked_array(heads): that converts value by value
    blobs = pa.chunked_array(chunks, type=chunks[0].type if chunks else pa.binary()).combine_chunks()
    box, polygon = _blob_heads(blobs if blobs.type == pa.binary() else blobs.cast(pa.binary()))
    for j, b in enumerate(BOX):
        df[b] = box[:, j]
    df["_polygon"] = polygon
    return df.loc[numbers]


#: Bytes of a GeoPackage geometry blob :func:`_blob_heads` reads: its header with an XY envelope (40)
#: and the WKB's byte order and type (5).
_HEAD_BYTES = 45


def _blob_heads(heads: Any) -> tuple[np.ndarray, np.ndarray]:
    """From the first :data:`_HEAD_BYTES` bytes of GeoPackage geometry blobs (a pyarrow binary array): each
    one's box ``(n, 4)`` (minx, miny, maxx, maxy) and whether it is a polygon or multipolygon (any
    dimension). A blob whose header is not little-endian with an XY envelope, an empty geometry and a
    missing one get NaN boxes (their geometry is then read).

    >>> import pyarrow as pa, struct
    >>> head = b"GP" + bytes([0, 3]) + struct.pack("<i4d", 5897, 1.0, 3.0, 2.0, 4.0) + bytes([1]) + struct.pack("<I", 1006)
    >>> box, poly = _blob_heads(pa.array([head, None], type=pa.binary()))
    >>> box[0].tolist(), bool(box[1, 0] == box[1, 0]), poly.tolist()
    ([1.0, 2.0, 3.0, 4.0], False, [True, False])
    """
    n = len(heads)
    box, polygon = np.full((n, 4), np.nan), np.zeros(n, dtype=bool)
    if n == 0 or heads.buffers()[2] is None:
        return box, polygon
    offsets = np.frombuffer(heads.buffers()[1], dtype=np.int32)[heads.offset:heads.offset + n + 1]
    data = np.frombuffer(heads.buffers()[2], dtype=np.uint8)
    valid = np.asarray(heads.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
    rows = np.flatnonzero(valid & (np.diff(offsets) == _HEAD_BYTES))
    head = data[offsets[:-1][rows, None] + np.arange(_HEAD_BYTES)]
    # an XY envelope only: then the WKB's byte order and type follow at bytes 40-44
    head_box, ok = gpkg_header_boxes(head, envelopes=(1,))
    ok &= head[:, 40] <= 1
    rows, head = rows[ok], head[ok]
    box[rows] = head_box[ok]
    code = np.ascontiguousarray(head[:, 41:45]).view("<u4")[:, 0]
    code = np.where(head[:, 40] == 1, code, code.byteswap())  # the WKB's own byte order
    kind = (code & 0x0FFFFFFF) % 1000  # ISO WKB: 1003 is a polygon Z; EWKB's flags are the high bits
    polygon[rows] = (kind == 3) | (kind == 6)
    return box, polygon


def _parquet_attributes(path: Any, numbers: np.ndarray, columns: list[str]) -> pd.DataFrame | None:
    """:func:`_attributes` for GeoParquet: the row groups holding the rows, without the geometry column,
    the boxes from the bbox covering; ``None`` without a covering, or where the file may hold other
    geometry types than polygons."""
    import json

    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    geo = json.loads((pf.schema_arrow.metadata or {})[b"geo"])
    meta = geo["columns"][geo["primary_column"]]
    cover = (meta.get("covering") or {}).get("bbox")
    types = {t.split(" ")[0] for t in meta.get("geometry_types") or []}
    if not cover or not types or not types <= {"Polygon", "MultiPolygon"}:
        return None
    paths = [cover[k] for k in ("xmin", "ymin", "xmax", "ymax")]
    if len({p[0] for p in paths}) != 1:
        return None
    bcol = paths[0][0]
    sizes = np.array([pf.metadata.row_group(i).num_rows for i in range(pf.metadata.num_row_groups)], dtype="int64")
    starts = np.concatenate([[0], np.cumsum(sizes)])
    rows = np.sort(numbers)
    group = np.searchsorted(starts, rows, side="right") - 1
    groups = np.unique(group)
    table = pf.read_row_groups([int(g) for g in groups], columns=[*columns, bcol])
    offset = np.concatenate([[0], np.cumsum(sizes[groups])])
    table = table.take(rows - starts[group] + offset[np.searchsorted(groups, group)])
    box = table.column(bcol).combine_chunks()
    df = table.drop_columns([bcol]).to_pandas()
    for b, p in zip(BOX, paths):
        df[b] = np.asarray(box.field(p[1]).to_numpy(zero_copy_only=False), dtype="float64")
    df.index = pd.Index(rows)
    df["_polygon"] = True
    return df.loc[numbers]
