"""Polygons packed for the map page: decoded as the page decodes them, they are the polygons given."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from landplan.packed import UNIT_M, mercator_xy, pack_polygons, unpack_polygons, varints, zigzag
from tests.conftest import CRS, at


def _rebuild(rings: list[np.ndarray], origin: tuple[float, float]) -> shapely.Geometry:
    """A packed feature back as a geometry in Web Mercator: outer rings (clockwise) with their holes."""
    closed = [np.vstack([r, r[:1]]) * UNIT_M + origin for r in rings]
    shells = [shapely.Polygon(r) for r in closed if not shapely.is_ccw(shapely.LinearRing(r))]
    holes = [shapely.Polygon(r) for r in closed if shapely.is_ccw(shapely.LinearRing(r))]
    return shapely.difference(shapely.union_all(shells), shapely.union_all(holes)) if holes else shapely.union_all(shells)


def test_round_trip_keeps_shapes_rings_and_orientation():
    donut = at(shapely.Polygon([(0, 0), (100, 0), (100, 100), (0, 100)], [[(20, 20), (20, 40), (40, 40), (40, 20)]]))
    two = at(shapely.MultiPolygon([shapely.box(200, 0, 210, 10), shapely.Polygon([(300, 0), (300, 50), (350, 0)])]))  # one part counter-clockwise
    geoms = np.array([donut, None, two, shapely.Polygon(), at(shapely.box(0, 0, 1, 1))], dtype=object)
    merc = mercator_xy(np.array([donut, two, at(shapely.box(0, 0, 1, 1))], dtype=object), CRS)
    origin = tuple(np.floor(shapely.total_bounds(merc)[:2]))
    p = pack_polygons(geoms, CRS, origin)
    out = unpack_polygons(p)
    assert p.n == 5 and [len(f) for f in out] == [2, 0, 2, 0, 1]
    for feature, want in zip((out[0], out[2], out[4]), merc):
        got = _rebuild(feature, origin)
        # within the 0.1 m grid: the symmetric difference is a rim of at most half a unit
        assert shapely.symmetric_difference(got, want).area <= shapely.length(want) * UNIT_M
        assert abs(got.area - want.area) <= shapely.length(want) * UNIT_M / 2
    # outer rings clockwise, holes counter-clockwise (y up): the page's non-zero fill keeps holes open
    assert [shapely.is_ccw(shapely.LinearRing(np.vstack([r, r[:1]]))) for r in out[0]] == [False, True]
    assert not any(shapely.is_ccw(shapely.LinearRing(np.vstack([r, r[:1]]))) for r in out[2])


def test_varints_and_zigzag():
    assert varints(np.array([0, 1, 127, 128, 300, 2**34])) == bytes([0, 1, 127, 0x80, 1, 0xAC, 2, 0x80, 0x80, 0x80, 0x80, 0x40])
    assert zigzag(np.array([0, -1, 1, -2, 2])).tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError):
        varints(np.array([2**35]))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 5_000), st.floats(0, 5_000), st.floats(0.5, 300), st.floats(0.5, 300)), min_size=1, max_size=30))
def test_any_boxes_come_back(boxes):
    geoms = np.array([at(shapely.box(x, y, x + w, y + h)) for x, y, w, h in boxes], dtype=object)
    merc = mercator_xy(geoms, CRS)
    origin = tuple(np.floor(shapely.total_bounds(merc)[:2]))
    out = unpack_polygons(pack_polygons(geoms, CRS, origin))
    for rings, want in zip(out, merc):
        assert len(rings) == 1 and len(rings[0]) == 4
        assert np.abs(rings[0] * UNIT_M + origin - shapely.get_coordinates(want)[:4][None]).min(axis=1).max() <= UNIT_M
