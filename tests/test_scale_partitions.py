"""Parcel sources per partition in a scenario (landplan.scale.partitions): a list, or a hive-partitioned dataset; every problem at once."""

from __future__ import annotations

import geopandas as gpd
import pytest
from shapely.geometry import box

from landplan.errors import ScenarioError
from landplan.scale.partitions import hive_files, measuring_crs
from landplan.scenario import load_scenario

from .meridians import SOC_TRANG, WORK, scenario_text, write_world


def test_sources_listed(tmp_path):
    paths = write_world(tmp_path)
    sc = load_scenario(paths["both"])
    parts = sc.parcels.partitions
    assert [p.name for p in parts] == ["can_tho", "soc_trang"]
    assert [p.crs.to_string() for p in parts] == [WORK, SOC_TRANG]
    assert [measuring_crs(p, sc.crs).to_string() for p in parts] == [WORK, SOC_TRANG]
    assert sc.parcels.source == parts[0].source
    assert {p.name for p in sc.input_files()} >= {"can_tho.gpkg", "soc_trang.parquet", "context.gpkg"}
    assert "2 sources: can_tho" in sc.parcels.label()


def test_hive_dataset(tmp_path):
    write_world(tmp_path)
    data = tmp_path / "ds"
    for name, crs in (("b_east", SOC_TRANG), ("a_west", WORK)):
        (data / f"province={name}").mkdir(parents=True)
        gpd.GeoDataFrame({"pid": [name], "lu": ["LUC"], "chu": [""]}, geometry=[box(0, 0, 1, 1)], crs=crs).to_parquet(
            data / f"province={name}" / "part-0.parquet")
    (data / "province=a_west" / "part-1.parquet").write_bytes((data / "province=a_west" / "part-0.parquet").read_bytes())
    (data / "_SUCCESS").write_text("")
    assert [n for n, _ in hive_files(data)] == ["a_west/part-0", "a_west/part-1", "b_east"]
    text = scenario_text([]).replace("owner = \"chu\"\n", "owner = \"chu\"\npath = \"ds\"\n")
    (tmp_path / "hive.toml").write_text(text, encoding="utf-8")
    sc = load_scenario(tmp_path / "hive.toml")
    assert [(p.name, p.crs.to_string()) for p in sc.parcels.partitions] == [("a_west/part-0", WORK), ("a_west/part-1", WORK),
                                                                             ("b_east", SOC_TRANG)]


def test_every_problem_at_once(tmp_path):
    write_world(tmp_path)
    gpd.GeoDataFrame({"pid": ["x"], "lu": ["LUC"]}, geometry=[box(0, 0, 1, 1)]).to_parquet(tmp_path / "no_crs.parquet")
    text = scenario_text([("can_tho", "can_tho.gpkg"), ("can_tho", "soc_trang.parquet"), ("missing", "missing.gpkg"),
                          ("nocrs", "no_crs.parquet")])
    text = text.replace('name = "missing"\n', 'name = "missing"\ncolour = "red"\n')
    (tmp_path / "bad.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "bad.toml")
    problems = "\n".join(err.value.problems)
    assert "parcels.sources[1].name: the name 'can_tho' is also that of parcels.sources[0]" in problems
    assert "parcels.sources[2].path: file" in problems and "missing.gpkg does not exist" in problems
    assert "parcels.sources[2].colour: unknown key" in problems
    assert "parcels.sources[3].path" in problems and "declares no coordinate reference system" in problems
    assert "parcels.sources[3].owner: column 'chu' is not in no_crs.parquet" in problems


def test_path_and_sources_together_refused(tmp_path):
    write_world(tmp_path)
    text = scenario_text([("can_tho", "can_tho.gpkg")]).replace('owner = "chu"\n', 'owner = "chu"\npath = "can_tho.gpkg"\nlayer = "parcels"\n')
    (tmp_path / "both.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ScenarioError, match="give either path"):
        load_scenario(tmp_path / "both.toml")
