"""Alternatives side by side on the tiny world: exact figures, the files, the map's escaping, bad files."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString

from landplan.cli import main
from landplan.errors import ScenarioError
from landplan.planning.alternatives import compare, load_alternatives
from tests.conftest import CRS, at, write_tiny

ALT = """project = "east_west"

[prices]
unit = "nghìn đồng/m²"
LUC = 100
rice = 50
residential = 1000

[[alternatives]]
id = "A"
name = "Tuyến gốc"
from_scenario = true

[[alternatives]]
id = "B"
name = "Tuyến <b>bắc</b> & \\"nhà\\""
name_en = "North route"
path = "alt.gpkg"
layer = "b"
"""


def _world(folder: Path) -> tuple[Path, Path]:
    sc = write_tiny(folder)
    gpd.GeoDataFrame({"k": [1]}, geometry=[at(LineString([(-50, 120), (350, 120)]))], crs=CRS).to_file(folder / "alt.gpkg", layer="b")
    (folder / "alt.toml").write_text(ALT, encoding="utf-8")
    return sc, folder / "alt.toml"


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("alt")
    sc, alt = _world(folder)
    comparison = compare(sc, alt)
    return folder, comparison, comparison.write(folder / "out")


def test_figures_are_exact(compared):
    """A (y = 50, 20 m, 400 m) takes 2,000 m² each of LUC, LUK and CLN; B (y = 120) 2,000 m² of ONT."""
    _, comparison, _ = compared
    t = comparison.table.set_index("alternative")
    assert t.loc["A", "rice_ha"] == pytest.approx(0.4) and t.loc["A", "luc_ha"] == pytest.approx(0.2)
    assert t.loc["A", "other_agriculture_ha"] == pytest.approx(0.2) and t.loc["A", "residential_ha"] == 0
    assert t.loc["B", "rice_ha"] == 0 and t.loc["B", "residential_ha"] == pytest.approx(0.2)
    assert t.loc["A", "length_m"] == pytest.approx(400.0) and t.loc["B", "extra_length_m"] == pytest.approx(0.0)
    assert t.loc["B", "rice_saved_ha"] == pytest.approx(0.4)
    assert (t.loc["A", "parcels_affected"], t.loc["A", "households_affected"]) == (3, 3)
    # the price table: LUC by its code (100), LUK by its group (rice, 50), CLN unpriced, ONT by its group (1,000)
    assert t.loc["A", "cost"] == pytest.approx(2000 * 100 + 2000 * 50)
    assert t.loc["B", "cost"] == pytest.approx(2000 * 1000)


def test_files_and_run_agree(compared, tmp_path: Path):
    _, _, out = compared
    names = {p.name for p in out.iterdir()}
    assert {"alternatives.csv", "alternatives.xlsx", "alternatives_chart.png", "alternatives_chart.svg", "alternatives_chart.pdf",
            "alternatives_map.html", "scenarios"} <= names
    csv = pd.read_csv(out / "alternatives.csv", encoding="utf-8-sig")
    assert list(csv["alternative"]) == ["A", "B"]
    for alt in ("A", "B"):
        assert main(["-q", "run", str(out / "scenarios" / f"{alt}.toml"), "--out", str(tmp_path / alt), "--no-exports"]) == 0
        appr = pd.read_csv(tmp_path / alt / "approvals.csv", encoding="utf-8-sig").set_index("project")
        row = csv.set_index("alternative").loc[alt]
        assert appr.loc[alt, "rice_m2"] == pytest.approx(row["rice_ha"] * 10_000, abs=0.005)
        assert appr.loc[alt, "take_m2"] == pytest.approx(row["take_ha"] * 10_000, abs=0.005)


def test_sheet_is_vietnamese(compared):
    import openpyxl

    _, _, out = compared
    ws = openpyxl.load_workbook(out / "alternatives.xlsx")["So sánh phương án"]
    heads = [r[0].value for r in ws.iter_rows(min_row=3)]
    assert "Đất lúa (ha)" in heads and "Chi phí ước tính (nghìn đồng/m²)" in heads
    row = next(r for r in ws.iter_rows(min_row=3) if r[0].value == "Đất lúa (ha)")
    assert [c.value for c in row[1:3]] == pytest.approx([0.4, 0.0])
    assert row[1].number_format.startswith("[$-42A]")


def test_map_escapes_text_and_switches(compared):
    _, _, out = compared
    page = (out / "alternatives_map.html").read_text(encoding="utf-8")
    assert "<b>bắc</b>" not in page
    assert "Tuyến &lt;b&gt;bắc&lt;/b&gt; &amp; &quot;nhà&quot;" in page  # the panel's text, escaped
    assert page.count('class="lp-alt-btn"') == 2 and "LandplanAlternatives.start" in page
    assert "0,4" in page  # Vietnamese decimals


def test_map_in_a_browser(compared, tmp_path: Path):
    """In Chromium, offline: the first alternative is shown; a click on the second's button shows it
    instead; the name written as HTML shows as text and runs nothing; no script error."""
    from playwright.sync_api import sync_playwright

    from landplan.webmap import save_map
    from tests.browser import ARGS, CHROMIUM

    _, comparison, _ = compared
    path = save_map(comparison.map(self_contained=True), tmp_path / "map.html")
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
        page.goto(path.resolve().as_uri())
        page.wait_for_function("() => window.LandplanAlternatives && window.LandplanAlternatives.shown")
        assert page.evaluate("LandplanAlternatives.shown()") == 0
        page.click('.lp-alt-btn[data-alt="1"]')
        assert page.evaluate("LandplanAlternatives.shown()") == 1
        assert page.get_attribute('.lp-alt-btn[data-alt="1"]', "aria-pressed") == "true"
        assert "Tuyến <b>bắc</b>" in page.inner_text("#lp-alt-panel")
        assert page.evaluate("document.querySelectorAll('#lp-alt-panel b').length") == 0
        browser.close()
    assert errors == []


def test_compare_command_line(tmp_path: Path, capsys):
    sc, alt = _world(tmp_path)
    assert main(["-q", "compare", str(sc), "--alternatives", str(alt), "--out", str(tmp_path / "out"), "--lang", "en"]) == 0
    assert "B" in capsys.readouterr().out
    assert main(["-q", "compare", str(sc), "--alternatives", str(alt), "--out", str(tmp_path / "out")]) == 2
    assert "not empty" in capsys.readouterr().err


def test_bad_alternatives_file_lists_every_problem(tmp_path: Path):
    sc, _ = _world(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text('project = "nowhere"\ncolour = 1\n[prices]\nLUC = -1\n[[alternatives]]\nid = "X"\npath = "missing.gpkg"\n'
                   '[[alternatives]]\nname = "no id"\n', encoding="utf-8")
    from landplan.scenario import load_scenario

    with pytest.raises(ScenarioError) as e:
        load_alternatives(bad, load_scenario(sc))
    text = str(e.value)
    for fragment in ("colour: unknown key", "project: no project 'nowhere'", "prices.LUC: must be a number ≥ 0",
                     "alternatives[0].path: file", "alternatives[1].id: missing"):
        assert fragment in text, text


def test_lazy_verbs_still_work(sample_result):
    import landplan

    table = landplan.compare_results({"A": sample_result})
    assert set(table["project"]) == {p.id for p in sample_result.scenario.projects}
    assert landplan.compare_map({"A": sample_result}) is not None


def test_scenario_written_elsewhere_keeps_the_cost_tables(sample_scenario, tmp_path: Path):
    """An alternative's scenario is written in another folder: the price and coefficient tables and the
    roads layer of ``[costs]`` must still be found (their paths made absolute), and it loads."""
    import tomli_w

    from landplan.planning.alternatives import scenario_data
    from landplan.scenario import load_scenario

    sc = load_scenario(sample_scenario)
    assert sc.costs is not None
    data = scenario_data(sc)
    for key in ("prices", "coefficients", "positions"):
        assert Path(data["costs"][key]["path"]).is_absolute() and Path(data["costs"][key]["path"]).is_file()
    elsewhere = tmp_path / "elsewhere" / "alt.toml"
    elsewhere.parent.mkdir()
    elsewhere.write_text(tomli_w.dumps(data), encoding="utf-8")
    assert load_scenario(elsewhere).costs == sc.costs


def test_cost_column_is_the_scenarios_estimate(sample_result):
    """Without a price table in the alternatives file, an alternative's cost is its scenario's [costs] total."""
    from landplan.planning.alternatives import compare_results

    table = compare_results({"A": sample_result})
    assert sample_result.costs is not None
    for pid, cost in zip(table["project"], table["cost"]):
        assert cost == sample_result.costs.budget(pid)["total_vnd"] > 0
    priced = compare_results({"A": sample_result}, prices={"LUC": 1.0})
    luc = sample_result.pieces[sample_result.pieces["landuse"] == "LUC"].groupby("project")["take_m2"].sum()
    assert priced.set_index("project")["cost"].to_dict() == pytest.approx({p: float(luc.get(p, 0.0)) for p in priced["project"]})
