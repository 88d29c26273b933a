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
    return segment_distance(p[:, 0], p[:, 1], seg[:, 0], seg[:, 1], seg[:, 2], seg[:, 3])


def segment_distance(px: np.ndarray, py: np.ndarray, x0: np.ndarray, y0: np.ndarray, x1: np.ndarray, y1: np.ndarray) -> np.ndarray:
    """:func:`point_segment_distance`, from columns: the point (``px``, ``py``) and the segment (``x0``, ``y0``)–(``x1``, ``y1``)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        vx, vy = x1 - x0, y1 - y0
        wx, wy = px - x0, py - y0
        vv = vx * vx + vy * vy
        t = np.clip(np.where(vv > 0, (wx * vx + wy * vy) / np.where(vv > 0, vv, 1.0), 0.0), 0.0, 1.0)
        return np.hypot(wx - t * vx, wy - t * vy)
