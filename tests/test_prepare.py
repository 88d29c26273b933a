"""``landplan sort``: a GeoParquet copy in spatial order, and the warning that tells a user to make one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely

from landplan import run
from landplan.cli import main
from landplan.errors import LayerError
from landplan.prepare import sort_layer
from landplan.sources import parquet_order
from tests.conftest import SCENARIO, at, tiny_layers, write_tiny


def _grid(n_side: int = 40) -> gpd.GeoDataFrame:
    """``n_side``² parcels of 10 × 10 m, ids in row order, land use varying."""
    k = np.arange(n_side * n_side)
    x, y = (k % n_side) * 10.0, (k // n_side) * 10.0
    return gpd.GeoDataFrame({"pid": [f"P{i:05d}" for i in k], "lu": np.where(k % 3 == 0, "LUC", "CLN")},
                            geometry=shapely.box(x, y, x + 10.0, y + 10.0), crs="EPSG:5897")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sort_puts_rows_in_spatial_order_and_keeps_every_row(tmp_path: Path):
    grid = _grid()
    shuffled = grid.iloc[np.random.default_rng(1).permutation(len(grid))]
    src = tmp_path / "shuffled.parquet"
    shuffled.to_parquet(src, write_covering_bbox=True, row_group_size=100)
    before = _digest(src)
    groups, spread = parquet_order(src)  # type: ignore[misc]
    assert groups == 16 and spread > 0.8  # every row group spans nearly the whole layer

    dst = sort_layer(src, tmp_path / "sorted.parquet", row_group_size=100)
    assert _digest(src) == before  # the input is never changed
    groups, spread = parquet_order(dst)  # type: ignore[misc]
    # 16 row groups of a 400 × 400 m square in Hilbert order: each a 100 × 100 m block (1/16 of the square)
    assert groups == 16 and spread == pytest.approx(1 / 16, abs=1e-9)
    out = gpd.read_parquet(dst)
    assert out.crs == grid.crs
    assert sorted(out["pid"]) == sorted(grid["pid"])
    back = out.set_index("pid").loc[grid["pid"]]
    assert shapely.equals_exact(np.asarray(back.geometry.values), np.asarray(grid.geometry.values), 0.0).all()
    assert (back["lu"].to_numpy() == grid["lu"].to_numpy()).all()
    assert not list(tmp_path.glob(".*tmp"))  # no temporary file left


def test_sort_reads_any_vector_layer_and_puts_missing_geometry_last(tmp_path: Path):
    grid = _grid(6)
    grid.loc[7, "geometry"] = None
    src = tmp_path / "two.gpkg"
    pyogrio.write_dataframe(grid, src, layer="parcels")
    pyogrio.write_dataframe(grid.iloc[:3], src, layer="other")
    with pytest.raises(LayerError, match=r"holds 2 layers.*--layer"):
        sort_layer(src, tmp_path / "s.parquet")
    with pytest.raises(LayerError, match="no layer 'nope'"):
        sort_layer(src, tmp_path / "s.parquet", layer="nope")
    out = gpd.read_parquet(sort_layer(src, tmp_path / "s.parquet", layer="parcels"))
    assert len(out) == 36 and out["pid"].iloc[-1] == "P00007" and out.geometry.iloc[-1] is None


def test_sort_refuses_to_overwrite_its_input_and_other_names(tmp_path: Path):
    src = tmp_path / "p.parquet"
    _grid(4).to_parquet(src, write_covering_bbox=True)
    with pytest.raises(LayerError, match="must be a new file"):
        sort_layer(src, src)
    with pytest.raises(LayerError, match=r"give it a \.parquet name"):
        sort_layer(src, tmp_path / "p.gpkg")
    _grid(4).set_crs(None, allow_override=True).to_parquet(tmp_path / "nocrs.parquet")
    with pytest.raises(LayerError, match="no CRS"):
        sort_layer(tmp_path / "nocrs.parquet", tmp_path / "x.parquet")


def test_sort_command_one_line_for_a_corrupt_file(tmp_path: Path, capsys):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    assert main(["-q", "sort", str(bad), str(tmp_path / "x.parquet")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.parquet" in err[0] and "Traceback" not in err[0]
    good = tmp_path / "good.parquet"
    _grid(4).to_parquet(good)
    assert main(["-q", "sort", str(good), str(tmp_path / "y.parquet")]) == 0
    assert (tmp_path / "y.parquet").exists()


def _tiny_with_parquet(folder: Path, order: np.ndarray | None, *, covering: bool = True) -> Path:
    layers = tiny_layers()
    parcels = layers.pop("parcels")
    folder.mkdir()
    write_tiny(folder, layers, scenario="")
    # pad the tiny world with parcels away from every project, so that the file has row groups to spread
    k = np.arange(400)
    x, y = 400 + (k % 20) * 10.0, 300 + (k // 20) * 10.0
    pad = gpd.GeoDataFrame({"pid": [f"PAD{i}" for i in k], "lu": "CLN", "chu": ""},
                           geometry=[at(g) for g in shapely.box(x, y, x + 10.0, y + 10.0)], crs=parcels.crs)
    both = gpd.GeoDataFrame(pd.concat([parcels, pad], ignore_index=True), crs=parcels.crs)
    if order is not None:
        both = both.iloc[order(len(both)) if callable(order) else order]
    both.to_parquet(folder / "parcels.parquet", write_covering_bbox=covering, row_group_size=40)
    text = SCENARIO.replace('path = "tiny.gpkg"\nlayer = "parcels"\n', 'path = "parcels.parquet"\n', 1)
    (folder / "tiny.toml").write_text(text, encoding="utf-8")
    return folder / "tiny.toml"


def test_a_run_on_an_unsorted_parquet_says_how_to_sort_it(tmp_path: Path):
    rng = np.random.default_rng(5)
    unsorted = run(_tiny_with_parquet(tmp_path / "u", lambda n: rng.permutation(n)))
    said = [w for w in unsorted.report.warnings if "landplan sort" in w]
    assert len(said) == 1 and "no spatial order" in said[0] and "parcels.parquet" in said[0]

    sc = _tiny_with_parquet(tmp_path / "s", None)
    sort_layer(tmp_path / "u" / "parcels.parquet", tmp_path / "s" / "parcels.parquet", row_group_size=40)
    tidy = run(sc)
    assert not [w for w in tidy.report.warnings if "landplan sort" in w]
    # the same answer either way
    a, b = (r.approvals.set_index("project")[["take_m2", "rice_m2"]] for r in (unsorted, tidy))
    assert np.allclose(a.to_numpy(), b.loc[a.index].to_numpy(), rtol=0, atol=1e-9)

    no_cover = run(_tiny_with_parquet(tmp_path / "n", None, covering=False))
    assert [w for w in no_cover.report.warnings if "no bbox covering column" in w]
