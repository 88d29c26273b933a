"""The cost estimate, rule by rule, on small worlds whose answers are computed by hand in the comments
(tests/costs_world.py: the prices, K, support and resettlement settings), and the bad tables, each
with its one clear message."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landplan import run
from landplan.errors import PriceError, ScenarioError
from landplan.rules import households as hh
from landplan.rules import positions
from tests.costs_world import K_CSV, PRICES, P, costs_toml, price_csv, world


def rec(result, project: str | None = None) -> pd.DataFrame:
    """The parcel records with their cost columns, indexed by parcel id (one project's, or all projects')."""
    t = result.parcels[result.parcels["project"] == project] if project else result.parcel_totals
    return t.set_index("parcel_id")


def house(result, owner: str, project: str) -> pd.Series:
    h = result.costs.households
    row = h[(h["owner"] == owner) & (h["project"] == project)]
    assert len(row) == 1, row
    return row.iloc[0]


def total_row(result, project: str, unit: str = "TOTAL") -> pd.Series:
    t = result.costs.table
    return t[(t["project"] == project) & (t["admin_unit"] == unit) & (t["landuse"] == "TOTAL")].iloc[0]


# ------------------------------------------------------------------------------------------------
# positions (vị trí) by distance band


def test_position_bands_include_their_upper_edge():
    assert positions.position(np.array([0.0, 30.0, 30.001, 100.0, 100.5, 1e6]), (30.0, 100.0)).tolist() == [1, 1, 2, 2, 3, 3]


@pytest.mark.parametrize("order", ["short side first", "long side first"])
def test_corner_parcel_takes_the_road_that_holds_most_of_it(order):
    """A 100 × 20 m parcel touching two roads (distance 0 to both): the road along its long side puts all
    2,000 m² in its 20 m front strip, the road along its short side 400 m², so the long side's road is its
    road whatever order the layer lists them in; without a depth, the road listed first."""
    import geopandas as gpd
    from shapely.geometry import LineString, box

    from landplan.tolerance import DEFAULT_TOLERANCE

    long_side, short_side = LineString([(-50, 0), (150, 0)]), LineString([(100, -50), (100, 70)])
    lines = [short_side, long_side] if order == "short side first" else [long_side, short_side]
    roads = gpd.GeoDataFrame({"road": ["short" if g is short_side else "long" for g in lines]}, geometry=lines, crs="EPSG:5897")
    parcels = np.array([box(0, 0, 100, 20), box(0, 40, 10, 60)], dtype=object)  # a corner parcel, and one 40 m from the long road
    d, row = positions.road_distance(parcels, roads, DEFAULT_TOLERANCE, depth_m=20.0)
    assert d[0] == 0.0 and roads["road"].iloc[row[0]] == "long"
    # the second parcel: 40 m from the long road, 90 m from the short one
    assert d[1] == 40.0 and roads["road"].iloc[row[1]] == "long"
    d, row = positions.road_distance(parcels, roads, DEFAULT_TOLERANCE)  # no depth: the first road listed
    assert d[0] == 0.0 and row[0] == 0


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_nearest_roads_within_a_distance_as_the_tree_finds_them(seed: int):
    """The nearest road pieces within the last band: the same pairs and distances (to the last bit) as
    the tree's nearest search, ties included, for boxes, triangles, multipolygons and empty shapes
    among straight pieces, polygon roads and pieces lying on a grid (many ties)."""
    import shapely

    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 40))
    x, y = rng.integers(0, 50, n) * 10.0, rng.integers(0, 50, n) * 10.0
    w, h = rng.integers(1, 4, n) * 5.0, rng.integers(1, 4, n) * 5.0
    geoms = np.asarray(shapely.box(x, y, x + w, y + h), dtype=object)
    kind = rng.integers(0, 4, n)
    geoms[kind == 1] = [shapely.Polygon([(a, b), (a + 7.3, b + 1.1), (a + 2.2, b + 9.7)]) for a, b in zip(x[kind == 1], y[kind == 1])]
    geoms[kind == 2] = [shapely.MultiPolygon([shapely.box(a, b, a + 3, b + 3), shapely.box(a + 40, b - 25, a + 45, b - 20)])
                        for a, b in zip(x[kind == 2], y[kind == 2])]
    if n > 2:
        geoms[0] = shapely.Polygon()
    m = int(rng.integers(1, 12))
    a, b = rng.integers(0, 60, (m, 2)) * 10.0, rng.integers(0, 60, (m, 2)) * 10.0
    pieces = list(shapely.linestrings(np.stack([a, b], axis=1)))
    pieces += [shapely.box(150.0, 150.0, 170.0, 190.0), shapely.LineString([(0, 0), (0, 0)])]
    pieces = np.asarray(pieces, dtype=object)
    tree = shapely.STRtree(pieces)
    for within in (0.5, 25.0, 80.0, 1000.0):
        (gi, ri), dist = tree.query_nearest(geoms, return_distance=True, all_matches=True, max_distance=within)
        got = positions._nearest_within(geoms, pieces, tree, within)
        o, p = np.lexsort((ri, gi)), np.lexsort((got[1], got[0]))
        assert np.array_equal(got[0][p], gi[o]) and np.array_equal(got[1][p], ri[o]) and np.array_equal(got[2][p], dist[o])


def test_zone_by_distance_band(tmp_path):
    # a 20 m strip (x 40–60) crosses five parcels 100 m wide at growing distances from the road (y = 0):
    # P0 5 m (vị trí 1), P1 30 m (1: the band's edge is in it), P2 60 m (2), P3 100 m (2), P4 200 m (3)
    parcels = [P("P0", "LUC", "Hộ 0", (0, 5, 100, 30)), P("P1", "LUC", "Hộ 1", (0, 30, 100, 60)),
               P("P2", "LUC", "Hộ 2", (0, 60, 100, 100)), P("P3", "LUC", "Hộ 3", (0, 100, 100, 200)),
               P("P4", "LUC", "Hộ 4", (0, 200, 100, 300))]
    r = run(world(tmp_path, parcels, {"duong": (40, -10, 60, 400)}))
    t = rec(r, "duong").loc[["P0", "P1", "P2", "P3", "P4"]]
    # beyond the last band the distance is not measured: the position is the last whatever it is
    assert t["road_distance_m"].tolist()[:4] == [5.0, 30.0, 60.0, 100.0] and np.isnan(t.loc["P4", "road_distance_m"])
    assert t["position"].tolist() == [1, 1, 2, 2, 3]
    assert t["road"].tolist() == ["Đường 1"] * 4 + [""] and set(t["price_unit"]) == {"Xã Mỹ Khánh"}
    assert t["price_per_m2_vnd"].tolist() == [100_000, 100_000, 80_000, 80_000, 60_000]
    assert t["price_line"].tolist() == [2, 2, 3, 3, 4]  # the CSV lines of Xã Mỹ Khánh · LUC · 1, 2, 3
    # takes 20 × 25, 20 × 30, 20 × 40, 20 × 100, 20 × 100 m²
    assert t["land_compensation_vnd"].tolist() == [500 * 100_000, 600 * 100_000, 800 * 80_000, 2000 * 80_000, 2000 * 60_000]


def test_unit_is_the_one_holding_most_of_the_parcel():
    import geopandas as gpd
    from shapely.geometry import box

    units = gpd.GeoDataFrame({"admin_unit": ["A", "B"]}, geometry=[box(0, 0, 10, 10), box(10, 0, 20, 10)])
    geoms = np.array([box(1, 1, 3, 3), box(8, 1, 14, 3), box(6, 1, 12, 3), box(30, 30, 31, 31), box(0, 0, 10, 10)], dtype=object)
    assert positions.unit_of(geoms, units).tolist() == ["A", "B", "A", "", "A"]


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=60, deadline=None)
def test_unit_of_as_the_areas_say(seed: int):
    """The unit holding most of each parcel, as measuring every intersection says (the largest area, ties
    to the unit listed first, none where no unit holds any area): parcels on a grid along the units'
    boundaries, across them and inside overlapping units."""
    import geopandas as gpd
    import shapely

    rng = np.random.default_rng(seed)
    cells = [shapely.box(x, y, x + 10, y + 10) for x in (0, 10, 20) for y in (0, 10)]
    cells += [shapely.box(5, 5, 15, 15)] if rng.random() < 0.5 else []  # overlapping the others
    units = gpd.GeoDataFrame({"admin_unit": [f"U{i}" for i in range(len(cells))]}, geometry=cells)
    n = 40
    x, y = rng.integers(-2, 30, n).astype(float), rng.integers(-2, 20, n).astype(float)
    w, h = rng.integers(1, 12, n).astype(float), rng.integers(1, 12, n).astype(float)
    geoms = np.asarray(shapely.box(x, y, x + w, y + h), dtype=object)
    want = []
    for g in geoms:
        areas = shapely.area(shapely.intersection(g, np.asarray(cells, dtype=object)))
        best = int(np.argmax(areas))  # the first of the largest
        want.append(f"U{best}" if areas[best] > 0 else "")
    assert positions.unit_of(geoms, units).tolist() == want


# ------------------------------------------------------------------------------------------------
# K and the table-price floor


def _k_world(tmp_path, **kw):
    parcels = [P("P1", "LUC", "Hộ 1", (0, 10, 100, 110)), P("P2", "LUC", "Hộ 2", (600, 10, 700, 110)),
               P("P3", "CLN", "Hộ 3", (200, 10, 300, 110))]
    return run(world(tmp_path, parcels, {"duong": (-10, 10, 1000, 60)}, costs=costs_toml(**kw)))


def test_k_lookup_unit_row_before_any_unit_and_floor_at_table_price(tmp_path):
    t = rec(_k_world(tmp_path), "duong")
    # each take is 100 × 50 = 5,000 m², position 1 (10 m from the road)
    assert t.loc["P1", "k"] == 1.0 and t.loc["P1", "k_line"] == 2            # "*,LUC,1.0"
    assert t.loc["P2", "k"] == 1.5 and t.loc["P2", "k_line"] == 6            # "Xã Nhơn Ái,LUC,1.5" wins over "*"
    assert t.loc["P3", "k"] == 0.8 and t.loc["P3", "k_line"] == 7            # "Xã Mỹ Khánh,CLN,0.8"
    assert t.loc["P1", "unit_price_per_m2_vnd"] == 100_000
    assert t.loc["P2", "unit_price_per_m2_vnd"] == 150_000
    assert t.loc["P3", "unit_price_per_m2_vnd"] == 150_000                   # 0.8 × 150,000 raised to the table price
    assert "nâng" in t.loc["P3", "cost_note"]
    assert t["land_compensation_vnd"].to_dict() == {"P1": 500_000_000, "P2": 750_000_000, "P3": 750_000_000}
    # job support is on the table price, without K: 3 × 100,000 × 5,000 in both communes
    assert t.loc["P1", "job_support_vnd"] == t.loc["P2", "job_support_vnd"] == 1_500_000_000


def test_k_below_one_kept_without_the_floor(tmp_path):
    t = rec(_k_world(tmp_path, floor=False), "duong")
    assert t.loc["P3", "unit_price_per_m2_vnd"] == 120_000 and t.loc["P3", "land_compensation_vnd"] == 600_000_000


# ------------------------------------------------------------------------------------------------
# payment on the legal (register) area


def test_legal_area_scaling_and_register_mismatch_listed(tmp_path):
    parcels = [P("P1", "LUC", "Hộ 1", (0, 10, 100, 110), register=12_000),   # drawn 10,000: 20 % more on the certificate
               P("P2", "LUC", "Hộ 2", (200, 10, 300, 110), register=10_300),  # 3 %: within the 5 % tolerance
               P("P3", "LUC", "Hộ 3", (400, 10, 480, 110))]                  # no register area: paid on the drawing
    r = run(world(tmp_path, parcels, {"duong": (-10, 10, 1000, 60)}, register=True))
    t = rec(r, "duong")
    assert t["take_m2"].round(6).to_dict() == {"P1": 5000.0, "P2": 5000.0, "P3": 4000.0}
    assert t["legal_take_m2"].round(6).to_dict() == {"P1": 6000.0, "P2": 5150.0, "P3": 4000.0}
    assert t["land_compensation_vnd"].to_dict() == {"P1": 600_000_000, "P2": 515_000_000, "P3": 400_000_000}
    assert t["register_differs"].to_dict() == {"P1": True, "P2": False, "P3": False}
    assert t.loc["P1", "register_area_m2"] == 12_000 and np.isnan(t.loc["P3", "register_area_m2"])
    warn = [w for w in r.report.warnings if "differs from the register area" in w]
    assert len(warn) == 1 and "1 affected parcel(s)" in warn[0] and "P1 (10,000.0 m² drawn, 12,000.0 m² registered)" in warn[0]
    # the household's land is legal area too: 6,000 of 12,000 → 50 % → 6 months × 4 × 30 kg × 15,000 đ
    assert house(r, "Hộ 1", "duong")["farmland_taken_share"] == 0.5
    assert t.loc["P1", "life_support_vnd"] == 10_800_000


# ------------------------------------------------------------------------------------------------
# support: multiples, the cap, life-stabilisation months


def test_job_support_multiple_and_cap_and_life_support(tmp_path):
    parcels = [P("Q1", "LUC", "Hộ Lớn", (0, 10, 250, 210), persons=5), P("Q2", "LUC", "Hộ Lớn", (250, 10, 400, 210), persons=5),
               P("N1", "LUC", "Hộ Nhỏ", (600, 10, 700, 110))]
    r = run(world(tmp_path, parcels, {"duong": (-10, 10, 1000, 110)}, costs=costs_toml(persons_column=True)))
    t = rec(r, "duong")
    # Hộ Lớn loses 25,000 + 15,000 = 40,000 m² of farmland, over the 30,000 m² cap: job support × 0.75
    assert t.loc["Q1", "job_support_vnd"] == 5_625_000_000   # 3 × 100,000 × 25,000 × 0.75
    assert t.loc["Q2", "job_support_vnd"] == 3_375_000_000   # 3 × 100,000 × 15,000 × 0.75
    h = house(r, "Hộ Lớn", "duong")
    assert h["farmland_m2"] == 80_000 and h["farmland_taken_m2"] == 40_000 and h["farmland_taken_share"] == 0.5
    assert h["persons"] == 5 and h["life_months"] == 6 and h["life_support_vnd"] == 13_500_000  # 6 × 5 × 30 × 15,000
    # shared between the two parcels by area taken, 25 : 15, in whole đồng
    assert (t.loc["Q1", "life_support_vnd"], t.loc["Q2", "life_support_vnd"]) == (8_437_500, 5_062_500)
    # Hộ Nhỏ loses all of its 10,000 m² (over 70 %): 12 months; no members given, so 4 persons; no cap
    n = house(r, "Hộ Nhỏ", "duong")
    assert n["share_band"] == "> 70 %" and n["life_months"] == 12 and n["life_support_vnd"] == 21_600_000
    assert t.loc["N1", "job_support_vnd"] == 3_000_000_000 and t.loc["N1", "land_compensation_vnd"] == 1_500_000_000  # K 1.5


def test_household_share_read_across_parcels_outside_the_corridor(tmp_path):
    parcels = [
        P("C1", "LUC", "Hộ Cường", (0, 10, 100, 110)),        # 5,000 of 10,000 taken
        P("C2", "LUC", "Hộ Cường", (300, 800, 400, 900)),     # 10,000, 800 m from the road, nowhere near the project
        P("C3", "LUC", "Hộ Cường", (600, 800, 700, 900)),     # in the other commune: not this household's land in Xã Mỹ Khánh
        P("D1", "LUC", "Hộ Dung", (120, 10, 220, 110)),       # 5,000 of 10,000 taken ...
        P("D2", "CLN", "Hộ Dung", (120, 500, 145, 600)),      # ... and 2,500 of garden far away: 5,000 / 12,500 = 40 %
        P("E1", "LUC", "Hộ Em", (240, 10, 340, 80)),          # 5,000 of 7,000: 71.4 %
        P("G1", "LUC", "Hộ Giang", (360, 10, 500, 60)),       # 7,000 wholly taken ...
        P("G2", "LUC", "Hộ Giang", (360, 700, 420, 750)),     # ... of 10,000: exactly 70 %
    ]
    r = run(world(tmp_path, parcels, {"duong": (-10, 10, 1000, 60)}))
    assert not {"C2", "C3", "D2", "G2"} & set(r.affected["parcel_id"])  # read by owner, not by the corridor
    c = house(r, "Hộ Cường", "duong")
    assert (c["farmland_m2"], c["farmland_taken_m2"], c["farmland_taken_share"]) == (20_000, 5_000, 0.25)
    assert c["share_band"] == "10–30 %" and c["life_support_vnd"] == 0  # with only the corridor's parcel it would be 50 %
    d = house(r, "Hộ Dung", "duong")
    assert d["farmland_m2"] == 12_500 and d["farmland_taken_share"] == 0.4 and d["share_band"] == "30–70 %"
    assert d["life_months"] == 6 and d["life_support_vnd"] == 10_800_000
    e = house(r, "Hộ Em", "duong")
    assert e["share_band"] == "> 70 %" and e["life_months"] == 12 and e["life_support_vnd"] == 21_600_000
    g = house(r, "Hộ Giang", "duong")
    assert g["farmland_taken_share"] == 0.7 and g["share_band"] == "30–70 %" and g["life_months"] == 6  # 70 % is in 30–70 %
    assert len(r.costs.households[r.costs.households["project"] == "duong"]) == 4  # Hộ Cường's Xã Nhơn Ái land makes no household here


def test_share_bands_and_life_months_unit():
    bands = (0.1, 0.3, 0.7)
    assert hh.band_labels(bands) == ["≤ 10 %", "10–30 %", "30–70 %", "> 70 %"]

    class S:  # the support settings the months depend on (those of the test world)
        life_share_bands = (0.3, 0.7)
        life_months_stay = (6.0, 12.0)
        life_months_move = (12.0, 24.0)

    class C:
        support = S()

    share = np.array([0.29, 0.3, 0.7, 0.71, 0.5, 0.9, 0.1])
    move = np.array([False, False, False, False, True, True, True])
    assert hh.life_months(share, move, C()).tolist() == [0, 6, 6, 12, 12, 24, 0]  # type: ignore[arg-type]


def test_apportion_adds_up_exactly():
    got = hh.apportion(np.array([10, 10, 10, 1]), np.array([1.0, 1.0, 1.0, 5.0]), np.array(["a", "a", "a", "b"]))
    assert got.tolist() == [4, 3, 3, 1]


# ------------------------------------------------------------------------------------------------
# the rice-land conversion payment


def _conversion_world(tmp_path, exempt=()):
    parcels = [P("L1", "LUC", "Hộ 1", (0, 10, 100, 110)), P("K1", "LUK", "Hộ 2", (200, 10, 300, 110))]
    return run(world(tmp_path, parcels, {"a": (-10, 10, 60, 60), "b": (40, 10, 260, 60)}, costs=costs_toml(exempt=exempt)))


def test_conversion_payment(tmp_path):
    r = _conversion_world(tmp_path)
    # a takes 60 × 50 = 3,000 m² of L1; b 3,000 of L1 (x 40–100) and 3,000 of K1 (LUK: no payment)
    assert rec(r, "a").loc["L1", "conversion_vnd"] == 180_000_000          # 0.6 × 100,000 × 3,000
    assert rec(r, "b")["conversion_vnd"].to_dict() == {"L1": 180_000_000, "K1": 0}
    # all projects: L1's land counted once, 5,000 m²: 0.6 × 100,000 × 5,000, not 360,000,000
    assert rec(r).loc["L1", "conversion_vnd"] == 300_000_000


def test_conversion_exempt_project(tmp_path):
    r = _conversion_world(tmp_path, exempt=("b",))
    assert rec(r, "b")["conversion_vnd"].to_dict() == {"L1": 0, "K1": 0}
    assert "miễn" in rec(r, "b").loc["L1", "cost_note"]
    assert rec(r).loc["L1", "conversion_vnd"] == 180_000_000  # only a's part is paid, once
    assert total_row(r, "b")["conversion_vnd"] == 0 and total_row(r, "ALL")["conversion_vnd"] == 180_000_000


# ------------------------------------------------------------------------------------------------
# remnant candidates: listed with their value, never added


@pytest.mark.parametrize("mode", ["list", "off"])
def test_remnant_candidate_listed_not_taken(tmp_path, mode):
    r = run(world(tmp_path, [P("R1", "LUC", "Hộ 1", (0, 10, 100, 110))], {"duong": (-10, 10, 1000, 106)},
                  costs=costs_toml(remnants=mode)))
    t = rec(r, "duong").loc["R1"]
    assert t["take_m2"] == pytest.approx(9_600) and t["remnant_m2"] == pytest.approx(400)  # 100 × 4 m left: below 500 m² and 5 m
    expected = 960_000_000 + 2_880_000_000 + 21_600_000 + 576_000_000  # land, job (3×), life (12 months), conversion (60 %)
    assert t["total_vnd"] == expected  # the remnant's value is not in it
    if mode == "list":
        assert bool(t["remnant_candidate"]) and t["remnant_candidate_m2"] == pytest.approx(400)
        assert t["remnant_candidate_vnd"] == 40_000_000  # 400 × 100,000
        assert "đề nghị" in t["cost_note"]
        assert total_row(r, "duong")["remnant_candidates_vnd"] == 40_000_000 and total_row(r, "duong")["total_vnd"] == expected
    else:
        assert not t["remnant_candidate"] and t["remnant_candidate_vnd"] == 0


# ------------------------------------------------------------------------------------------------
# resettlement


def test_resettlement_counted_per_ward(tmp_path):
    parcels = [
        P("D", "ONT", "Hộ Dũng", (0, 10, 20, 39)),          # wholly taken: moves
        P("E", "ONT", "Hộ Em", (30, 10, 60, 40)),           # 30 × 1 = 30 m² left, below 40 m²: moves
        P("G", "ONT", "Hộ Giang", (100, 10, 130, 39)),      # wholly taken ...
        P("G2", "ONT", "Hộ Giang", (100, 800, 130, 830)),   # ... but 900 m² of homestead elsewhere in the commune: stays
        P("H", "ONT", "Hộ Hà", (200, 10, 230, 60)),         # 30 × 21 = 630 m² left: stays
    ]
    r = run(world(tmp_path, parcels, {"duong": (-10, 10, 300, 39)}))
    moves = {o: bool(house(r, o, "duong")["resettle"]) for o in ("Hộ Dũng", "Hộ Em", "Hộ Giang", "Hộ Hà")}
    assert moves == {"Hộ Dũng": True, "Hộ Em": True, "Hộ Giang": False, "Hộ Hà": False}
    assert house(r, "Hộ Giang", "duong")["residential_left_m2"] == pytest.approx(900)
    ward = total_row(r, "duong", "Xã Mỹ Khánh")
    assert (ward["households"], ward["households_resettled"], ward["plots_needed"], ward["plots_m2"]) == (4, 2, 2.0, 200.0)
    assert total_row(r, "ALL")["households_resettled"] == 2
    # Hộ Em's 30 m² is a remnant candidate: 30 × 2,000,000
    assert rec(r, "duong").loc["E", "remnant_candidate_vnd"] == 60_000_000


def test_depth_beyond_the_front_priced_at_the_factor(tmp_path):
    parcels = [P("Y", "ONT", "Hộ Y", (0, 10, 100, 60)), P("Z", "ONT", "Hộ Z", (100, 60, 200, 100))]
    r = run(world(tmp_path, parcels, {"duong": (-10, 0, 300, 100)}, costs=costs_toml(depth=True)))
    t = rec(r, "duong")
    # Y (vị trí 1) wholly taken: 1,000 of its 5,000 m² lie within 20 m of the road; 0.2 + 0.8 × 0.8 = 0.84
    assert t.loc["Y", "price_factor"] == pytest.approx(0.84)
    assert t.loc["Y", "land_compensation_vnd"] == 8_400_000_000   # 5,000 × 2,000,000 × 0.84
    # Z is in vị trí 2 (60 m away): no depth rule
    assert t.loc["Z", "price_factor"] == 1.0 and t.loc["Z", "land_compensation_vnd"] == 6_000_000_000  # 4,000 × 1,500,000


# ------------------------------------------------------------------------------------------------
# overlapping projects counted once


def test_overlapping_projects_counted_once(tmp_path):
    r = run(world(tmp_path, [P("L", "LUC", "Hộ O", (0, 10, 100, 110))], {"a": (0, 10, 60, 110), "b": (40, 10, 100, 110)}))
    # a and b each take 6,000 m²; together the whole 10,000 m² parcel, once
    assert rec(r, "a").loc["L", "land_compensation_vnd"] == rec(r, "b").loc["L", "land_compensation_vnd"] == 600_000_000
    assert rec(r).loc["L", "land_compensation_vnd"] == 1_000_000_000
    all_ = total_row(r, "ALL")
    assert all_["land_compensation_vnd"] == 1_000_000_000 and all_["job_support_vnd"] == 3_000_000_000
    assert all_["conversion_vnd"] == 600_000_000  # not 720,000,000
    # the household: 60 % of its farmland per project (6 months each), all of it for both (12 months)
    assert house(r, "Hộ O", "a")["life_months"] == 6 and house(r, "Hộ O", "ALL")["life_months"] == 12
    assert all_["total_vnd"] == 1_000_000_000 + 3_000_000_000 + 21_600_000 + 600_000_000
    # totals are the sums of the lines shown
    t = r.costs.table
    lines = t[(t["project"] == "ALL") & (t["landuse"] != "TOTAL")]
    assert lines["total_vnd"].sum() == all_["total_vnd"]
    assert r.parcel_totals["total_vnd"].sum() == all_["total_vnd"]


# ------------------------------------------------------------------------------------------------
# a parcel without a price row


def test_missing_price_lists_every_parcel_and_what_was_looked_up(tmp_path):
    prices = price_csv(prices={k: v for k, v in PRICES.items() if k != "LUK"})
    parcels = [P("N1", "LUK", "Hộ 1", (0, 10, 100, 110)), P("N2", "LUK", "Hộ 2", (120, 10, 200, 110)),
               P("N3", "LUK", "Hộ 3", (600, 200, 700, 300)), P("OK", "LUC", "Hộ 4", (300, 10, 400, 110))]
    with pytest.raises(PriceError) as err:
        run(world(tmp_path, parcels, {"duong": (-10, 10, 1000, 250)}, prices=prices))
    msg = str(err.value)
    assert "no price for 3 parcel(s) taken" in msg
    assert "no row in gia.csv for Xã Mỹ Khánh · LUK · position 1: parcel(s) N1, N2" in msg
    assert "no row in gia.csv for Xã Nhơn Ái · LUK · position 3: parcel(s) N3" in msg
    assert "OK" not in msg.split("parcel(s)")[-1]


def test_missing_k_named(tmp_path):
    k = "\n".join(line for line in K_CSV.splitlines() if ",LUK," not in line) + "\n"
    with pytest.raises(PriceError, match=r"no row in k.csv for Xã Mỹ Khánh · LUK \(nor \* · LUK\): parcel\(s\) N1"):
        run(world(tmp_path, [P("N1", "LUK", "Hộ 1", (0, 10, 100, 110))], {"duong": (-10, 10, 1000, 60)}, k=k))


def test_state_land_not_compensated_needs_no_price(tmp_path):
    r = run(world(tmp_path, [P("S", "SON", "", (0, 10, 100, 110))], {"duong": (-10, 10, 1000, 60)}))
    t = rec(r, "duong").loc["S"]
    assert t["total_vnd"] == 0 and "không bồi thường" in t["cost_note"]


# ------------------------------------------------------------------------------------------------
# bad tables: one clear message each


GOOD = price_csv()


def _bad(tmp_path, *, prices=GOOD, k=K_CSV, costs=None):
    return world(tmp_path, [P("P1", "LUC", "Hộ 1", (0, 10, 100, 110))], {"duong": (-10, 10, 1000, 60)}, prices=prices, k=k, costs=costs)


BAD_TABLES = {
    "duplicate": (GOOD + "Xã Mỹ Khánh,LUC,1,99000,test\n", "gia.csv: duplicate key(s) (unit, landuse, position), each must appear once: "
                  "Xã Mỹ Khánh · LUC · 1 on lines 2, 26"),
    "missing-position": (GOOD.replace("Xã Mỹ Khánh,LUC,2,80000,test\n", ""), "gia.csv: position(s) (vị trí) missing: Xã Mỹ Khánh · LUC has position(s) 1, 3 "
                         "but not 2"),
    "missing-unit": (GOOD + ",LUK,1,90000,test\n", "gia.csv: a unit, land use or position (vị trí) missing: unit on line(s) 26"),
    "missing-position-cell": (GOOD.replace("Xã Nhơn Ái,CLN,3,90000", "Xã Nhơn Ái,CLN,,90000"), "position on line(s) 22"),
    "negative": (GOOD.replace("Xã Mỹ Khánh,LUK,1,90000", "Xã Mỹ Khánh,LUK,1,-90000"), "gia.csv: negative or zero price(s): line 5 '-90000'"),
    "non-numeric": (GOOD.replace("Xã Mỹ Khánh,CLN,1,150000", "Xã Mỹ Khánh,CLN,1,150.000").replace("Xã Mỹ Khánh,CLN,2,120000", "Xã Mỹ Khánh,CLN,2,n/a"),
                    "gia.csv: price(s) that are not a whole number of đồng per m²: line 8 '150.000', line 9 'n/a'"),
    "unknown-code": (GOOD + "Xã Mỹ Khánh,XYZ,1,1,test\n", "gia.csv: unknown land-use code(s): 'XYZ' on line(s) 26"),
    "no-source-ref": (GOOD.replace("Xã Mỹ Khánh,LUC,1,100000,test", "Xã Mỹ Khánh,LUC,1,100000,"), "gia.csv: row(s) without source_ref on line(s) 2"),
    "missing-column": ("unit,landuse,price_vnd_m2\nXã Mỹ Khánh,LUC,1\n", "gia.csv has no column(s) position, source_ref"),
    "not-utf8": ("", "gia.csv is not UTF-8 text; save it as \"CSV UTF-8\""),
}


@pytest.mark.parametrize("case", list(BAD_TABLES), ids=list(BAD_TABLES))
def test_bad_price_table_one_clear_message(tmp_path, case):
    text, message = BAD_TABLES[case]
    if case == "not-utf8":  # saved by an old Windows program in Windows-1258
        path = _bad(tmp_path)
        (tmp_path / "gia.csv").write_bytes(b"unit,landuse,position,price_vnd_m2,source_ref\nX\xe3 M\xf5,LUC,1,100000,test\n")
    else:
        path = _bad(tmp_path, prices=text)
    with pytest.raises(ScenarioError) as err:
        run(path)
    problems = [p for p in err.value.problems if p.startswith("costs.prices")]
    assert len(problems) == 1 and message in problems[0], err.value.problems


def test_bad_coefficients(tmp_path):
    k = K_CSV + "*,LUC,1.2,test\nXã Mỹ Khánh,LUK,-1,test\nXã Nhơn Ái,CLN,abc,test\n"
    with pytest.raises(ScenarioError) as err:
        run(_bad(tmp_path, k=k))
    got = "\n".join(err.value.problems)
    assert "k.csv: coefficient(s) K that are not numbers: line 10 'abc'" in got
    assert "k.csv: negative or zero coefficient(s) K: line 9 '-1'" in got
    assert "k.csv: duplicate key(s) (unit, landuse), each must appear once: * · LUC on lines 2, 8" in got


@pytest.mark.parametrize("variant", ["as-is", "lower-codes", "pandas-floats", "nfd-units"])
def test_clean_tables_read_as_the_full_checks_read_them(tmp_path, monkeypatch, variant):
    """A table without problems is read by a plain-Python pass (prices._clean_prices/_clean_coefficients);
    the rows it gives are those of the full checks, and a table that pass refuses goes through them."""
    import datetime as dt
    import unicodedata

    from landplan.rules import prices as pr
    from landplan.rules.settings import TableSpec

    text, k = GOOD, K_CSV.replace("Xã Nhơn Ái,LUC,1.5", 'Xã Nhơn Ái,LUC,"1,5"')
    if variant == "lower-codes":
        text, k = text.replace(",LUC,", ",luc,"), k.replace(",LUK,", ", luk ,")
    elif variant == "pandas-floats":
        text = text.replace("100000,test", "100000.0,test")
    elif variant == "nfd-units":
        text, k = unicodedata.normalize("NFD", text), unicodedata.normalize("NFD", k)
    (tmp_path / "gia.csv").write_text(text, encoding="utf-8")
    (tmp_path / "k.csv").write_text(k, encoding="utf-8")
    day = dt.date(2026, 1, 1)
    spec = {n: TableSpec(tmp_path / n, "test", "test", day, day, "after_2025_07_01") for n in ("gia.csv", "k.csv")}
    fast = pr.read_price_table(spec["gia.csv"], n_positions=3), pr.read_coefficient_table(spec["k.csv"])
    assert fast[0][1] == [] and fast[1][1] == []
    assert pr._clean_prices(pr._read_csv(spec["gia.csv"].path, pr.PRICE_COLUMNS)[0], 3) is not None  # the fast pass took it
    monkeypatch.setattr(pr, "_clean_prices", lambda df, n: None)
    monkeypatch.setattr(pr, "_clean_coefficients", lambda df: None)
    full = pr.read_price_table(spec["gia.csv"], n_positions=3), pr.read_coefficient_table(spec["k.csv"])
    for (a, _), (b, _) in zip(fast, full):
        pd.testing.assert_frame_equal(a.rows, b.rows)
    assert fast[0][0].rows["unit"].iloc[0] == unicodedata.normalize("NFC", "Xã Mỹ Khánh")


def test_k_with_a_decimal_comma(tmp_path):
    r = run(_bad(tmp_path, k=K_CSV.replace("Xã Nhơn Ái,LUC,1.5", 'Xã Nhơn Ái,LUC,"1,5"')))
    assert r.costs.settings.k_table.rows.set_index(["unit", "landuse"]).loc[("Xã Nhơn Ái", "LUC"), "k"] == 1.5


def test_semicolon_separated_table(tmp_path):
    r = run(_bad(tmp_path, prices=GOOD.replace(",", ";")))
    assert rec(r, "duong").loc["P1", "price_per_m2_vnd"] == 100_000


def test_units_that_are_not_in_the_admin_layer(tmp_path):
    with pytest.raises(ScenarioError) as err:
        run(_bad(tmp_path, prices=GOOD.replace("Xã Mỹ Khánh,", "Xã My Khanh,")))
    assert err.value.problems == [
        "costs.prices: gia.csv names unit(s) that are not in the administrative layer 'xa': 'Xã My Khanh' (did you mean 'Xã Mỹ Khánh'?); the "
        "layer's units are Xã Mỹ Khánh, Xã Nhơn Ái. Check the table refers to the same list of units as the layer (costs.admin_units)"]


def test_table_outside_its_validity_dates(tmp_path):
    with pytest.raises(ScenarioError) as err:
        run(_bad(tmp_path, costs=costs_toml(date="2027-01-15")))
    got = [p for p in err.value.problems if "not in force" in p]
    assert len(got) == 2 and got[0].startswith("costs.prices: gia.csv (bảng thử) is not in force on the scenario's date 2027-01-15 "
                                               "(costs.date): it is valid from 2026-01-01 to 2026-12-31")


def test_table_for_another_list_of_units(tmp_path):
    with pytest.raises(ScenarioError, match=r"costs.prices.units: gia.csv names units from the list 'before_2025_07_01'"):
        run(_bad(tmp_path, costs=costs_toml(table_units="before_2025_07_01")))


def test_settings_problems_all_at_once(tmp_path):
    text = costs_toml().replace("job_multiple = 3", "job_multiple = -3").replace('admin = "xa"', 'admin = "huyen"').replace(
        "bands_m = [30, 100]", "bands_m = [100, 30]").replace("share = 0.6", 'share = "60%"')
    with pytest.raises(ScenarioError) as err:
        run(_bad(tmp_path, costs=text))
    keys = {p.split(":")[0] for p in err.value.problems}
    assert {"costs.admin", "costs.support.job_multiple", "costs.positions.bands_m", "costs.conversion.share"} <= keys


# ------------------------------------------------------------------------------------------------
# the outputs


def test_outputs_written_and_manifest_checksums(tmp_path):
    import hashlib

    parcels = [P("P1", "LUC", "Hộ 1", (0, 10, 100, 110)), P("P2", "ONT", "Hộ 2", (200, 10, 230, 39))]
    path = world(tmp_path / "in", parcels, {"duong": (-10, 10, 1000, 60)})
    out = run(path).write(tmp_path / "out", exports=False)
    costs = pd.read_csv(out / "costs.csv", encoding="utf-8-sig")
    assert list(costs.columns)[:4] == ["project", "admin_unit", "landuse", "area_m2"]
    assert set(costs["project"]) == {"duong", "ALL"}
    households = pd.read_csv(out / "households.csv", encoding="utf-8-sig")
    assert {"owner", "admin_unit", "farmland_m2", "share_band", "resettle", "life_support_vnd"} <= set(households.columns)
    parcels_csv = pd.read_csv(out / "parcels.csv", encoding="utf-8-sig").set_index("parcel_id")
    assert parcels_csv.loc["P1", "land_compensation_vnd"] == 500_000_000 and parcels_csv.loc["P1", "price_line"] == 2
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    tables = manifest["costs"]["tables"]
    assert tables["prices"]["sha256"] == hashlib.sha256((tmp_path / "in" / "gia.csv").read_bytes()).hexdigest()
    assert tables["coefficients"]["sha256"] == hashlib.sha256((tmp_path / "in" / "k.csv").read_bytes()).hexdigest()
    assert tables["prices"]["instrument"] == "bảng thử" and manifest["costs"]["rules"]["job_support"]["legal_basis"] == "Đ.109"
    assert any(i["path"].endswith("gia.csv") for i in manifest["inputs"])


def test_rule_doctests():
    import doctest

    from landplan.rules import holdings, households, positions

    for mod in (positions, households, holdings):
        assert doctest.testmod(mod).failed == 0


def test_map_popup_and_panel_show_the_estimate(tmp_path):
    """The parcel's popup shows its position, unit price, legal area, each line and the total (as the
    tables give them); the panel shows each project's budget in billions; text from the data is text."""
    from landplan.numfmt import format_number
    from landplan.webmap import LABELS
    from tests.browser import open_map

    road = "<img src=x onerror=\"window.__pwned = 5\">Đường 1"
    parcels = [P("P1", "LUC", "<script>window.__pwned = 6</script>Hộ 1", (0, 10, 100, 110))]
    r = run(world(tmp_path / "in", parcels, {"duong": (-10, 10, 1000, 60)}, road=road))
    out = r.write(tmp_path / "out", self_contained=True, exports=False)
    lab = LABELS["vi"]
    row = rec(r, "duong").loc["P1"]
    with open_map(out / "map.html") as pg:
        pg.js("() => landplan.openParcel(0)")
        text = pg.page.locator(".leaflet-popup-content").inner_text()
        assert lab["estimate"] in text and road in text  # the road's name, as text
        for label, value in ((lab["unit_price"], format_number(100_000, 0, "vi") + " (K = 1,00)"),
                             (lab["compensation"], format_number(float(row["land_compensation_vnd"]), 0, "vi")),
                             (lab["cost_total"], format_number(float(row["total_vnd"]), 0, "vi"))):
            assert f"{label}\t{value}" in text, (label, value, text)
        assert format_number(500_000_000, 0, "vi") == "500.000.000" and "500.000.000" in text
        panel = pg.page.locator("#landplan-summary").inner_text()
        b = r.costs.budget("duong")
        assert f"Tổng chi phí ước tính (tỷ đồng)\t{format_number(b['total_vnd'] / 1e9, 2, 'vi')}" in panel
        assert pg.js("() => document.querySelectorAll('.leaflet-popup-content img, .leaflet-popup-content script').length") == 0
        assert pg.js("() => window.__pwned === undefined") and pg.errors == []


def test_workbook_cost_sheet_pastes_into_a_report(tmp_path):
    """The cost sheet: each table's instrument and validity, a row per unit and land use, unit subtotals
    and project totals in bold, đồng with thousands separators (Vietnamese locale), equal to costs.csv;
    illustrative tables said so in red at the top."""
    import openpyxl

    parcels = [P("P1", "LUC", "Hộ 1", (0, 10, 100, 110)), P("P2", "CLN", "Hộ 2", (600, 10, 700, 110)),
               P("P3", "ONT", "Hộ 3", (200, 10, 230, 39))]
    path = world(tmp_path / "in", parcels, {"duong": (-10, 10, 1000, 60)}, prices=price_csv(ref="minh họa / illustrative"))
    out = run(path).write(tmp_path / "out", exports=False)
    costs = pd.read_csv(out / "costs.csv", encoding="utf-8-sig", keep_default_na=False)
    ws = openpyxl.load_workbook(out / "landplan.xlsx")["Chi phí"]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][0].startswith("Dự toán kinh phí bồi thường") and rows[1][0].startswith("MINH HỌA")
    assert ws.cell(row=2, column=1).font.color.rgb.endswith("C00000")
    text = {r[0]: r[1] for r in rows[2:6] if r[0]}
    assert text["Ngày định giá"] == "2026-03-01" and "bảng thử; hiệu lực 2026-01-01 đến 2026-12-31" in text["Bảng giá đất"]
    header = next(i for i, r in enumerate(rows) if r[0] == "Dự án")
    cols = list(rows[header])
    body = rows[header + 1:]
    assert len(body) == len(costs)
    total_col = cols.index("Tổng cộng (đồng)")
    assert [r[total_col] for r in body] == costs["total_vnd"].tolist()
    last = body[-1]
    assert last[0] == "Tổng cộng các dự án (đất chồng lấn tính một lần)" and last[1] == "Cộng dự án"
    cell = ws.cell(row=header + len(body) + 1, column=total_col + 1)
    assert cell.number_format == "[$-42A]#,##0" and cell.font.bold
    assert ws.cell(row=header + 2, column=total_col + 1).font.bold is not True  # a land-use line
    sub = [r for r in body if r[2] == "Cộng"]
    assert sub and all(r[cols.index("Số hộ bị ảnh hưởng")] >= 1 for r in sub)
    # the households sheet
    wb = openpyxl.load_workbook(out / "landplan.xlsx")
    assert "Hộ gia đình" in wb.sheetnames


@pytest.mark.parametrize("fmt", ["gpkg", "shp", "parquet"])
def test_read_by_owner_in_every_format(tmp_path, monkeypatch, fmt):
    """The attribute-filtered read finds an owner's parcels wherever they lie, whatever the file, with names
    saved in NFD or with stray spaces, and in several queries where the driver limits FIDs per query."""
    import unicodedata

    import geopandas as gpd
    from shapely.geometry import box

    from landplan import layers, sources
    from landplan.scenario import LayerRef

    monkeypatch.setattr(sources, "FIDS_PER_QUERY", 3)
    names = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]
    owners = [names[i % 3] for i in range(20)]
    stored = [unicodedata.normalize("NFD", o) if i % 2 else f" {o} " for i, o in enumerate(owners)]
    gdf = gpd.GeoDataFrame({"pid": [f"P{i}" for i in range(20)], "chu": stored},
                           geometry=[box(586_000 + 10 * i, 1_106_000, 586_005 + 10 * i, 1_106_005) for i in range(20)], crs="EPSG:5897")
    path = tmp_path / {"gpkg": "t.gpkg", "shp": "t.shp", "parquet": "t.parquet"}[fmt]
    if fmt == "parquet":
        gdf.to_parquet(path)
    else:
        gdf.to_file(path, layer="t", encoding="utf-8")
    ref = LayerRef(path, "t" if fmt != "parquet" else path.stem)
    got = layers.read_where_in(ref, gdf.crs, "chu", {"Nguyễn Văn An", "Lê Văn Cường"}, columns=["pid"])
    want = {f"P{i}" for i, o in enumerate(owners) if o != "Trần Thị Bình"}
    assert set(got["pid"]) == want and len(got) == len(want)
    assert set(got["chu"]) == {"Nguyễn Văn An", "Lê Văn Cường"}  # read as the parcels' own read reads text: NFC, stripped
    assert got.geometry.notna().all()


# ------------------------------------------------------------------------------------------------
# a parcel layer of several sources (landplan.scale)


@pytest.mark.parametrize("east_crs", [None, "EPSG:3405"])
def test_partitioned_parcel_layer_gives_the_single_layer_estimate(tmp_path, east_crs):
    """The same parcels as two sources: the estimate is made once, on the partitions' records together, so
    a household whose land lies in both sources has all of it, and every figure is the single layer's (with
    a source in another CRS (VN-2000 / UTM 48N), its parcels measured there: the same legal areas, read from
    the register)."""
    import geopandas as gpd

    from landplan.pipeline import check
    from landplan.rules.compensation import PARCEL_COLUMNS
    from tests.costs_world import X0

    parcels = [
        P("C1", "LUC", "Hộ Cường", (0, 10, 100, 110), register=10_000.0),   # west: a takes 5,000, a and b 7,500
        P("C2", "LUC", "Hộ Cường", (300, 800, 400, 900), register=10_000.0),  # east, far from the corridor
        P("D1", "ONT", "Hộ Dung", (120, 10, 140, 40), register=600.0),       # west: residential, wholly taken
        P("D2", "LUC", "Hộ Dung", (260, 10, 360, 110), register=10_000.0),   # east
    ]
    projects = {"a": (-10, 10, 600, 60), "b": (50, 10, 150, 110)}
    r1 = run(world(tmp_path / "one", parcels, projects, register=True))
    scenario = world(tmp_path / "two", parcels, projects, register=True)
    gdf = gpd.read_file(scenario.parent / "w.gpkg", layer="parcels")
    west = (gdf.geometry.bounds["minx"] < X0 + 250).to_numpy()
    for name, part in (("west", gdf[west]), ("east", gdf[~west] if east_crs is None else gdf[~west].to_crs(east_crs))):
        part.to_file(scenario.parent / f"{name}.gpkg", layer="parcels", promote_to_multi=True)
    sources = "".join(f'[[parcels.sources]]\nname = "{n}"\npath = "{n}.gpkg"\nlayer = "parcels"\n' for n in ("west", "east"))
    text = scenario.read_text(encoding="utf-8").replace('path = "w.gpkg"\nlayer = "parcels"\nid', "id", 1)
    scenario.write_text(text.replace("\n[[admin]]", sources + "\n[[admin]]", 1), encoding="utf-8")
    check(scenario)  # the estimate's checks run for a layer of several sources too
    r2 = run(scenario)
    assert r2.scenario.parcels.partitions and len(r2.scenario.parcels.partitions) == 2
    pairs = [(r2.costs.table, r1.costs.table), (r2.costs.households, r1.costs.households)]
    for got, want in ((r2.parcels, r1.parcels), (r2.parcel_totals, r1.parcel_totals)):
        keys = [k for k in ("project", "parcel_id") if k in want]
        pairs.append((got.sort_values(keys)[keys + PARCEL_COLUMNS].reset_index(drop=True),
                      want.sort_values(keys)[keys + PARCEL_COLUMNS].reset_index(drop=True)))
    for got, want in pairs:
        if east_crs is None:
            pd.testing.assert_frame_equal(got, want)
            continue
        # measured in UTM: the drawn areas differ by its scale (0.9997), the legal areas and the money do not
        assert got.columns.tolist() == want.columns.tolist()
        for col in got.columns.drop(["area_m2"], errors="ignore"):
            a, b = got[col].to_numpy(), want[col].to_numpy()
            if col.endswith("_vnd"):
                assert np.abs(a.astype("float64") - b.astype("float64")).max() <= 1, col  # one đồng of rounding at most
            elif a.dtype.kind == "f":
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-6, err_msg=col)
            else:
                assert (pd.Series(a).fillna(-1).to_numpy() == pd.Series(b).fillna(-1).to_numpy()).all(), col
    c = house(r2, "Hộ Cường", "ALL")  # its land in the east source counts: 7,500 of 20,000, not of 10,000
    assert (c["farmland_m2"], c["farmland_taken_m2"], c["share_band"]) == (20_000, 7_500, "30–70 %")
    assert house(r2, "Hộ Dung", "ALL")["resettle"]


@pytest.mark.skipif(not __import__("sys").platform.startswith("linux"), reason="a thread's own niceness is Linux's")
def test_estimate_threads_yield_to_the_measurement():
    """The estimate's work beside the measurement runs at a lower priority, and the caller's stays as it was."""
    import os
    import threading

    from landplan.rules import compensation

    def niceness():
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    before = niceness()
    assert compensation._thread(niceness).result() == min(before + compensation.THREAD_NICENESS, 19)
    assert niceness() == before
