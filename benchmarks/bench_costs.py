"""What the cost estimate adds to a 1M-parcel run's measurement time (target: under 20 %).

The 1,000,000 parcels of ``bench_engine.py`` (strips of 20 × 100 m in canal blocks, four 80 m corridors
across the whole extent and a 250 ha hub), with what the estimate needs: each parcel's household
(``owner``: runs of one to six neighbouring strips, one household in ten also holding a strip in
another block of its commune), members (``nhan_khau``) and certificate area (``dien_tich_gcn``); 81
communes of 5 × 5 km whose boundaries follow parcel edges; a named road every 2 km each way; a
price table for every commune, land use and position (4 positions) and a K table.

Both scenarios read the same file with the same columns; one has ``[costs]``. Each runs in a fresh
process (imports excluded), the two interleaved, ``--repeat`` times each; the table gives the medians
and the ratio of the medians, the median ratio of the back-to-back pairs (and their range), the
process's CPU time (all threads: the work added, less sensitive to other jobs than wall time; the
work added is the median of the pairs' differences) and the estimate's own step (``costs`` in ``Result.timings_s``: what remains after the work done on
threads while the run measures). The estimate of both formats must be the same to the đồng. The
machine is shared (2 cores, other developers' jobs): figures move from run to run, hence the
interleaving and the medians; the load average at the start and the end is printed.

    .venv/bin/python benchmarks/bench_costs.py                 # 1M parcels, GeoPackage and GeoParquet (a few minutes)
    .venv/bin/python benchmarks/bench_costs.py --sizes 100000  # a quick look
    .venv/bin/python benchmarks/bench_costs.py --niceness 0    # the estimate's threads at the run's own priority

Data is cached in benchmarks/.data/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from benchmarks.bench_engine import CRS, DATA, X0, Y0, make_layers  # noqa: E402

#: Communes are squares of this side (m), a multiple of the block, so their boundaries follow parcel edges.
COMMUNE_M = 5_000.0
#: A named road every this many metres, each way, along block edges.
ROAD_EVERY_M = 2_000.0
PRICE = {"LUC": 200_000, "LUK": 190_000, "CLN": 235_000, "NTS": 200_000, "ONT": 2_000_000}
SHARE = {"farm": (1.0, 0.85, 0.7, 0.6), "ONT": (1.0, 0.6, 0.4, 0.3)}


def make_costs_layers(n_parcels: int) -> dict[str, Path]:
    """The parcels of ``bench_engine.make_layers`` with households, members, certificate areas; communes,
    roads and the two tables (cached)."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    base = make_layers(n_parcels)
    folder = DATA / f"costs_p{n_parcels}"
    paths = {"gpkg": folder / "parcels.gpkg", "parquet": folder / "parcels.parquet", "admin": folder / "admin.gpkg",
             "prices": folder / "gia.csv", "k": folder / "k.csv", "projects": base["projects"]}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    parcels = pyogrio.read_dataframe(base["gpkg"], layer="parcels")
    n = len(parcels)
    rng = np.random.default_rng(11)
    sizes = rng.integers(1, 7, n)
    household = np.repeat(np.arange(n), sizes)[:n]
    # one household in ten also holds a strip two blocks away (in its commune, mostly)
    moved = rng.random(n) < 0.1
    household[moved] = household[np.clip(np.flatnonzero(moved) + 10, 0, n - 1)]
    owner = np.char.add("Hộ ", np.char.zfill(household.astype(str), 7))
    owner[parcels["landuse"].to_numpy() == "SON"] = ""
    members = rng.integers(2, 8, household.max() + 1)[household]
    area = shapely.area(parcels.geometry.values)
    error = rng.normal(0.0, 0.004, n)
    old = rng.random(n) < 0.03
    error[old] = rng.choice([-1.0, 1.0], int(old.sum())) * rng.uniform(0.06, 0.15, int(old.sum()))
    parcels = parcels.assign(owner=owner, nhan_khau=members.astype("int32"), dien_tich_gcn=np.round(area * (1 + error), 1))
    pyogrio.write_dataframe(parcels, paths["gpkg"], layer="parcels", driver="GPKG")
    parcels.iloc[np.argsort(parcels.hilbert_distance())].to_parquet(paths["parquet"], write_covering_bbox=True, row_group_size=10_000)
    x1, y1 = (float(v) for v in parcels.total_bounds[2:])
    nx, ny = int(np.ceil((x1 - X0) / COMMUNE_M)), int(np.ceil((y1 - Y0) / COMMUNE_M))
    cells, names = [], []
    for i in range(nx):
        for j in range(ny):
            cells.append(shapely.box(X0 + i * COMMUNE_M, Y0 + j * COMMUNE_M, X0 + (i + 1) * COMMUNE_M, Y0 + (j + 1) * COMMUNE_M))
            names.append(f"Xã Số {i * ny + j + 1:03d}")
    pyogrio.write_dataframe(gpd.GeoDataFrame({"ten": names}, geometry=cells, crs=CRS), paths["admin"], layer="xa", driver="GPKG")
    roads, road_names = [], []
    k = 0
    for x in np.arange(X0 + ROAD_EVERY_M, x1, ROAD_EVERY_M):
        roads.append(shapely.LineString([(x, Y0), (x, y1)]))
        road_names.append(f"Đường dọc {k}")
        k += 1
    for y in np.arange(Y0 + ROAD_EVERY_M, y1, ROAD_EVERY_M):
        roads.append(shapely.LineString([(X0, y), (x1, y)]))
        road_names.append(f"Đường ngang {k}")
        k += 1
    pyogrio.write_dataframe(gpd.GeoDataFrame({"ten": road_names}, geometry=roads, crs=CRS), paths["admin"], layer="roads", driver="GPKG")
    lines = ["unit,landuse,position,price_vnd_m2,source_ref"]
    for u, name in enumerate(names):
        for code, p in PRICE.items():
            for pos, share in enumerate(SHARE["ONT" if code == "ONT" else "farm"], start=1):
                lines.append(f"{name},{code},{pos},{int(round(p * (1 + 0.01 * (u % 7)) * share, -3))},benchmark (illustrative)")
    paths["prices"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    paths["k"].write_text("unit,landuse,k,source_ref\n" + "".join(f"*,{c},1.0,benchmark\n" for c in PRICE) + "Xã Số 001,ONT,1.2,benchmark\n",
                          encoding="utf-8")
    return paths


def scenario_text(paths: dict[str, Path], fmt: str, costs: bool) -> str:
    """The engine benchmark's scenario on these parcels, with their owner and register area, the communes,
    and, with ``costs``, the test world's ``[costs]`` (tests/costs_world.py) on this benchmark's tables."""
    from tests.costs_world import costs_toml

    from benchmarks.bench_engine import scenario_text as engine_scenario

    text = engine_scenario(paths[fmt], paths["projects"]).replace(
        'landuse = "landuse"\n', 'landuse = "landuse"\nowner = "owner"\nregister_area = "dien_tich_gcn"\n', 1)
    text += f'\n[[admin]]\nkey = "xa"\npath = "{paths["admin"]}"\nlayer = "xa"\nname = "ten"\n'
    if costs:
        text += costs_toml(prices=str(paths["prices"]), k=str(paths["k"]), roads=str(paths["admin"]), bands="[50, 200, 500]",
                           depth=True, persons_column=True, not_compensated='["SON"]')
    return text


def case(scenario: str, niceness: int | None = None) -> dict[str, float]:
    """One run in this process: wall time of ``landplan.run`` (imports excluded) and its steps.
    ``niceness``: the estimate's threads run this much nicer than the run (default: landplan's own)."""
    import landplan

    run = landplan.run
    from landplan import pipeline  # noqa: F401 - the engine's modules loaded before the clock starts

    if "[costs]" in Path(scenario).read_text(encoding="utf-8"):
        from landplan.rules import compensation

        if niceness is not None:
            compensation.THREAD_NICENESS = niceness

    t, cpu = time.perf_counter(), time.process_time()
    r = run(scenario)
    dt, dcpu = time.perf_counter() - t, time.process_time() - cpu
    out = {"seconds": dt, "cpu_s": dcpu, "costs_s": r.timings_s.get("costs", 0.0), "pieces": float(len(r.pieces)),
           "parcels": float(len(r.affected))}
    if r.costs is not None:
        out["households"] = float((r.costs.households["project"] == "ALL").sum())
        out["total_vnd"] = float(r.costs.budget(None)["total_vnd"])
    return out


def _fresh(scenario: Path, niceness: int | None = None) -> dict[str, float]:
    code = (f"import json, sys; sys.path.insert(0, {str(HERE.parent)!r}); from benchmarks.bench_costs import case; "
            f"print(json.dumps(case({str(scenario)!r}, {niceness!r})))")
    got = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return dict(json.loads(got.stdout.strip().splitlines()[-1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    ap.add_argument("--formats", nargs="+", default=["gpkg", "parquet"], choices=["gpkg", "parquet"])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--niceness", type=int, default=None,
                    help="run the estimate's threads this much nicer than the run (default: landplan's THREAD_NICENESS; 0: as the run)")
    args = ap.parse_args()
    rows = []
    load = [os.getloadavg()[0]]
    for n in args.sizes:
        paths = make_costs_layers(n)
        totals: set[float] = set()
        for fmt in args.formats:
            scen = {}
            for costs in (False, True):
                path = DATA / f"costs_p{n}" / f"scenario_{fmt}{'_costs' if costs else ''}.toml"
                path.write_text(scenario_text(paths, fmt, costs), encoding="utf-8")
                scen[costs] = path
            _fresh(scen[True], args.niceness)  # warm the file cache for both
            got: dict[bool, list[dict[str, float]]] = {False: [], True: []}
            for _ in range(args.repeat):  # interleaved: both see the same moments of a shared machine
                for costs in (False, True):
                    got[costs].append(_fresh(scen[costs], args.niceness))
            base = statistics.median(g["seconds"] for g in got[False])
            with_costs = statistics.median(g["seconds"] for g in got[True])
            cpu_base = statistics.median(g["cpu_s"] for g in got[False])
            cpu_with = statistics.median(g["cpu_s"] for g in got[True])
            # each pair was run back to back: the ratio of each pair, then the median of the ratios
            pairs = sorted(b["seconds"] / a["seconds"] - 1 for a, b in zip(got[False], got[True]))
            cpu_added = statistics.median(b["cpu_s"] - a["cpu_s"] for a, b in zip(got[False], got[True]))
            step = statistics.median(g["costs_s"] for g in got[True])
            totals.add(got[True][-1]["total_vnd"])
            last = got[True][-1]
            rows.append((n, fmt, int(last["parcels"]), int(last.get("households", 0)), base, with_costs, with_costs / base - 1,
                         statistics.median(pairs), pairs[0], pairs[-1], cpu_base, cpu_with, cpu_added, step))
            print(f"{n:,} {fmt}: without {base:.2f} s, with {with_costs:.2f} s (+{with_costs / base - 1:.0%}; pairs "
                  f"{', '.join(f'{p:+.0%}' for p in pairs)}); CPU {cpu_base:.2f} → {cpu_with:.2f} s; the costs step {step:.2f} s",
                  flush=True)
        assert len(totals) == 1, f"the estimate differs between formats: {totals}"
    load.append(os.getloadavg()[0])
    print(f"\nload average (1 min) at the start and the end: {load[0]:.1f}, {load[1]:.1f} on {os.cpu_count()} cores")
    print("\n| parcels | format | affected parcels | households | measurement | with the estimate | added (medians) "
          "| added (median of pairs, range) | CPU time without → with (added: median of pairs) | the estimate's step |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n, fmt, parcels, hh, base, with_costs, added, pair, lo, hi, cpu_base, cpu_with, cpu_added, step in rows:
        print(f"| {n:,} | {'GeoPackage' if fmt == 'gpkg' else 'GeoParquet'} | {parcels:,} | {hh:,} | {base:.2f} s | {with_costs:.2f} s | "
              f"**{added:+.0%}** | {pair:+.0%} ({lo:+.0%} to {hi:+.0%}) | {cpu_base:.2f} → {cpu_with:.2f} s "
              f"(+{cpu_added:.2f} s, {cpu_added / cpu_base:+.0%}) | {step:.2f} s |")


if __name__ == "__main__":
    main()
