"""Run vectorised shapely operations on all cores: shapely releases the GIL, so threads scale."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import shapely

#: Below this many elements per thread, splitting costs more than it saves.
MIN_CHUNK = 2_000
#: Chunks per thread for large arrays (:data:`MANY_CHUNKS_FROM` elements and more): threads take the next
#: chunk as they finish one, so a thread slowed by another process on its core (this machine's two cores
#: are shared) leaves less of the work waiting at the end (2–3 % on 300,000 differences). Below that, one
#: chunk a thread: each chunk costs a hand-over between threads, which on a run's many mid-sized calls
#: cost more than it saved (from 100,000 elements, the 1M-parcel run lost 4 % and the city-wide network 3 %).
CHUNKS_PER_THREAD = 4
MANY_CHUNKS_FROM = 250_000


def workers() -> int:
    """Threads to use: ``LANDPLAN_THREADS`` if set, else the cores this process may run on."""
    env = os.environ.get("LANDPLAN_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def geos_map(func: Callable[..., np.ndarray], *arrays: np.ndarray, min_chunk: int = MIN_CHUNK) -> np.ndarray:
    """``func(*arrays)``, computed in contiguous chunks on several threads and concatenated.

    ``func`` must be element-wise (the result for element i depends only on element i of each
    array), as shapely's vectorised functions are; the result is identical to the single call.
    ``min_chunk`` is the fewest elements worth a thread (fewer for costly elements).
    """
    n = len(arrays[0])
    k, edges = _chunks(n, min_chunk)
    if k <= 1:
        return func(*arrays)
    with ThreadPoolExecutor(k) as ex:
        parts = list(ex.map(lambda i: func(*(a[edges[i]:edges[i + 1]] for a in arrays)), range(len(edges) - 1)))
    return np.concatenate(parts)


def _chunks(n: int, min_chunk: int) -> tuple[int, np.ndarray]:
    """Threads for ``n`` elements and the edges of their chunks (from :data:`MANY_CHUNKS_FROM` elements,
    :data:`CHUNKS_PER_THREAD` a thread; none under ``min_chunk`` elements but when one thread is all there is)."""
    k = min(workers(), n // max(1, min_chunk))
    if k <= 1:
        return k, np.array([0, n])
    chunks = max(k, min(k * CHUNKS_PER_THREAD, n // max(1, min_chunk))) if n >= MANY_CHUNKS_FROM else k
    return k, np.linspace(0, n, chunks + 1).astype(int)


def tree_query(tree: shapely.STRtree, geoms: np.ndarray, predicate: Any = None,
               keep: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None) -> np.ndarray:
    """``tree.query(geoms, predicate=predicate)`` (a 2 × n array of input and tree positions) on several
    threads, in contiguous chunks of ``geoms``: the tree's search releases the GIL, so it scales as
    :func:`geos_map` does; the result is identical to the single call. ``keep(inputs, tree_items)``, a
    boolean mask of the pairs to keep, is applied to each chunk's pairs on its own thread (numpy too lets
    go of the GIL), so that only the pairs kept are gathered: the single call's pairs, filtered."""
    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    k, edges = _chunks(n, MIN_CHUNK)

    def part(i: int) -> np.ndarray:
        pairs = np.asarray(tree.query(geoms[edges[i]:edges[i + 1]], predicate=predicate))
        pairs[0] += edges[i]
        return pairs if keep is None else pairs[:, keep(pairs[0], pairs[1])]

    if k <= 1:
        return part(0)
    with ThreadPoolExecutor(k) as ex:
        return np.concatenate(list(ex.map(part, range(len(edges) - 1))), axis=1)
