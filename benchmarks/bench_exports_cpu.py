"""Where the outputs' CPU goes, on the realistic scenario of bench_outputs.py (or the 1M-parcel run), and how a change moved it.

In a fresh process: measure the scenario (not timed), then draw every print-export job of ``--exports
all`` one after another in this one process (no workers, so nothing is hidden in parallelism) and
report the CPU seconds of each kind of job (strip-map pages with their PDFs, A3 and A4 print maps,
report figures, project sheets), the warm-up the workers would share, the strip-map PDFs alone (CPU
and MB), and this process's writing of the other outputs (``--exports none``) with the cycle
collector's share of it. With ``--base REV`` the same runs alternate between that revision (checked
out by ab_engine.py into benchmarks/.data) and the working tree, and the table gives both medians and
the median of the pairs' differences: the before/after figures of the README's "Speed and progress".

    .venv/bin/python benchmarks/bench_exports_cpu.py [--repeat 3] [--base REV] [--scenario realistic|million]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

_CHILD = """
import gc, json, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[2])
from benchmarks import bench_outputs
import landplan
from landplan import atlas, cairodraw, printjobs
result = landplan.run(getattr(bench_outputs, "make_" + sys.argv[3])())
out = Path(tempfile.mkdtemp())
jobs = printjobs.plan(result, printjobs.check_mode("all"))
pages = atlas.atlas_pages(result)
row = {"file": landplan.__file__}
c = time.process_time(); printjobs.warm_up(jobs); row["warm-up"] = time.process_time() - c
kept = printjobs.Kept(canvas=cairodraw.Canvas())
gc.freeze(); gc.set_threshold(*printjobs.WORKER_GC_THRESHOLDS)  # as a worker does
(out / "exports").mkdir()
for job in jobs:
    c = time.process_time()
    printjobs.run_job(result, job, out / "exports", lang="vi", pages=pages, kept=kept)
    key = "strip pages" if job.kind == "atlas" else f"{job.kind} {job.paper}".strip()
    row[key] = row.get(key, 0.0) + time.process_time() - c
gc.unfreeze(); gc.set_threshold(700, 10, 10)
c, size = time.process_time(), 0
for pid, plist in pages.items():
    size += atlas.render_project(result, pid, plist, out / "pdf", png=False)[0].stat().st_size
row["strip PDFs"], row["strip PDF MB"] = time.process_time() - c, size / 1e6
spent = [0.0]
def collector(phase, info, t=[0.0]):
    if phase == "start":
        t[0] = time.perf_counter()
    else:
        spent[0] += time.perf_counter() - t[0]
gc.callbacks.append(collector)
import resource
def reaped():  # CPU of the child processes waited for (the map's own process, with exports none)
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime
c, k = time.process_time(), reaped(); result.write(out / "other", exports="none")
row["other outputs"] = time.process_time() - c + reaped() - k
row["of which collector"] = spent[0]
print(json.dumps(row))
"""


def once(src: Path, scenario: str = "realistic") -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(src), str(ROOT), scenario], env=env, capture_output=True, text=True,
                          check=True)
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    assert str(src) in row.pop("file"), f"imported from elsewhere than {src}"
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--base", help="a revision to compare with (checked out into benchmarks/.data)")
    ap.add_argument("--scenario", choices=["realistic", "million"], default="realistic",
                    help="bench_outputs.py's realistic scenario (default) or the 1M-parcel run of bench_all.py's end-to-end case")
    a = ap.parse_args()
    sides = {"now": ROOT / "src"}
    if a.base:
        from ab_engine import checkout

        sides = {"base": checkout(a.base) / "src", **sides}
    runs: dict[str, list[dict[str, float]]] = {k: [] for k in sides}
    for i in range(a.repeat):
        for name in (list(sides) if i % 2 == 0 else list(sides)[::-1]):  # interleaved, alternating who goes first
            runs[name].append(once(sides[name], a.scenario))
    keys = list(runs["now"][0])
    head = f"{'':<20}" + "".join(f"{k:>10}" for k in sides) + ("  now − base (median of pairs)" if a.base else "")
    print(f"CPU seconds (MB for the PDFs' size), median of {a.repeat} fresh processes; load average {os.getloadavg()[0]:.1f}")
    print(head)
    total = {k: [sum(v for key, v in r.items() if key not in ("strip PDFs", "strip PDF MB", "of which collector")) for r in runs[k]]
             for k in sides}
    for key in [*keys, "all of the above"]:
        vals = {k: ([r[key] for r in runs[k]] if key != "all of the above" else total[k]) for k in sides}
        line = f"{key:<20}" + "".join(f"{statistics.median(v):>10.3f}" for v in vals.values())
        if a.base:
            line += f"  {statistics.median(x - y for x, y in zip(vals['now'], vals['base'])):+.3f}"
        print(line)


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main()
