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
        else:  # killed between the two renames: the previous folder is intact beside it, and the next run puts it back
            old = [p for p in tmp_path.iterdir() if p.name.startswith(".out.landplan-") and p.name.endswith("-old")]
            assert old and _complete(old[0])
            subprocess.run(args, check=True, env=env, capture_output=True)
            assert _complete(out) and (out / "ghi_chu_cua_toi.txt").read_text(encoding="utf-8") == "giữ nguyên"
    assert killed_mid_run >= 3  # the kills did land while runs were writing
    # the next run cleans what the killed runs left beside the folder, and says so
    subprocess.run([*args[:1], "-m", "landplan", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--exports", "none"],
                   env=env, capture_output=True, text=True, check=True)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.")] == []
    assert (out / "ghi_chu_cua_toi.txt").read_text(encoding="utf-8") == "giữ nguyên"


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
    import landplan.outfolder as outfolder
    import landplan.pipeline as pipeline
    from landplan.cli import main
    from landplan.errors import LandplanError

    out = tmp_path / "out"
    out.mkdir()
    real = os.access
    monkeypatch.setattr(outfolder.os, "access", lambda p, mode: False if Path(p) == out else real(p, mode))  # root ignores chmod
    with pytest.raises(LandplanError, match="it is read-only"):
        run(tiny_scenario).write(out, exports=False, overwrite=True)
    # the command line says so before it measures anything
    monkeypatch.setattr(pipeline, "run", lambda *a, **k: pytest.fail("measured before checking the output folder"))
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite"]) == 2


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
    if delay > 0:
        # count from the moment the command is loading its libraries (shapely's code mapped into the process):
        # "start-up" as a user knows it, whatever the machine's load made of the interpreter's own start
        maps = Path(f"/proc/{proc.pid}/maps")
        t0 = time.perf_counter()
        while proc.poll() is None and time.perf_counter() - t0 < 60:
            try:
                if "shapely" in maps.read_text():
                    break
            except OSError:
                break
            time.sleep(0.005)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert "Traceback" not in err
    if proc.returncode == 0:  # finished before the signal came
        assert _complete(out)
        return
    # 130 from landplan's own handler; killed by the signal itself when it came before Python ran any of
    # landplan's code, or while the interpreter was already ending (after the last line was said)
    assert proc.returncode in (130, -signal.SIGINT), err
    lines = err.strip().splitlines()
    if proc.returncode == 130:
        assert lines[-1] == "landplan: interrupted; no partial outputs were left"
    else:
        assert not lines or lines[-1].startswith("[") or lines[-1] == "landplan: interrupted; no partial outputs were left", err
    assert not out.exists() or _complete(out)  # never half a run
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".out")] == []


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".out"))


def test_kill_between_the_renames_is_recovered_by_the_next_run(tiny_scenario: Path, tmp_path: Path, caplog):
    """The state a run killed between the two renames of the swap leaves: no output folder, the previous
    one aside as .out.landplan-…-old (with the user's file), a half-written temporary folder. The next
    run puts the previous folder back, removes the rest, says both, and keeps the user's file."""
    from landplan.cli import main

    out = tmp_path / "out"
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--exports", "none"]) == 0
    (out / "ghi_chu.txt").write_text("của tôi", encoding="utf-8")
    os.replace(out, tmp_path / ".out.landplan-abc123-old")
    (tmp_path / ".out.landplan-def456").mkdir()
    (tmp_path / ".out.landplan-def456" / "summary.csv").write_text("half", encoding="utf-8")
    with caplog.at_level("WARNING", logger="landplan"):
        assert main(["run", str(tiny_scenario), "--out", str(out), "--overwrite", "--exports", "none"]) == 0
    said = caplog.text
    assert "put back the previous outputs" in said and "removed 1 folder(s) left beside it" in said
    assert (out / "ghi_chu.txt").read_text(encoding="utf-8") == "của tôi" and _complete(out)
    assert _hidden(tmp_path) == []


def test_a_second_run_on_the_same_folder_is_refused_naming_the_first(tiny_scenario: Path, tmp_path: Path, capsys):
    from landplan.cli import main
    from landplan.outfolder import output_folder

    out = tmp_path / "out"
    with output_folder(out, overwrite=True) as held:  # a run writing it
        assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--exports", "none"]) == 2
        err = capsys.readouterr().err
        assert f"is being written by another run (process {os.getpid()} on" in err
        assert held.path == out.resolve()
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--exports", "none"]) == 0  # free again
    assert _hidden(tmp_path) == []


def test_two_runs_at_once_in_processes_one_waits_its_turn_or_is_refused(tiny_scenario: Path, tmp_path: Path):
    """Two commands started together on one folder: one writes, the other is refused with a message;
    the folder holds one complete run and the user's file, and nothing is left hidden beside it."""
    import subprocess
    import sys

    out = tmp_path / "out"
    out.mkdir()
    (out / "ghi_chu.txt").write_text("của tôi", encoding="utf-8")
    args = [sys.executable, "-m", "landplan", "-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--exports", "none"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(*p.communicate(timeout=300), p.returncode) for p in procs]
    codes = sorted(r[2] for r in results)
    assert codes in ([0, 0], [0, 2]), results
    for _, err, code in results:
        if code == 2:
            assert "is being written by another run" in err
    assert _complete(out) and (out / "ghi_chu.txt").read_text(encoding="utf-8") == "của tôi"
    assert _hidden(tmp_path) == []


def test_symlinked_out_is_followed_and_said(tiny_scenario: Path, tmp_path: Path, caplog):
    from landplan.cli import main

    real = tmp_path / "that"
    real.mkdir()
    link = tmp_path / "out"
    link.symlink_to(real, target_is_directory=True)
    with caplog.at_level("INFO", logger="landplan"):
        assert main(["run", str(tiny_scenario), "--out", str(link), "--exports", "none"]) == 0
    assert f"is a link to {real}" in caplog.text
    assert link.is_symlink() and _complete(real) and (link / "summary.csv").exists()
    # a second run writes there again (no stale copy left behind the link)
    assert main(["-q", "run", str(tiny_scenario), "--out", str(link), "--overwrite", "--exports", "none"]) == 0
    assert link.is_symlink() and _complete(real)


@pytest.mark.parametrize("kind, words", [("dangling", "which does not exist"), ("loop", "loops back on itself")])
def test_broken_symlinked_out_is_refused(tiny_scenario: Path, tmp_path: Path, capsys, kind: str, words: str):
    from landplan.cli import main

    link = tmp_path / "out"
    if kind == "dangling":
        link.symlink_to(tmp_path / "nowhere")
    else:
        link.symlink_to(tmp_path / "out2")
        (tmp_path / "out2").symlink_to(link)
    assert main(["-q", "run", str(tiny_scenario), "--out", str(link), "--exports", "none"]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def _disk_full_at_approvals(monkeypatch) -> None:
    """Make writing approvals.csv fail as a full disk does (ENOSPC)."""
    import errno

    import landplan.outputs as outputs

    real = outputs._write_csv

    def full(df, path, tol):
        if path.name == "approvals.csv":
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(df, path, tol)

    monkeypatch.setattr(outputs, "_write_csv", full)


def test_full_disk_says_so_and_keeps_the_previous_outputs(tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys):
    """ENOSPC in the middle of writing (injected): one message saying the disk is full and that the
    previous outputs are intact; they are, byte for byte, and nothing is left beside them."""

    from landplan.cli import main

    out = tmp_path / "out"
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--exports", "none"]) == 0
    before = _digest_tree(out)
    _disk_full_at_approvals(monkeypatch)
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--overwrite", "--exports", "none"]) == 2
    err = capsys.readouterr().err
    assert "is full" in err and "previous outputs" in err and "intact" in err and "internal error" not in err
    assert _digest_tree(out) == before and _hidden(tmp_path) == []


def test_full_disk_on_a_real_small_file_system(tiny_scenario: Path, tmp_path: Path, capsys):
    """The same on a 1 MB tmpfs (where this machine lets a test mount one)."""
    import subprocess

    from landplan.cli import main

    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)], capture_output=True).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        assert main(["-q", "run", str(tiny_scenario), "--out", str(mnt / "out"), "--exports", "none"]) == 2
        err = capsys.readouterr().err
        assert "is full" in err and "Traceback" not in err
        assert [p.name for p in mnt.iterdir()] == []
    finally:
        subprocess.run(["umount", str(mnt)], capture_output=True)


def test_an_input_changed_during_the_run_is_caught(tiny_scenario: Path, tmp_path: Path):
    """A file edited between reading and writing: nothing is written, the message names the file; the
    manifest of an untouched run says its checksums are of the files as read."""
    from landplan.errors import LandplanError

    r = run(tiny_scenario)
    gpkg = tiny_scenario.parent / "tiny.gpkg"
    os.utime(gpkg, ns=(gpkg.stat().st_atime_ns, gpkg.stat().st_mtime_ns + 1_000_000_000))  # saved again a second later
    with pytest.raises(LandplanError, match=r"tiny\.gpkg changed while landplan was running"):
        r.write(tmp_path / "out", exports=False)
    assert not (tmp_path / "out").exists() and _hidden(tmp_path) == []
    out = run(tiny_scenario).write(tmp_path / "out2", exports=False)
    import json

    m = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert "unchanged from when the run read it" in m["inputs_checked"]


def test_map_drawn_beside_the_tables_is_the_same_page(tiny_scenario: Path, tmp_path: Path, monkeypatch, caplog):
    """With no print exports taking the cores, the map is drawn in a forked process while this one writes
    the tables: the same bytes as drawn here, the same manifest checksums, and the log says where."""
    import json
    import logging

    monkeypatch.setenv("LANDPLAN_THREADS", "2")  # a second core, even on a one-core machine
    r = run(tiny_scenario)
    with caplog.at_level(logging.INFO, logger="landplan"):
        a = r.write(tmp_path / "a", exports="none", project_maps=True)
    assert "drawn in a process of its own" in caplog.text
    caplog.clear()
    monkeypatch.setenv("LANDPLAN_THREADS", "1")  # one core: drawn here
    with caplog.at_level(logging.INFO, logger="landplan"):
        b = r.write(tmp_path / "b", exports="none", project_maps=True)
    assert "drawn in a process of its own" not in caplog.text
    pages = sorted(p.relative_to(a) for p in [a / "map.html", *(a / "maps").iterdir()])
    assert len(pages) == 1 + len(r.scenario.projects)
    for page in pages:
        assert (a / page).read_bytes() == (b / page).read_bytes(), page
    ma, mb = (json.loads((o / "manifest.json").read_text(encoding="utf-8")) for o in (a, b))
    def stable(files: dict[str, str]) -> dict[str, str]:  # the GeoPackage and workbook hold the time they were written
        return {k: v for k, v in files.items() if k.endswith((".csv", ".html"))}

    assert stable(ma["outputs"]) == stable(mb["outputs"]) and len(stable(ma["outputs"])) > 8 and ma["inputs"] == mb["inputs"]
    assert all(len(i["sha256"]) == 64 for i in ma["inputs"])


@pytest.mark.parametrize("fault", ["error", "full disk"])
def test_a_fault_in_the_map_process_is_one_message_and_nothing_written(tiny_scenario: Path, tmp_path: Path, monkeypatch,
                                                                        capsys, fault: str):
    """The forked map process fails: the run says so in one message (a full disk as a full disk) and
    leaves nothing behind, as when this process fails."""
    import errno

    import landplan.webmap as webmap
    from landplan.cli import main
    from landplan.errors import LandplanError

    monkeypatch.setenv("LANDPLAN_THREADS", "2")

    def broken(m, path):
        if fault == "error":
            raise LandplanError("map: the page could not be drawn (injected)")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(webmap, "save_map", broken)  # the forked process inherits the patch
    out = tmp_path / "out"
    assert main(["-q", "run", str(tiny_scenario), "--out", str(out), "--exports", "none"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert ("could not be drawn (injected)" in err) if fault == "error" else ("is full" in err)
    assert not out.exists() or list(out.iterdir()) == []
    assert _hidden(tmp_path) == []


def test_a_fault_while_the_map_process_draws_stops_it(tiny_scenario: Path, tmp_path: Path, monkeypatch, capsys):
    """This process fails (a full disk) while the forked map process is still drawing: the map process
    is stopped at once, not waited for, and nothing is left behind."""
    import multiprocessing

    import landplan.webmap as webmap
    from landplan.cli import main

    monkeypatch.setenv("LANDPLAN_THREADS", "2")
    monkeypatch.setattr(webmap, "save_map", lambda m, path: time.sleep(60))  # a map that takes a minute
    _disk_full_at_approvals(monkeypatch)
    t0 = time.perf_counter()
    assert main(["-q", "run", str(tiny_scenario), "--out", str(tmp_path / "out"), "--exports", "none"]) == 2
    assert time.perf_counter() - t0 < 30  # the minute's map was not waited for
    assert "is full" in capsys.readouterr().err
    assert multiprocessing.active_children() == [] and _hidden(tmp_path) == []


def test_hashing_gives_up_when_told(tmp_path: Path):
    import threading

    from landplan.outputs import _Stopped, sha256

    path = tmp_path / "big.bin"
    path.write_bytes(b"x" * (3 << 20))
    assert sha256(path) == sha256(path, stop=threading.Event())
    stop = threading.Event()
    stop.set()
    with pytest.raises(_Stopped):
        sha256(path, stop=stop)
