"""Small array helpers the engine uses on every run."""

from __future__ import annotations

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
    with np.errstate(invalid="ignore", divide="ignore"):
        vx, vy = seg[:, 2] - seg[:, 0], seg[:, 3] - seg[:, 1]
        wx, wy = p[:, 0] - seg[:, 0], p[:, 1] - seg[:, 1]
        vv = vx * vx + vy * vy
        t = np.clip(np.where(vv > 0, (wx * vx + wy * vy) / np.where(vv > 0, vv, 1.0), 0.0), 0.0, 1.0)
        return np.hypot(wx - t * vx, wy - t * vy)
