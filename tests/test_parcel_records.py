"""Every parcel's record is right: pieces, remnants, slivers, multi-part parcels, overlapping projects,
reads that do not depend on other projects, and approval bands that do not flip on rounding.

Each test builds a small world whose answer is computed by hand (in the comments) and runs it through
``landplan.run`` exactly as a user would, from a GeoPackage and a scenario file.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely import affinity
from shapely.geometry import MultiPolygon, Polygon, box

from landplan import run

CRS = "EPSG:5897"
X0, Y0 = 585_000.0, 1_105_000.0


def at(g, dx=0.0, dy=0.0, angle=0.0):
    """``g`` drawn around (0, 0), rotated by ``angle`` degrees about the origin and moved near Cần Thơ."""
    return affinity.translate(affinity.rotate(g, angle, origin=(0, 0)), X0 + dx, Y0 + dy)


def world(folder: Path, parcels: list[tuple[str, str, object]], projects: dict[str, object], *,
          admin: list[tuple[str, object]] | None = None, extra: str = "") -> Path:
    """Write parcels ``(id, code, geometry)``, polygon projects ``{id: geometry}`` and optional admin units
    into one GeoPackage with its scenario; return the scenario path."""
    folder.mkdir(parents=True, exist_ok=True)
    gpkg = folder / "w.gpkg"
    p = gpd.GeoDataFrame({"pid": [i for i, _, _ in parcels], "lu": [c for _, c, _ in parcels],
                          "chu": [f"Hộ {i}" for i, _, _ in parcels]}, geometry=[g for _, _, g in parcels], crs=CRS)
    pyogrio.write_dataframe(p, gpkg, layer="parcels", driver="GPKG", promote_to_multi=True)
    for pid, g in projects.items():
        pyogrio.write_dataframe(gpd.GeoDataFrame({"name": [pid]}, geometry=[g], crs=CRS), gpkg, layer=f"p_{pid}", driver="GPKG")
    text = ('[scenario]\nname = "w"\ncrs = "EPSG:5897"\n\n[parcels]\npath = "w.gpkg"\nlayer = "parcels"\nid = "pid"\n'
            'landuse = "lu"\nowner = "chu"\n')
    if admin:
        a = gpd.GeoDataFrame({"ten": [n for n, _ in admin]}, geometry=[g for _, g in admin], crs=CRS)
        pyogrio.write_dataframe(a, gpkg, layer="units", driver="GPKG")
        text += '\n[[admin]]\nkey = "ward"\npath = "w.gpkg"\nlayer = "units"\nname = "ten"\n'
    for pid in projects:
        text += f'\n[[projects]]\nid = "{pid}"\nkind = "polygon"\npath = "w.gpkg"\nlayer = "p_{pid}"\n'
    path = folder / "w.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def rows(result, project=None):
    t = result.parcels if project is not None else result.parcel_totals
    if project is not None:
        t = t[t["project"] == project]
    return t.set_index("parcel_id")


# --- 1. a parcel cut in two is two pieces -------------------------------------------------------

ANGLES = [float(a) for a in np.arange(0.0, 90.0, 6.7)]


@pytest.mark.parametrize("angle", ANGLES)
def test_parcel_cut_in_two_is_two_pieces_each_screened(tmp_path: Path, angle: float):
    # a 30 × 100 m rice strip; the road (y from 7 to 27) leaves 30 × 7 = 210 m² on one side and
    # 30 × 73 = 2,190 m² on the other. 210 m² is under the 500 m² rice minimum: flagged.
    # Computed as parcel − piece, the piece's rounded cut points joined the halves in about 4 rotations in 10.
    dx = 0.123 + 1000.0 * angle
    sc = world(tmp_path, [("P1", "LUC", at(box(0, 0, 30, 100), dx, angle=angle))],
               {"road": at(box(-50, 7, 80, 27), dx, angle=angle)})
    r = run(sc)
    rec = rows(r, "road").loc["P1"]
    assert rec["take_m2"] == pytest.approx(600.0, abs=1e-6)
    assert rec["remnant_pieces"] == 2
    assert rec["remnant_small"] and not rec["remnant_narrow"]
    assert rec["remnant_flag"] == "diện tích < 500 m²"
    pieces = r.project_remnants.sort_values("piece")
    assert pieces["area_m2"].tolist() == pytest.approx([2190.0, 210.0], abs=1e-6)
    assert pieces["flag"].tolist() == ["", "diện tích < 500 m²"]


def test_parcel_cut_in_three_by_two_roads(tmp_path: Path):
    # a 100 × 30 strip crossed by two roads: 20 | 20 road | 20 | 15 road | 25 → pieces 600, 600, 750 m² (of rice:
    # all three above 500 m² for the road pair together; 600 alone is not below the minimum either)
    sc = world(tmp_path, [("P1", "LUC", at(box(0, 0, 100, 30), 0.37, angle=31.0))],
               {"a": at(box(20, -10, 40, 40), 0.37, angle=31.0), "b": at(box(60, -10, 75, 40), 0.37, angle=31.0)})
    r = run(sc)
    total = rows(r).loc["P1"]
    assert total["take_m2"] == pytest.approx(20 * 30 + 15 * 30, abs=1e-6)
    assert total["remnant_pieces"] == 3 and total["remnant_flag"] == ""
    assert sorted(r.remnants["area_m2"]) == pytest.approx([600.0, 600.0, 750.0], abs=1e-6)
    # each project alone leaves two pieces
    assert rows(r, "a").loc["P1", "remnant_pieces"] == 2 and rows(r, "b").loc["P1", "remnant_pieces"] == 2


# --- 2. float noise is not a take --------------------------------------------------------------

def test_parcel_along_the_corridor_edge_with_noise_is_not_affected(tmp_path: Path):
    # P1 lies just beside the road, its edge on the road's edge but for 1 µm of noise (as after a
    # reprojection); P2 is really under the road. P1 must not be affected, its 100 m × 1 µm sliver
    # is listed, and footprint = takes + slivers + land in no parcel, exactly.
    edge = [(0.0, 10.0), (25.0, 10.000001), (50.0, 9.999999), (75.0, 10.000001), (100.0, 10.0)]
    p1 = Polygon([*edge, (100.0, 40.0), (0.0, 40.0)])
    p2 = box(0, -30, 100, 10)
    road = box(-10, -10, 110, 10)
    sc = world(tmp_path, [("P1", "ONT", at(p1)), ("P2", "LUC", at(p2))], {"road": at(road)})
    r = run(sc)
    assert set(r.parcels["parcel_id"]) == {"P2"}
    assert set(r.parcel_totals["parcel_id"]) == {"P2"}
    sl = r.slivers[r.slivers["kind"] == "take"]
    assert sl["parcel_id"].tolist() == ["P1"] and 0 < sl["area_m2"].iloc[0] < 1e-3
    a = r.approvals.iloc[0]
    assert a["footprint_m2"] == pytest.approx(120 * 20, abs=1e-9)
    assert a["take_m2"] + a["noise_m2"] + a["not_in_parcels_m2"] == pytest.approx(a["footprint_m2"], abs=1e-9)
    assert a["take_m2"] == pytest.approx(2000.0 - sl["area_m2"].iloc[0], abs=1e-6)


def test_long_thin_sliver_is_noise_by_its_width(tmp_path: Path):
    # 5 km along the corridor edge with 1 µm of overlap: 0.005 m² (under 0.01 m² anyway) and 1 µm wide.
    # With the area tolerance lowered to 0.001 m², the mean-width rule alone still calls it noise.
    p1 = box(0, 10 - 1e-6, 5000, 40)
    road = box(-10, -10, 5010, 10)
    extra = "\n[tolerance]\nsliver_m2 = 0.001\n"
    sc = world(tmp_path, [("P1", "ONT", at(p1)), ("P2", "LUC", at(box(0, -30, 5000, 10 - 1e-6)))], {"road": at(road)}, extra=extra)
    r = run(sc)
    assert "P1" not in set(r.parcels["parcel_id"])
    assert r.slivers.loc[r.slivers["kind"] == "take", "area_m2"].iloc[0] == pytest.approx(0.005, rel=1e-3)


def test_a_real_thin_take_is_kept(tmp_path: Path):
    # a parcel overlapping the road by 5 cm over 100 m (5 m², 5 cm wide) is a take: above both tolerances
    sc = world(tmp_path, [("P1", "ONT", at(box(0, 9.95, 100, 40)))], {"road": at(box(-10, -10, 110, 10))})
    r = run(sc)
    assert rows(r, "road").loc["P1", "take_m2"] == pytest.approx(5.0, abs=1e-6)
    assert r.slivers.empty


# --- 3. multi-part parcels -------------------------------------------------------------------

def test_detached_part_the_road_never_touches_is_not_a_remnant(tmp_path: Path):
    # P1 has a 100 × 100 part crossed by the road (x from 40 to 60: two 4,000 m² pieces) and a detached
    # 20 × 10 = 200 m² part 300 m away. The detached part is untouched land, not a 200 m² remnant under
    # the 500 m² minimum; Q1 + Q2 store the same land as two parcels and get the same flags.
    big, small = box(0, 0, 100, 100), box(300, 0, 320, 10)
    road = box(40, -50, 60, 150)
    sc = world(tmp_path, [("P1", "LUC", at(MultiPolygon([big, small])))], {"road": at(road)})
    r = run(sc)
    rec = rows(r, "road").loc["P1"]
    assert rec["parcel_parts"] == 2
    assert rec["remnant_m2"] == pytest.approx(8200.0, abs=1e-6)  # all that remains, the detached part included
    assert rec["untouched_m2"] == pytest.approx(200.0, abs=1e-9)
    assert rec["remnant_pieces"] == 2 and rec["remnant_flag"] == ""
    two = run(world(tmp_path / "two", [("Q1", "LUC", at(big)), ("Q2", "LUC", at(small))], {"road": at(road)}))
    q = rows(two, "road")
    assert list(q.index) == ["Q1"]
    assert (q.loc["Q1", "remnant_pieces"], q.loc["Q1", "remnant_flag"]) == (rec["remnant_pieces"], rec["remnant_flag"])


def test_small_piece_left_of_a_touched_part_is_still_flagged(tmp_path: Path):
    # the road crosses the small part itself: 20 × 10 with the road over x 305–318 leaves 5 × 10 = 50 m²
    # and 2 × 10 = 20 m² pieces of that part (both under 500 m²); the big part is untouched
    big, small = box(0, 0, 100, 100), box(300, 0, 320, 10)
    sc = world(tmp_path, [("P1", "LUC", at(MultiPolygon([big, small])))], {"road": at(box(305, -50, 318, 60))})
    rec = rows(run(sc), "road").loc["P1"]
    assert rec["untouched_m2"] == pytest.approx(10_000.0, abs=1e-6)
    assert rec["remnant_pieces"] == 2 and rec["remnant_small"]


# --- 4. a parcel under two projects ------------------------------------------------------------

def test_parcel_under_two_projects_counts_overlapping_land_once(tmp_path: Path):
    # P1 100 × 100; road a takes x 0–30, road b x 20–50 (10 m shared): all projects take 50 × 100 =
    # 5,000 m² (50 %), never 6,000 m² (60 %); what remains is one 5,000 m² piece.
    sc = world(tmp_path, [("P1", "LUC", at(box(0, 0, 100, 100)))],
               {"a": at(box(-10, -10, 30, 110)), "b": at(box(20, -10, 50, 110))})
    r = run(sc)
    assert rows(r, "a").loc["P1", "take_m2"] == pytest.approx(3000.0, abs=1e-6)
    assert rows(r, "b").loc["P1", "take_m2"] == pytest.approx(3000.0, abs=1e-6)
    t = rows(r).loc["P1"]
    assert t["projects"] == "a,b"
    assert t["take_m2"] == pytest.approx(5000.0, abs=1e-6) and t["take_fraction"] == pytest.approx(0.5, abs=1e-12)
    assert t["remnant_m2"] == pytest.approx(5000.0, abs=1e-6) and t["remnant_pieces"] == 1
    assert r.remnants["area_m2"].tolist() == pytest.approx([5000.0], abs=1e-6)
    # the files say the same: affected_parcels.csv, the GeoPackage's affected_parcels and remnants layers
    out = r.write(tmp_path / "out", exports=False)
    csv = pd.read_csv(out / "affected_parcels.csv", encoding="utf-8-sig").set_index("parcel_id")
    assert csv.loc["P1", "take_m2"] == 5000.0 and csv.loc["P1", "remnant_m2"] == 5000.0
    gp = pyogrio.read_dataframe(out / "landplan.gpkg", layer="affected_parcels").set_index("parcel_id")
    assert gp.loc["P1", "take_m2"] == pytest.approx(5000.0, abs=1e-6) and gp.loc["P1", "take_fraction"] <= 1.0
    rem = pyogrio.read_dataframe(out / "landplan.gpkg", layer="remnants")
    assert rem["area_m2"].tolist() == pytest.approx([5000.0], abs=1e-6)
    assert rem.geometry.area.sum() == pytest.approx(5000.0, abs=1e-6)


def test_all_projects_record_equals_the_union_footprints_record(tmp_path: Path):
    # two roads crossing over a grid of parcels: the all-projects record of every parcel equals the
    # record the union of the two footprints gets as one project
    parcels = [(f"P{i}{j}", "LUC", at(box(i * 40, j * 40, i * 40 + 40, j * 40 + 40), 0.3)) for i in range(5) for j in range(5)]
    a, b = at(box(-10, 50, 210, 75), 0.3, angle=7.0), at(box(90, -10, 112, 210), 0.3, angle=-11.0)
    both = run(world(tmp_path / "two", parcels, {"a": a, "b": b}))
    union = run(world(tmp_path / "one", parcels, {"u": shapely.union_all([a, b])}))
    cols = ["take_m2", "remnant_m2", "remnant_pieces", "remnant_small", "remnant_narrow", "remnant_flag"]
    x = rows(both)[cols].sort_index()
    y = rows(union, "u")[cols].sort_index()
    pd.testing.assert_frame_equal(x, y, check_exact=False, atol=1e-6)


# --- 5. one project's figures do not depend on the others ---------------------------------------

def test_parcel_whose_hole_lies_outside_its_shell_is_found_under_any_mask(tmp_path: Path):
    # P1's "hole" lies outside its shell (invalid); make_valid keeps both as land. Road r crosses only the
    # hole's square: it takes 10 × 20 = 200 m² of P1 whether or not another project makes the read see P1.
    shell = [(0, 0), (40, 0), (40, 40), (0, 40), (0, 0)]
    hole = [(100, 0), (120, 0), (120, 20), (100, 20), (100, 0)]
    p1 = Polygon(shell, [hole])
    assert not p1.is_valid
    parcels = [("P1", "LUC", at(p1)), ("P2", "LUC", at(box(200, 0, 240, 40)))]
    road = at(box(105, -10, 115, 30))
    alone = run(world(tmp_path / "a", parcels, {"r": road}))
    assert rows(alone, "r").loc["P1", "take_m2"] == pytest.approx(200.0, abs=1e-9)
    with_other = run(world(tmp_path / "b", parcels, {"r": road, "far": at(box(10, 10, 20, 20))}))
    pd.testing.assert_frame_equal(rows(alone, "r"), rows(with_other, "r"))


def test_overlap_rule_sees_parcels_the_footprint_does_not_reach(tmp_path: Path):
    # A (id sorts first) and B overlap on x 80–100 (2,000 m²), away from the road, which crosses B only.
    # The overlap is A's: B counts 8,000 m², whether or not a project reaches A.
    a, b = box(0, 0, 100, 100), box(80, 0, 180, 100)
    road = box(150, -10, 160, 110)
    alone = run(world(tmp_path / "a", [("A", "LUC", at(a)), ("B", "LUC", at(b))], {"road": at(road)}))
    rec = rows(alone, "road").loc["B"]
    assert rec["counted_area_m2"] == pytest.approx(8000.0, abs=1e-6)
    assert rec["remnant_m2"] == pytest.approx(7000.0, abs=1e-6)
    assert alone.parcel_overlaps[["parcel_id", "overlaps_parcel_id"]].values.tolist() == [["B", "A"]]
    both = run(world(tmp_path / "b", [("A", "LUC", at(a)), ("B", "LUC", at(b))], {"road": at(road), "other": at(box(10, -10, 20, 110))}))
    pd.testing.assert_frame_equal(rows(alone, "road"), rows(both, "road"))


def _random_world(data) -> tuple[list, dict, object]:
    """A 6 × 4 grid of 50 m parcels, some drawn overlapping a neighbour, one invalid (a hole outside its
    shell), a base road and one more project anywhere (near or far)."""
    rnd = data.draw(st.randoms(use_true_random=False))
    parcels = []
    for i in range(6):
        for j in range(4):
            g = box(i * 50, j * 50, i * 50 + 50, j * 50 + 50)
            if rnd.random() < 0.5:  # drawn a few metres into the next parcel
                g = box(i * 50, j * 50, i * 50 + 50 + rnd.uniform(0.5, 8), j * 50 + 50 + rnd.choice([0.0, rnd.uniform(0.5, 8)]))
            parcels.append((f"{rnd.randint(0, 99):02d}-{i}{j}", rnd.choice(["LUC", "LUK", "ONT", "CLN"]), g))
    k = rnd.randrange(len(parcels))
    pid, code, g = parcels[k]
    x0, y0 = g.bounds[:2]
    parcels[k] = (pid, code, Polygon(g.exterior.coords, [[(x0 + 60, y0 + 5), (x0 + 70, y0 + 5), (x0 + 70, y0 + 15), (x0 + 60, y0 + 15)]]))
    angle = rnd.uniform(-60, 60)
    road = affinity.rotate(box(-20, 80, 320, 100), angle, origin=(150, 100))
    if rnd.random() < 0.8:  # among the parcels, where it can reach a neighbour of the road's parcels
        x, y = rnd.uniform(-20, 300), rnd.uniform(-20, 200)
    else:  # far away
        x, y = rnd.uniform(2000, 3000), rnd.uniform(-3000, 3000)
    other = box(x, y, x + rnd.uniform(5, 60), y + rnd.uniform(5, 60))
    return [(p, c, at(gg)) for p, c, gg in parcels], {"road": at(road)}, at(other)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_adding_a_project_changes_nothing_for_the_others(tmp_path_factory, data):
    parcels, projects, other = _random_world(data)
    base = tmp_path_factory.mktemp("w")
    alone = run(world(base / "a", parcels, projects))
    more = run(world(base / "b", parcels, {**projects, "other": other}))
    pd.testing.assert_frame_equal(rows(alone, "road").sort_index(), rows(more, "road").sort_index())
    a = alone.approvals.set_index("project").loc["road"]
    b = more.approvals.set_index("project").loc["road"]
    pd.testing.assert_series_equal(a, b)


# --- 7. approval bands do not flip on rounding -------------------------------------------------

@pytest.mark.parametrize("angle", [0.0, 13.0, 29.0, 45.0, 71.0])
def test_approval_band_is_stable_under_rotation_and_translation(tmp_path: Path, angle: float):
    # 100 rice parcels of exactly 25 × 40 = 1,000 m² under one footprint: 100,000 m² = 10 ha, the
    # threshold of the second band; the float sum lands a little under or over depending on rotation
    parcels = [(f"P{i:02d}{j:02d}", "LUC", at(box(i * 25, j * 40, i * 25 + 25, j * 40 + 40), 1234.567 * angle, -77.7, angle))
               for i in range(10) for j in range(10)]
    sc = world(tmp_path, parcels, {"hub": at(box(-5, -5, 255, 405), 1234.567 * angle, -77.7, angle)})
    r = run(sc)
    a = r.approvals.iloc[0]
    assert a["rice_m2"] == pytest.approx(100_000.0, abs=1e-6)
    assert a["approval_band"] == 1, (a["rice_m2"], angle)
    assert r.scenario.tolerance.round_m2(a["rice_m2"]) == 100_000.0


def test_the_rounding_rule_decides_a_band_as_documented():
    from landplan.approvals import approval_level
    from landplan.scenario import Rules
    from landplan.tolerance import Tolerance

    rules = Rules()
    assert approval_level(99_999.99999991711, rules)[0] == 1  # rounds to 100,000.00 m² = 10 ha
    assert approval_level(100_000.00000008, rules)[0] == 1
    assert approval_level(99_999.99, rules)[0] == 0  # a real centiare short
    assert approval_level(99_999.996, rules, Tolerance(decimals_m2=2))[0] == 1
    assert approval_level(99_999.996, rules, Tolerance(decimals_m2=3))[0] == 0
    assert math.isclose(Tolerance().round_m2(0.125), 0.12)  # ties to even, as documented


def test_records_sorted_as_pandas_sorts_them():
    """Per-project records come by project then parcel id, all-projects records and their pieces by parcel
    id (then piece), as a stable ``sort_values`` orders them by text, whatever order the parcels were read in:
    ids that sort differently as text and as numbers, Vietnamese ids, parcels under one and two projects."""
    import geopandas as gpd
    import numpy as np
    import pandas as pd
    import pyproj
    from shapely.geometry import box

    from landplan.remnants import Minimums, parcel_takes, parcel_totals, records
    from landplan.takes import split_noise, take_table, tile_footprints
    from landplan.tolerance import Tolerance

    rng = np.random.default_rng(4)
    n = 60
    ids = [f"{k}" for k in range(n - 6)] + ["Đ-2", "D-10", "đ-1", "Ă9", "a10", "A2"]
    order = rng.permutation(n)
    geoms = [box(20.0 * (k % 10), 30.0 * (k // 10), 20.0 * (k % 10) + 20, 30.0 * (k // 10) + 30) for k in range(n)]
    parcels = gpd.GeoDataFrame({"parcel_id": [ids[k] for k in order], "landuse": "LUC", "owner": "",
                                "parcel_area_m2": 600.0, "counted_area_m2": 600.0},
                               geometry=[geoms[k] for k in order], crs="EPSG:5897")
    fp = gpd.GeoDataFrame({"project": ["west", "East", "đường"]},
                          geometry=[box(25, -10, 65, 200), box(55, -10, 95, 200), box(-10, 100, 210, 130)], crs="EPSG:5897")
    tiles = tile_footprints(np.asarray(fp.geometry.values))
    pieces, _ = split_noise(take_table(parcels, fp, crs=pyproj.CRS("EPSG:5897"), tiles=tiles), Tolerance())
    mins = Minimums({"rice": 500.0}, {"rice": 5.0}, Tolerance())
    assert pieces["parcel_row"].value_counts().max() > 1  # some parcels under two projects
    table, rest, _ = parcel_takes(pieces, parcels, fp, tiles=tiles, minimums=mins)
    pd.testing.assert_frame_equal(table, table.sort_values(["project", "parcel_id"], kind="stable").reset_index(drop=True))
    pd.testing.assert_frame_equal(rest, rest.sort_values(["project", "parcel_id", "piece"], kind="stable").reset_index(drop=True))
    for per in (parcel_totals(pieces, parcels, fp, tiles=tiles, minimums=mins), records(pieces, parcels, fp, tiles=tiles, minimums=mins)[1]):
        t, r, _ = per
        pd.testing.assert_frame_equal(t, t.sort_values("parcel_id", kind="stable").reset_index(drop=True))
        pd.testing.assert_frame_equal(r, r.sort_values(["parcel_id", "piece"], kind="stable").reset_index(drop=True))
        assert t["parcel_id"].is_unique and len(t) == pieces["parcel_row"].nunique()
    assert not table["parcel_id"].str.isnumeric().all() and (t["parcel_id"] != sorted(t["parcel_id"], key=lambda v: (len(v), v))).any()


def test_flags_word_each_case_as_flag_does():
    """Each remaining piece's flag is :func:`_flag` of its own case, however many pieces share it."""
    import numpy as np

    from landplan.remnants import _flag, _flags

    rng = np.random.default_rng(11)
    n = 2_000
    small, narrow = rng.random(n) < 0.3, rng.random(n) < 0.2
    min_a, min_w = rng.choice([0.0, 40.0, 500.0, 1_000.0], n), rng.choice([0.0, 4.0, 5.0, 12.5], n)
    got = _flags(small, narrow, min_a, min_w)
    want = [_flag(s, w, a, m) if (s or w) else "" for s, w, a, m in zip(small, narrow, min_a, min_w)]
    assert got.tolist() == want
    assert len(set(want)) > 20 and "" in want
