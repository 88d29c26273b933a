"""Shapely operations on several threads give exactly what the single call gives."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from landplan.parallel import MIN_CHUNK, geos_map, tree_query, workers


def _boxes(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(0, 1000, n), rng.uniform(0, 1000, n)
    return shapely.box(x, y, x + rng.uniform(1, 30, n), y + rng.uniform(1, 30, n))


@pytest.fixture
def three_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDPLAN_THREADS", "3")
    assert workers() == 3


def test_geos_map_in_chunks_equals_the_single_call(three_threads):
    a, b = _boxes(4 * MIN_CHUNK, seed=1), _boxes(4 * MIN_CHUNK, seed=2)
    single = shapely.area(shapely.intersection(a, b))
    chunked = shapely.area(geos_map(shapely.intersection, a, b))
    assert np.array_equal(single, chunked)


@pytest.mark.parametrize("predicate", [None, "intersects", "contains"])
def test_tree_query_in_chunks_equals_the_single_call(three_threads, predicate):
    g = _boxes(3 * MIN_CHUNK + 17)  # chunks of unequal length
    tree = shapely.STRtree(g)
    single = tree.query(g, predicate=predicate)
    chunked = tree_query(tree, g, predicate=predicate)
    assert single.shape[1] > len(g)  # boxes meet others besides themselves
    assert chunked.dtype == single.dtype and np.array_equal(chunked, single)


def test_tree_query_of_few_or_no_geometries(three_threads):
    g = _boxes(50)
    tree = shapely.STRtree(g)
    assert np.array_equal(tree_query(tree, g), tree.query(g))  # below a chunk's worth: one call
    empty = tree_query(tree, np.zeros(0, dtype=object))
    assert empty.shape == (2, 0)


def test_more_chunks_than_threads_cover_every_element_once(three_threads, monkeypatch):
    import landplan.parallel as par

    n = par.MANY_CHUNKS_FROM + 7
    k, edges = par._chunks(n, MIN_CHUNK)
    assert k == 3 and len(edges) - 1 == 3 * par.CHUNKS_PER_THREAD  # threads take the next chunk as they finish one
    assert edges[0] == 0 and edges[-1] == n and np.all(np.diff(edges) >= MIN_CHUNK)
    k, edges = par._chunks(n, n // 5)
    assert k == 3 and len(edges) - 1 == 5  # no chunk under min_chunk
    k, edges = par._chunks(par.MANY_CHUNKS_FROM - 1, MIN_CHUNK)
    assert k == 3 and len(edges) - 1 == 3  # mid-sized arrays: a chunk a thread
    monkeypatch.setattr(par, "MANY_CHUNKS_FROM", 10 * MIN_CHUNK)  # many chunks on a small array: the same answers
    g = _boxes(20 * MIN_CHUNK + 7)
    assert len(par._chunks(len(g), MIN_CHUNK)[1]) - 1 == 3 * par.CHUNKS_PER_THREAD
    tree = shapely.STRtree(g)
    assert np.array_equal(tree_query(tree, g), tree.query(g))
    assert np.array_equal(geos_map(shapely.area, g), shapely.area(g))


def test_tree_query_keeps_on_each_thread_what_the_filter_keeps(three_threads):
    g = _boxes(5 * MIN_CHUNK + 3)
    tree = shapely.STRtree(g)

    def apart(a, b):
        return a < b

    single = tree.query(g)
    assert np.array_equal(tree_query(tree, g, keep=apart), single[:, single[0] < single[1]])
    small = g[:40]  # one call: the filter all the same
    one = tree.query(small)
    assert np.array_equal(tree_query(tree, small, keep=apart), one[:, one[0] < one[1]])
