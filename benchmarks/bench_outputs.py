"""What the outputs cost, as a ratio to the measurement of the same run.

For each scenario and each ``--exports`` mode, a fresh process measures (``landplan.run``) and then
writes every output (``Result.write``: CSVs, GeoPackage and QGIS project, workbook, map.html, and
the print exports of that mode, drawn in worker processes); the ratio is the writing time over the
measuring time of that same process. Each case runs ``--repeats`` times (fresh processes,
interleaved); the table shows the median and the range. Scenarios:

* ``sample``: the embedded Cần Thơ sample (29,000 parcels, 4 projects, ~1,450 affected parcels);
* ``realistic``: built here, deterministically: 157,500 parcels (canal-block strips of about
  40 × 120 m, land use drawn like the delta's), districts and wards, seven corridors (30–80 m,
  7–17 km, with bends) and a 250 ha hub: about 3,500 affected parcels (cached in benchmarks/.data/);
* ``million``: benchmarks/bench_engine.py's 1,000,000 parcels (GeoPackage) with its four 80 m
  corridors and 250 ha hub (about 16,500 pieces), as bench_all.py's end-to-end case; its ratio is
  end to end (measure + outputs) over the measurement alone.

Targets: all outputs ≤ 3× the measurement on the sample, ≤ 5× on the realistic scenario (issue 14);
end to end with all outputs ≤ 2× the measurement on the 1M-parcel run (issue 18).
Besides wall times, each run reports CPU seconds: the measurement's, and the outputs' in this
process and in the export workers together (what the outputs cost whatever else the machine runs).
Other developers share this machine's two cores: wall figures are noisy; the median of repeats, the
range and the load average before and after are shown.

    .venv/bin/python benchmarks/bench_outputs.py [--repeats 3] [--modes none,figures,atlas,all] [--scenarios sample,realistic,million]
                                                 [--million-modes none,all]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data" / "realistic"
CRS = "EPSG:5897"
X0, Y0 = 560_000.0, 1_090_000.0
COLS, ROWS = 450, 350  # 157,500 parcels
#: Seven corridors: (id, full right-of-way m, vertices in km from the origin).
CORRIDORS: tuple[tuple[str, float, tuple[tuple[float, float], ...]], ...] = (
    ("vanh_dai", 80.0, ((1.0, 2.0), (4.0, 9.0), (5.5, 17.0), (8.0, 22.0))),
    ("cao_toc", 75.0, ((14.0, 3.0), (11.0, 10.0), (10.5, 19.0))),
    ("dt921", 30.0, ((2.0, 30.0), (8.0, 34.0), (14.0, 36.0))),
    ("dt923", 40.0, ((16.0, 25.0), (13.0, 31.0), (12.5, 39.0))),
    ("ql91", 60.0, ((0.5, 12.0), (7.0, 13.0), (12.0, 15.5))),
    ("lo_te", 50.0, ((3.0, 25.0), (6.0, 28.5), (6.5, 38.0))),
    ("kenh", 40.0, ((9.0, 1.0), (16.5, 6.0))),
)


def make_realistic() -> Path:
    """Write the realistic scenario's layers and TOML (cached); return the scenario path."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely
    from shapely.geometry import LineString, box

    scenario = DATA / "realistic-v2.toml"
    if scenario.exists():
        return scenario
    DATA.mkdir(parents=True, exist_ok=True)
    gpkg = DATA / "realistic-v2.gpkg"
    rng = np.random.default_rng(20231208)
    # canal blocks 400 m wide of 10 strips; strip widths jitter, so no two parcels are alike
    widths = rng.uniform(30.0, 50.0, size=COLS)
    xs = X0 + np.r_[0.0, np.cumsum(widths)]
    heights = rng.uniform(100.0, 140.0, size=ROWS)
    ys = Y0 + np.r_[0.0, np.cumsum(heights)]
    i, j = np.meshgrid(np.arange(COLS), np.arange(ROWS))
    i, j = i.ravel(), j.ravel()
    geoms = shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1])
    codes = rng.choice(["LUC", "LUK", "CLN", "HNK", "ONT", "NTS", "SON", "DGT"], size=len(geoms),
                       p=[0.50, 0.17, 0.12, 0.04, 0.08, 0.05, 0.03, 0.01])
    parcels = gpd.GeoDataFrame({"parcel_id": [f"{a:03d}-{b:04d}" for a, b in zip(j, i)], "landuse": codes}, geometry=geoms, crs=CRS)
    pyogrio.write_dataframe(parcels, gpkg, layer="parcels", driver="GPKG")
    # administrative units follow parcel edges, as a cadastre's do (landplan checks that they coincide)
    def units(n: int) -> list[shapely.Geometry]:
        cx = [xs[COLS * a // n] for a in range(n + 1)]
        cy = [ys[ROWS * b // n] for b in range(n + 1)]
        return [box(cx[a], cy[b], cx[a + 1], cy[b + 1]) for b in range(n) for a in range(n)]

    districts = units(3)
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": [f"Huyện {k + 1}" for k in range(9)]}, geometry=districts, crs=CRS), gpkg,
                            layer="districts", driver="GPKG")
    wards = units(6)
    pyogrio.write_dataframe(gpd.GeoDataFrame({"name": [f"Xã {k + 1}" for k in range(36)]}, geometry=wards, crs=CRS), gpkg,
                            layer="wards", driver="GPKG")
    lines = [LineString([(X0 + x * 1000, Y0 + y * 1000) for x, y in pts]) for _, _, pts in CORRIDORS]
    proj = gpd.GeoDataFrame({"project": [c[0] for c in CORRIDORS], "width_m": [c[1] for c in CORRIDORS]}, geometry=lines, crs=CRS)
    pyogrio.write_dataframe(proj, gpkg, layer="roads", driver="GPKG")
    hub = box(X0 + 4200, Y0 + 19000, X0 + 5900, Y0 + 19000 + 2_500_000 / 1700)
    pyogrio.write_dataframe(gpd.GeoDataFrame({"project": ["hub"]}, geometry=[hub], crs=CRS), gpkg, layer="hub", driver="GPKG")
    text = f'''[scenario]
name = "Kịch bản thực tế (tổng hợp)"
crs = "{CRS}"

[parcels]
path = "realistic-v2.gpkg"
layer = "parcels"
id = "parcel_id"
landuse = "landuse"

[[admin]]
key = "district"
title = "Huyện (trước 1/7/2025)"
path = "realistic-v2.gpkg"
layer = "districts"
name = "name"

[[admin]]
key = "ward"
title = "Xã (từ 1/7/2025)"
path = "realistic-v2.gpkg"
layer = "wards"
name = "name"
'''
    for pid, width, _ in CORRIDORS:
        text += f'''
[[projects]]
id = "{pid}"
name = "Tuyến {pid}"
kind = "centreline"
path = "realistic-v2.gpkg"
layer = "roads"
where = "project = '{pid}'"
width_m = {width:g}
'''
    text += '''
[[projects]]
id = "hub"
name = "Trung tâm nông nghiệp"
kind = "polygon"
path = "realistic-v2.gpkg"
layer = "hub"
hub = true
'''
    scenario.write_text(text, encoding="utf-8")
    return scenario


def make_million() -> Path:
    """bench_engine's 1,000,000-parcel GeoPackage with four 80 m corridors and a hub (cached); the scenario path."""
    sys.path.insert(0, str(HERE.parent))
    from benchmarks import bench_engine

    paths = bench_engine.make_layers(1_000_000)
    scenario = paths["projects"].parent / "scenario_outputs.toml"
    if not scenario.exists():
        scenario.write_text(bench_engine.scenario_text(paths["gpkg"], paths["projects"]), encoding="utf-8")
    return scenario


def scenario_path(name: str, work: Path) -> Path:
    if name == "realistic":
        return make_realistic()
    if name == "million":
        return make_million()
    from landplan.sample import write_sample_scenario

    target = work / "sample" / "can_tho_sample.toml"
    return target if target.exists() else write_sample_scenario(work / "sample")


def one(scenario: str, mode: str, work: str) -> None:
    """One case in this (fresh) process: measure, then write; print JSON."""
    import landplan
    from landplan import atlas

    path = scenario_path(scenario, Path(work))
    t0, c0 = time.perf_counter(), time.process_time()
    result = landplan.run(path)
    measure, measure_cpu = time.perf_counter() - t0, time.process_time() - c0
    out = Path(tempfile.mkdtemp(dir=work)) / "out"
    t0, c0 = time.perf_counter(), time.process_time()
    result.write(out, exports=mode)
    outputs, outputs_cpu = time.perf_counter() - t0, time.process_time() - c0
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # the export workers, reaped when their pool closed
    files = [f for f in out.rglob("*") if f.is_file()]
    pages = sum(len(v) for v in atlas.atlas_pages(result).values())
    print(json.dumps({"measure_s": measure, "outputs_s": outputs, "measure_cpu_s": measure_cpu,
                      "outputs_cpu_s": outputs_cpu + workers.ru_utime + workers.ru_stime,
                      "files": len(files), "mb": sum(f.stat().st_size for f in files) / 1e6,
                      "parcels": len(result.affected), "pieces": len(result.pieces), "pages": pages}))


def main() -> None:
    ap = argparse.ArgumentParser(description="outputs vs measurement")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--modes", default="none,figures,atlas,all")
    ap.add_argument("--scenarios", default="sample,realistic,million")
    ap.add_argument("--million-modes", default="none,all", help="export modes of the 1M-parcel case (each run takes a minute)")
    ap.add_argument("--one", nargs=3, metavar=("SCENARIO", "MODE", "WORK"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        one(*args.one)
        return
    scenarios = args.scenarios.split(",")
    modes = args.modes.split(",")
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as work:
        for s in scenarios:  # data made once, outside the timed processes
            subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE.parent)!r}); "
                            f"from benchmarks.bench_outputs import scenario_path; from pathlib import Path; "
                            f"scenario_path({s!r}, Path({work!r}))"], check=True)
        runs: dict[tuple[str, str], list[dict[str, float]]] = {}
        for _ in range(args.repeats):  # interleaved: every case once, then again
            for s in scenarios:
                for m in (args.million_modes.split(",") if s == "million" else modes):
                    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--one", s, m, work], capture_output=True,
                                          text=True, check=True)
                    runs.setdefault((s, m), []).append(json.loads(proc.stdout.strip().splitlines()[-1]))
    load_after = os.getloadavg()
    print(f"load average (1, 5, 15 min) before: {load_before[0]:.1f}, {load_before[1]:.1f}, {load_before[2]:.1f}; "
          f"after: {load_after[0]:.1f}, {load_after[1]:.1f}, {load_after[2]:.1f} ({os.cpu_count()} cores)")
    print(f"{'scenario':<10} {'exports':<8} {'affected':>8} {'pages':>5} {'measure':>8} {'outputs':>8} {'ratio':>6} "
          f"{'(range)':>13} {'CPU ratio':>9} {'files':>5} {'MB':>6}  target")
    for (s, m), rs in runs.items():
        million = s == "million"  # end to end over the measurement alone
        ratios = [(r["outputs_s"] + (r["measure_s"] if million else 0.0)) / r["measure_s"] for r in rs]
        cpu = statistics.median((r["outputs_cpu_s"] + (r["measure_cpu_s"] if million else 0.0)) / r["measure_cpu_s"] for r in rs)
        med = statistics.median(ratios)
        target = {"sample": 3.0, "realistic": 5.0, "million": 2.0}[s]
        print(f"{s:<10} {m:<8} {int(rs[0]['parcels']):>8,} {int(rs[0]['pages']):>5} {statistics.median(r['measure_s'] for r in rs):>7.2f}s "
              f"{statistics.median(r['outputs_s'] for r in rs):>7.1f}s {med:>5.1f}× ({min(ratios):>4.1f}–{max(ratios):>4.1f}×) "
              f"{cpu:>8.1f}× {int(rs[0]['files']):>5} {rs[0]['mb']:>6.1f}  "
              f"{(f'≤{target:g}× ' + ('met' if med <= target else 'NOT met')) if m == 'all' else ''}")


if __name__ == "__main__":
    main()
