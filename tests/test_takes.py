"""The take table and parcel rules on hand-made squares, plus properties that must always hold."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon, box

from landplan.layers import repair_polygons
from landplan.remnants import Minimums, parcel_takes, parcel_totals
from landplan.report import RunReport
from landplan.takes import resolve_parcel_overlaps, split_by_admin, split_noise, take_table, tile_footprints
from landplan.tolerance import DEFAULT_TOLERANCE, Tolerance

CRS = pyproj.CRS("EPSG:5897")
MINS = {"m2": {"rice": 500.0, "other": 40.0}, "w": {"rice": 5.0, "other": 3.0}}
MINIMUMS = Minimums(MINS["m2"], MINS["w"], Tolerance())


def parcels(geoms, ids=None, codes=None):
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"parcel_id": ids or [f"P{i}" for i in range(n)], "landuse": codes or ["LUC"] * n, "owner": [""] * n},
        geometry=list(geoms), crs=CRS,
    )


def footprints(geoms, ids=None):
    return gpd.GeoDataFrame({"project": ids or [f"F{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=CRS)


def measure(p, f, *, tolerance=DEFAULT_TOLERANCE, totals=False):
    """The engine on hand-made frames: (pieces, per-project table), or (pieces, all-projects table)."""
    p, _ = resolve_parcel_overlaps(p, report=RunReport(), tolerance=tolerance)
    tiles = tile_footprints(np.asarray(f.geometry.values))
    pieces, _ = split_noise(take_table(p, f, crs=CRS, tiles=tiles), tolerance)
    mins = Minimums(MINS["m2"], MINS["w"], tolerance)
    if totals:
        return pieces, parcel_totals(pieces, p, f, tiles=tiles, minimums=mins)[0]
    return pieces, parcel_takes(pieces, p, f, tiles=tiles, minimums=mins)[0]


def test_parcel_half_under_corridor():
    _, t = measure(parcels([box(0, 0, 10, 10)]), footprints([box(5, -10, 20, 20)]))
    r = t.iloc[0]
    assert r["take_m2"] == pytest.approx(50.0, rel=1e-12)
    assert r["take_fraction"] == pytest.approx(0.5, rel=1e-12)
    assert r["remnant_m2"] == pytest.approx(50.0, rel=1e-12)
    assert r["remnant_pieces"] == 1
    assert r["remnant_small"]  # 50 m² is under the 500 m² rice minimum
    assert "500" in r["remnant_flag"]


def test_corridor_across_middle_leaves_two_remnants():
    _, t = measure(parcels([box(0, 0, 100, 100)]), footprints([box(40, -10, 60, 110)]))
    r = t.iloc[0]
    assert r["take_m2"] == pytest.approx(2000.0, rel=1e-12)
    assert r["remnant_pieces"] == 2
    assert not r["remnant_small"] and not r["remnant_narrow"]


def test_narrow_remnant_flagged():
    # a 100 × 200 rice parcel; the corridor leaves a strip 4 m wide along its west edge
    _, t = measure(parcels([box(0, 0, 100, 200)]), footprints([box(4, -10, 200, 210)]))
    r = t.iloc[0]
    assert r["remnant_m2"] == pytest.approx(800.0, rel=1e-12)  # 4 × 200: big enough by area
    assert not r["remnant_small"]
    assert r["remnant_narrow"]  # but 4 m is under the 5 m rice minimum width
    assert "5 m" in r["remnant_flag"]


def test_bowtie_parcel_measured_as_both_lobes():
    bowtie = Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])  # two triangles of 25 m² meeting at (5, 5)
    report = RunReport()
    fixed = repair_polygons(parcels([bowtie]), layer="t", id_column="parcel_id", report=report)
    assert fixed.area.iloc[0] == pytest.approx(50.0, rel=1e-12)  # buffer(0) would keep one lobe: 25
    assert len(report.repairs) == 1 and report.repairs[0].area_after_m2 == pytest.approx(50.0)
    _, t = measure(fixed, footprints([box(-1, -1, 11, 11)]))
    assert t.iloc[0]["take_m2"] == pytest.approx(50.0, rel=1e-12)


def test_duplicate_parcel_counted_once_and_reported():
    report = RunReport()
    p = parcels([box(0, 0, 10, 10), box(0, 0, 10, 10), box(10, 0, 20, 10)], ids=["A", "B", "C"])
    resolved, overlaps = resolve_parcel_overlaps(p, report=report)
    assert overlaps.to_dict("records") == [{"parcel_id": "B", "overlaps_parcel_id": "A", "overlap_m2": 100.0, "noise": False,
                                            "rule": "id: 'A' before 'B'"}]
    assert resolved.set_index("parcel_id")["counted_area_m2"].to_dict() == {"A": 100.0, "B": 0.0, "C": 100.0}
    pieces = take_table(resolved, footprints([box(-5, -5, 25, 15)]), crs=CRS)
    assert pieces["take_m2"].sum() == pytest.approx(200.0, rel=1e-12)
    assert set(pieces["parcel_id"]) == {"A", "C"}
    assert report.warnings and "counted once" in report.warnings[0]


def test_partial_parcel_overlap_goes_to_first_id():
    p = parcels([box(0, 0, 10, 10), box(5, 0, 15, 10)], ids=["B", "A"])
    resolved, overlaps = resolve_parcel_overlaps(p, report=RunReport())
    assert resolved.set_index("parcel_id")["counted_area_m2"].to_dict() == {"B": 50.0, "A": 100.0}
    assert overlaps["overlap_m2"].tolist() == [50.0]


@pytest.mark.parametrize("rule, keeper", [("id", "10"), ("id_natural", "9")])
def test_overlap_rule_by_id_as_text_or_in_natural_order(rule, keeper):
    # "10" and "9" overlap on 50 m²: as text "10" sorts first; in natural order 9 comes before 10
    p = parcels([box(0, 0, 10, 10), box(5, 0, 15, 10)], ids=["10", "9"])
    resolved, overlaps = resolve_parcel_overlaps(p, report=RunReport(), rule=rule)
    counted = resolved.set_index("parcel_id")["counted_area_m2"].to_dict()
    assert counted[keeper] == 100.0 and sum(counted.values()) == 150.0
    assert overlaps.iloc[0]["overlaps_parcel_id"] == keeper and overlaps.iloc[0]["rule"].startswith(rule + ":")


def test_overlap_rule_by_register_area():
    # A (id first) is drawn 150 m² for a register area of 100 (+50 %); B is drawn 100 m² for 100 (0 %):
    # the parcel drawn larger than its register loses the 50 m² they share, whatever the ids
    p = parcels([box(0, 0, 15, 10), box(10, 0, 20, 10)], ids=["A", "B"]).assign(register_area_m2=[100.0, 100.0])
    resolved, overlaps = resolve_parcel_overlaps(p, report=RunReport(), rule="register_area")
    assert resolved.set_index("parcel_id")["counted_area_m2"].to_dict() == {"A": 100.0, "B": 100.0}
    r = overlaps.iloc[0]
    assert (r["overlaps_parcel_id"], r["parcel_id"]) == ("B", "A")
    assert "'B' drawn +0.00% of its register area" in r["rule"] and "'A' drawn +50.00%" in r["rule"]
    # without register areas, the rule falls back on the ids, and says so
    _, o2 = resolve_parcel_overlaps(p.assign(register_area_m2=np.nan), report=RunReport(), rule="register_area")
    assert o2.iloc[0]["overlaps_parcel_id"] == "A" and "without a register area" in o2.iloc[0]["rule"] and "(equal: by id)" in o2.iloc[0]["rule"]


def test_piece_across_two_districts_split_by_boundary():
    pieces = take_table(parcels([box(0, 0, 10, 10)]), footprints([box(0, 0, 10, 10)]), crs=CRS)
    admin = gpd.GeoDataFrame({"admin_unit": ["A", "B"]}, geometry=[box(-5, -5, 3, 20), box(3, -5, 20, 20)], crs=CRS)
    split = split_by_admin(pieces, admin, admin_layer="district").set_index("admin_unit")["area_m2"]
    assert split["A"] == pytest.approx(30.0, rel=1e-12)
    assert split["B"] == pytest.approx(70.0, rel=1e-12)


def test_land_outside_admin_units_is_reported_not_lost():
    pieces = take_table(parcels([box(0, 0, 10, 10)]), footprints([box(0, 0, 10, 10)]), crs=CRS)
    admin = gpd.GeoDataFrame({"admin_unit": ["A"]}, geometry=[box(0, 0, 4, 10)], crs=CRS)
    split = split_by_admin(pieces, admin, admin_layer="d")
    assert split["area_m2"].sum() == pytest.approx(100.0, rel=1e-12)
    assert (split["admin_unit"] != "A").sum() == 1


# --- properties ------------------------------------------------------------------------------

rects = st.tuples(st.integers(0, 90), st.integers(0, 90), st.integers(1, 40), st.integers(1, 40))


def _grid_parcels(n_x: int, n_y: int, size: float) -> gpd.GeoDataFrame:
    geoms = [box(i * size, j * size, (i + 1) * size, (j + 1) * size) for i in range(n_x) for j in range(n_y)]
    codes = ["LUC" if (i + j) % 3 else "CLN" for i in range(n_x) for j in range(n_y)]
    return parcels(geoms, codes=codes)


@settings(max_examples=40, deadline=None)
@given(st.lists(rects, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_properties_area_conserved_fractions_bounded_order_free(fps, rnd):
    p = _grid_parcels(5, 5, 20.0)
    f = footprints([box(x, y, x + w, y + h) for x, y, w, h in fps])
    pieces, table = measure(p, f)
    # taken + remaining = parcel area; fractions in [0, 1]
    assert np.allclose(table["take_m2"] + table["remnant_m2"], table["counted_area_m2"], rtol=1e-9, atol=1e-7)
    assert ((table["take_fraction"] >= 0) & (table["take_fraction"] <= 1)).all()
    # per-project sums ≥ the union total, which never exceeds the footprint union
    union = footprints([f.union_all()], ids=["*"])
    upieces = take_table(resolve_parcel_overlaps(p, report=RunReport())[0], union, crs=CRS, geodesic=False)
    assert pieces["take_m2"].sum() >= upieces["take_m2"].sum() - 1e-7
    assert upieces["take_m2"].sum() <= union.area.iloc[0] + 1e-7
    # results do not depend on input order
    order = list(range(len(p)))
    rnd.shuffle(order)
    _, table2 = measure(p.iloc[order].reset_index(drop=True), f.iloc[::-1].reset_index(drop=True))
    _, all1 = measure(p, f, totals=True)
    _, all2 = measure(p.iloc[order].reset_index(drop=True), f.iloc[::-1].reset_index(drop=True), totals=True)
    assert all2["take_m2"].sum() == pytest.approx(all1["take_m2"].sum(), rel=1e-12, abs=1e-9)
    assert all1["take_m2"].sum() == pytest.approx(upieces["take_m2"].sum(), rel=1e-9, abs=1e-7)
    cols = ["take_m2", "remnant_m2", "remnant_pieces"]
    a = table.set_index(["project", "parcel_id"])[cols].sort_index()
    b = table2.set_index(["project", "parcel_id"])[cols].sort_index()
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


def test_tiled_footprint_gives_same_pieces(monkeypatch):
    import landplan.takes as takes_mod

    p = _grid_parcels(12, 12, 25.0)
    ring = box(10, 10, 290, 290).difference(box(40, 40, 260, 260))  # a corridor ring around the grid
    f = footprints([ring, box(100, -5, 130, 305)])
    plain, plain_t = measure(p, f)
    monkeypatch.setattr(takes_mod, "TILE_MAX_VERTICES", 4)
    monkeypatch.setattr(takes_mod, "TILE_SIZE_M", 37.0)  # tile edges cut through parcels
    tiled, tiled_t = measure(p, f)
    assert len(tiled) == len(plain)  # pieces cut by tile edges are joined again
    cols = ["take_m2", "remnant_m2", "remnant_pieces"]
    a = plain_t.set_index(["project", "parcel_id"])[cols].sort_index()
    b = tiled_t.set_index(["project", "parcel_id"])[cols].sort_index()
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


def _buffer_says_narrow(g, min_width, tol=DEFAULT_TOLERANCE):
    """The definition, written out: the mitred inward buffer by (min width − tolerance) / 2 is empty."""
    import shapely

    return bool(shapely.is_empty(shapely.buffer(g, -(min_width - tol.sliver_width_m) / 2, join_style="mitre", mitre_limit=5.0)))


def _plus(arm_w, arm_l, long_arm=None):
    """A plus of four arms ``arm_w`` wide and ``arm_l`` long (one arm ``long_arm`` long), centred at 0."""
    import shapely

    h = arm_w / 2
    return shapely.union_all([box(-h, -arm_l, h, long_arm or arm_l), box(-arm_l, -h, arm_l, h)])


@pytest.mark.parametrize("geom, min_w, expected", [
    (box(0, 0, 4, 200), 5.0, True),  # a 4 m strip: narrower than 5 m
    (box(0, 0, 6, 200), 5.0, False),  # 6 m: wide enough, decided by the centroid
    (Polygon([(0, 0), (100, 0), (100, 4), (4, 4), (4, 100), (0, 100)]), 5.0, True),  # a thin L: centroid outside it
    (Polygon([(0, 0), (100, 0), (100, 30), (30, 30), (30, 100), (0, 100)]), 5.0, False),  # a wide L, centroid outside
    (Polygon(box(0, 0, 20, 20).exterior.coords, [box(2, 2, 18, 18).exterior.coords]), 5.0, True),  # a 2 m ring round a hole
    (Polygon(box(0, 0, 40, 40).exterior.coords, [box(8, 8, 32, 32).exterior.coords]), 5.0, False),  # centroid in the hole
    (box(0, 0, 5, 5), 5.0, False),  # exactly 5 m meets a 5 m minimum (the tolerance keeps a 1 mm core)
    (box(0, 0, 4.99, 5), 5.0, True),  # 1 cm short
    (_plus(10, 40), 12.0, True),  # a plus of 10 m arms is 10 m wide: narrow against 12 m, though a 14 m disc fits at its centre
    (_plus(10, 40, long_arm=400), 12.0, True),  # lengthening one arm changes nothing
    (_plus(13, 40), 12.0, False),
])
def test_narrow_is_the_mitred_inward_buffer(geom, min_w, expected):
    import shapely

    from landplan.tolerance import is_narrow

    assert _buffer_says_narrow(geom, min_w) == expected
    assert is_narrow(np.array([geom], dtype=object), np.array([min_w]), Tolerance())[0] == expected
    for angle in (17.0, 45.0, 90.0):  # and so it stays when the data is rotated
        g = shapely.affinity.rotate(shapely.affinity.translate(geom, 585_000, 1_105_000), angle, origin=(585_000, 1_105_000))
        assert is_narrow(np.array([g], dtype=object), np.array([min_w]), Tolerance())[0] == expected


@st.composite
def cornered_shapes(draw):
    """Shapes with inward corners near the threshold: two bars crossing (plus, T and L shapes, off-centre
    crosses), each bar about as wide as the minimum, sometimes a third rectangle; rotated. The mitred
    corners decide these, which is where a centroid shortcut can go wrong."""
    import shapely

    min_w = draw(st.floats(4, 16))
    w1 = min_w * draw(st.floats(0.6, 1.3))
    w2 = min_w * draw(st.floats(0.6, 1.3))
    l1, l2 = draw(st.floats(1.0, 8.0)) * min_w, draw(st.floats(1.0, 8.0)) * min_w
    # where the horizontal bar crosses the vertical one: centred (plus), at an end (T, L) or anywhere
    at = draw(st.sampled_from([0.0, 1.0, -1.0]) | st.floats(-1.0, 1.0))
    shift = draw(st.sampled_from([0.0, 1.0]) | st.floats(-1.0, 1.0))
    bars = [box(-w1 / 2, -l1, w1 / 2, l1), box(-l2 + shift * l2, at * l1 - w2 / 2, l2 + shift * l2, at * l1 + w2 / 2)]
    if draw(st.booleans()):
        x, y, w, ln = draw(st.tuples(st.floats(-30, 30), st.floats(-30, 30), st.floats(3, 16), st.floats(3, 60)))
        bars.append(box(x, y, x + ln, y + w))
    g = shapely.affinity.rotate(shapely.union_all(bars), draw(st.floats(0, 90)), origin=(0, 0))
    return g, min_w


@settings(max_examples=300, deadline=None)
@given(cornered_shapes())
def test_narrow_shortcut_never_disagrees_with_the_definition(shape):
    import shapely

    from landplan.tolerance import is_narrow

    g, min_w = shape
    parts = shapely.get_parts(np.array([g], dtype=object))
    got = is_narrow(parts, np.full(len(parts), min_w), Tolerance())
    assert got.tolist() == [_buffer_says_narrow(p, min_w) for p in parts]


def test_property_strategy_reaches_the_centroid_counterexample():
    """The plus-shaped counterexample that defeated the old centroid shortcut is in the strategy's space
    (arms 10 m wide, minimum 12 m) and the shortcut gets it right."""
    import shapely

    from landplan.tolerance import is_narrow

    g = shapely.union_all([box(-5, -40, 5, 40), box(-40, -5, 40, 5)])
    c = shapely.centroid(g)
    assert shapely.distance(c, shapely.boundary(g)) > 6.0  # the old test's "wide": a disc of 12 m fits at the centre
    assert is_narrow(np.array([g], dtype=object), np.array([12.0]), Tolerance())[0]


def test_centroid_depth_as_geos_measures_it():
    """is_narrow's shortcut point and depth, measured on coordinates for polygons without holes, are GEOS's
    centroid and distance to the boundary (to nanometres, far coordinates included); the others go to GEOS."""
    import numpy as np
    import shapely

    from landplan.tolerance import _centroid_depth, _mitre_reach

    rng = np.random.default_rng(0)
    far = np.array([5e5, 1.1e6])
    polys = []
    for _ in range(500):
        polys.append(shapely.MultiPoint(np.add(rng.uniform(0, 50, (8, 2)), far)).convex_hull)
        polys.append(shapely.LineString(np.add(rng.uniform(0, 80, (4, 2)), far)).buffer(rng.uniform(1, 6), join_style="mitre"))
    polys += [shapely.box(0, 0, 10, 10).difference(shapely.box(2, 2, 4, 4)),  # a hole
              shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(5, 5, 7, 7)]),
              shapely.Polygon(shapely.box(0, 0, 4, 3).exterior.coords[::-1])]  # drawn clockwise
    polys += [shapely.Polygon([(0, 0), (4, 0), (4, 0), (4, 3), (0, 3)]),  # convex, a vertex repeated
              shapely.Polygon([(0, 0), (6, 0), (6, 2), (2, 2), (2, 6), (0, 6)])]  # an L: one reflex corner
    polys = np.array(polys, dtype=object)
    xy, depth, convex = _centroid_depth(polys)
    c = shapely.centroid(polys)
    assert np.abs(xy - shapely.get_coordinates(c)).max() < 1e-7
    assert np.abs(depth - shapely.distance(c, shapely.boundary(polys))).max() < 1e-7
    assert depth[-3] == 1.5
    # "convex" is _mitre_reach's own test finding no reflex corner, said of simple rings without repeated vertices
    reach = _mitre_reach(polys)
    assert (reach[convex] == 1).all()
    plain = np.array([shapely.get_num_interior_rings(p) == 0 and shapely.get_type_id(p) == 3
                      and len(shapely.get_coordinates(p)) == len(np.unique(shapely.get_coordinates(p)[:-1], axis=0)) + 1 for p in polys])
    assert np.array_equal(convex[plain], reach[plain] == 1)
    assert convex[:1000:2].all() and not convex[1000:1002].any() and convex[1002]  # hulls; a hole, two parts; clockwise
    assert not convex[-2] and not convex[-1]
    assert not convex[1:1000:2].any()  # mitred buffers of bent lines: each bend has a reflex corner inside
