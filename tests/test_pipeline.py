"""End-to-end measurement on the tiny world: every figure computed by hand."""

from __future__ import annotations

import pytest

from landplan import run

# Hand-computed (see conftest.tiny_layers):
# east_west footprint [-50,350]×[40,60] = 400 × 20 = 8,000 m²; takes 100×20 = 2,000 m² from each of P1, P2, P3.
# north_south footprint [240,260]×[-50,150] = 4,000 m²; takes [240,260]×[0,100] = 2,000 m² of P3.
# hub [50,150]×[80,130] = 5,000 m²; takes P1 50×20 = 1,000, P2 50×20 = 1,000, P4 50×30 = 1,500.
# The two roads cross on [240,260]×[40,60] = 400 m², inside P3.


@pytest.fixture
def result(tiny_scenario):
    return run(tiny_scenario)


def test_footprints_exact(result):
    fp = result.footprints.set_index("project")["footprint_m2"]
    assert fp["east_west"] == pytest.approx(8000.0, rel=1e-12)
    assert fp["north_south"] == pytest.approx(4000.0, rel=1e-12)
    assert fp["hub"] == pytest.approx(5000.0, rel=1e-12)


def test_rice_per_project(result):
    a = result.approvals.set_index("project")
    assert a.loc["east_west", "rice_luc_m2"] == pytest.approx(2000.0, rel=1e-9)
    assert a.loc["east_west", "rice_luk_m2"] == pytest.approx(2000.0, rel=1e-9)  # " luk" normalised to LUK
    assert a.loc["east_west", "rice_ha"] == pytest.approx(0.4, rel=1e-9)
    assert a.loc["east_west", "rice_diff_ha"] == pytest.approx(-0.1, rel=1e-9)
    assert a.loc["east_west", "rice_diff_pct"] == pytest.approx(-20.0, rel=1e-9)
    assert a.loc["east_west", "not_in_parcels_m2"] == pytest.approx(2000.0, rel=1e-9)
    assert a.loc["north_south", "rice_m2"] == 0.0
    assert a.loc["hub", "rice_m2"] == pytest.approx(2000.0, rel=1e-9)
    assert a.loc["hub", "parcels_affected"] == 3
    assert (a["approval_band"] == 0).all()  # all under 10 ha


def test_summary_by_district_splits_straddling_piece(result):
    s = result.summary
    ew = s[(s["project"] == "east_west") & (s["admin_layer"] == "district")].set_index(["admin_unit", "landuse"])["area_m2"]
    # P2 (LUK) spans x = 100..200; the district line is x = 150: 1,000 m² each side.
    assert ew[("Quận A", "LUK")] == pytest.approx(1000.0, rel=1e-9)
    assert ew[("Quận B", "LUK")] == pytest.approx(1000.0, rel=1e-9)
    assert ew[("Quận A", "LUC")] == pytest.approx(2000.0, rel=1e-9)
    assert ew[("Quận B", "CLN")] == pytest.approx(2000.0, rel=1e-9)
    assert s["area_ha"].to_numpy() == pytest.approx(s["area_m2"].to_numpy() / 1e4, rel=1e-15)


def test_totals_count_crossing_once(result):
    t = result.totals.set_index("landuse")
    assert t.loc["CLN", "area_m2"] == pytest.approx(3600.0, rel=1e-9)  # 2,000 + 2,000 − 400
    assert t.loc["CLN", "sum_over_projects_m2"] == pytest.approx(4000.0, rel=1e-9)
    assert t.loc["CLN", "counted_once_saving_m2"] == pytest.approx(400.0, rel=1e-9)
    assert t.loc["LUC", "area_m2"] == pytest.approx(3000.0, rel=1e-9)
    assert t.loc["LUK", "area_m2"] == pytest.approx(3000.0, rel=1e-9)
    assert t.loc["ONT", "area_m2"] == pytest.approx(1500.0, rel=1e-9)
    assert t.loc["RICE", "area_m2"] == pytest.approx(6000.0, rel=1e-9)
    assert t.loc["TOTAL", "area_m2"] == pytest.approx(11100.0, rel=1e-9)
    ov = result.project_overlaps
    assert len(ov) == 1 and ov["overlap_m2"].iloc[0] == pytest.approx(400.0, rel=1e-9)


def test_parcel_table_remnants(result):
    p = result.parcels.set_index(["project", "parcel_id"])
    r = p.loc[("east_west", "P1")]
    assert r["take_m2"] == pytest.approx(2000.0, rel=1e-9)
    assert r["take_fraction"] == pytest.approx(0.2, rel=1e-9)
    assert r["remnant_m2"] == pytest.approx(8000.0, rel=1e-9)
    assert r["remnant_pieces"] == 2  # the road cuts P1 in two 100 × 40 m pieces
    assert not r["remnant_small"] and r["remnant_flag"] == ""
    h = p.loc[("hub", "P4")]
    assert h["take_m2"] == pytest.approx(1500.0, rel=1e-9)
    assert h["remnant_pieces"] == 1
    # P4's remnant is an L of 5,000 − 1,500 = 3,500 m², over the 40 m² residential minimum
    assert h["remnant_m2"] == pytest.approx(3500.0, rel=1e-9)


def test_owner_and_ids_kept(result):
    assert set(result.parcels["parcel_id"]) == {"P1", "P2", "P3", "P4"}
    assert "Nguyễn Văn An" in set(result.parcels["owner"])


def test_ellipsoidal_check_close_to_planar(result):
    ratio = result.approvals["ellipsoidal_ratio"]
    assert ((ratio - 1.0).abs() < 1e-3).all()


def test_run_leaves_the_cycle_collector_as_it_found_it(tiny_scenario, monkeypatch):
    import gc

    from landplan import pipeline

    seen = []
    real = pipeline._run
    monkeypatch.setattr(pipeline, "_run", lambda sc: (seen.append(gc.isenabled()), real(sc))[1])
    assert gc.isenabled()
    run(tiny_scenario)
    assert seen == [False] and gc.isenabled()  # paused during the run, back on after
    gc.disable()
    try:
        run(tiny_scenario)
        assert not gc.isenabled()  # a caller who had it off keeps it off
    finally:
        gc.enable()
    monkeypatch.setattr(pipeline, "_run", lambda sc: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        run(tiny_scenario)
    assert gc.isenabled()  # and back on after an error


@pytest.mark.parametrize("strips", [1, 4])
def test_overlapping_projects_named_pair_by_pair_or_counted(strips: int):
    """A few overlapping pairs of projects get a line each; a network that crosses itself many times one
    message: how many pairs, the land in all (by hand: 10 × 10 m at each crossing), the first five."""
    import geopandas as gpd
    import shapely

    from landplan.pipeline import PROJECT_OVERLAPS_SHOWN, _warn_project_overlaps, project_overlaps
    from landplan.report import RunReport

    east = [shapely.box(0, 100 * i, 1000, 100 * i + 10) for i in range(strips)]  # 10 m wide, 1 km long
    north = [shapely.box(100 * i + 50, -50, 100 * i + 60, 950) for i in range(strips)]
    fp = gpd.GeoDataFrame({"project": [f"e{i}" for i in range(strips)] + [f"n{i}" for i in range(strips)]},
                          geometry=east + north, crs="EPSG:5897")
    ov = project_overlaps(fp)
    assert len(ov) == strips * strips and ov["overlap_m2"].tolist() == [100.0] * strips * strips
    report = RunReport(quiet=True)
    _warn_project_overlaps(ov, report)
    if strips * strips <= PROJECT_OVERLAPS_SHOWN:
        assert report.warnings == ["projects e0 and n0 overlap by 100.00 m²; all-projects totals count that land once"]
    else:
        (message,) = report.warnings
        assert message.startswith("16 pairs of projects overlap, 1,600.00 m² in all (e0 and n0 (100.00 m²), ")
        assert message.count("(100.00 m²)") == PROJECT_OVERLAPS_SHOWN and "overlaps.csv lists every pair" in message
