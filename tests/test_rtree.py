"""landplan.rtree: a GeoPackage's R-tree read as arrays finds exactly what SQLite's R-tree finds."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely

from landplan import rtree


def _layer(folder: Path, n: int, *, seed: int = 1, name: str = "p") -> tuple[Path, np.ndarray]:
    """A GeoPackage of ``n`` boxes in VN-2000 metres (where single precision rounds to 1/16 m), some on whole metres."""
    rng = np.random.default_rng(seed)
    x = 580_000 + rng.uniform(0, 3_000, n)
    y = 1_100_000 + rng.uniform(0, 3_000, n)
    x[::3], y[::3] = np.round(x[::3]), np.round(y[::3])  # whole metres: queries can touch them exactly
    w, h = rng.uniform(0.5, 60, n), rng.uniform(0.5, 60, n)
    w[::3], h[::3] = np.round(w[::3]) + 1, np.round(h[::3]) + 1
    gdf = gpd.GeoDataFrame({"k": np.arange(n)}, geometry=shapely.box(x, y, x + w, y + h), crs="EPSG:5897")
    path = folder / f"{name}.gpkg"
    pyogrio.write_dataframe(gdf, path, layer=name)
    return path, shapely.bounds(np.asarray(gdf.geometry.values))


def _queries(bounds: np.ndarray, m: int, seed: int = 2) -> np.ndarray:
    """Query boxes: random ones of all sizes, some far away, some whose edges are a feature's own edges."""
    rng = np.random.default_rng(seed)
    x = 580_000 + rng.uniform(-200, 3_200, m)
    y = 1_100_000 + rng.uniform(-200, 3_200, m)
    side = rng.choice([0.0, 3.0, 40.0, 400.0], m)
    q = np.column_stack([x, y, x + side * rng.uniform(0.2, 1, m), y + side * rng.uniform(0.2, 1, m)])
    if len(bounds):
        pick = rng.integers(0, len(bounds), m // 4)
        q[: m // 4] = np.column_stack([bounds[pick, 2], bounds[pick, 3], bounds[pick, 2] + 5, bounds[pick, 3] + 5])  # touching a corner
    q[-3:] = [[0, 0, 1, 1], [590_000, 1_110_000, 590_001, 1_110_001], [579_000, 1_099_000, 584_000, 1_104_000]]
    return q


def _sql_pairs(path: Path, table: str, q: np.ndarray) -> set[tuple[int, int]]:
    """(feature, query) pairs as SQLite's R-tree answers them, one query at a time."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        out = set()
        for j, (x0, y0, x1, y1) in enumerate(q.tolist()):
            for (fid,) in con.execute(f'SELECT id FROM "{table}" WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?',
                                      (x0, x1, y0, y1)):
                out.add((int(fid), j))
        return out
    finally:
        con.close()


@pytest.mark.parametrize("n", [0, 7, 3_000])
def test_search_finds_what_sqlite_finds(tmp_path: Path, n: int):
    """Every (feature, box) pair SQLite's R-tree finds, and no other: an empty layer, a root that is a
    leaf (7 features) and a tree several levels deep (3,000), with boxes touching features' corners."""
    path, bounds = _layer(tmp_path, n)
    index = rtree.Index(path, "rtree_p_geom")
    assert (index.depth == 0) == (n <= 7)
    q = _queries(bounds, 400)
    ei, qi = index.search(q)
    got = list(zip(index.ids(ei).tolist(), qi.tolist()))
    assert len(got) == len(set(got))  # each pair once
    want = _sql_pairs(path, "rtree_p_geom", q)
    assert set(got) == want
    assert n == 0 or len(want) > 50


def test_covers_and_meeting_as_sql_aggregates(tmp_path: Path):
    """:func:`covers` gives the ids, each one's stored box, and per query box the union of stored
    boxes that SQLite's own aggregates give; :func:`meeting` the ids of a second search."""
    path, bounds = _layer(tmp_path, 3_000)
    q = _queries(bounds, 300, seed=4)
    index = rtree.Index(path, "rtree_p_geom")
    ids, id_boxes, cov = rtree.covers(index, q)
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    want_cov, want_ids = [], set()
    for x0, y0, x1, y1 in q.tolist():
        row = con.execute('SELECT group_concat(id), min(minx), min(miny), max(maxx), max(maxy) FROM "rtree_p_geom" '
                          "WHERE maxx >= ? AND minx <= ? AND maxy >= ? AND miny <= ?", (x0, x1, y0, y1)).fetchone()
        if row[0]:
            want_cov.append(row[1:])
            want_ids |= {int(v) for v in row[0].split(",")}
    stored = {int(r[0]): r[1:] for r in con.execute('SELECT id, minx, miny, maxx, maxy FROM "rtree_p_geom"')}
    con.close()
    assert ids.tolist() == sorted(want_ids)
    assert np.array_equal(cov, np.array(want_cov))
    assert np.array_equal(id_boxes, np.array([stored[i] for i in ids.tolist()]))
    # stored boxes are rounded outward: each covers its feature's exact box
    exact = bounds[ids - 1]
    assert (id_boxes[:, :2] <= exact[:, :2]).all() and (id_boxes[:, 2:] >= exact[:, 2:]).all()
    more, more_boxes = rtree.meeting(index, cov)
    assert more.tolist() == sorted({f for f, _ in _sql_pairs(path, "rtree_p_geom", cov)})
    assert np.array_equal(more_boxes, np.array([stored[i] for i in more.tolist()]))


def test_search_after_features_are_deleted(tmp_path: Path):
    """An index SQLite has rebalanced after deletions (nodes merged, entries moved) is read as it is."""
    path, bounds = _layer(tmp_path, 3_000, seed=7)
    con = sqlite3.connect(path)
    con.execute('DELETE FROM "p" WHERE fid % 3 = 0 OR fid BETWEEN 1000 AND 1900')  # the layer's trigger updates its R-tree
    con.commit()
    con.close()
    q = _queries(bounds, 300, seed=8)
    index = rtree.Index(path, "rtree_p_geom")
    ei, qi = index.search(q)
    assert set(zip(index.ids(ei).tolist(), qi.tolist())) == _sql_pairs(path, "rtree_p_geom", q)
    assert not (index.ids(ei) % 3 == 0).any()


def test_a_table_that_is_not_a_two_dimensional_rtree_is_refused(tmp_path: Path):
    """A name that is not an R-tree, or an R-tree of another shape, raises :class:`IndexFormatError`
    (the reader then asks GDAL)."""
    path, _ = _layer(tmp_path, 10)
    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE cube USING rtree(id, x0, x1, y0, y1, z0, z1)")
    con.commit()
    con.close()
    for table in ("p", "cube", "gpkg_contents", "no_such_table", "rtree_p_geom; --"):
        with pytest.raises(rtree.IndexFormatError):
            rtree.Index(path, table)
