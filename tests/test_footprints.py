"""Corridors from centrelines: exact areas for flat ends and mitred joins, and clear errors."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
from shapely.geometry import LineString, box

from landplan.errors import LayerError
from landplan.footprints import corridor, dissolve_footprints, merge_segments

CRS = "EPSG:5897"


def lines(*geoms, **cols):
    return gpd.GeoDataFrame(dict(cols), geometry=list(geoms), crs=CRS)


def test_100m_centreline_80m_row_is_8000_m2():
    g = corridor(lines(LineString([(0, 0), (100, 0)])), width_m=80)
    assert g.area.iloc[0] == pytest.approx(8000.0, rel=1e-12)
    assert g.iloc[0].equals(box(0, -40, 100, 40))  # flat ends: nothing beyond the line's ends


def test_right_angle_mitred_join_area_is_width_times_length():
    # An L of 100 m + 100 m, 20 m wide: the outer corner's square replaces the inner corner's overlap.
    g = corridor(lines(LineString([(0, 0), (100, 0), (100, 100)])), width_m=20)
    assert g.area.iloc[0] == pytest.approx(200 * 20, rel=1e-12)
    assert g.iloc[0].covers(box(100, -10, 110, 0))  # the sharp outer corner is kept


def test_width_per_segment():
    gdf = lines(LineString([(0, 0), (50, 0)]), LineString([(50, 0), (150, 0)]), w=[120.0, 75.0])
    g = corridor(gdf, width_column="w")
    assert g.area.tolist() == pytest.approx([50 * 120, 100 * 75], rel=1e-12)


@pytest.mark.parametrize("width", [0, -5, float("nan")])
def test_bad_width_is_refused(width):
    with pytest.raises(LayerError, match="width"):
        corridor(lines(LineString([(0, 0), (100, 0)]), w=[width]), width_column="w", source="roads.gpkg:lines")


def test_zero_width_scalar_is_refused():
    with pytest.raises(LayerError, match=r"roads\.gpkg:lines.*positive"):
        corridor(lines(LineString([(0, 0), (100, 0)])), width_m=0, source="roads.gpkg:lines")


def test_zero_length_centreline_is_refused():
    with pytest.raises(LayerError, match="zero-length"):
        corridor(lines(LineString([(5, 5), (5, 5)])), width_m=10)


def test_polygon_given_as_centreline_is_refused():
    with pytest.raises(LayerError, match="not a line"):
        corridor(lines(box(0, 0, 1, 1)), width_m=10)


def test_merge_segments_gives_mitred_join():
    gdf = lines(LineString([(0, 0), (100, 0)]), LineString([(100, 0), (100, 100)]))
    merged = merge_segments(gdf, width_column=None)
    assert len(merged) == 1
    assert corridor(merged, width_m=20).area.iloc[0] == pytest.approx(4000.0, rel=1e-12)


def test_dissolve_counts_own_overlap_once():
    pieces = gpd.GeoDataFrame({"project": ["a", "a", "b"]},
                              geometry=[box(0, 0, 10, 10), box(5, 0, 15, 10), box(100, 100, 101, 101)], crs=CRS)
    fp = dissolve_footprints(pieces, crs=pyproj.CRS(CRS)).set_index("project")
    assert fp.loc["a", "footprint_m2"] == pytest.approx(150.0, rel=1e-12)
    assert fp.loc["a", "self_overlap_m2"] == pytest.approx(50.0, rel=1e-12)
    assert fp.loc["b", "footprint_m2"] == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("parts", [1, 3])
def test_grid_tiles_are_each_cell_of_the_whole_footprint(parts: int):
    """cut_by_grid hands GEOS only the rings near each cell (a network's footprint has a thousand holes);
    each tile is still, coordinate for coordinate, the cell intersected with the whole footprint, and the
    tiles add up to it. A polygon of many holes, and a multipolygon whose parts have holes."""
    import numpy as np
    import shapely

    from landplan.footprints import cut_by_grid, polygonal

    rng = np.random.default_rng(parts)
    x, y = rng.uniform(0, 5_000, (2, 400))
    lines = shapely.linestrings(np.stack([np.column_stack([x, y]), np.column_stack([x + rng.uniform(-900, 900, 400),
                                                                                      y + rng.uniform(-900, 900, 400)])], axis=1))
    net = shapely.union_all(shapely.buffer(lines, 6.0, cap_style="flat"))
    if parts > 1:  # three copies far apart, each with its holes
        net = shapely.MultiPolygon([p for k in range(parts) for p in shapely.get_parts(shapely.affinity.translate(net, 20_000 * k, 0))])
    assert shapely.get_num_interior_rings(shapely.get_parts(net)).sum() > 100
    tiles, rows = cut_by_grid(np.array([net], dtype=object), 700.0, np.array([True]))
    xmin, ymin, xmax, ymax = net.bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax + 700.0, 700.0)[:-1], np.arange(ymin, ymax + 700.0, 700.0)[:-1])
    cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + 700.0, gy.ravel() + 700.0)
    want = polygonal(shapely.intersection(cells[shapely.intersects(net, cells)], net))
    want = want[shapely.area(want) > 0]
    assert len(tiles) == len(want) > 50 and (rows == 0).all()
    assert shapely.to_wkb(tiles).tolist() == shapely.to_wkb(want).tolist()
    assert abs(shapely.area(tiles).sum() - net.area) < 1e-6 * net.area
