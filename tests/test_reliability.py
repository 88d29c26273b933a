"""Nothing lost: inputs untouched, outputs complete or absent even when a run is killed, results repeatable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from landplan import run
from tests.conftest import write_tiny


def _digest_tree(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.rglob("*")) if p.is_file()}


def _complete(out: Path) -> bool:
    """True when ``out`` holds a whole run: the manifest and every file it lists, with its checksum."""
    m = out / "manifest.json"
    if not m.exists():
        return False
    listed = json.loads(m.read_text(encoding="utf-8"))["outputs"]
    tree = _digest_tree(out)
    return all(tree.get(name) == digest for name, digest in listed.items())


def test_inputs_untouched_and_no_stray_files(sample_scenario: Path, tmp_path: Path):
    inputs = tmp_path / "inputs"
    shutil.copytree(sample_scenario.parent, inputs)
    before = _digest_tree(inputs)
    result = run(inputs / sample_scenario.name)
    result.write(tmp_path / "out", exports=False, project_maps=True)
    run(inputs / sample_scenario.name)  # twice, as users do
    assert _digest_tree(inputs) == before  # same files, same bytes: no -wal/-shm, .aux.xml or edits


def test_same_inputs_same_bytes(sample_result, tmp_path: Path):
    a = sample_result.write(tmp_path / "a", exports=False)
    b = run(sample_result.scenario).write(tmp_path / "b", exports=False)
    for name in ("summary.csv", "totals.csv", "parcels.csv", "approvals.csv", "overlaps.csv",
                 "landcover.csv", "landcover_compare.csv", "map.html"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_killed_run_leaves_previous_outputs_or_none(tiny_scenario: Path, tmp_path: Path):
    out = tmp_path / "out"
    args = [sys.executable, "-m", "landplan", "-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--paper", "A4"]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    subprocess.run(args, check=True, env=env, capture_output=True)
    (out / "ghi_chu_cua_toi.txt").write_text("giữ nguyên", encoding="utf-8")
    first = _digest_tree(out)
    assert _complete(out)
    t0 = time.perf_counter()
    subprocess.run(args, check=True, env=env, capture_output=True)
    full = time.perf_counter() - t0
    killed_mid_run = 0
    for frac in (0.2, 0.4, 0.6, 0.75, 0.85, 0.92, 0.97):
        proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(full * frac)
        if proc.poll() is None:
            killed_mid_run += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if out.exists():
            assert _complete(out), f"killed at {frac:.0%}: the output folder holds a half-written run"
            assert (out / "ghi_chu_cua_toi.txt").read_text(encoding="utf-8") == "giữ nguyên"
            assert set(_digest_tree(out)) == set(first)
        else:  # killed between the two renames: the previous folder is intact beside it
            old = [p for p in tmp_path.iterdir() if p.name.startswith(".out.landplan-") and p.name.endswith("-old")]
            assert old and _complete(old[0])
            os.replace(old[0], out)
    assert killed_mid_run >= 3  # the kills did land while runs were writing


def test_output_folder_is_a_file(tiny_scenario: Path, tmp_path: Path):
    from landplan.errors import OutputExistsError

    target = tmp_path / "out"
    target.write_text("not a folder", encoding="utf-8")
    with pytest.raises(OutputExistsError, match="is a file, not a folder"):
        run(tiny_scenario).write(target, exports=False)


def test_unwritable_parent_gets_a_clear_message(tiny_scenario: Path, tmp_path: Path):
    from landplan.errors import LandplanError

    blocker = tmp_path / "blocker"
    blocker.write_text("x", encoding="utf-8")  # a file where the output's parent folder should be
    with pytest.raises(LandplanError, match="cannot write to"):
        run(tiny_scenario).write(blocker / "out", exports=False)


def test_tiny_fixture_reusable(tmp_path: Path):
    # the helper that builds the tiny world writes nothing outside its folder
    write_tiny(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.gpkg", "tiny.toml"]


def test_read_only_output_folder_gets_a_clear_message(tiny_scenario: Path, tmp_path: Path, monkeypatch):
    import landplan.outputs as outputs
    from landplan.errors import LandplanError

    out = tmp_path / "out"
    out.mkdir()
    real = os.access
    monkeypatch.setattr(outputs.os, "access", lambda p, mode: False if Path(p) == out else real(p, mode))  # root ignores chmod
    with pytest.raises(LandplanError, match="it is read-only"):
        run(tiny_scenario).write(out, exports=False, overwrite=True)


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2, 0.6, 1.2])
def test_ctrl_c_at_any_moment_says_one_line(tiny_scenario: Path, tmp_path: Path, delay: float):
    """Ctrl-C while the command starts (imports, scenario, reading) or measures: one line, exit 130, no
    traceback, no output folder and nothing hidden left beside it."""
    import subprocess
    import sys
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "landplan", "run", str(tiny_scenario), "--out", str(out), "--no-exports"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # finished before the signal came: nothing to check
        return
    assert "Traceback" not in err
    if proc.returncode == -signal.SIGINT:  # so early that Python had not started: it ends as the shell would (130), silently
        assert err.strip() == ""
    else:
        assert proc.returncode == 130, err
        assert err.strip().splitlines()[-1] == "landplan: interrupted; no partial outputs were left"
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name != "tiny.gpkg" and not p.name.startswith("tiny")] == []
