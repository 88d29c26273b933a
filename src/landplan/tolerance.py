"""The one tolerance and rounding policy: what is noise, and how areas are rounded before any rule compares them.

Every module that decides something from an area (is this piece a take? does this remnant count?
do these parcels overlap? which approval band?) asks this module, so no figure flips on float
noise, on the order of the inputs, or on a rotation of the data.

Notes
-----
**Noise.** A polygonal piece (a take, a remaining piece, an overlap between two parcels or two
projects, a part of a take split off by an administrative boundary) is *noise* when

* its area is below ``sliver_m2`` (default 0.01 m², a tenth of the 0.1 m² to which Vietnamese
  cadastral areas are recorded), or
* its mean width, ``2 · area / perimeter``, is below ``sliver_width_m`` (default 1 mm): a zero-width
  sliver left by float noise along a shared edge is thin whatever its length, so a 5 km long
  sliver of 1 µm (0.005 m²) and a 100 m long one (0.0001 m²) are both noise.

Noise is never silently dropped: it is listed (``slivers.csv``) with its area, so every total
still balances: footprint = land taken + noise + land in no parcel.

**Widths.** A remaining piece is *narrow* when it is narrower than the minimum width less
``sliver_width_m`` everywhere: its inward buffer (:func:`shapely.buffer` with a negative distance of
half that width, mitred joins, mitre limit :data:`MITRE_LIMIT`) is empty. A strip exactly as wide
as the minimum is therefore not narrow, whatever its orientation.

**Rounding.** Before an area is compared with a threshold (approval bands, minimum remnant areas)
and when it is written to a CSV, it is rounded to ``decimals_m2`` decimal places of a square
metre (default 2: 0.01 m²) with :func:`numpy.round` (ties to even). One hundred parcels of exactly
1,000 m² then make 100,000.00 m² = 10 ha whether the float sum is 99,999.99999991711 or
100,000.00000008.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

#: Mitre limit of the inward buffer that defines a narrow remnant (shapely's default).
MITRE_LIMIT = 5.0


@dataclass(frozen=True)
class Tolerance:
    """The tolerance and rounding policy of a run (``[tolerance]`` in the scenario; see the module notes)."""

    sliver_m2: float = 0.01
    sliver_width_m: float = 0.001
    decimals_m2: int = 2

    def is_noise(self, geoms: np.ndarray) -> np.ndarray:
        """True for each polygonal geometry that is noise: area below ``sliver_m2`` or mean width
        (2 · area / perimeter) below ``sliver_width_m``. Empty and missing geometries are noise."""
        geoms = np.asarray(geoms, dtype=object)
        area = np.asarray(shapely.area(geoms), dtype="float64")
        return self.is_noise_area(area, np.asarray(shapely.length(geoms), dtype="float64"))

    def is_noise_area(self, area_m2: np.ndarray, perimeter_m: np.ndarray | None = None) -> np.ndarray:
        """:meth:`is_noise` from areas (and perimeters, when known) already measured."""
        area = np.nan_to_num(np.asarray(area_m2, dtype="float64"), nan=0.0)
        noise = area < self.sliver_m2
        if perimeter_m is not None:
            per = np.asarray(perimeter_m, dtype="float64")
            with np.errstate(divide="ignore", invalid="ignore"):
                width = np.where(per > 0, 2.0 * area / per, 0.0)
            noise |= width < self.sliver_width_m
        return noise

    def round_m2(self, area_m2: np.ndarray | float) -> np.ndarray:
        """Areas rounded by the rounding rule (``decimals_m2`` places of a m², ties to even)."""
        return np.round(np.asarray(area_m2, dtype="float64"), self.decimals_m2)

    def below(self, area_m2: np.ndarray | float, threshold_m2: np.ndarray | float) -> np.ndarray:
        """``round_m2(area) < threshold``: the one way an area is compared with a minimum."""
        return np.asarray(self.round_m2(area_m2) < np.asarray(threshold_m2, dtype="float64"))

    def narrow_buffer_m(self, min_width_m: np.ndarray) -> np.ndarray:
        """Inward buffer distance that decides "narrow" for each minimum width: (min − sliver_width_m) / 2,
        never negative (a minimum of 0 tests nothing)."""
        return np.maximum((np.asarray(min_width_m, dtype="float64") - self.sliver_width_m) / 2.0, 0.0)

    def describe(self) -> dict[str, object]:
        """The policy as recorded in the manifest."""
        return {
            "sliver_m2": self.sliver_m2,
            "sliver_width_m": self.sliver_width_m,
            "decimals_m2": self.decimals_m2,
            "noise": "a piece whose area < sliver_m2 or whose mean width 2·area/perimeter < sliver_width_m; listed in slivers.csv",
            "narrow": (f"a remaining piece whose inward buffer by (min width − sliver_width_m)/2 (mitred joins, mitre limit "
                       f"{MITRE_LIMIT:g}) is empty"),
            "rounding": "areas rounded to decimals_m2 places of a m² (numpy.round, ties to even) before any threshold and in CSVs",
        }


#: The default policy (the scenario's ``[tolerance]`` table overrides it).
DEFAULT_TOLERANCE = Tolerance()


def is_narrow(parts: np.ndarray, min_width_m: np.ndarray, tolerance: Tolerance) -> np.ndarray:
    """True for each polygon narrower than its ``min_width_m`` everywhere: **the** definition of a narrow remnant.

    A polygon is narrow when ``shapely.buffer(polygon, -d, join_style="mitre", mitre_limit=MITRE_LIMIT)``
    is empty, with ``d = tolerance.narrow_buffer_m(min_width_m)`` (half the minimum width less the
    width tolerance). A minimum of zero (or below the tolerance) tests nothing.

    Notes
    -----
    Most remnants are decided without buffering, by a test that can only say "not narrow" when the
    buffer is certainly not empty: the inward buffer removes from the polygon the land within ``d``
    of an edge and, at each reflex vertex (interior angle over 180°), the mitred corner, which lies
    within ``d · m`` of the vertex, where ``m = 1 / cos(δ / 2)`` for a turn of δ between its edges
    (√2 for a right angle), capped at :data:`MITRE_LIMIT`. A point of the polygon farther than
    ``d · max(1, m_max)`` from its boundary therefore survives the buffer. The test takes that point
    to be the centroid, with a 2 % margin for GEOS's simplification of the buffer's input; every
    other polygon is buffered.
    """
    from .parallel import geos_map

    parts = np.asarray(parts, dtype=object)
    half = tolerance.narrow_buffer_m(np.broadcast_to(np.asarray(min_width_m, dtype="float64"), (len(parts),)))
    out = np.zeros(len(parts), dtype=bool)
    test = np.flatnonzero((half > 0) & ~(shapely.is_empty(parts) | shapely.is_missing(parts)))
    if len(test) == 0:
        return out
    g, d = parts[test], half[test]
    xy, dist, convex = _centroid_depth(g)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        inside = shapely.contains_xy(g, xy[:, 0], xy[:, 1]) & np.isfinite(dist)
        # beyond the farthest any mitred corner can reach, wide whatever the corners; within d, the buffer decides;
        # in between, the polygon's own largest mitre factor says (1 for a convex polygon: it has no reflex vertex)
        wide = inside & (dist > d * MITRE_LIMIT * 1.02)
        between = inside & ~wide & (dist > d * 1.02)
        wide[between & convex] = True
        between = np.flatnonzero(between & ~convex)
        if len(between):
            wide[between] = dist[between] > d[between] * _mitre_reach(g[between]) * 1.02
    rest = np.flatnonzero(~wide)
    if len(rest):
        out[test[rest]] = geos_map(lambda a, b: shapely.is_empty(shapely.buffer(a, -b, join_style="mitre", mitre_limit=MITRE_LIMIT)),
                                   g[rest], d[rest])
    return out


def _centroid_depth(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each polygon, its centroid ``(n, 2)``, the centroid's distance to the polygon's boundary
    (NaN where there is none to measure), and whether it is convex: the point, the depth and the
    corners :func:`is_narrow`'s shortcut tests.

    A polygon without holes is measured on its coordinates, relative to its first vertex for
    precision: the centroid by the shoelace formula, the depth as the least distance to its edges (no
    point or boundary geometry is made); the others by GEOS (``centroid``, ``distance`` to ``boundary``).
    Any point would do for the shortcut, which only says "wide" of a polygon whose point lies inside it
    and deeper than the buffer can reach, with a 2 % margin far above the rounding of either way.

    "Convex" is :func:`_mitre_reach`'s test of each corner, on the same coordinates, finding no reflex
    vertex (so its reach is 1): said only of a polygon without holes and without repeated vertices;
    ``False`` for every other polygon (the shortcut then measures its reach).
    """
    from .arrays import segment_distance, simple_polygons
    from .parallel import geos_map

    n = len(polys)
    xy, dist, convex = np.full((n, 2), np.nan), np.full(n, np.nan), np.zeros(n, dtype=bool)
    rows, pts, rings = simple_polygons(polys)
    simple = np.zeros(n, dtype=bool)
    simple[rows] = True
    if len(rows):
        m = len(rows)
        org, edge, x0, y0, x1, y1, e_own, area2, cx, cy = rings
        # the centroid's distance to each edge, the least per polygon
        each = segment_distance(cx[e_own], cy[e_own], x0, y0, x1, y1)
        least = np.full(m, np.inf)
        first = np.flatnonzero(np.r_[True, e_own[1:] != e_own[:-1]]) if len(edge) else np.zeros(0, dtype="int64")
        if len(each):  # edges come polygon by polygon
            least[e_own[first]] = np.minimum.reduceat(np.where(np.isfinite(each), each, np.inf), first)
        ok = np.isfinite(cx) & np.isfinite(cy) & (area2 != 0) & np.isfinite(least)
        xy[rows] = np.column_stack([cx + org[:, 0], cy + org[:, 1]])
        dist[rows] = np.where(ok, least, np.nan)
        if len(edge):
            # each corner's turn, from the edge arriving at it to the edge leaving it, as _mitre_reach takes it
            # (differences of the stored coordinates; a ring's last edge arrives at its first vertex)
            dx, dy = pts[edge + 1, 0] - pts[edge, 0], pts[edge + 1, 1] - pts[edge, 1]
            nxt = np.arange(1, len(edge) + 1)
            last = np.r_[first[1:], len(edge)] - 1
            nxt[last] = first
            turn = dx * dy[nxt] - dy * dx[nxt]
            reflex = np.sign(area2)[e_own] * turn < 0
            repeated = (dx == 0) & (dy == 0)
            bad = np.bincount(e_own, weights=reflex | repeated, minlength=m) > 0
            convex[rows] = ~bad & ok
    other = np.flatnonzero(~simple)
    if len(other):
        c = geos_map(shapely.centroid, polys[other])
        xy[other] = np.column_stack([shapely.get_x(c), shapely.get_y(c)])  # NaN for an empty polygon's
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            dist[other] = np.asarray(geos_map(lambda a, b: np.asarray(shapely.distance(a, shapely.boundary(b))), c, polys[other]),
                                     dtype="float64")
    return xy, dist, convex


def _mitre_reach(polys: np.ndarray) -> np.ndarray:
    """For each polygon, max(1, the largest mitre factor 1 / cos(δ / 2) of its reflex vertices), capped at
    :data:`MITRE_LIMIT`: how far, in buffer distances, a mitred inward buffer reaches from the boundary."""
    out = np.ones(len(polys), dtype="float64")
    if (shapely.get_type_id(polys) == 3).all():
        poly_of = np.arange(len(polys))
    else:  # multipolygons: each part
        polys, poly_of = shapely.get_parts(polys, return_index=True)
    if len(polys) == 0:
        return out
    # most remnants have no hole: their coordinates are their exterior ring, with no ring geometries made
    simple = shapely.get_num_interior_rings(polys) == 0
    xy_s, ring_s = shapely.get_coordinates(polys[simple], return_index=True)
    owner_s = np.flatnonzero(simple)
    rings, owner_h = shapely.get_rings(polys[~simple], return_index=True)
    xy_h, ring_h = shapely.get_coordinates(rings, return_index=True)
    exterior_h = np.r_[True, owner_h[1:] != owner_h[:-1]] if len(owner_h) else np.zeros(0, dtype=bool)
    n_s = len(owner_s)
    xy = np.concatenate([xy_s, xy_h])
    ring_of = np.concatenate([ring_s, ring_h + n_s])
    ring_poly = np.concatenate([owner_s, np.flatnonzero(~simple)[owner_h]])
    exterior = np.concatenate([np.ones(n_s, dtype=bool), exterior_h])
    # drop each ring's closing vertex, and vertices repeating the one before (a corner's turn is
    # measured between edges of non-zero length)
    last = np.r_[ring_of[1:] != ring_of[:-1], True]
    repeat = np.r_[False, (xy[1:] == xy[:-1]).all(axis=1) & (ring_of[1:] == ring_of[:-1])]
    xy, ring_of = xy[~last & ~repeat], ring_of[~last & ~repeat]
    if len(xy) == 0:
        return out
    start = np.flatnonzero(np.r_[True, ring_of[1:] != ring_of[:-1]])
    size = np.diff(np.r_[start, len(xy)])
    first = np.repeat(start, size)
    n = np.repeat(size, size)
    k = np.arange(len(xy)) - first
    prev = first + (k - 1) % n
    nxt = first + (k + 1) % n
    a = xy - xy[prev]          # edge arriving at the vertex
    b = xy[nxt] - xy           # edge leaving it
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    # ring orientation: the polygon's interior lies left of an exterior ring drawn counter-clockwise
    # and of a hole drawn clockwise
    x, y = xy[:, 0] - xy[first, 0], xy[:, 1] - xy[first, 1]  # relative to the ring's first vertex, for precision
    twice_area = np.bincount(ring_of, weights=x * y[nxt] - x[nxt] * y, minlength=len(ring_poly))
    left = np.where(exterior, 1.0, -1.0) * np.sign(twice_area)
    reflex = left[ring_of] * cross < 0
    na, nb = np.hypot(a[:, 0], a[:, 1]), np.hypot(b[:, 0], b[:, 1])
    with np.errstate(divide="ignore", invalid="ignore"):
        cos_turn = np.clip((a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]) / (na * nb), -1.0, 1.0)
        factor = 1.0 / np.sqrt((1.0 + cos_turn) / 2.0)
    factor = np.where(reflex, np.minimum(np.nan_to_num(factor, nan=MITRE_LIMIT, posinf=MITRE_LIMIT), MITRE_LIMIT), 1.0)
    factor[(na == 0) | (nb == 0)] = MITRE_LIMIT  # a degenerate ring: assume the farthest reach (the buffer will decide)
    np.maximum.at(out, poly_of[ring_poly[ring_of]], factor)
    return out
