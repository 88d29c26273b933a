"""Polygons packed for the map page: one compact string per layer that the page decodes into typed arrays.

A map of a large run holds tens of thousands of polygons; written as GeoJSON, one feature object
each, the browser spends seconds parsing them and building an object per feature. Packed, a layer
is one base64 string of unsigned LEB128 varints, read in a single pass:

1. for each feature, its number of rings (outer rings and holes of every part);
2. for each ring, its number of vertices (the closing vertex left out);
3. for each vertex, x then y as zigzag-encoded differences from the vertex before (the first from
   ``origin``), in units of :data:`UNIT_M` metres of Web Mercator (EPSG:3857, what Leaflet draws in).

Rings are normalised first (outer rings clockwise, holes counter-clockwise), so the page fills a
whole layer as one path with the non-zero rule: holes stay open and features that overlap stay filled.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyproj
import shapely

#: Coordinate resolution: 0.1 m of Web Mercator (about 0.1 m on the ground at Cần Thơ).
UNIT_M = 0.1
#: Leaflet's ``L.Projection.SphericalMercator.R``.
MERCATOR_R_M = 6378137.0


@dataclass(frozen=True)
class Packed:
    """One layer's polygons: ``n`` features, the encoded string, and the bounding box of its
    vertices in units from ``origin`` (``xmin, ymin, xmax, ymax``)."""

    n: int
    data: str
    bbox: tuple[int, int, int, int]


@lru_cache(maxsize=8)
def to_mercator(crs: pyproj.CRS | str) -> pyproj.Transformer:
    """The transformer from ``crs`` to Web Mercator, made once per CRS: finding the operation in
    PROJ's database takes about 60 ms, and a map packs a dozen layers."""
    return pyproj.Transformer.from_crs(crs, "EPSG:3857", always_xy=True)


def mercator_xy(geoms: np.ndarray, crs: pyproj.CRS | str) -> np.ndarray:
    """``geoms`` (in ``crs``) transformed to Web Mercator metres."""
    tr = to_mercator(crs)
    return shapely.transform(np.asarray(geoms, dtype=object), lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def varints(values: np.ndarray) -> bytes:
    """Non-negative integers (below 2**35) as unsigned LEB128: 7 bits a byte, low bits first."""
    v = np.asarray(values, dtype=np.uint64)
    if len(v) and int(v.max()) >= 1 << 35:
        raise ValueError("value too large to pack")
    nbytes = np.ones(len(v), dtype=np.int64)
    for k in range(1, 5):
        nbytes += v >= np.uint64(1 << (7 * k))
    shifts = np.arange(5, dtype=np.uint64) * np.uint64(7)
    chunks = ((v[:, None] >> shifts[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    more = np.arange(5)[None, :] < (nbytes[:, None] - 1)
    chunks[more] |= 0x80
    keep = np.arange(5)[None, :] < nbytes[:, None]
    return chunks[keep].tobytes()


def zigzag(values: np.ndarray) -> np.ndarray:
    """Signed integers folded into non-negative ones: 0, -1, 1, -2 … → 0, 1, 2, 3 …"""
    v = np.asarray(values, dtype=np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def pack_polygons(geoms: np.ndarray, crs: pyproj.CRS | str, origin: tuple[float, float]) -> Packed:
    """Pack polygons and multipolygons (in ``crs``) for the page; ``origin`` is in Web Mercator metres.

    Empty or missing geometries become features without rings (kept, so attributes stay aligned);
    points and lines inside a collection are left out (they have no area).
    """
    from .footprints import polygonal

    geoms = np.asarray(geoms, dtype=object).copy()
    geoms[shapely.is_missing(geoms)] = shapely.Polygon()
    n = len(geoms)
    geoms = polygonal(geoms)
    if shapely.has_z(geoms).any():
        geoms = shapely.force_2d(geoms)
    _, coords, offsets = shapely.to_ragged_array(geoms)
    ring_end, part_end = offsets[0], offsets[1]
    feature_end = offsets[2] if len(offsets) == 3 else np.arange(n + 1)  # polygons only: a part is a feature
    per_ring = np.diff(ring_end)
    rings_per_feature = np.diff(part_end[feature_end])
    # outer rings clockwise and holes counter-clockwise (in metres, y up): one orientation rule for
    # the page's non-zero fill. A conformal projection keeps orientation, so it is set before projecting.
    shell = np.zeros(len(per_ring), dtype=bool)
    shell[part_end[:-1][np.diff(part_end) > 0]] = True
    owner = np.repeat(np.arange(len(per_ring)), per_ring)
    x, y = coords[:, 0], coords[:, 1]
    nxt = np.arange(1, len(coords) + 1)
    nxt[ring_end[1:][per_ring > 0] - 1] = ring_end[:-1][per_ring > 0]  # last vertex wraps to the first
    nxt = np.minimum(nxt, len(coords) - 1) if len(coords) else nxt
    twice_area = np.bincount(owner, weights=x * y[nxt] - x[nxt] * y, minlength=len(per_ring)) if len(coords) else np.zeros(0)
    flip = np.repeat(np.where(shell, twice_area > 0, twice_area < 0), per_ring)
    start = np.repeat(ring_end[:-1], per_ring)
    pos = np.arange(len(coords)) - start
    order = np.where(flip, start + np.repeat(per_ring, per_ring) - 1 - pos, np.arange(len(coords)))
    coords = coords[order]
    keep = pos != np.repeat(per_ring, per_ring) - 1  # the closing vertex repeats the first
    coords = coords[keep]
    per_ring = np.maximum(per_ring - 1, 0)
    tr = to_mercator(crs)
    mx, my = tr.transform(coords[:, 0], coords[:, 1])
    q = np.round((np.column_stack([mx, my]) - np.asarray(origin, dtype=float)) / UNIT_M).astype(np.int64)
    deltas = np.diff(q, axis=0, prepend=np.zeros((1, 2), dtype=np.int64)).reshape(-1)
    stream = np.concatenate([rings_per_feature.astype(np.uint64), per_ring.astype(np.uint64), zigzag(deltas)])
    bbox = (int(q[:, 0].min()), int(q[:, 1].min()), int(q[:, 0].max()), int(q[:, 1].max())) if len(q) else (0, 0, 0, 0)
    assert len(rings_per_feature) == n
    return Packed(n=n, data=base64.b64encode(varints(stream)).decode("ascii"), bbox=bbox)


def unpack_polygons(packed: Packed) -> list[list[np.ndarray]]:
    """Decode :func:`pack_polygons`' output (as the page does) into, per feature, its rings as
    arrays of vertices in units from the origin; for tests and for reading a map back."""
    raw = np.frombuffer(base64.b64decode(packed.data), dtype=np.uint8)
    ends = np.flatnonzero((raw & 0x80) == 0)
    starts = np.concatenate([[0], ends[:-1] + 1])
    values = np.zeros(len(ends), dtype=np.int64)
    for k in range(5):
        idx = starts + k
        valid = idx <= ends
        values[valid] |= (raw[idx[valid]].astype(np.int64) & 0x7F) << (7 * k)
    rings_per_feature = values[:packed.n]
    n_rings = int(rings_per_feature.sum())
    per_ring = values[packed.n:packed.n + n_rings]
    z = values[packed.n + n_rings:]
    deltas = (z >> 1) ^ -(z & 1)
    xy = np.cumsum(deltas.reshape(-1, 2), axis=0)
    out: list[list[np.ndarray]] = []
    v = r = 0
    for nr in rings_per_feature:
        feature = []
        for _ in range(int(nr)):
            feature.append(xy[v:v + per_ring[r]])
            v += int(per_ring[r])
            r += 1
        out.append(feature)
    return out
