"""Small array helpers the engine uses on every run."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def unique(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-d array, as :func:`numpy.unique` returns them.

    Integer arrays are sorted and compared with their neighbours: NumPy ≥ 2.3 finds the distinct values
    of an integer array by hashing, which on the engine's arrays of row numbers and feature ids (a
    million values spread over a large range) is about thirty times slower than sorting. Other dtypes go
    to :func:`numpy.unique`.
    """
    a = np.asarray(values)
    if a.ndim != 1 or a.dtype.kind not in "iub" or len(a) < 2:
        return np.unique(a)
    s = np.sort(a)
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def point_segment_distance(p: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """The distance from each point ``(n, 2)`` to each segment ``(n, 4)``: x0, y0, x1, y1 (NaN where either is missing)."""
    return segment_distance(p[:, 0], p[:, 1], seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3])


def segment_distance(px: np.ndarray, py: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """:func:`point_segment_distance`, from columns: the point (``px``, ``py``) and the segment (``x0``, ``y0``)–(``x1``, ``y1``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        vx, vy = x1 - x0, y1 - y0
        wx, wy = px - x0, py - y0
        vv = vx * vx + vy * vy
        t = np.clip(np.where(vv > 0, (wx * vx + wy * vy) / np.where(vv > 0, vv, 1.0), 0.0), 0.0, 1.0)
        return np.hypot(wx - t * vx, wy - t * vy)


class Shoelace(NamedTuple):
    """Closed rings measured by the shoelace formula (:func:`shoelace`); coordinates are relative to each ring's first vertex."""

    origin: np.ndarray   #: (m, 2) each ring's first vertex
    edge: np.ndarray     #: index (into the coordinates) of each edge's first vertex
    x0: np.ndarray       #: each edge, from (x0, y0) to (x1, y1), relative to its ring's origin
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    ring: np.ndarray     #: each edge's ring
    area2: np.ndarray    #: (m,) twice each ring's signed area (counter-clockwise positive)
    cx: np.ndarray       #: (m,) each ring's centroid, relative to its origin (NaN where its area is 0)
    cy: np.ndarray


def shoelace(pts: np.ndarray, own: np.ndarray, m: int) -> Shoelace:
    """The area and centroid of ``m`` closed rings given as coordinates ``pts`` (k, 2), ring by ring, with
    ``own`` each coordinate's ring (0 … m-1, every ring present, as ``shapely.get_coordinates(...,
    return_index=True)`` gives a polygon's exterior); measured relative to each ring's first vertex, so
    far coordinates lose no precision.

    >>> s = shoelace(np.array([[10.0, 20.0], [12.0, 20.0], [12.0, 21.0], [10.0, 21.0], [10.0, 20.0]]), np.zeros(5, dtype=int), 1)
    >>> float(s.area2[0]) / 2, float(s.origin[0, 0] + s.cx[0]), float(s.origin[0, 1] + s.cy[0])
    (2.0, 11.0, 20.5)
    """
    start = np.flatnonzero(np.r_[True, own[1:] != own[:-1]]) if len(own) else np.zeros(0, dtype="int64")
    org = pts[start]
    px, py = pts[:, 0] - org[own, 0], pts[:, 1] - org[own, 1]
    edge = np.flatnonzero(own[1:] == own[:-1])  # each ring's edges (the ring is closed: no edge back)
    x0, y0, x1, y1 = px[edge], py[edge], px[edge + 1], py[edge + 1]
    cross = x0 * y1 - x1 * y0
    ring = own[edge]
    area2 = np.bincount(ring, weights=cross, minlength=m)
    with np.errstate(divide="ignore", invalid="ignore"):
        cx = np.bincount(ring, weights=(x0 + x1) * cross, minlength=m) / (3.0 * area2)
        cy = np.bincount(ring, weights=(y0 + y1) * cross, minlength=m) / (3.0 * area2)
    return Shoelace(org, edge, x0, y0, x1, y1, ring, area2, cx, cy)


def simple_polygons(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, Shoelace]:
    """The polygons without holes (single, not empty) among ``polys``: their positions, their exterior's
    coordinates and those measured by :func:`shoelace`; the others (holes, several parts, empty) are left
    to GEOS by the caller."""
    import shapely

    simple = (shapely.get_type_id(polys) == 3) & (shapely.get_num_interior_rings(polys) == 0) & ~shapely.is_empty(polys)
    rows = np.flatnonzero(simple)
    pts, own = shapely.get_coordinates(polys[rows], return_index=True)
    return rows, pts, shoelace(pts, own, len(rows))
