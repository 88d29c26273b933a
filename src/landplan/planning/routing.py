"""Least-impact routing: alignments between two end points that take the least rice land, measured exactly.

The parcels around the end points are rasterised into a corridor cost surface
(:mod:`.costsurface`: the land a right-of-way of the full width centred on each cell would take,
weighted per land-use group); cells where the corridor would take too much residential land, leave
the parcels, or enter an area to avoid are impassable. Least-cost paths (scikit-image's
``graph.MCP_Geometric``, 8-connected, distance-weighted) are found for a sweep of length penalties
λ (m² of weighted land per metre of centreline), so the candidates run along the trade-off between
land taken and length; each path is simplified and smoothed into a polyline whose every bend is a
circular arc of at least the minimum radius (:func:`smooth`). Candidates longer than the length
limit are dropped (λ is bisected to find the least-impact path within it). The raster only guides
the search: every candidate is written as a layer and measured exactly by the engine, like any
project (:func:`landplan.planning.alternatives.compare`).
"""

from __future__ import annotations

import itertools
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString, Point

from ..errors import LandplanError
from . import costsurface as cs

if TYPE_CHECKING:
    from ..scenario import LayerRef, Scenario
    from .alternatives import Comparison

log = logging.getLogger("landplan")

#: Length penalties tried, as multiples of the right-of-way width (λ = k × width_m, m² per m): from
#: "length hardly matters" to "a metre of length costs a full-width metre of land".
LAMBDA_STEPS: tuple[float, ...] = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
#: With a minimum radius, paths are also searched this many cells clear of impassable land (room for the bends).
MARGIN_CELLS: tuple[int, ...] = (3,)
#: Arcs are drawn with chords that stray at most this far from the true arc (m).
ARC_SAGITTA_M = 0.05


class RouteError(LandplanError, ValueError):
    """Raised when a route cannot be searched: end points off the parcels, an impossible length limit, no passable way."""


@dataclass(frozen=True)
class AvoidSpec:
    """Features a route must keep away from: a layer (optionally filtered) and a clearance from the
    corridor's edge in metres."""

    source: LayerRef
    buffer_m: float = 0.0


@dataclass(frozen=True)
class RouteSettings:
    """How routes are searched.

    ``width_m`` is the full right-of-way. ``max_length_ratio`` limits a route's length to that many
    times the straight line through the end and via points (``None``: no limit); ``length_penalty``
    (m² of weighted land per m) names the trade-off the planner accepts, and the candidate that
    minimises land + penalty × length is marked. ``min_radius_m`` is the smallest curve radius
    (0: sharp bends allowed). ``resolution_m`` is the cost surface's cell. ``candidates`` is how many
    routes are measured. The cost weights and impassable shares are those of
    :class:`~landplan.planning.costsurface.CostSettings`.
    """

    width_m: float
    max_length_ratio: float | None = 1.15
    length_penalty: float | None = None
    min_radius_m: float = 0.0
    resolution_m: float = 10.0
    candidates: int = 5
    weights: dict[str, float] = field(default_factory=lambda: dict(cs.DEFAULT_WEIGHTS))
    max_residential_share: float = 0.25
    min_known_share: float = 0.95
    avoid: tuple[AvoidSpec, ...] = ()
    supersample: int = 4

    def check(self) -> None:
        """Refuse settings that cannot describe a route, every problem at once."""
        problems = []
        if not (self.width_m > 0 and math.isfinite(self.width_m)):
            problems.append(f"the right-of-way width must be a positive number of metres, got {self.width_m!r}")
        if self.max_length_ratio is not None and not (self.max_length_ratio > 0 and math.isfinite(self.max_length_ratio)):
            problems.append(f"the maximum length ratio must be a positive number, got {self.max_length_ratio!r}")
        if self.length_penalty is not None and not (self.length_penalty >= 0 and math.isfinite(self.length_penalty)):
            problems.append(f"the length penalty must be a number ≥ 0 (m² per m), got {self.length_penalty!r}")
        if not (self.min_radius_m >= 0 and math.isfinite(self.min_radius_m)):
            problems.append(f"the minimum curve radius must be ≥ 0 m, got {self.min_radius_m!r}")
        if not (self.resolution_m > 0 and math.isfinite(self.resolution_m)):
            problems.append(f"the resolution must be a positive number of metres, got {self.resolution_m!r}")
        if self.candidates < 1:
            problems.append(f"at least one candidate must be asked for, got {self.candidates}")
        if problems:
            raise RouteError("route settings: " + "; ".join(problems))


@dataclass(frozen=True)
class RouteCandidate:
    """A route the search proposes: its smoothed centreline, the length penalty λ that found it (m² per m),
    its length (m) and the rice land and weighted land the cost surface estimates it takes (m²)."""

    line: LineString
    penalty: float
    length_m: float
    estimated_rice_m2: float
    estimated_cost_m2: float


@dataclass(frozen=True)
class RouteSearch:
    """What a search found: the candidates (least estimated land first), the straight-line length through
    the end and via points (m), the length limit (m, or ``None``) and the cost surface used."""

    candidates: list[RouteCandidate]
    straight_m: float
    max_length_m: float | None
    surface: cs.CorridorCost


# --- geometry: smoothing with a minimum radius ---------------------------------------------------------


def _deflections(p: np.ndarray) -> np.ndarray:
    """The turning angle (rad, 0–π) at each interior vertex of polyline ``p`` (n × 2)."""
    d = np.diff(p, axis=0)
    a = np.arctan2(d[:, 1], d[:, 0])
    turn = np.abs((np.diff(a) + np.pi) % (2 * np.pi) - np.pi)
    return turn


def fit_radius(points: np.ndarray, radius_m: float, *, fixed: Sequence[int] = (),
               chord_ok: Callable[[np.ndarray, np.ndarray], bool] | None = None) -> np.ndarray:
    """Drop vertices of polyline ``points`` until every bend can be rounded by an arc of ``radius_m``.

    A bend of angle Δ at a vertex needs a tangent length T = R·tan(Δ/2) along both its segments; a
    segment must hold the tangents of both its ends (T_i + T_{i+1} ≤ its length). While some segment
    cannot, the interior vertex at its ends that lies nearest the chord of its neighbours (the one
    whose removal moves the line least) is removed; the end points and ``fixed`` vertices stay. With
    ``chord_ok(a, b)``, a vertex is removed only where the new segment a → b is acceptable (it crosses
    no impassable land); :class:`RouteError` when no vertex can be.
    """
    p = np.asarray(points, dtype=float)
    keep_fixed = set(int(i) for i in fixed) | {0, len(p) - 1}
    idx = list(range(len(p)))
    if radius_m <= 0:
        return p
    while len(idx) >= 3:
        q = p[idx]
        seg = np.hypot(*np.diff(q, axis=0).T)
        t = np.zeros(len(q))
        t[1:-1] = radius_m * np.tan(np.minimum(_deflections(q), np.pi * 0.999) / 2.0)
        bad = np.flatnonzero(t[:-1] + t[1:] > seg + 1e-9)
        if len(bad) == 0:
            break
        cand = sorted({int(j) for b in bad for j in (b, b + 1) if 0 < j < len(q) - 1 and idx[j] not in keep_fixed})
        if not cand:
            raise RouteError(f"the bends at fixed points (end or via points) cannot be rounded with a radius of {radius_m:,.0f} m: "
                             f"move a via point or lower the minimum radius")
        a, m, b = q[[c - 1 for c in cand]], q[cand], q[[c + 1 for c in cand]]
        chord = b - a
        dist = np.abs(chord[:, 0] * (m - a)[:, 1] - chord[:, 1] * (m - a)[:, 0]) / np.maximum(np.hypot(*chord.T), 1e-12)
        for k in np.argsort(dist, kind="stable"):
            if chord_ok is None or chord_ok(a[k], b[k]):
                del idx[cand[int(k)]]
                break
        else:
            raise RouteError(f"the path leaves no room for bends of radius {radius_m:,.0f} m without crossing impassable land "
                             f"near ({q[cand[0]][0]:,.0f}, {q[cand[0]][1]:,.0f})")
    return p[idx]


def round_bends(points: np.ndarray, radius_m: float, *, sagitta_m: float = ARC_SAGITTA_M) -> np.ndarray:
    """Replace every bend of polyline ``points`` by a circular arc of ``radius_m`` tangent to both segments
    (the vertices must leave room: :func:`fit_radius`). The arc's vertices lie on the circle, at most
    ``sagitta_m`` apart from it in between; the straight parts are kept."""
    p = np.asarray(points, dtype=float)
    if radius_m <= 0 or len(p) < 3:
        return p
    out = [p[0]]
    for i in range(1, len(p) - 1):
        u_in = p[i] - p[i - 1]
        u_out = p[i + 1] - p[i]
        u_in /= np.hypot(*u_in)
        u_out /= np.hypot(*u_out)
        cross = u_in[0] * u_out[1] - u_in[1] * u_out[0]
        delta = math.acos(float(np.clip(np.dot(u_in, u_out), -1.0, 1.0)))
        if delta < 1e-9:
            continue
        t = radius_m * math.tan(delta / 2.0)
        a = p[i] - t * u_in
        normal = np.array([-u_in[1], u_in[0]]) if cross > 0 else np.array([u_in[1], -u_in[0]])
        centre = a + radius_m * normal
        start = math.atan2(a[1] - centre[1], a[0] - centre[0])
        sweep = delta if cross > 0 else -delta
        step = 2.0 * math.acos(max(-1.0, 1.0 - sagitta_m / radius_m)) if sagitta_m < radius_m else delta
        k = max(1, math.ceil(delta / max(step, 1e-6)))
        ang = start + sweep * np.arange(k + 1) / k
        out.extend(np.column_stack([centre[0] + radius_m * np.cos(ang), centre[1] + radius_m * np.sin(ang)]))
    out.append(p[-1])
    q = np.array(out)
    keep = np.concatenate([[True], np.hypot(*np.diff(q, axis=0).T) > 1e-9])
    return q[keep]


def smooth(points: np.ndarray, radius_m: float, *, tolerance_m: float, fixed: Sequence[int] = (),
           chord_ok: Callable[[np.ndarray, np.ndarray], bool] | None = None) -> LineString:
    """A lattice path made a road: simplified (Douglas–Peucker, ``tolerance_m``) piece by piece between the
    ``fixed`` vertices (via points), the vertices that leave no room for the bends dropped
    (:func:`fit_radius`), every bend then rounded by an arc of ``radius_m`` (:func:`round_bends`)."""
    p = np.asarray(points, dtype=float)
    cuts = sorted({0, len(p) - 1, *[int(i) for i in fixed]})
    parts: list[np.ndarray] = []
    fixed_out: list[int] = []
    for a, b in itertools.pairwise(cuts):
        piece = shapely.get_coordinates(shapely.simplify(LineString(p[a:b + 1]), tolerance_m, preserve_topology=False))
        if parts:
            fixed_out.append(sum(len(x) for x in parts) - 1)
            piece = piece[1:]
        parts.append(piece)
    q = np.vstack(parts) if parts else p
    q = fit_radius(q, radius_m, fixed=fixed_out, chord_ok=chord_ok)
    return LineString(round_bends(q, radius_m))


def circumradii(points: np.ndarray) -> np.ndarray:
    """The radius (m) of the circle through each three consecutive vertices of a polyline (inf where straight)."""
    p = np.asarray(points, dtype=float)
    a, b, c = p[:-2], p[1:-1], p[2:]
    ab, bc, ca = np.hypot(*(b - a).T), np.hypot(*(c - b).T), np.hypot(*(a - c).T)
    area2 = np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(area2 > 1e-9 * ab * bc, ab * bc * ca / (2.0 * area2), np.inf)


# --- the search ------------------------------------------------------------------------------------------


def _sample(line: LineString, step_m: float) -> np.ndarray:
    """Points every ``step_m`` along ``line`` (both ends included), n × 2."""
    n = max(2, math.ceil(line.length / step_m) + 1)
    return shapely.get_coordinates(shapely.line_interpolate_point(line, np.linspace(0.0, line.length, n)))


def _along(surface: np.ndarray, grid: cs.Grid, line: LineString) -> float:
    """∫ surface ds along ``line`` (surface in units per m; nearest cell), in units."""
    step = grid.res_m / 4.0
    pts = _sample(line, step)
    r = np.clip(np.floor((grid.y0 - pts[:, 1]) / grid.res_m).astype(int), 0, grid.rows - 1)
    c = np.clip(np.floor((pts[:, 0] - grid.x0) / grid.res_m).astype(int), 0, grid.cols - 1)
    vals = surface[r, c]
    seg = np.hypot(*np.diff(pts, axis=0).T)
    return float(np.sum(seg * (vals[:-1] + vals[1:]) / 2.0))


def _segment_costs(costs: np.ndarray, grid: cs.Grid, a: np.ndarray, b: np.ndarray) -> float:
    """∫ costs ds along the straight segment a → b (nearest cell, samples every quarter cell); inf off the grid."""
    length = float(np.hypot(*(b - a)))
    n = max(2, math.ceil(length / (grid.res_m / 4.0)) + 1)
    t = np.linspace(0.0, 1.0, n)[:, None]
    pts = a + t * (b - a)
    r = np.floor((grid.y0 - pts[:, 1]) / grid.res_m).astype(int)
    c = np.floor((pts[:, 0] - grid.x0) / grid.res_m).astype(int)
    if (r < 0).any() or (r >= grid.rows).any() or (c < 0).any() or (c >= grid.cols).any():
        return math.inf
    v = costs[r, c]
    return float(length * (v[:-1] + v[1:]).sum() / (2.0 * (n - 1)))


def _segment_costs_many(costs: np.ndarray, grid: cs.Grid, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """:func:`_segment_costs` of many segments a[i] → b[i] at once (the same number of samples on each, at
    most a quarter cell apart on the longest)."""
    length = np.hypot(*(b - a).T)
    n = max(2, math.ceil(float(length.max(initial=0.0)) / (grid.res_m / 4.0)) + 1)
    t = np.linspace(0.0, 1.0, n)
    x = a[:, :1] + t[None, :] * (b[:, :1] - a[:, :1])
    y = a[:, 1:] + t[None, :] * (b[:, 1:] - a[:, 1:])
    r = np.floor((grid.y0 - y) / grid.res_m).astype(int)
    c = np.floor((x - grid.x0) / grid.res_m).astype(int)
    off = ((r < 0) | (r >= grid.rows) | (c < 0) | (c >= grid.cols)).any(axis=1)
    v = costs[np.clip(r, 0, grid.rows - 1), np.clip(c, 0, grid.cols - 1)]
    out = length * (v[:, :-1] + v[:, 1:]).sum(axis=1) / (2.0 * (n - 1))
    return np.where(off, np.inf, out)


def pull_taut(xy: np.ndarray, costs: np.ndarray, grid: cs.Grid) -> np.ndarray:
    """Straighten a lattice path (any-angle): from each kept vertex, jump to the farthest later vertex that a
    straight segment reaches at no more cost than the path between them (``costs`` per m, inf where
    impassable). An 8-connected lattice path is up to 8 % longer than the straight line it stands
    for; the pulled path keeps the path's cost or lowers it, and its length is the true one."""
    p = np.asarray(xy, dtype=float)
    n = len(p)
    if n < 3:
        return p
    r = np.clip(np.floor((grid.y0 - p[:, 1]) / grid.res_m).astype(int), 0, grid.rows - 1)
    c = np.clip(np.floor((p[:, 0] - grid.x0) / grid.res_m).astype(int), 0, grid.cols - 1)
    v = costs[r, c]
    v = np.where(np.isfinite(v), v, np.nanmax(np.where(np.isfinite(v), v, np.nan)))  # the end points' own cells
    step = np.hypot(*np.diff(p, axis=0).T) * (v[:-1] + v[1:]) / 2.0  # as MCP_Geometric counts a move
    cum = np.concatenate([[0.0], np.cumsum(step)])

    def ok(i: int, j: int) -> bool:
        return _segment_costs(costs, grid, p[i], p[j]) <= (cum[j] - cum[i]) * (1.0 + 1e-9) + 1e-9

    keep = [0]
    i = 0
    while i < n - 1:
        good, jump = i + 1, 1
        while good < n - 1:  # exponential search, then binary between the last good and the first bad
            cand = min(i + 2 * jump, n - 1)
            if ok(i, cand):
                good, jump = cand, 2 * jump
                continue
            lo, hi = good, cand
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if ok(i, mid):
                    lo = mid
                else:
                    hi = mid
            good = lo
            break
        keep.append(good)
        i = good
    # each kept vertex then slides along the lattice path to where the two segments beside it cost least,
    # or goes where one straight segment costs less still (the greedy jump stops at the lattice's own turns)
    for _ in range(2):
        t = 1
        while t < len(keep) - 1:
            a, b = keep[t - 1], keep[t + 1]
            vs = np.arange(a + 1, b)
            c = (_segment_costs_many(costs, grid, np.repeat(p[a][None], len(vs), axis=0), p[vs])
                 + _segment_costs_many(costs, grid, p[vs], np.repeat(p[b][None], len(vs), axis=0)))
            k = int(np.argmin(c))
            if _segment_costs(costs, grid, p[a], p[b]) <= c[k] + 1e-9:
                del keep[t]
                continue
            if c[k] < c[vs == keep[t]][0] - 1e-9:
                keep[t] = int(vs[k])
            t += 1
    return p[keep]


def _crosses(blocked: np.ndarray, grid: cs.Grid, line: LineString) -> bool:
    pts = _sample(line, grid.res_m / 2.0)
    r = np.floor((grid.y0 - pts[:, 1]) / grid.res_m).astype(int)
    c = np.floor((pts[:, 0] - grid.x0) / grid.res_m).astype(int)
    inside = (r >= 0) & (r < grid.rows) & (c >= 0) & (c < grid.cols)
    return bool((~inside).any() or blocked[r[inside], c[inside]].any())


def _fmt_xy(p: tuple[float, float]) -> str:
    return f"({p[0]:,.1f}, {p[1]:,.1f})"


def search_area(points: Sequence[tuple[float, float]], settings: RouteSettings) -> tuple[float, float, float, float]:
    """The box a route between ``points`` can reach within the length limit (working CRS, m): the
    points' box widened by the ellipse's half-width √(L_max² − D²)/2 plus the right-of-way (with no
    limit, by 30 % of the straight length)."""
    pts = np.asarray(points, dtype=float)
    straight = float(np.hypot(*np.diff(pts, axis=0).T).sum())
    if settings.max_length_ratio is not None:
        lmax = settings.max_length_ratio * straight
        margin = math.sqrt(max(lmax * lmax - straight * straight, 0.0)) / 2.0
    else:
        margin = 0.3 * straight
    margin += settings.width_m + 2 * settings.resolution_m
    return (float(pts[:, 0].min() - margin), float(pts[:, 1].min() - margin), float(pts[:, 0].max() + margin),
            float(pts[:, 1].max() + margin))


def search_routes(parcels: gpd.GeoDataFrame, points: Sequence[tuple[float, float]], settings: RouteSettings, *,
                  avoid: Sequence[shapely.Geometry] = (), avoid_buffer_m: Sequence[float] = (), parcels_label: str = "the parcel layer") -> RouteSearch:
    """Search routes through ``points`` (start, via points…, end; working CRS) over ``parcels`` (columns
    ``landuse`` and geometry): the candidates along the trade-off land taken vs length, least estimated
    land first. ``avoid`` are geometries the corridor keeps ``avoid_buffer_m`` (one per geometry, or
    none) away from. Raises :class:`RouteError` with one clear message for end points outside the
    parcels or in an area to avoid, an impossible length limit, or no passable way."""
    from skimage.graph import MCP_Geometric

    settings.check()
    pts = [(float(x), float(y)) for x, y in points]
    if len(pts) < 2:
        raise RouteError("a route needs two end points")
    arr = np.asarray(pts)
    straight = float(np.hypot(*np.diff(arr, axis=0).T).sum())
    if straight <= 0:
        raise RouteError("the end points are the same point")
    lmax = settings.max_length_ratio * straight if settings.max_length_ratio is not None else None
    if lmax is not None and settings.max_length_ratio is not None and settings.max_length_ratio < 1.0:
        raise RouteError(f"impossible length limit: {settings.max_length_ratio:g} × the straight line is {lmax:,.0f} m, shorter than the "
                         f"straight line through the end{' and via' if len(pts) > 2 else ''} points ({straight:,.0f} m); "
                         f"a maximum length ratio must be at least 1 (e.g. 1.15)")
    names = ["start point"] + [f"via point {k}" for k in range(1, len(pts) - 1)] + ["end point"]
    geoms = np.asarray(parcels.geometry.values)
    tree = shapely.STRtree(geoms)
    where = tree.query(shapely.points(arr), predicate="intersects")
    off = [k for k in range(len(pts)) if k not in set(where[0].tolist())]
    if off:
        raise RouteError("; ".join(f"{names[k]} {_fmt_xy(pts[k])} lies outside every parcel of {parcels_label}" for k in off)
                         + ": a route is searched over the land the parcel layer describes; put the points on parcels "
                         "(coordinates in the scenario's working CRS)")
    reach = np.asarray(search_area(pts, settings))
    known = np.asarray(parcels.total_bounds)  # beyond the parcels every cell is impassable: no need to grid it
    pad = settings.width_m + 2 * settings.resolution_m
    grid = cs.grid_for((max(reach[0], known[0] - pad), max(reach[1], known[1] - pad), min(reach[2], known[2] + pad),
                        min(reach[3], known[3] + pad)), settings.resolution_m)
    log.info("route: cost surface %d × %d cells of %g m over %s parcels …", grid.rows, grid.cols, grid.res_m, f"{len(parcels):,}")
    shares = cs.rasterise_shares(parcels, grid, supersample=settings.supersample)
    avoid_mask = np.zeros(grid.shape, dtype=bool)
    avoid_geoms = np.asarray(list(avoid), dtype=object)
    bufs = list(avoid_buffer_m) or [0.0] * len(avoid_geoms)
    for g, b in zip(avoid_geoms, bufs):
        avoid_mask |= cs.near_mask(grid, np.array([g], dtype=object), b + settings.width_m / 2.0)
    surface = cs.corridor_cost(shares, cs.CostSettings(settings.width_m, dict(settings.weights), settings.max_residential_share,
                                                       settings.min_known_share), avoid=avoid_mask)
    cells = [grid.cell_of(x, y) for x, y in pts]
    for k, (r, c) in enumerate(cells):
        if surface.reasons["avoid"][r, c] if "avoid" in surface.reasons else False:
            raise RouteError(f"{names[k]} {_fmt_xy(pts[k])} lies in an area to avoid (within its clearance plus half the right-of-way); "
                             f"move it or lower the clearance")
    # the ends of a road meet the land around them: near each end and via point (within the width or the
    # minimum radius), only areas to avoid block
    ends = cs.near_mask(grid, np.asarray(shapely.points(arr), dtype=object), max(settings.width_m, settings.min_radius_m))
    blocked = surface.blocked & ~(ends & ~surface.reasons.get("avoid", np.zeros(grid.shape, dtype=bool)))

    # a smoothed line may clip the corner of an impassable cell, as a lattice path's diagonal step does: only
    # cells inside impassable land (all eight neighbours impassable too) refuse it
    from scipy.ndimage import binary_erosion

    solid = binary_erosion(blocked, structure=np.ones((3, 3), dtype=bool), border_value=1)

    # the path is searched keeping a margin of two cells from impassable land (where a way remains), so that
    # bends can be rounded without cutting into it
    from scipy.ndimage import binary_dilation

    free_ends = ends & ~surface.reasons.get("avoid", np.zeros(grid.shape, dtype=bool))
    margins = [blocked]
    if settings.min_radius_m > 0:  # wider margins first: they leave the most room for the bends
        margins = [binary_dilation(blocked, structure=np.ones((3, 3), dtype=bool), iterations=k) & ~free_ends
                   for k in MARGIN_CELLS] + margins

    def paths(penalty: float) -> RouteCandidate | None:
        """The least-cost path for ``penalty``, smoothed (with a minimum radius and when the plain path leaves
        no room for its bends, searched again clear of impassable land), or ``None``."""
        for m in margins[::-1]:  # the plain path first; with a margin only where it cannot be smoothed
            found = _paths(penalty, m)
            if found is not None:
                return found
        return None

    def _paths(penalty: float, blocked: np.ndarray) -> RouteCandidate | None:
        costs = surface.cost + penalty + 1e-6 * settings.width_m
        costs = np.where(blocked, np.inf, costs)
        line: list[np.ndarray] = []
        fixed: list[int] = []
        for k in range(len(pts) - 1):
            mcp = MCP_Geometric(costs, fully_connected=True, sampling=(grid.res_m, grid.res_m))
            cum, _ = mcp.find_costs([cells[k]], [cells[k + 1]])
            if not np.isfinite(cum[cells[k + 1]]):
                return None
            rc = np.asarray(mcp.traceback(cells[k + 1]))
            xy = grid.centres(rc[:, 0], rc[:, 1])
            xy[0], xy[-1] = pts[k], pts[k + 1]
            xy = pull_taut(xy, costs, grid)
            if line:
                fixed.append(sum(len(x) for x in line) - 1)
                xy = xy[1:]
            line.append(xy)
        raw = np.vstack(line)
        try:
            smooth_line = smooth(raw, settings.min_radius_m, tolerance_m=grid.res_m / 2.0, fixed=fixed,
                                 chord_ok=lambda a, b: not _crosses(solid, grid, LineString([a, b])))
        except RouteError as exc:
            log.info("route: λ = %.3g m²/m: %s; dropped", penalty, exc)
            return None
        if _crosses(solid, grid, smooth_line):
            log.info("route: the smoothed path for λ = %.3g m²/m cuts through impassable land; dropped", penalty)
            return None
        return RouteCandidate(smooth_line, penalty, float(smooth_line.length), _along(surface.rice, grid, smooth_line),
                              _along(surface.cost, grid, smooth_line))

    w = settings.width_m
    penalties = sorted({k * w for k in LAMBDA_STEPS} | ({settings.length_penalty} if settings.length_penalty is not None else set()))
    found: list[RouteCandidate] = []
    for lam in penalties:
        cand = paths(lam)
        if cand is not None:
            found.append(cand)
    if not found:
        if paths(1e6 * w) is None:
            if lmax is not None:
                raise RouteError(f"impossible length limit: no route of at most {lmax:,.0f} m ({settings.max_length_ratio:g} × the straight "
                                 f"line of {straight:,.0f} m) gets round the impassable land (a corridor more than "
                                 f"{settings.max_residential_share:.0%} residential, land outside the parcels, or an area to avoid); "
                                 f"raise max_length_ratio, or relax the areas to avoid")
            raise RouteError("no passable way between the end points: every route would cross impassable land (a corridor more than "
                             f"{settings.max_residential_share:.0%} residential, land outside the parcels, or an area to avoid); "
                             "raise max_residential_share, shrink the clearances or move the points")
        found.append(paths(1e6 * w))  # type: ignore[arg-type]
    if lmax is not None:
        ok = [c for c in found if c.length_m <= lmax]
        if not ok:
            shortest = paths(1e4 * w) or min(found, key=lambda c: c.length_m)
            if shortest.length_m > lmax:
                raise RouteError(f"impossible length limit: the shortest route that avoids the impassable land is {shortest.length_m:,.0f} m "
                                 f"({shortest.length_m / straight:.3f} × the straight line of {straight:,.0f} m), longer than the limit of "
                                 f"{lmax:,.0f} m ({settings.max_length_ratio:g} ×); raise max_length_ratio or relax the areas to avoid")
            found.append(shortest)
            ok = [shortest]
        # the least land within the limit: bisect λ between the largest that breaks it and the smallest that keeps it
        too_long = [c.penalty for c in found if c.length_m > lmax]
        lo = max(too_long) if too_long else None
        hi = min(c.penalty for c in ok)
        if lo is not None and lo < hi:
            for _ in range(4):
                mid = math.sqrt(lo * hi)
                cand = paths(mid)
                if cand is None:
                    break
                found.append(cand)
                if cand.length_m <= lmax:
                    hi = mid
                else:
                    lo = mid
        found = [c for c in found if c.length_m <= lmax]
    return RouteSearch(_tradeoff(found, settings.candidates, grid.res_m), straight, lmax, surface)


def _tradeoff(found: list[RouteCandidate], n: int, res_m: float) -> list[RouteCandidate]:
    """The candidates on the trade-off (no other is both shorter and takes less estimated land), the same
    route found twice kept once, at most ``n`` spread along it; least estimated land first."""
    found = sorted(found, key=lambda c: (c.estimated_cost_m2, c.length_m))
    front: list[RouteCandidate] = []
    for c in found:
        if any(f.length_m <= c.length_m + 1e-6 and f.estimated_cost_m2 <= c.estimated_cost_m2 + 1e-6 for f in front):
            continue
        if any(shapely.hausdorff_distance(c.line, f.line) < 2 * res_m for f in front):
            continue
        front.append(c)
    if len(front) <= n:
        return front
    pick = sorted({round(i * (len(front) - 1) / (n - 1)) for i in range(n)}) if n > 1 else [0]
    return [front[i] for i in pick]


# --- from a scenario ---------------------------------------------------------------------------------


def project_ends(scenario: Scenario, project: str) -> tuple[list[tuple[float, float]], float]:
    """The end points of a centreline project (its features joined) and its right-of-way width (m; the
    widest where widths vary)."""
    from .. import layers

    spec = next((p for p in scenario.projects if p.id == project), None)
    if spec is None:
        raise RouteError(f"no project {project!r} in the scenario; projects are {', '.join(p.id for p in scenario.projects)}")
    if spec.kind != "centreline":
        raise RouteError(f"project {project!r} is an acquisition polygon; a route needs a centreline project (or --from and --to)")
    gdf = layers.read_project(spec, scenario.crs)
    merged = shapely.line_merge(shapely.union_all(np.asarray(gdf.geometry.values)))
    if merged.geom_type != "LineString":
        raise RouteError(f"project {project!r}: its centreline is not one connected line; give --from and --to")
    xy = shapely.get_coordinates(merged)
    width = spec.width_m if spec.width_m is not None else float(gdf[spec.width_column].astype(float).max())
    return [(float(xy[0][0]), float(xy[0][1])), (float(xy[-1][0]), float(xy[-1][1]))], float(width)


def route(scenario: Scenario | str | Path, points: Sequence[tuple[float, float]] | None = None, *,
          settings: RouteSettings | None = None, project: str | None = None, folder: Path | None = None) -> Comparison:
    """Search the routes through ``points`` (start, via points…, end, in the working CRS; by default the
    end points of ``project``'s centreline) and measure each exactly with the engine.

    Returns a :class:`~landplan.planning.alternatives.Comparison` whose first alternative is
    ``project`` as the scenario has it (when given), then the candidates (``route_1`` …, least
    estimated land first), each a layer of ``candidates.gpkg`` and a scenario file of its own.
    ``settings`` default to the project's width and the defaults of :class:`RouteSettings`.
    """
    import tempfile

    from .. import layers
    from ..report import RunReport
    from ..scenario import load_scenario
    from .alternatives import Alternative, Alternatives, compare, project_table, write_candidates

    sc = load_scenario(scenario) if isinstance(scenario, (str, Path)) else scenario
    width = None
    if project is not None:
        ends, width = project_ends(sc, project)
        if points is None:
            points = ends
    if points is None:
        raise RouteError("give the end points (--from and --to) or a centreline project (--project)")
    if settings is None:
        if width is None:
            raise RouteError("give the right-of-way width (--width) or a centreline project (--project)")
        settings = RouteSettings(width_m=width)
    settings.check()
    box = shapely.box(*search_area(points, settings))
    parcels = layers.read_parcels(sc.parcels, sc.crs, mask=box, report=RunReport())
    parcels = parcels[~parcels["neighbour"].to_numpy(dtype=bool)]
    avoid: list[shapely.Geometry] = []
    bufs: list[float] = []
    for a in settings.avoid:
        g = layers.read_layer(a.source, sc.crs, columns=[], mask=box)
        if g.empty:
            raise RouteError(f"{a.source.label()}: no features to avoid{' with where = ' + repr(a.source.where) if a.source.where else ''} "
                             f"near the route; check the layer and the filter")
        avoid.append(shapely.union_all(np.asarray(g.geometry.values)))
        bufs.append(a.buffer_m)
    found = search_routes(parcels, points, settings, avoid=avoid, avoid_buffer_m=bufs, parcels_label=sc.parcels.source.label())
    tmp = None
    if folder is None:
        tmp = tempfile.TemporaryDirectory(prefix="landplan-route-")
        folder = Path(tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    frames = {}
    items: list[Alternative] = []
    if project is not None:
        items.append(Alternative(project, "Tuyến trong kịch bản", "The scenario's alignment", project_table(sc, project)))
    for k, c in enumerate(found.candidates, start=1):
        cid = f"route_{k}"
        frames[cid] = gpd.GeoDataFrame({"candidate": [cid], "length_penalty": [c.penalty], "estimated_rice_m2": [c.estimated_rice_m2],
                                        "length_m": [c.length_m]}, geometry=[c.line], crs=sc.crs)
        items.append(Alternative(cid, f"Tuyến đề xuất {k}", f"Proposed route {k}",
                                 {"kind": "centreline", "path": str((folder / "candidates.gpkg").resolve()), "layer": cid,
                                  "width_m": settings.width_m},
                                 {"estimated_rice_ha": c.estimated_rice_m2 / 10_000.0, "length_penalty": c.penalty}))
    write_candidates(frames, folder)
    comparison = compare(sc, Alternatives(tuple(items), project), folder=folder)
    comparison._tmp = tmp
    t = comparison.table
    is_route = t["alternative"].str.startswith("route_").to_numpy()
    t["within_length_limit"] = (t["length_m"] <= (found.max_length_m or np.inf) + 1e-6) if found.max_length_m else True
    front = np.zeros(len(t), dtype=bool)
    front[is_route] = _pareto(t["rice_ha"].to_numpy(dtype=float)[is_route], t["length_m"].to_numpy(dtype=float)[is_route])
    t["pareto"] = front
    if settings.length_penalty is not None:
        score = t["rice_ha"].to_numpy(dtype=float) * 10_000.0 + settings.length_penalty * t["length_m"].to_numpy(dtype=float)
        score = np.where(is_route, score, np.inf)
        t["best_for_penalty"] = np.arange(len(t)) == int(np.argmin(score))
    return comparison


def _pareto(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Rows no other row beats on both ``a`` and ``b`` (lower is better)."""
    n = len(a)
    out = np.ones(n, dtype=bool)
    for i in range(n):
        better = (a <= a[i]) & (b <= b[i]) & ((a < a[i]) | (b < b[i]))
        out[i] = not better.any()
    return out


def straight_line(points: Sequence[tuple[float, float]]) -> LineString:
    """The straight polyline through ``points``."""
    return LineString([Point(p) for p in points])
