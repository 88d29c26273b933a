"""Benchmark region-wide runs: the regional synthetic scenario, single process vs dask.distributed LocalCluster.

Generates (once, cached in benchmarks/.data/, not committed) the regional scenario of
:mod:`landplan.scale.regional`: ``--provinces`` provinces (default 13) of ``--parcels`` parcels each
(default 1,000,000), each province in its own VN-2000 meridian as a partition of a hive GeoParquet
dataset, and an expressway network of ``--network-km`` km (default 600) crossing them. Then, each in a
fresh process, round by round (``--repeat`` rounds):

  local   landplan's partitioned engine in one process: every partition measured in turn
  dask    the same partitions as tasks on a dask.distributed LocalCluster of ``--workers`` worker
          processes (default 2: this machine's two cores), one thread each, started for the run

and prints for each: wall time (the work, imports excluded; for dask, with and without starting the
cluster; the median of the rounds, with the fastest and slowest), peak memory (VmHWM) of the process
and, for dask, of each worker and of the client, and the read volume (bytes the processes passed
through read(), summed over partitions) against the dataset's size on disk. It checks that both
engines give the same bytes in every table (the CSVs' rounding), lists each partition's own figures
(time, read volume, pieces) and says, from them, what a cluster of 16 workers would take.

    .venv/bin/python benchmarks/bench_scale.py                                   # 13 × 1M parcels, 600 km
    .venv/bin/python benchmarks/bench_scale.py --provinces 4 --parcels 100000    # a quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
TABLES = ("summary", "totals", "parcels", "parcel_totals", "approvals", "slivers")


def dataset(provinces: int, parcels: int, network_km: float) -> Path:
    """The regional scenario (generated once); its path."""
    from landplan.scale.regional import write_regional

    folder = DATA / f"regional-{provinces}x{parcels}-{network_km:g}km"
    if not (folder / "regional.toml").exists() or len(list((folder / "parcels").glob("province=*/part-0.parquet"))) < provinces:
        t = time.perf_counter()
        print(f"# generating {provinces} provinces × {parcels:,} parcels in {folder} …", flush=True)
        write_regional(folder, provinces=provinces, parcels=parcels, network_km=network_km)
        print(f"# generated in {time.perf_counter() - t:.0f} s", flush=True)
    return folder / "regional.toml"


def _peak_bytes() -> int:
    from landplan.scale.engine import _peak_rss_bytes

    return _peak_rss_bytes()


def _table_hashes(result: Any) -> dict[str, str]:
    """SHA-256 of each table as its CSV is written (areas rounded by the scenario's rule)."""
    from landplan.outputs import _write_csv

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in TABLES:
            path = Path(tmp) / f"{name}.csv"
            _write_csv(getattr(result, name), path, result.scenario.tolerance if name != "slivers" else None)
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _partition_stats(parts: list[Any]) -> list[dict[str, Any]]:
    return [{"name": r.name, "crs": r.measured_crs, "seconds": r.stats.seconds, "read_bytes": r.stats.read_bytes,
             "peak_bytes": r.stats.peak_rss_bytes, "pid": r.stats.pid, "pieces": len(r.pieces), "parcels": len(r.parcels)} for r in parts]


def case_local(scenario: str, workers: int) -> dict[str, Any]:
    from landplan.scale import engine
    from landplan.scenario import load_scenario

    sc = load_scenario(scenario)
    seen: list[Any] = []

    def measure(tasks: list[Any]) -> list[Any]:
        parts = [engine.measure_partition(t) for t in tasks]
        seen.extend(parts)
        return parts

    t = time.perf_counter()
    result = engine.run_partitioned(sc, measure=measure)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "peak_bytes": {"process": _peak_bytes()}, "partitions": _partition_stats(seen),
            "plan_s": result.timings_s.get("plan", 0.0), "reduce_s": result.timings_s.get("reduce", 0.0),
            "pieces": len(result.pieces), "hashes": _table_hashes(result)}


def case_dask(scenario: str, workers: int) -> dict[str, Any]:
    from landplan.scale import dask_engine, engine
    from landplan.scenario import load_scenario

    sc = load_scenario(scenario)
    seen: list[Any] = []
    t0 = time.perf_counter()
    with dask_engine.cluster_client(None, workers=workers) as client:
        started = time.perf_counter() - t0

        def measure(tasks: list[Any]) -> list[Any]:
            parts = dask_engine.measure_on(client, tasks)
            seen.extend(parts)
            return parts

        t = time.perf_counter()
        result = engine.run_partitioned(sc, measure=measure)
        seconds = time.perf_counter() - t
        peaks = client.run(_peak_bytes)
    total = time.perf_counter() - t0
    return {"seconds": seconds, "with_cluster_s": total, "cluster_start_s": started,
            "peak_bytes": {"client": _peak_bytes(), **{f"worker {k + 1}": v for k, v in enumerate(peaks.values())}},
            "partitions": _partition_stats(seen), "plan_s": result.timings_s.get("plan", 0.0),
            "reduce_s": result.timings_s.get("reduce", 0.0), "pieces": len(result.pieces), "hashes": _table_hashes(result)}


CASES = {"local": case_local, "dask": case_dask}


def _once(case: str, scenario: Path, workers: int) -> dict[str, Any]:
    load = os.getloadavg()[0]
    out = subprocess.run([sys.executable, __file__, "--case", case, "--scenario", str(scenario), "--workers", str(workers)],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    res = dict(json.loads(out.strip().splitlines()[-1]))
    res["load"] = (load, os.getloadavg()[0])
    return res


def _mb(b: float) -> str:
    return f"{b / 1e6:,.0f} MB"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--provinces", type=int, default=13)
    ap.add_argument("--parcels", type=int, default=1_000_000, help="parcels per province (about; default 1,000,000)")
    ap.add_argument("--network-km", type=float, default=600.0)
    ap.add_argument("--workers", type=int, default=2, help="dask LocalCluster worker processes (default 2)")
    ap.add_argument("--repeat", type=int, default=1, help="rounds (each case once per round, in fresh processes); median shown")
    ap.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    ap.add_argument("--scenario", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        import logging

        import geopandas  # noqa: F401 - imports are not part of the timing

        import landplan.pipeline  # noqa: F401

        logging.getLogger("landplan").setLevel(logging.WARNING)
        print(json.dumps(CASES[a.case](a.scenario, a.workers)))
        return

    scenario = dataset(a.provinces, a.parcels, a.network_km)
    parts_dir = scenario.parent / "parcels"
    size = sum(p.stat().st_size for p in parts_dir.rglob("*.parquet"))
    import pyarrow.parquet as pq

    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts_dir.rglob("*.parquet"))
    from landplan.scale.regional import layout, network

    km = network(layout(a.provinces, a.parcels), a.network_km).length.sum() / 1000.0
    print(f"# {a.provinces} provinces, {rows:,} parcels ({_mb(size)} of GeoParquet), network {km:,.0f} km; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    runs: dict[str, list[dict[str, Any]]] = {c: [] for c in CASES}
    for k in range(a.repeat):
        for c in CASES:
            r = _once(c, scenario, a.workers)
            runs[c].append(r)
            print(f"  round {k + 1} {c:<5} {r['seconds']:7.1f} s  (load average {r['load'][0]:.1f} → {r['load'][1]:.1f})", flush=True)

    def median(c: str, key: str) -> tuple[float, float, float]:
        v = sorted(r[key] for r in runs[c])
        return v[len(v) // 2], v[0], v[-1]

    print()
    print(f"{'engine':<28} {'wall (s)':>9} {'(range)':>15}  peak memory")
    lo = median("local", "seconds")
    print(f"{'single process':<28} {lo[0]:>9.1f} {f'({lo[1]:.1f}–{lo[2]:.1f})':>15}  "
          f"{_mb(max(r['peak_bytes']['process'] for r in runs['local']))}")
    dk = median("dask", "seconds")
    peaks = runs["dask"][0]["peak_bytes"]
    shown = ", ".join(f"{k} {_mb(max(r['peak_bytes'][k] for r in runs['dask']))}" for k in peaks)
    print(f"{f'dask LocalCluster ({a.workers} workers)':<28} {dk[0]:>9.1f} {f'({dk[1]:.1f}–{dk[2]:.1f})':>15}  {shown}")
    wc = median("dask", "with_cluster_s")
    print(f"{'  with starting the cluster':<28} {wc[0]:>9.1f} {f'({wc[1]:.1f}–{wc[2]:.1f})':>15}")
    print(f"ratio single process / dask: {lo[0] / dk[0]:.2f}× (with the cluster's start: {lo[0] / wc[0]:.2f}×)")
    same = all(r["hashes"] == runs["local"][0]["hashes"] for c in CASES for r in runs[c])
    print(f"same bytes in every table (summary, totals, parcels, affected parcels, approvals, slivers): {same}")

    def median_run(c: str) -> dict[str, Any]:
        return sorted(runs[c], key=lambda r: r["seconds"])[len(runs[c]) // 2]

    parts = median_run("local")["partitions"]
    dparts = {p["name"]: p for p in median_run("dask")["partitions"]}
    read = sum(p["read_bytes"] for p in parts)
    print(f"read volume: {_mb(read)} through read() for {_mb(size)} of data ({100 * read / size:.1f} %); pieces "
          f"{runs['local'][0]['pieces']:,}")
    print()
    print(f"{'partition':<12} {'CRS':<10} {'seconds':>8} {'read':>9} {'pieces':>8} {'dask worker s':>14}   (median rounds)")
    for p in parts:
        print(f"{p['name']:<12} {p['crs']:<10} {p['seconds']:>8.1f} {_mb(p['read_bytes']):>9} {p['pieces']:>8,} {dparts[p['name']]['seconds']:>14.1f}")
    plan_s, reduce_s = median("local", "plan_s")[0], median("local", "reduce_s")[0]
    slowest = max(p["seconds"] for p in parts)
    total = sum(p["seconds"] for p in parts)
    print(f"plan (footprints, on the client) {plan_s:.1f} s; partitions {total:.1f} s in all, slowest {slowest:.1f} s; "
          f"reduce (on the client) {reduce_s:.1f} s")
    per_worker = max(p["peak_bytes"] for r in runs["dask"] for p in r["partitions"])
    print(f"16 workers (one partition each, {len(parts)} partitions): about plan + slowest partition + reduce = "
          f"{plan_s:.1f} + {slowest:.1f} + {reduce_s:.1f} = {plan_s + slowest + reduce_s:.1f} s, plus the cluster's start and "
          f"the transfer of the small tables; each worker's memory is one partition's, at most {_mb(per_worker)} here "
          f"(measured on this machine's cores, shared with other work: a cluster's own cores may be faster or slower)")


if __name__ == "__main__":
    main()
