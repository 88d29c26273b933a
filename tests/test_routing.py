"""Least-impact routing on hand-made worlds whose answers are known, and the radius rule."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from landplan.cli import main
from landplan.planning.routing import (
    RouteError,
    RouteSettings,
    circumradii,
    fit_radius,
    pull_taut,
    round_bends,
    route,
    search_routes,
    smooth,
)
from tests.conftest import X0, Y0
from tests.worlds import DETOUR_M, detour_world, gap_world, write_world


def _pts(*xy: tuple[float, float]) -> list[tuple[float, float]]:
    return [(X0 + x, Y0 + y) for x, y in xy]


def _local(line: LineString) -> LineString:
    return shapely.affinity.translate(line, -X0, -Y0)


def test_cheaper_detour_of_known_length():
    """The least-rice candidate goes round the rice block by the shortest detour (1,105.9 m) and takes no
    rice; the shortest goes straight through it (1,000 m, 4,000 m² of rice)."""
    found = search_routes(detour_world().rename(columns={"lu": "landuse"}), _pts((0, 300), (1000, 300)),
                          RouteSettings(width_m=20, resolution_m=5, candidates=6))
    least = min(found.candidates, key=lambda c: c.estimated_rice_m2)
    shortest = min(found.candidates, key=lambda c: c.length_m)
    assert least.estimated_rice_m2 < 50.0
    assert least.length_m == pytest.approx(DETOUR_M, rel=0.01)
    assert shortest.length_m == pytest.approx(1000.0, abs=0.5)
    assert shortest.estimated_rice_m2 == pytest.approx(4000.0, rel=0.02)
    assert found.straight_m == pytest.approx(1000.0) and found.max_length_m == pytest.approx(1150.0)


def test_length_limit_keeps_the_detour_out():
    """Under a limit of 1.05 × the straight line the detour (1.106 ×) is not allowed: the least-rice
    candidate within it cuts the block's corner or goes straight."""
    found = search_routes(detour_world().rename(columns={"lu": "landuse"}), _pts((0, 300), (1000, 300)),
                          RouteSettings(width_m=20, resolution_m=5, max_length_ratio=1.05))
    assert all(c.length_m <= 1050.0 + 1e-6 for c in found.candidates)
    assert min(c.estimated_rice_m2 for c in found.candidates) > 500.0


def test_corridor_forced_through_a_gap():
    """A wall of homes with one 50 m gap: every candidate passes through the gap."""
    found = search_routes(gap_world().rename(columns={"lu": "landuse"}), _pts((0, 300), (1000, 300)),
                          RouteSettings(width_m=20, resolution_m=5))
    assert found.candidates
    for c in found.candidates:
        local = _local(c.line)
        assert local.intersects(box(480, 550, 520, 600))
        crossing = shapely.get_coordinates(local.intersection(box(480, -100, 520, 700)))
        assert crossing[:, 1].min() >= 550.0 - 1e-6 and crossing[:, 1].max() <= 600.0 + 1e-6
    # the shortest way through the gap's middle third: 2·√(500² + 260²) = 1,127 m
    assert min(c.length_m for c in found.candidates) == pytest.approx(2 * math.hypot(500, 260), rel=0.01)


def test_no_gap_is_one_clear_message():
    with pytest.raises(RouteError, match="no passable way between the end points"):
        search_routes(gap_world(gap=False).rename(columns={"lu": "landuse"}), _pts((0, 300), (1000, 300)),
                      RouteSettings(width_m=20, resolution_m=10, max_length_ratio=None))


def test_bad_input_one_message_each():
    parcels = detour_world().rename(columns={"lu": "landuse"})
    with pytest.raises(RouteError, match=r"end point \(.*\) lies outside every parcel"):
        search_routes(parcels, _pts((0, 300), (3000, 300)), RouteSettings(width_m=20))
    with pytest.raises(RouteError, match=r"impossible length limit: 0\.9 × the straight line"):
        search_routes(parcels, _pts((0, 300), (1000, 300)), RouteSettings(width_m=20, max_length_ratio=0.9))
    with pytest.raises(RouteError, match="impossible length limit: no route of at most 1,050 m"):
        search_routes(gap_world().rename(columns={"lu": "landuse"}), _pts((0, 300), (1000, 300)),
                      RouteSettings(width_m=20, resolution_m=10, max_length_ratio=1.05))
    with pytest.raises(RouteError, match="lies in an area to avoid"):
        search_routes(parcels, _pts((0, 300), (1000, 300)), RouteSettings(width_m=20, resolution_m=10),
                      avoid=[shapely.Point(X0 + 1000, Y0 + 300)], avoid_buffer_m=[5.0])


def test_areas_to_avoid_are_kept_clear():
    """A named feature (a point) with a 50 m clearance right on the straight line: every candidate's
    corridor stays 50 m from it."""
    parcels = detour_world().rename(columns={"lu": "landuse"})
    temple = shapely.Point(X0 + 200, Y0 + 300)
    found = search_routes(parcels, _pts((0, 300), (1000, 300)), RouteSettings(width_m=20, resolution_m=5),
                          avoid=[temple], avoid_buffer_m=[50.0])
    for c in found.candidates:
        assert c.line.distance(temple) >= 50.0 + 10.0 - 5.0 * math.sqrt(2)  # clearance + half the width, to a cell


def test_radius_rule_on_a_zigzag():
    """Every bend of the smoothed line is an arc of at least the minimum radius: the circle through any
    three consecutive vertices has a radius ≥ R (where the line is not straight)."""
    rng = np.random.default_rng(3)
    pts = np.column_stack([np.linspace(0, 3000, 31), rng.uniform(-150, 150, 31)])
    for radius in (50.0, 200.0, 600.0):
        line = smooth(pts, radius, tolerance_m=1.0)
        xy = shapely.get_coordinates(line)
        assert (circumradii(xy) >= radius * (1 - 1e-9)).all(), radius
        assert tuple(xy[0]) == tuple(pts[0]) and tuple(xy[-1]) == tuple(pts[-1])


def test_round_bend_of_a_right_angle():
    """An L of two 500 m legs rounded with R = 100 m: tangent points 100 m before and after the corner,
    length 2 × 400 + π·100/2."""
    xy = round_bends(np.array([[0.0, 0.0], [500.0, 0.0], [500.0, 500.0]]), 100.0)
    line = LineString(xy)
    assert line.length == pytest.approx(800.0 + math.pi * 50.0, abs=0.05)  # chords within 5 cm of the arc
    assert tuple(xy[1]) == pytest.approx((400.0, 0.0)) and tuple(xy[-2]) == pytest.approx((500.0, 100.0))
    centre = np.array([400.0, 100.0])
    arc = xy[1:-1]
    assert np.hypot(*(arc - centre).T) == pytest.approx(100.0)


def test_fit_radius_drops_the_vertex_that_leaves_no_room():
    """Two bends 30 m apart cannot both be rounded with R = 100 m (each needs 100·tan(45°) = 100 m)."""
    pts = np.array([[0.0, 0.0], [500.0, 0.0], [500.0, 30.0], [1000.0, 30.0]])
    kept = fit_radius(pts, 100.0)
    assert len(kept) == 3
    with pytest.raises(RouteError, match="fixed points"):
        fit_radius(pts, 100.0, fixed=[1, 2])


def test_search_respects_the_radius():
    found = search_routes(detour_world().rename(columns={"lu": "landuse"}), _pts((0, 300), (1000, 300)),
                          RouteSettings(width_m=20, resolution_m=5, min_radius_m=300.0))
    assert found.candidates
    for c in found.candidates:
        assert (circumradii(shapely.get_coordinates(c.line)) >= 300.0 * (1 - 1e-9)).all()


def test_pull_taut_makes_a_staircase_straight():
    import landplan.planning.costsurface as cs

    grid = cs.grid_for((0, 0, 1000, 1000), 10.0)
    costs = np.ones(grid.shape)
    stairs = np.array([[5.0 + 10 * k, 5.0 + 10 * (k // 2)] for k in range(80)])
    pulled = pull_taut(stairs, costs, grid)
    assert len(pulled) == 2 and LineString(pulled).length < LineString(stairs).length


@pytest.fixture(scope="module")
def detour_route(tmp_path_factory):
    folder = tmp_path_factory.mktemp("route")
    sc = write_world(folder, detour_world(), road=LineString([(0, 300), (1000, 300)]), hub=box(0, 0, 100, 100))
    comparison = route(sc, project="road", settings=RouteSettings(width_m=20, resolution_m=5, candidates=4))
    out = comparison.write(folder / "out")
    return sc, comparison, out


def test_route_candidates_are_measured_exactly(detour_route):
    """The scenario's own road first (straight through the block: 4,000 m² of rice, exactly), then the
    candidates; the least-rice candidate takes (all but a corner's graze of) none."""
    _, comparison, _ = detour_route
    t = comparison.table.set_index("alternative")
    assert t.loc["road", "rice_ha"] == pytest.approx(0.4, abs=1e-9)
    routes = t[t.index.str.startswith("route_")]
    assert len(routes) >= 2
    assert routes["rice_ha"].min() == pytest.approx(0.0, abs=1e-4)  # at most 1 m²: the corridor's edge grazes a corner
    best = routes["rice_ha"].idxmin()
    assert routes.loc[best, "rice_saved_ha"] == pytest.approx(0.4, abs=1e-4)
    assert routes.loc[best, "length_m"] == pytest.approx(DETOUR_M, rel=0.01)
    assert routes["within_length_limit"].all() and routes["pareto"].any()


def test_candidate_measurement_equals_landplan_run(detour_route, tmp_path: Path):
    """Each candidate's figures are those `landplan run` gives on the scenario file written for it."""
    _, comparison, out = detour_route
    t = comparison.table.set_index("alternative")
    for cid in [c for c in t.index if c.startswith("route_")][:2]:
        code = main(["-q", "run", str(out / "scenarios" / f"{cid}.toml"), "--out", str(tmp_path / cid), "--no-exports"])
        assert code == 0
        appr = pd.read_csv(tmp_path / cid / "approvals.csv", encoding="utf-8-sig").set_index("project")
        assert appr.loc[cid, "rice_m2"] == pytest.approx(t.loc[cid, "rice_ha"] * 10_000, abs=0.005)
        assert appr.loc[cid, "take_m2"] == pytest.approx(t.loc[cid, "take_ha"] * 10_000, abs=0.005)
        assert appr.loc[cid, "parcels_affected"] == t.loc[cid, "parcels_affected"]
    written = pd.read_csv(out / "alternatives.csv", encoding="utf-8-sig")
    assert list(written["alternative"]) == list(comparison.table["alternative"])


def test_route_command_line(tmp_path: Path, capsys):
    sc = write_world(tmp_path, detour_world(), road=LineString([(0, 300), (1000, 300)]), hub=box(0, 0, 100, 100))
    code = main(["-q", "route", str(sc), "--project", "road", "--out", str(tmp_path / "out"), "--resolution", "10",
                 "--candidates", "2", "--min-radius", "200", "--self-contained"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "route_1" in captured.out
    for name in ("alternatives.csv", "alternatives.xlsx", "alternatives_chart.png", "alternatives_map.html", "candidates.gpkg"):
        assert (tmp_path / "out" / name).exists(), name
    code = main(["-q", "route", str(sc), "--from", f"{X0 + 5000},{Y0}", "--to", f"{X0 + 1000},{Y0 + 300}", "--width", "20",
                 "--out", str(tmp_path / "out2")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("landplan: error:") and "lies outside every parcel" in err
    assert not (tmp_path / "out2").exists()


def test_via_point_is_passed():
    """A via point north of the rice block: every candidate passes through it (it is a fixed vertex)."""
    via = (500.0, 600.0)
    found = search_routes(detour_world().rename(columns={"lu": "landuse"}), _pts((0, 300), via, (1000, 300)),
                          RouteSettings(width_m=20, resolution_m=5, max_length_ratio=1.2))
    assert found.straight_m == pytest.approx(2 * math.hypot(500, 300))
    for c in found.candidates:
        assert _local(c.line).distance(shapely.Point(via)) < 1e-6
        assert c.estimated_rice_m2 < 50.0  # north of the block, no need to cross it


def test_length_penalty_marks_its_best(detour_route, tmp_path: Path):
    """With a penalty of 10 m² per m, the detour (106 m longer, 4,000 m² less rice) is worth it: it is
    the candidate marked best; with 100 m² per m the straight line is."""
    sc, _, _ = detour_route
    for penalty, want_rice in ((10.0, 0.0), (100.0, 0.4)):
        comparison = route(sc, project="road", settings=RouteSettings(width_m=20, resolution_m=5, candidates=4, length_penalty=penalty),
                           folder=tmp_path / f"p{penalty:g}")
        t = comparison.table
        best = t[t["best_for_penalty"]]
        assert len(best) == 1 and best["alternative"].iloc[0].startswith("route_")
        assert float(best["rice_ha"].iloc[0]) == pytest.approx(want_rice, abs=1e-4)
