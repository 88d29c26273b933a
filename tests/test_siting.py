"""Hub siting on hand-made grids whose best placement is known."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, Polygon, box

from landplan.cli import main
from landplan.planning.siting import SiteError, SiteSettings, pareto_front, search_sites, site, window_sums
from tests.conftest import at
from tests.worlds import carve, grid_parcels, write_world

BLOCK = box(1200, 500, 1600, 800)  # the only land that is not rice: a 400 × 300 m orchard


def _rice_world():
    """Rice (LUC) over [0, 2000] × [0, 1000] but for the orchard (CLN) BLOCK; a road along y = -10."""
    return carve(grid_parcels(0, 0, 2000, 1000, 100, "LUC"), [(BLOCK, "CLN")])


def test_window_sums_equal_brute_force():
    rng = np.random.default_rng(1)
    a = rng.random((23, 31))
    got = window_sums(a, 4, 7)
    want = np.array([[a[r:r + 4, c:c + 7].sum() for c in range(31 - 7 + 1)] for r in range(23 - 4 + 1)])
    assert got == pytest.approx(want)


def test_pareto_front():
    df = pd.DataFrame({"a": [1, 2, 3, 1, 4], "b": [5, 3, 4, 6, 1]})
    front = pareto_front(df, "a", "b")
    assert front[["a", "b"]].values.tolist() == [[1, 5], [2, 3], [4, 1]]


@pytest.mark.parametrize("orientations", [(0.0, 90.0), (0.0, 45.0, 90.0, 135.0)])
def test_best_placement_is_the_orchard(orientations):
    """A 6 ha hub (300 × 200 m) fits only in the orchard without rice: the least-rice placement lies in it,
    and the nearest to the road lies on the road's side."""
    area = at(box(0, 0, 2000, 1000))
    road = at(LineString([(-100, -10), (2100, -10)]))
    found = search_sites(_rice_world().rename(columns={"lu": "landuse"}), area,
                         SiteSettings(area_m2=60_000, aspect=1.5, orientations_deg=orientations, resolution_m=10), road=road)
    least = found.candidates[0]
    assert least.estimated_rice_m2 == pytest.approx(0.0, abs=1.0)
    assert least.polygon.within(at(BLOCK).buffer(1e-6))
    assert least.orientation_deg in (0.0, 90.0)
    nearest = min(found.candidates, key=lambda c: c.distance_m)
    assert shapely.distance(nearest.polygon, road) <= 30.0
    assert found.evaluated > found.feasible > 0


def test_polygon_shape_by_fft():
    """A triangle of 6 ha (half the orchard's box) fits in the orchard too."""
    tri = Polygon([(0, 0), (400, 0), (0, 300)])
    found = search_sites(_rice_world().rename(columns={"lu": "landuse"}), at(box(0, 0, 2000, 1000)),
                         SiteSettings(shape=tri, orientations_deg=(0.0,), resolution_m=10), road=at(LineString([(-100, -10), (2100, -10)])))
    best = found.candidates[0]
    assert best.polygon.area == pytest.approx(60_000.0)
    assert best.polygon.difference(at(BLOCK)).area < 0.01 * 60_000


def test_constraints_and_bad_input():
    parcels = _rice_world().rename(columns={"lu": "landuse"})
    with pytest.raises(SiteError, match=r"the hub \(500.0 ha\) is larger than the search area \(200.0 ha\)"):
        search_sites(parcels, at(box(0, 0, 2000, 1000)), SiteSettings(area_m2=5_000_000))
    with pytest.raises(SiteError, match="no placement of the hub"):  # fits by area, not by shape
        search_sites(parcels, at(box(0, 0, 2000, 1000)), SiteSettings(area_m2=1_500_000, aspect=10.0, orientations_deg=(90.0,)))
    homes = carve(grid_parcels(0, 0, 2000, 1000, 100, "ONT"), []).rename(columns={"lu": "landuse"})
    with pytest.raises(SiteError, match="at most 5% residential land"):
        search_sites(homes, at(box(0, 0, 2000, 1000)), SiteSettings(area_m2=60_000))


@pytest.fixture(scope="module")
def sited(tmp_path_factory):
    folder = tmp_path_factory.mktemp("site")
    wards = [("Phường Tây", box(0, 0, 1000, 1000)), ("Phường Đông", box(1000, 0, 2000, 1000))]
    sc = write_world(folder, _rice_world(), road=LineString([(0, -10 + 20), (2000, 10)]), hub=box(100, 100, 400, 300), wards=wards)
    from landplan.planning.siting import units_area
    from landplan.scenario import load_scenario

    scenario = load_scenario(sc)
    area = units_area(scenario, "ward", ["Phường Đông"])
    comparison = site(scenario, area, settings=SiteSettings(area_m2=60_000, orientations_deg=(0.0, 90.0), resolution_m=10, candidates=3),
                      road_project="road", project="hub")
    return sc, comparison, comparison.write(folder / "out")


def test_site_measured_exactly(sited, tmp_path: Path):
    """The scenario's own hub (all rice, 6 ha) first; the least-rice site takes none, exactly; the figures
    are those `landplan run` gives on the site's own scenario file."""
    _, comparison, out = sited
    t = comparison.table.set_index("alternative")
    assert t.loc["hub", "rice_ha"] == pytest.approx(6.0, abs=1e-9)
    sites = t[t.index.str.startswith("site_")]
    best = sites["rice_ha"].idxmin()
    assert sites.loc[best, "rice_ha"] == pytest.approx(0.0, abs=1e-9)
    assert sites.loc[best, "rice_saved_ha"] == pytest.approx(6.0, abs=1e-9)
    assert sites["meets_constraints"].all() and sites["inside_area"].all()
    code = main(["-q", "run", str(out / "scenarios" / f"{best}.toml"), "--out", str(tmp_path / "run"), "--no-exports"])
    assert code == 0
    appr = pd.read_csv(tmp_path / "run" / "approvals.csv", encoding="utf-8-sig").set_index("project")
    assert appr.loc[best, "rice_m2"] == pytest.approx(sites.loc[best, "rice_ha"] * 10_000, abs=0.005)
    assert appr.loc[best, "footprint_m2"] == pytest.approx(60_000.0, abs=0.01)


def test_site_command_line(sited, tmp_path: Path, capsys):
    sc, _, _ = sited
    code = main(["-q", "site", str(sc), "--within", "ward=Phường Đông", "--area-ha", "6", "--orientations", "0,90",
                 "--road-project", "road", "--out", str(tmp_path / "out"), "--candidates", "2"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert (tmp_path / "out" / "alternatives_map.html").exists() and "site_1" in captured.out
    code = main(["-q", "site", str(sc), "--within", "ward=Phường Nam", "--out", str(tmp_path / "out2")])
    err = capsys.readouterr().err
    assert code == 2 and "has no unit named 'Phường Nam'" in err
    code = main(["-q", "site", str(sc), "--within", "ward=Phường Đông", "--area-ha", "150", "--out", str(tmp_path / "out3")])
    err = capsys.readouterr().err
    assert code == 2 and "is larger than the search area" in err

