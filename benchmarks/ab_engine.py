"""A/B of landplan's engine between a git revision and the working tree, interleaved in fresh processes.

    .venv/bin/python benchmarks/ab_engine.py --base 187e940            # the 1M-parcel GeoPackage, GeoParquet and heavy cases
    .venv/bin/python benchmarks/ab_engine.py --base HEAD~3 --repeat 9

The base revision is checked out once into ``benchmarks/.data/ab-<rev>`` (a git worktree) and imported
from there (``PYTHONPATH``), the working tree from ``src/``; both use this interpreter and its
libraries. Runs alternate base, head, base, head … so that a busy machine slows both alike; the
table shows each side's median wall time, its range and the ratio head / base, and the median CPU
time (user + system, all threads) and its ratio: on a busy machine the CPU time says more. Data comes from
``bench_engine.py`` (generated there, cached in ``benchmarks/.data``).
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
DATA = HERE / ".data"

_CHILD = """
import json, resource, sys, time
import landplan
run = landplan.run  # the engine's modules load here, not inside the timing (landplan imports them lazily)
t = time.perf_counter()
u0 = resource.getrusage(resource.RUSAGE_SELF)
r = run(sys.argv[1])
u1 = resource.getrusage(resource.RUSAGE_SELF)
cpu = (u1.ru_utime - u0.ru_utime) + (u1.ru_stime - u0.ru_stime)
print(json.dumps({"seconds": time.perf_counter() - t, "cpu": cpu, "pieces": len(r.pieces), "file": landplan.__file__}))
"""


def checkout(rev: str) -> Path:
    """A worktree of ``rev`` under benchmarks/.data (made once)."""
    sha = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    path = DATA / f"ab-{sha}"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(path), sha], cwd=ROOT, check=True, capture_output=True)
    return path


def once(src: Path, scenario: Path) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(scenario)], env=env, capture_output=True, text=True, check=True).stdout
    res = json.loads(out.strip().splitlines()[-1])
    assert str(src) in res["file"], f"imported {res['file']}, not from {src}"
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="git revision to compare with (e.g. a commit before a change)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--size", type=int, default=1_000_000)
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    from bench_engine import make_layers

    paths = make_layers(args.size)  # also writes the scenarios, as bench_engine does
    folder = paths["projects"].parent
    scenarios = [folder / "scenario_gpkg.toml", folder / "scenario_parquet.toml", folder / "scenario_net_3060.toml"]
    missing = [s for s in scenarios if not s.exists()]
    if missing:
        raise SystemExit(f"run benchmarks/bench_engine.py --sizes {args.size} once first (writes {', '.join(m.name for m in missing)})")
    base, head = checkout(args.base) / "src", ROOT / "src"
    print(f"base {args.base} ({base.parent.name}) vs working tree, {args.repeat} interleaved runs each")
    print(f"{'case':<22} {'base s':>8} {'(range)':>14} {'head s':>8} {'(range)':>14} {'head/base':>9} "
          f"{'base cpu':>9} {'head cpu':>9} {'ratio':>6}  pieces")
    for sc in scenarios:
        b, h = [], []
        for _ in range(args.repeat):
            b.append(once(base, sc))
            h.append(once(head, sc))
        bs, hs = [r["seconds"] for r in b], [r["seconds"] for r in h]
        mb, mh = statistics.median(bs), statistics.median(hs)
        cb, ch = statistics.median(r["cpu"] for r in b), statistics.median(r["cpu"] for r in h)
        print(f"{sc.stem:<22} {mb:8.3f} ({min(bs):5.2f}–{max(bs):5.2f}) {mh:8.3f} ({min(hs):5.2f}–{max(hs):5.2f}) {mh / mb:8.2f}× "
              f"{cb:9.3f} {ch:9.3f} {ch / cb:5.2f}×  {int(b[0]['pieces']):,} / {int(h[0]['pieces']):,}")


if __name__ == "__main__":
    main()
