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
from landplan.remnants import parcel_takes
from landplan.report import RunReport
from landplan.takes import resolve_parcel_overlaps, split_by_admin, take_table, union_takes

CRS = pyproj.CRS("EPSG:5897")
MINS = {"m2": {"rice": 500.0, "other": 40.0}, "w": {"rice": 5.0, "other": 3.0}}


def parcels(geoms, ids=None, codes=None):
    n = len(geoms)
    return gpd.GeoDataFrame(
        {"parcel_id": ids or [f"P{i}" for i in range(n)], "landuse": codes or ["LUC"] * n, "owner": [""] * n},
        geometry=list(geoms), crs=CRS,
    )


def footprints(geoms, ids=None):
    return gpd.GeoDataFrame({"project": ids or [f"F{i}" for i in range(len(geoms))]}, geometry=list(geoms), crs=CRS)


def measure(p, f):
    p, _ = resolve_parcel_overlaps(p, report=RunReport())
    pieces = take_table(p, f, crs=CRS)
    table = parcel_takes(pieces, p, f, min_remnant_m2=MINS["m2"], min_remnant_width_m=MINS["w"])
    return pieces, table


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
    assert overlaps.to_dict("records") == [{"parcel_id": "B", "overlaps_parcel_id": "A", "overlap_m2": 100.0}]
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
    pieces2, table2 = measure(p.iloc[order].reset_index(drop=True), f.iloc[::-1].reset_index(drop=True))
    assert union_takes(pieces2)["take_m2"].sum() == pytest.approx(union_takes(pieces)["take_m2"].sum(), rel=1e-12, abs=1e-9)
    assert union_takes(pieces)["take_m2"].sum() == pytest.approx(upieces["take_m2"].sum(), rel=1e-9, abs=1e-7)
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


def _buffer_says_narrow(g, half):
    import shapely

    return bool(shapely.is_empty(shapely.buffer(g, -half, join_style="mitre")))


@pytest.mark.parametrize("geom, half, expected", [
    (box(0, 0, 4, 200), 2.5, True),  # a 4 m strip: narrower than 5 m
    (box(0, 0, 6, 200), 2.5, False),  # 6 m: wide enough, decided by the centroid
    (Polygon([(0, 0), (100, 0), (100, 4), (4, 4), (4, 100), (0, 100)]), 2.5, True),  # a thin L: centroid outside it
    (Polygon([(0, 0), (100, 0), (100, 30), (30, 30), (30, 100), (0, 100)]), 2.5, False),  # a wide L, centroid outside
    (Polygon(box(0, 0, 20, 20).exterior.coords, [box(2, 2, 18, 18).exterior.coords]), 2.5, True),  # a 2 m ring round a hole
    (Polygon(box(0, 0, 40, 40).exterior.coords, [box(8, 8, 32, 32).exterior.coords]), 2.5, False),  # centroid in the hole
    (box(0, 0, 5, 5), 2.5, True),  # exactly 5 m: the buffer leaves a point, which is empty
])
def test_narrow_test_agrees_with_inward_buffer(geom, half, expected):
    from landplan.remnants import _narrow

    assert _buffer_says_narrow(geom, half) == expected
    assert _narrow(np.array([geom], dtype=object), np.array([half]))[0] == expected


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 50), st.floats(0, 50), st.floats(0.5, 30), st.floats(0.5, 30)), min_size=1, max_size=5),
       st.floats(0.5, 6))
def test_narrow_test_equals_buffer_on_random_unions(rects_xywh, half):
    import shapely

    from landplan.remnants import _narrow

    g = shapely.union_all([box(x, y, x + w, y + h) for x, y, w, h in rects_xywh])
    parts = shapely.get_parts(np.array([g], dtype=object))
    got = _narrow(parts, np.full(len(parts), half))
    assert got.tolist() == [_buffer_says_narrow(p, half) for p in parts]
