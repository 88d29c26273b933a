"""The scenario loader: valid files become frozen objects; every problem is reported with its key path."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from landplan.errors import ScenarioError
from landplan.scenario import load_scenario
from tests.conftest import SCENARIO, write_tiny


def test_valid_scenario_loads_frozen(tiny_scenario: Path):
    sc = load_scenario(tiny_scenario)
    assert [p.id for p in sc.projects] == ["east_west", "north_south", "hub"]
    assert sc.projects[0].width_m == 20.0 and sc.projects[0].declared_rice_ha == 0.5
    assert sc.projects[1].width_column == "width_m"
    assert sc.projects[2].hub and sc.projects[2].kind == "polygon"
    assert sc.crs.to_epsg() == 5897 and sc.lang == "vi"
    assert sc.parcels.source.path == (tiny_scenario.parent / "tiny.gpkg").resolve()
    assert sc.rules.approval_thresholds_ha == (10.0, 500.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        sc.name = "x"  # type: ignore[misc]


# Each case: (what to change in the tiny scenario text, the key path expected, a word of the message).
BROKEN = [
    ('path = "tiny.gpkg"\nlayer = "parcels"', 'path = "nowhere.gpkg"\nlayer = "parcels"', "parcels.path", "does not exist"),
    ('layer = "parcels"', 'layer = "parcel"', "parcels.layer", "no layer 'parcel'"),
    ('landuse = "lu"', 'landuse = "land_use"', "parcels.landuse", "column 'land_use' is not in"),
    ('width_m = 20\n', "width_m = -20\n", "projects[0].width_m", "positive number"),
    ('width_m = 20\n', "width_m = 0\n", "projects[0].width_m", "positive number"),
    ('width_m = 20\n', 'width_m = "wide"\n', "projects[0].width_m", "must be a finite number"),
    ('width_m = 20\n', "width_m = inf\n", "projects[0].width_m", "must be a finite number"),
    ('width_m = 20\n', "width_m = nan\n", "projects[0].width_m", "must be a finite number"),
    ('declared_rice_ha = 0.5', "declared_rice_ha = inf", "projects[0].declared_rice_ha", "must be a finite number"),
    ('[scenario]', '[rules]\napproval_thresholds_ha = [10, inf]\n\n[scenario]', "rules.approval_thresholds_ha", "finite"),
    ('[scenario]', '[rules.min_remnant_width_m]\nrice = inf\n\n[scenario]', "rules.min_remnant_width_m.rice", "finite"),
    ('[scenario]', '[tolerance]\nsliver_m2 = -1\n\n[scenario]', "tolerance.sliver_m2", "finite number ≥ 0"),
    ('[scenario]', '[tolerance]\ndecimals_m2 = 1.5\n\n[scenario]', "tolerance.decimals_m2", "whole number"),
    ('[scenario]', '[checks]\nlayer_offset = "ignore"\n\n[scenario]', "checks.layer_offset", "must be one of error, warn"),
    ('[scenario]', '[checks]\noffset_alarm_m = 0\n\n[scenario]', "checks.offset_alarm_m", "positive number"),
    ('[scenario]', '[rules]\nparcel_overlap_rule = "largest"\n\n[scenario]', "rules.parcel_overlap_rule", "must be one of id, id_natural"),
    ('[scenario]', '[rules]\nparcel_overlap_rule = "register_area"\n\n[scenario]', "rules.parcel_overlap_rule", "add register_area"),
    ('owner = "chu"', 'owner = "chu"\nregister_area = "dien_tich"', "parcels.register_area", "column 'dien_tich' is not in"),
    ('crs = "EPSG:5897"', 'crs = "EPSG:999999"', "scenario.crs", "unknown CRS"),
    ('crs = "EPSG:5897"', 'crs = "EPSG:4326"', "scenario.crs", "not projected"),
    ('name = "tiny"', 'name = "tiny"\nlang = "fr"', "scenario.lang", "must be one of vi, en"),
    ('id = "north_south"', 'id = "east_west"', "projects[1].id", "duplicate project id"),
    ('kind = "polygon"', 'kind = "area"', "projects[2].kind", "must be one of centreline, polygon"),
    ('width_m = 20\n', "\n", "projects[0].width_m", "needs the full right-of-way width"),
    ('width_column = "width_m"', 'width_column = "breite"', "projects[1].width_column", "column 'breite' is not in"),
    ('hub = true', 'hub = true\nwidth_m = 10', "projects[2].width_m", "takes no width"),
    ('owner = "chu"', 'owner = "chu"\nowner_col = "x"', "parcels.owner_col", "unknown key"),
    ('name = "ten"', 'name = "ten"\nkey2 = 1', "admin[0].key2", "unknown key"),
    ('hub = true', 'hub = "yes"', "projects[2].hub", "true or false"),
    ('declared_rice_ha = 0.5', "declared_rice_ha = -1", "projects[0].declared_rice_ha", "must not be negative"),
    ('[scenario]', '[rules]\napproval_thresholds_ha = [500, 10]\n\n[scenario]', "rules.approval_thresholds_ha", "increasing"),
    ('[scenario]', '[rules]\napproval_authorities = ["a", "b"]\n\n[scenario]', "rules.approval_authorities", "one authority per band"),
    ('[scenario]', '[rules.min_remnant_m2]\nrize = 500\n\n[scenario]', "rules.min_remnant_m2.rize", "unknown land-use group"),
    ('layer = "hub"', 'layer = "hub"\nwhere = ""', "projects[2].where", "non-empty string"),
]


@pytest.mark.parametrize(("old", "new", "key", "words"), BROKEN, ids=[b[2] + ":" + b[3] for b in BROKEN])
def test_broken_scenario_names_key_and_problem(tmp_path: Path, old: str, new: str, key: str, words: str):
    assert old in SCENARIO, old
    path = write_tiny(tmp_path, scenario=SCENARIO.replace(old, new, 1))
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    msg = str(err.value)
    assert str(path) in msg
    assert any(p.startswith(key + ":") and words in p for p in err.value.problems), msg


def test_all_problems_reported_at_once(tmp_path: Path):
    text = (SCENARIO.replace('crs = "EPSG:5897"', 'crs = "EPSG:4326"')
            .replace('landuse = "lu"', 'landuse = "x"')
            .replace("width_m = 20\n", "width_m = -1\n"))
    path = write_tiny(tmp_path, scenario=text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    keys = {p.split(":")[0] for p in err.value.problems}
    assert {"scenario.crs", "parcels.landuse", "projects[0].width_m"} <= keys
    assert "3 problems" in str(err.value)


def test_missing_file_and_directory_and_bad_toml(tmp_path: Path):
    with pytest.raises(ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(ScenarioError, match="is a directory"):
        load_scenario(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[scenario\nname = 1", encoding="utf-8")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        load_scenario(bad)
    latin = tmp_path / "latin.toml"
    latin.write_bytes("name = 'Cần Thơ'".encode("utf-16"))
    with pytest.raises(ScenarioError, match="not UTF-8"):
        load_scenario(latin)


def test_missing_sections(tmp_path: Path):
    path = tmp_path / "empty.toml"
    path.write_text("[scenario]\nname = 'x'\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(path)
    keys = {p.split(":")[0] for p in err.value.problems}
    assert keys == {"parcels", "projects"}


def test_corrupt_layer_file(tmp_path: Path):
    path = write_tiny(tmp_path)
    (tmp_path / "tiny.gpkg").write_bytes(b"this is not a geopackage")
    with pytest.raises(ScenarioError, match="cannot be read as a vector file"):
        load_scenario(path)


def test_sample_scenario_in_gis_matches_generator():
    from landplan.sample import scenario_toml

    committed = Path(__file__).parents[1] / "gis" / "scenarios" / "can_tho_sample.toml"
    assert committed.read_text(encoding="utf-8") == scenario_toml("../../layers/can_tho_sample.gpkg")
