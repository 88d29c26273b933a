"""--engine dask (landplan.scale.dask_engine): the Cần Thơ sample split into partitions, measured on a LocalCluster of
two worker processes, writes the same bytes as the single-process engine."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import landplan
from landplan.cli import main
from landplan.outputs import rounded_table
from landplan.sample import SAMPLE_GPKG, scenario_toml


def split_sample(sample_scenario: Path, folder: Path, crs: dict[str, str]) -> Path:
    """The sample's parcels as a hive-partitioned GeoParquet dataset ``folder/parcels/district=<name>/part-0.parquet``
    (west, centre and east thirds by centroid, parcels that overlap kept together; each partition in the CRS
    ``crs`` gives it, Hilbert-sorted with a bbox covering), and a scenario reading it; returns the scenario."""
    gpkg = sample_scenario.parent / SAMPLE_GPKG
    parcels = gpd.read_file(gpkg, layer="parcels")
    geoms = np.asarray(parcels.geometry.values)
    x = shapely.get_x(shapely.centroid(geoms))
    part = np.digitize(x, np.quantile(x, [1 / 3, 2 / 3]))
    valid = shapely.make_valid(geoms)
    a, b = shapely.STRtree(valid).query(valid, predicate="intersects")
    keep = a < b
    a, b = a[keep], b[keep]
    a, b = a[shapely.relate_pattern(valid[a], valid[b], "T********")], b[shapely.relate_pattern(valid[a], valid[b], "T********")]
    for _ in range(3):  # parcels that overlap stay in one partition (the overlap rule works within a source)
        part[b] = part[a]
    for k, name in enumerate(("west", "centre", "east")):
        sub = parcels[part == k]
        sub = sub.to_crs(crs[name]) if crs[name] != "EPSG:5897" else sub
        sub = sub.iloc[np.argsort(sub.hilbert_distance().to_numpy(), kind="stable")]
        out = folder / "parcels" / f"district={name}"
        out.mkdir(parents=True)
        sub.to_parquet(out / "part-0.parquet", write_covering_bbox=True, row_group_size=2_000)
    text = scenario_toml(str(gpkg))
    parcels_table = f'[parcels]\npath = "{gpkg}"\nlayer = "parcels"\n'
    assert parcels_table in text
    path = folder / "split.toml"
    path.write_text(text.replace(parcels_table, f'[parcels]\npath = "{folder / "parcels"}"\n'), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def meridian_split(sample_scenario, tmp_path_factory):
    """The sample split in three, the centre partition in EPSG:9209 (105°30′)."""
    return split_sample(sample_scenario, tmp_path_factory.mktemp("split9209"), {"west": "EPSG:5897", "centre": "EPSG:9209", "east": "EPSG:5897"})


def test_dask_engine_writes_the_same_bytes(meridian_split, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="landplan")
    common = ["run", str(meridian_split), "--exports", "none", "--self-contained"]
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    assert main([*common, "--out", str(tmp_path / "dask"), "--engine", "dask", "--workers", "2"]) == 0
    csvs = sorted(p.name for p in (tmp_path / "local").glob("*.csv"))
    assert {"parcels.csv", "affected_parcels.csv", "summary.csv", "totals.csv", "approvals.csv", "slivers.csv"} <= set(csvs)
    for name in csvs:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    parcels = pd.read_csv(tmp_path / "dask" / "parcels.csv", encoding="utf-8-sig")
    assert set(zip(parcels["partition"], parcels["measured_crs"])) == {("west", "EPSG:5897"), ("centre", "EPSG:9209"),
                                                                       ("east", "EPSG:5897")}
    # the partitions were measured by the cluster's worker processes, not this one
    done = [m for r in caplog.records if (m := re.search(r"partition \d/3 done: (\w+) .* on [^:]+:(\d+)\)", r.getMessage()))]
    assert sorted(m.group(1) for m in done) == ["centre", "east", "west"]
    assert all(int(m.group(2)) != os.getpid() for m in done)
    assert "dask LocalCluster: 2 worker process(es)" in caplog.text


def test_split_in_the_working_crs_gives_the_single_runs_figures(sample_scenario, sample_result, tmp_path):
    """Split into partitions all in EPSG:5897, the sample's all-projects totals, approvals (bands decided on
    the rounded sum), summary and parcel records are those of the single run, as the CSVs give them."""
    split = split_sample(sample_scenario, tmp_path, {"west": "EPSG:5897", "centre": "EPSG:5897", "east": "EPSG:5897"})
    parts = landplan.run(split)
    tol = sample_result.scenario.tolerance
    for name in ("totals", "approvals", "summary"):
        pd.testing.assert_frame_equal(rounded_table(getattr(parts, name), tol), rounded_table(getattr(sample_result, name), tol))
    key = ["project", "parcel_id"]
    got = parts.parcels.drop(columns=["partition", "measured_crs"]).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(rounded_table(got, tol), rounded_table(sample_result.parcels.sort_values(key).reset_index(drop=True), tol))
    assert parts.landcover is not None and sample_result.landcover is not None
    pd.testing.assert_frame_equal(rounded_table(parts.landcover, tol), rounded_table(sample_result.landcover, tol))


def test_scheduler_address(tmp_path):
    """--scheduler ADDRESS: the tasks go to a running cluster's workers (here a LocalCluster of one worker process)."""
    from distributed import LocalCluster

    from .meridians import write_world

    both = write_world(tmp_path)["both"]
    common = ["-q", "run", str(both), "--exports", "none", "--self-contained"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        assert main([*common, "--out", str(tmp_path / "dask"), "--engine", "dask", "--scheduler", cluster.scheduler_address]) == 0
    assert main([*common, "--out", str(tmp_path / "local")]) == 0
    for name in sorted(p.name for p in (tmp_path / "local").glob("*.csv")):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name


def test_engine_options_checked(tmp_path, capsys):
    from .meridians import write_world

    both = write_world(tmp_path)["both"]
    assert main(["run", str(both), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:1"]) == 2
    assert "--scheduler and --workers are for --engine dask" in capsys.readouterr().err
    assert main(["run", str(both), "--out", str(tmp_path / "o"), "--engine", "dask", "--workers", "0"]) == 2
    assert "--workers must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())
