"""Layers that should coincide: measure a constant offset between them (a missing datum step, a layer labelled with the wrong CRS).

Cadastral parcels tile the administrative units, so the units' boundaries run along parcel edges,
and a district boundary runs along ward boundaries. When one layer was moved by a constant vector
(the VN-2000 → WGS 84 datum step, about 226 m at Cần Thơ, left out of a ``.prj``; UTM coordinates
labelled as VN-2000), that stops being true everywhere at once, and it becomes true again for the
points of one boundary moved by that vector. :func:`estimate_offset` finds the vector.

Notes
-----
Points are sampled every few metres along the *reference* boundaries (the units'), in a few
windows near the projects; the *target* layer's edges (the parcels') are burnt into a raster and
widened by one cell. The share of samples that land on an edge when moved by *t* is, for every
whole-cell *t* at once, a cross-correlation of the two rasters (computed with FFTs). The best
*t* found on a 4 m grid is then refined on a 0.5 m grid. The layers are called aligned when at least
half the samples lie on an edge as they are; offset when, moved by the best *t*, at least 70 % do,
30 points more than as they are, and *t* is longer than the alarm distance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

#: How far an offset is searched for, in metres (the datum step is ~226 m; UTM labelled as VN-2000, ~400 m).
SEARCH_M = 600.0
#: Distance between samples along the reference boundaries, in metres.
SAMPLE_STEP_M = 5.0
#: Windows probed, and the half-side of the area sampled in each (metres).
N_WINDOWS = 4
PROBE_HALF_M = 200.0
#: Raster cells of the search (metres): every vector on the coarse grid, then around the best on the fine.
COARSE_CELL_M = 4.0
FINE_CELL_M = 0.5
FINE_STEPS = 4
#: Coarse vectors refined: those scoring at least this share of the best, at most this many.
CANDIDATE_SHARE = 0.8
MAX_CANDIDATES = 40
#: Samples at most, per window.
MAX_SAMPLES = 600
#: Share of samples on an edge: aligned at or above, offset when the best vector reaches the second.
ALIGNED_SHARE = 0.5
OFFSET_SHARE = 0.7
OFFSET_GAIN = 0.3
#: Fewer samples than this in all: too little to tell.
MIN_SAMPLES = 60


@dataclass(frozen=True)
class Offset:
    """What :func:`estimate_offset` found: the vector (m) that moves the reference onto the target, the
    share of reference samples on a target edge as they are and moved by it, and how many were sampled."""

    dx_m: float
    dy_m: float
    share_as_is: float
    share_moved: float
    samples: int

    @property
    def length_m(self) -> float:
        """Length of the offset vector in metres."""
        return float(np.hypot(self.dx_m, self.dy_m))

    def is_offset(self, alarm_m: float) -> bool:
        """True when the layers are offset by a constant vector longer than ``alarm_m``."""
        return (self.samples >= MIN_SAMPLES and self.share_as_is < ALIGNED_SHARE and self.share_moved >= OFFSET_SHARE
                and self.share_moved - self.share_as_is >= OFFSET_GAIN and self.length_m > alarm_m)


def probe_points(reference: np.ndarray, near: shapely.Geometry, n: int = N_WINDOWS) -> np.ndarray:
    """Up to ``n`` points spread along the reference boundaries inside ``near`` (e.g. the projects'
    surroundings), as an ``(m, 2)`` array."""
    lines = shapely.intersection(shapely.union_all(shapely.boundary(np.asarray(reference, dtype=object))), near)
    total = float(shapely.length(lines))
    if total <= 0:
        return np.zeros((0, 2))
    merged = shapely.line_merge(lines) if shapely.get_type_id(lines) == 5 else lines
    parts = shapely.get_parts(merged)
    lengths = shapely.length(parts)
    cum = np.cumsum(lengths)
    at = (np.arange(n) + 0.5) * total / n
    k = np.minimum(np.searchsorted(cum, at), len(parts) - 1)
    along = at - (cum[k] - lengths[k])
    pts = shapely.line_interpolate_point(parts[k], along)
    return shapely.get_coordinates(pts)


def estimate_offset(reference: np.ndarray, target_edges: np.ndarray, centres: np.ndarray, *,
                    search_m: float = SEARCH_M) -> Offset:
    """The constant vector that best moves the ``reference`` polygons' boundaries onto ``target_edges``
    (lines, or polygons whose boundaries are taken), probed in windows around ``centres``.

    ``target_edges`` must cover each window: ``centres`` ± (:data:`PROBE_HALF_M` + ``search_m``).
    """
    ref_lines = shapely.union_all(shapely.boundary(np.asarray(reference, dtype=object)))
    tgt = np.asarray(target_edges, dtype=object)
    types = shapely.get_type_id(tgt)
    tgt = np.where(np.isin(types, [3, 6]), shapely.boundary(tgt), tgt)[np.isin(types, [1, 2, 3, 5, 6])]  # edges; no points
    coarse_scores: np.ndarray | None = None
    windows: list[tuple[np.ndarray, Any, float, float, float]] = []
    for cx, cy in np.asarray(centres, dtype="float64").reshape(-1, 2):
        samples = _samples(ref_lines, cx, cy)
        if len(samples) == 0:
            continue
        half = PROBE_HALF_M + search_m + 20.0
        inside = tgt[shapely.intersects(tgt, shapely.box(cx - half, cy - half, cx + half, cy + half))]
        parts = shapely.get_parts(shapely.clip_by_rect(inside, cx - half, cy - half, cx + half, cy + half))
        tree_part = shapely.multilinestrings(parts[np.isin(shapely.get_type_id(parts), [1, 2])])
        windows.append((samples, tree_part, cx, cy, half))
        score = _correlate(samples, tree_part, cx, cy, half, search_m, cell=COARSE_CELL_M)
        coarse_scores = score if coarse_scores is None else coarse_scores + score
    n = sum(len(w[0]) for w in windows)
    if coarse_scores is None or n == 0:
        return Offset(0.0, 0.0, 0.0, 0.0, 0)
    size = coarse_scores.shape[0]
    flat = coarse_scores.ravel()
    order = np.argsort(-flat, kind="stable")[:MAX_CANDIDATES]
    order = order[flat[order] >= CANDIDATE_SHARE * flat.max()]
    # refine the candidates on the fine grid, near the samples only; and measure the share as the layers are
    cand = np.column_stack([(order % size - size // 2) * COARSE_CELL_M, (order // size - size // 2) * COARSE_CELL_M])
    zero = 0.0
    scores: list[np.ndarray] = []
    offsets: list[np.ndarray] = []
    reach = (FINE_STEPS + 2) * FINE_CELL_M
    steps = np.arange(-FINE_STEPS, FINE_STEPS + 1) * FINE_CELL_M
    grid = np.stack(np.meshgrid(steps, steps), axis=-1).reshape(-1, 2)  # (dx, dy) pairs, dy-major
    for group in _clusters(cand, 60.0):
        tried = (cand[group][:, None, :] + grid[None, :, :]).reshape(-1, 2)
        total = np.zeros(len(tried))
        for samples, edges, *_ in windows:
            lo = samples.min(axis=0) + tried.min(axis=0) - reach
            hi = samples.max(axis=0) + tried.max(axis=0) + reach
            hits, x0, y1 = _fine_grid(edges, lo, hi)
            total += _count(samples, hits, x0, y1, tried)
        scores.append(total)
        offsets.append(tried)
    for samples, edges, *_ in windows:
        lo, hi = samples.min(axis=0) - 2.0, samples.max(axis=0) + 2.0
        hits, x0, y1 = _fine_grid(edges, lo, hi)
        zero += float(_count(samples, hits, x0, y1, np.zeros((1, 2)))[0])
    score, tried = np.concatenate(scores), np.concatenate(offsets)
    top = tried[score == score.max()]
    # a plateau of equal vectors (a boundary straight over a window): its middle, near the shortest
    first = top[np.argmin(np.hypot(top[:, 0], top[:, 1]))]
    near = top[np.hypot(*(top - first).T) <= 10.0]
    fx, fy = near.mean(axis=0)
    best = float(score.max())
    return Offset(float(fx), float(fy), zero / n, best / n, n)


def _samples(lines: shapely.Geometry, cx: float, cy: float) -> np.ndarray:
    """Points every :data:`SAMPLE_STEP_M` along ``lines`` within :data:`PROBE_HALF_M` of (cx, cy)."""
    h = PROBE_HALF_M
    part = shapely.clip_by_rect(lines, cx - h, cy - h, cx + h, cy + h)
    if shapely.is_empty(part):
        return np.zeros((0, 2))
    pts = shapely.get_coordinates(shapely.segmentize(part, SAMPLE_STEP_M))
    if len(pts) > MAX_SAMPLES:
        pts = pts[np.linspace(0, len(pts) - 1, MAX_SAMPLES).astype(int)]
    return pts


def _hit_grid(edges: Any, cx: float, cy: float, half: float, *, cell: float, widen: bool = False) -> np.ndarray:
    """A raster of the window (rows from the top) marking the cells an edge passes through, and with
    ``widen`` their eight neighbours too. The edges are walked in steps of a third of a cell, so no
    cell they cross is missed by more than that."""
    size = int(np.ceil(2 * half / cell))
    grid = np.zeros((size, size), dtype=bool)
    if not shapely.is_empty(edges):
        pts = shapely.get_coordinates(shapely.segmentize(edges, cell / 3.0))
        row, col = _cells(pts, cx, cy, half, cell)
        ok = (row >= 0) & (row < size) & (col >= 0) & (col < size)
        grid[row[ok], col[ok]] = True
    if not widen:
        return grid
    pad = np.pad(grid, 1)
    wide = np.zeros_like(grid)
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            wide |= pad[dy:dy + size, dx:dx + size]
    return wide


def _fast_len(n: int) -> int:
    """The smallest 2^a·3^b·5^c ≥ n (FFTs of such sizes are quick)."""
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def _clusters(points: np.ndarray, radius: float) -> list[np.ndarray]:
    """Group ``points`` (``(n, 2)``) greedily: each group holds the points within ``radius`` of its first."""
    left = np.arange(len(points))
    out = []
    while len(left):
        d = np.hypot(*(points[left] - points[left[0]]).T)
        out.append(left[d <= radius])
        left = left[d > radius]
    return out


def _fine_grid(edges: Any, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Fine cells within one cell of an edge over the box ``lo``–``hi``; returns the grid and its
    top-left corner."""
    cx, cy = (lo + hi) / 2
    half = float(max(hi - lo)) / 2 + FINE_CELL_M
    part = shapely.clip_by_rect(edges, cx - half, cy - half, cx + half, cy + half)
    return _hit_grid(part, cx, cy, half, cell=FINE_CELL_M, widen=True), cx - half, cy + half


def _count(samples: np.ndarray, hits: np.ndarray, x0: float, y1: float, vectors: np.ndarray) -> np.ndarray:
    """For each vector, how many samples moved by it fall in a marked cell of ``hits`` (top-left at x0, y1)."""
    size = hits.shape[0]
    out = np.zeros(len(vectors))
    for k in range(0, len(vectors), 64):
        v = vectors[k:k + 64]
        x = samples[None, :, 0] + v[:, None, 0]
        y = samples[None, :, 1] + v[:, None, 1]
        col = np.floor((x - x0) / FINE_CELL_M).astype(int)
        row = np.floor((y1 - y) / FINE_CELL_M).astype(int)
        ok = (row >= 0) & (row < size) & (col >= 0) & (col < size)
        out[k:k + 64] = np.where(ok, hits[np.clip(row, 0, size - 1), np.clip(col, 0, size - 1)], False).sum(axis=1)
    return out


def _cells(xy: np.ndarray, cx: float, cy: float, half: float, cell: float) -> tuple[np.ndarray, np.ndarray]:
    col = np.floor((xy[:, 0] - (cx - half)) / cell).astype(int)
    row = np.floor(((cy + half) - xy[:, 1]) / cell).astype(int)
    return row, col


def _correlate(samples: np.ndarray, edges: Any, cx: float, cy: float, half: float, search_m: float, *,
               cell: float) -> np.ndarray:
    """How many samples land on an edge for every whole-cell vector within ``search_m``: an array of
    side 2·s + 1 (s = search_m / cell), the zero vector at its centre, x to the right, y upwards."""
    hits = _hit_grid(edges, cx, cy, half, cell=cell).astype("float64")
    size = hits.shape[0]
    pts = np.zeros_like(hits)
    row, col = _cells(samples, cx, cy, half, cell)
    ok = (row >= 0) & (row < size) & (col >= 0) & (col < size)
    np.add.at(pts, (row[ok], col[ok]), 1.0)
    n = _fast_len(2 * size)
    corr = np.fft.irfft2(np.conj(np.fft.rfft2(pts, (n, n))) * np.fft.rfft2(hits, (n, n)), (n, n))
    s = round(search_m / cell)
    # corr[r, c] counts samples at (row + r, col + c): c is +x, r is −y
    out = np.zeros((2 * s + 1, 2 * s + 1))
    for i, dy in enumerate(range(-s, s + 1)):
        r = (-dy) % n
        cols = np.arange(-s, s + 1) % n
        out[i] = corr[r, cols]
    return np.rint(out)
