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
