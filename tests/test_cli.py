"""The command line: exit codes, one-line errors, the overwrite guard, and the outputs it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyogrio
import pytest

from landplan import __version__
from landplan.cli import main
from landplan.outputs import COST_FILES, LANDCOVER_FILES, OUTPUT_FILES
from tests.conftest import SCENARIO, write_tiny

VECTOR_ONLY = sorted(set(OUTPUT_FILES) - set(LANDCOVER_FILES) - set(COST_FILES))


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "landplan demo" in capsys.readouterr().out


def test_validate_ok_and_broken(tiny_scenario: Path, tmp_path: Path, capsys):
    assert main(["validate", str(tiny_scenario)]) == 0
    assert "OK" in capsys.readouterr().out
    (tmp_path / "b").mkdir()
    bad = write_tiny(tmp_path / "b", scenario=SCENARIO.replace("width_m = 20\n", "width_m = 0\n"))
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("landplan: error: scenario") and "projects[0].width_m" in err and "Traceback" not in err


def test_run_writes_every_output(tiny_scenario: Path, tmp_path: Path):
    out = tmp_path / "out"
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--paper", "A4"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted([*VECTOR_ONLY, "exports"])
    assert len(list((out / "exports").glob("*_A4.pdf"))) == 4 and not list((out / "exports").glob("*_A3.*"))
    summary = (out / "summary.csv").read_bytes()
    assert summary.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads Vietnamese correctly
    header = summary[3:].split(b"\n")[0].decode()
    for col in ("project", "admin_unit", "landuse", "area_m2", "area_ha"):
        assert col in header.split(",")
    parcels_header = (out / "parcels.csv").read_text(encoding="utf-8-sig").splitlines()[0].split(",")
    for col in ("parcel_id", "project", "landuse", "parcel_area_m2", "take_m2", "take_fraction", "remnant_m2"):
        assert col in parcels_header
    layers = {row[0] for row in pyogrio.list_layers(out / "landplan.gpkg")}
    assert layers == {"footprints", "remnants", "takes", "affected_parcels", "strip_pages", "layer_styles"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["crs"]["working"] == "EPSG:5897"
    assert len(manifest["inputs"]) == 1 and len(manifest["inputs"][0]["sha256"]) == 64
    assert set(manifest["outputs"]) >= set(VECTOR_ONLY) - {"manifest.json"}
    assert "exports/overview_A4.pdf" in manifest["outputs"]
    assert manifest["versions"]["landplan"] == __version__
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "Đất chuyên trồng lúa" in html and "leaflet" in html.lower()


def test_exports_option_chooses_and_progress_is_shown(tiny_scenario: Path, tmp_path: Path, capsys):
    out = tmp_path / "figures"
    assert main(["run", str(tiny_scenario), "--out", str(out), "--paper", "A4", "--exports", "figures"]) == 0
    err = capsys.readouterr().err
    names = {p.name for p in (out / "exports").iterdir()}
    assert "atlas" not in names and "figure_overview.svg" in names and "sheet_hub.pdf" in names
    assert "outputs [1/6] tables (CSV)" in err and "outputs [5/6] exports/ (figures)" in err  # which stage, k of n
    assert "exports [1/11]" in err and "exports [11/11]" in err  # each export job as it finishes, k of n (4 maps, 4 figures, 3 sheets)
    out = tmp_path / "atlas"
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--exports", "atlas"]) == 0
    assert {p.name for p in (out / "exports").iterdir()} == {"atlas"}
    assert {p.name for p in (out / "exports" / "atlas").iterdir()} == {
        f"strip_{p}{suffix}" for p in ("east_west", "north_south", "hub") for suffix in (".pdf", "_p001.png")}
    out = tmp_path / "none"
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--exports", "none"]) == 0
    assert not (out / "exports").exists()
    with pytest.raises(SystemExit) as exc:
        main(["-q", "run", str(tiny_scenario), "--out", str(out), "--exports", "some"])
    assert exc.value.code == 2 and "choose from 'none', 'figures', 'atlas', 'all'" in capsys.readouterr().err


def test_overwrite_guard_keeps_user_files(tiny_scenario: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "ghi_chu.txt").write_text("của tôi", encoding="utf-8")
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--overwrite" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["ghi_chu.txt"]
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--no-exports"]) == 0
    assert (out / "ghi_chu.txt").read_text(encoding="utf-8") == "của tôi"
    assert (out / "summary.csv").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.landplan-")]  # no temp folder left


def test_output_folder_holding_inputs_is_refused(tiny_scenario: Path, capsys):
    assert main(["-q", "run", str(tiny_scenario), "--out", str(tiny_scenario.parent), "--overwrite"]) == 2
    assert "inputs" in capsys.readouterr().err


def test_layer_errors_exit_2_with_one_line(tmp_path: Path, capsys):
    from tests.conftest import tiny_layers

    layers = tiny_layers()
    layers["lines"] = layers["lines"].assign(width_m=[20.0, -3.0])
    path = write_tiny(tmp_path, layers)
    assert main(["-q", "run", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "width" in err and "tiny.gpkg:lines" in err
    assert not (tmp_path / "o").exists()


def test_layers_that_do_not_overlap(tmp_path: Path, capsys):
    from tests.conftest import tiny_layers

    layers = tiny_layers()
    layers["parcels"] = layers["parcels"].set_geometry(layers["parcels"].translate(50_000, 0))
    path = write_tiny(tmp_path, layers)
    assert main(["-q", "run", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "no parcel overlaps any project" in err and "226 m" in err


def test_real_process_exit_codes(tiny_scenario: Path, tmp_path: Path):
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    ok = subprocess.run([sys.executable, "-m", "landplan", "-q", "run", str(tiny_scenario), "--out", str(tmp_path / "o"), "--no-exports"],
                        capture_output=True, text=True, env=env, check=False)
    assert ok.returncode == 0, ok.stderr
    again = subprocess.run([sys.executable, "-m", "landplan", "run", str(tiny_scenario), "--out", str(tmp_path / "o")],
                           capture_output=True, text=True, env=env, check=False)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    missing = subprocess.run([sys.executable, "-m", "landplan", "validate", str(tmp_path / "nope.toml")],
                             capture_output=True, text=True, env=env, check=False)
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_demo_writes_outputs(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("LANDPLAN_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "demo"
    assert main(["-q", "demo", "--out", str(out), "--self-contained", "--no-exports"]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUT_FILES)
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "cdn." not in html and "Đất chuyên trồng lúa" in html


@pytest.mark.parametrize("old, new, words", [
    ("where = \"project = 'east_west'\"", "where = \"project = 'nowhere'\"", "no features for project 'east_west'"),
    ("width_column = \"width_m\"", "width_column = \"breite\"", "column 'breite' is not in"),
])
def test_validate_refuses_what_run_refuses(tmp_path: Path, capsys, old: str, new: str, words: str):
    assert old in SCENARIO
    sc = write_tiny(tmp_path, scenario=SCENARIO.replace(old, new))
    assert main(["-q", "validate", str(sc)]) == 2
    assert words in capsys.readouterr().err
    assert main(["-q", "run", str(sc), "--out", str(tmp_path / "out"), "--no-exports"]) == 2
    assert words in capsys.readouterr().err


def test_validate_refuses_a_width_column_holding_infinity(tmp_path: Path, capsys):
    from tests.conftest import tiny_layers

    layers = tiny_layers()
    layers["lines"] = layers["lines"].assign(width_m=[20.0, float("inf")])
    sc = write_tiny(tmp_path, layers)
    assert main(["-q", "validate", str(sc)]) == 2
    assert "widths must be positive numbers of metres" in capsys.readouterr().err
