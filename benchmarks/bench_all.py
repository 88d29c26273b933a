"""Every speed claim of the README in one run, each against its peer measured in the same run.

    .venv/bin/python benchmarks/bench_all.py            # everything (about 5 minutes once benchmarks/.data holds the layers)
    .venv/bin/python benchmarks/bench_all.py --only parquet dirty --repeat 3

Each case runs in fresh processes, cases interleaved round by round (a busy moment of the machine
slows every side alike); times are medians with the range. The cases and their peers:

  endtoend  a 1M-parcel run with every output (map, tables, GeoPackage, workbook, all print exports)
            against the measurement alone, in the same process. Target: ≤ 2×.
  corridors 4 → 256 corridors (40 m, 4–9 km, each its own project) across parts of 1M parcels:
            µs per piece (target: linear within 20 %) against a per-footprint masked read (Arrow,
            GDAL's spatial filter per footprint, STRtree, vectorised intersection), a full Arrow
            read with an STRtree, and geopandas.overlay.
  parquet   GeoParquet of 40k → 4M parcels (64k-row groups) with the same four corridors in one
            corner: the file in arbitrary row order, as written by a tool that does not sort, and the
            copy `landplan sort` writes (whose one-off cost is shown); the peer is
            geopandas.read_parquet with a bbox filter (pyarrow row-group statistics on the bbox
            covering) + STRtree + vectorised intersection. Target: flat within 30 % from 40k to 4M.
  dirty     a dirty cadastre (every parcel drawn 0.5–3 m into its neighbour): the overlap resolution
            at this revision against the engine as it was when the issue was filed (``--base``,
            checked out into benchmarks/.data). Target: ≥ 20×.
  raster    class areas under the corridors from a land-cover raster (12,000² and 40,000² pixels)
            against exactextract on footprints cut into 2 km tiles. Target: ≤ 1×.

The machine, its load and the peers' versions are printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / ".data"
sys.path.insert(0, str(ROOT))

from benchmarks import bench_engine, bench_raster  # noqa: E402
from benchmarks.ab_engine import checkout  # noqa: E402  (the base revision's worktree, made once)

CASES = ("endtoend", "corridors", "parquet", "dirty", "raster")
#: The engine when issue 18 was filed (its "today").
BASE_REV = "187e940"


# --- fresh processes ----------------------------------------------------------------------------

def _fresh(code: str, *args: str, pythonpath: Path | None = None) -> dict:
    """Run ``code`` in a fresh interpreter (``sys.argv[1:]`` = ``args``); return the JSON of its last line."""
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run([sys.executable, "-c", code, *args], env=env, stdout=subprocess.PIPE, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _interleave(sides: dict[str, Callable[[], dict]], repeat: int) -> dict[str, dict]:
    """Each side ``repeat`` times, round by round; per side the median ``seconds``, range and first result."""
    runs: dict[str, list[dict]] = {k: [] for k in sides}
    for _ in range(repeat):
        for k, f in sides.items():
            runs[k].append(f())
    out = {}
    for k, rs in runs.items():
        secs = sorted(r["seconds"] for r in rs)
        out[k] = {**rs[0], "seconds": statistics.median(secs), "min_s": secs[0], "max_s": secs[-1], "runs": rs}
    return out


def _rng(r: dict) -> str:
    return f"({r['min_s']:.2f}–{r['max_s']:.2f})"


# --- end to end ---------------------------------------------------------------------------------

_ENDTOEND = """
import json, sys, tempfile, time
import landplan
run = landplan.run
t0 = time.perf_counter()
r = run(sys.argv[1])
t1 = time.perf_counter()
with tempfile.TemporaryDirectory(dir=sys.argv[2]) as out:
    r.write(out + "/run", exports=sys.argv[3])
t2 = time.perf_counter()
print(json.dumps({"seconds": t2 - t0, "measure_s": t1 - t0, "outputs_s": t2 - t1, "pieces": len(r.pieces),
                  "affected": int(r.parcels["parcel_id"].nunique())}))
"""


def endtoend(repeat: int) -> None:
    n = 1_000_000
    paths = bench_engine.make_layers(n)
    sc = paths["projects"].parent / "scenario_gpkg.toml"
    sc.write_text(bench_engine.scenario_text(paths["gpkg"], paths["projects"]), encoding="utf-8")
    print(f"\n## end to end: {n:,} parcels (GeoPackage), four 80 m corridors and a 250 ha hub; target ≤ 2× the measurement")
    print(f"  {'exports':<8} {'pieces':>7} {'parcels':>8} {'measure s':>10} {'outputs s':>10} {'all s':>7} {'(range)':>13} {'all ÷ measure':>14}")
    modes = ("none", "figures", "all")
    res = _interleave({m: (lambda m=m: _fresh(_ENDTOEND, str(sc), str(DATA), m)) for m in modes}, repeat)
    for m in modes:
        r = res[m]
        meas = statistics.median(x["measure_s"] for x in r["runs"])
        outs = statistics.median(x["outputs_s"] for x in r["runs"])
        ratio = statistics.median(x["seconds"] / x["measure_s"] for x in r["runs"])
        print(f"  {m:<8} {r['pieces']:>7,} {r['affected']:>8,} {meas:>10.2f} {outs:>10.2f} {r['seconds']:>7.2f} {_rng(r):>13} {ratio:>13.1f}×")


# --- corridors ----------------------------------------------------------------------------------

def corridors(repeat: int, counts: list[int], overlay: bool) -> None:
    n = 1_000_000
    paths = bench_engine.make_layers(n)
    peers = ["minimal_per_footprint", "fullread"] + (["overlay"] if overlay else [])
    print(f"\n## corridors: 4 → {max(counts)} corridors (40 m, 4–9 km, each its own project) across parts of {n:,} parcels "
          "(GeoPackage); target: µs per piece flat within 20 %, faster than every peer")
    print(f"  {'corridors':>9} {'pieces':>8} {'landplan':>9} {'(range)':>13} {'µs/piece':>9} {'CPU µs/piece':>13}  "
          + "  ".join(f"{p:>24}" for p in peers))
    per_piece, cpu_per_piece, points = [], [], []
    for count in counts:
        _, sc = bench_engine.make_corridors(paths, n, count)
        res = bench_engine.measure_interleaved(["landplan", *peers], str(sc), repeat)
        lp = res["landplan"]
        us = 1e6 * lp["seconds"] / max(lp["pieces"], 1)
        cpu_us = 1e6 * lp["cpu_s"] / max(lp["pieces"], 1)  # CPU of all threads: the work, which the load does not inflate
        per_piece.append(us)
        cpu_per_piece.append(cpu_us)
        points.append((lp["pieces"], lp["seconds"]))
        cells = "  ".join(f"{res[p]['seconds']:>8.2f} s = {res[p]['seconds'] / lp['seconds']:>5.2f}× lp" for p in peers)
        print(f"  {count:>9,} {int(lp['pieces']):>8,} {lp['seconds']:>8.2f}s {_rng(lp):>13} {us:>9.1f} {cpu_us:>13.1f}  {cells}")
    print(f"  µs per piece, largest ÷ smallest over the counts ≥ 16: {max(per_piece[1:] or per_piece) / min(per_piece[1:] or per_piece):.2f} "
          f"(4 corridors: {per_piece[0]:.0f} µs, fixed costs dominate {counts[0]} corridors' few pieces); "
          f"in CPU time: {max(cpu_per_piece[1:] or cpu_per_piece) / min(cpu_per_piece[1:] or cpu_per_piece):.2f}")
    _linearity(points)


def _linearity(points: list[tuple[float, float]]) -> None:
    """How linear the time is in pieces: each step's added µs per added piece, and the least-squares line
    seconds = fixed + µs × pieces with each count's distance from it (what "linear" means once a run's
    fixed costs are not counted per piece)."""
    import numpy as np

    if len(points) < 2:
        return
    p, t = np.array(points, dtype=float).T
    steps = [1e6 * (t[k] - t[k - 1]) / (p[k] - p[k - 1]) for k in range(1, len(p))]
    slope, fixed = np.polyfit(p, t, 1)
    off = (t - (fixed + slope * p)) / t
    print(f"  added µs per added piece, step by step: {', '.join(f'{s:.0f}' for s in steps)} "
          f"(largest ÷ smallest {max(steps) / min(steps):.2f}); least squares: {fixed:.2f} s + {1e6 * slope:.1f} µs × pieces, "
          f"each count within {100 * np.max(np.abs(off)):.0f} % of the line")


# --- GeoParquet ---------------------------------------------------------------------------------

def _grid_parquet(n: int) -> tuple[Path, Path, float]:
    """``n`` parcels (the engine benchmark's canal blocks, growing outwards from one corner) as GeoParquet in
    arbitrary row order with 64k-row groups, and the copy ``landplan sort`` writes (with its time)."""
    import geopandas as gpd
    import numpy as np
    import shapely

    folder = DATA / f"pq{n}"
    shuffled, sorted_ = folder / "shuffled.parquet", folder / "sorted.parquet"
    stamp = folder / "sort_seconds.txt"
    if not (shuffled.exists() and sorted_.exists() and stamp.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        k = np.arange(n)
        side = int(np.ceil(np.sqrt(int(np.ceil(n / 5)))))
        block, strip = k // 5, k % 5
        x0 = bench_engine.X0 + (block % side) * bench_engine.BLOCK + strip * 20.0
        y0 = bench_engine.Y0 + (block // side) * bench_engine.BLOCK
        rng = np.random.default_rng(7)
        gdf = gpd.GeoDataFrame({"parcel_id": np.char.add("T", k.astype("U8")),
                                "landuse": rng.choice(["LUC", "LUK", "CLN", "ONT", "NTS"], size=n, p=[0.55, 0.15, 0.15, 0.1, 0.05])},
                               geometry=shapely.box(x0, y0, x0 + 20.0, y0 + bench_engine.BLOCK), crs=bench_engine.CRS)
        gdf.iloc[rng.permutation(n)].to_parquet(shuffled, write_covering_bbox=True, row_group_size=65_536)
        del gdf
        sort = _fresh("import json, sys, time\nfrom landplan.prepare import sort_layer\nt = time.perf_counter()\n"
                      "sort_layer(sys.argv[1], sys.argv[2])\nprint(json.dumps({'seconds': time.perf_counter() - t}))",
                      str(shuffled), str(sorted_))
        stamp.write_text(f"{sort['seconds']:.3f}")
    return shuffled, sorted_, float(stamp.read_text())


def _corner_corridors() -> Path:
    """Four corridors (40 m) inside the first 6 km × 6 km of every layer, so the work is the same at every size."""
    import geopandas as gpd
    from shapely.geometry import LineString

    path = DATA / "corner_corridors.gpkg"
    if not path.exists():
        DATA.mkdir(parents=True, exist_ok=True)
        x, y = bench_engine.X0, bench_engine.Y0
        lines = [LineString([(x + 300, y + 500), (x + 5800, y + 5200)]), LineString([(x + 400, y + 5600), (x + 5600, y + 900)]),
                 LineString([(x + 200, y + 3000), (x + 3000, y + 2700), (x + 5900, y + 3300)]),
                 LineString([(x + 4100, y + 150), (x + 3900, y + 5900)])]
        gpd.GeoDataFrame({"project": [f"c{i}" for i in range(4)], "width_m": 40.0}, geometry=lines, crs=bench_engine.CRS).to_file(
            path, layer="corridors", driver="GPKG", engine="pyogrio")
    return path


def _parquet_scenario(parcels: Path, corr: Path) -> Path:
    text = f'[scenario]\nname = "parquet"\ncrs = "{bench_engine.CRS}"\n\n[parcels]\npath = "{parcels}"\nid = "parcel_id"\nlanduse = "landuse"\n'
    for i in range(4):
        text += (f'\n[[projects]]\nid = "c{i}"\nkind = "centreline"\npath = "{corr}"\nlayer = "corridors"\n'
                 f'where = "project = \'c{i}\'"\nwidth_m = 40\n')
    sc = parcels.with_suffix(".toml")
    sc.write_text(text, encoding="utf-8")
    return sc


_LANDPLAN = """
import json, sys, time
import pyarrow.compute, pyarrow.dataset, pyarrow.parquet  # noqa: F401 - as the peer does, before the clock
import landplan
run = landplan.run
t = time.perf_counter()
r = run(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t, "pieces": len(r.pieces), "rice_m2": float(r.approvals["rice_m2"].sum())}))
"""

_PARQUET_PEER = """
import json, sys, time
import geopandas as gpd, numpy as np, pyogrio, shapely
import pyarrow.compute, pyarrow.dataset, pyarrow.parquet  # noqa: F401 - modules loaded before the clock, as landplan's are
t = time.perf_counter()
fp = pyogrio.read_dataframe(sys.argv[2], layer="corridors")
fp = fp.set_geometry(shapely.buffer(fp.geometry.values, 20.0, cap_style="flat", join_style="mitre", mitre_limit=5.0))
parcels = gpd.read_parquet(sys.argv[1], bbox=tuple(shapely.union_all(fp.geometry.values).bounds))
tree = shapely.STRtree(parcels.geometry.values)
fi, pi = tree.query(fp.geometry.values, predicate="intersects")
area = shapely.area(shapely.intersection(parcels.geometry.values[pi], fp.geometry.values[fi]))
lu = parcels["landuse"].to_numpy()[pi]
print(json.dumps({"seconds": time.perf_counter() - t, "pieces": int(np.count_nonzero(area > 0)),
                  "rice_m2": float(area[np.isin(lu, ["LUC", "LUK"])].sum())}))
"""


def parquet(repeat: int, sizes: list[int]) -> None:
    corr = _corner_corridors()
    print("\n## GeoParquet, 40k → 4M parcels, the same four corridors at every size; target: flat within 30 %")
    print(f"  {'parcels':>9} {'pieces':>7} {'arbitrary order':>22} {'sorted copy':>22} {'peer on arbitrary':>22} "
          f"{'peer on sorted':>22} {'landplan sort (once)':>21}")
    got: dict[str, list[float]] = {"shuffled": [], "sorted": []}
    for n in sizes:
        shuffled, sorted_, sort_s = _grid_parquet(n)
        sc_shuffled, sc_sorted = str(_parquet_scenario(shuffled, corr)), str(_parquet_scenario(sorted_, corr))
        sides: dict[str, Callable[[], dict]] = {
            "shuffled": partial(_fresh, _LANDPLAN, sc_shuffled),
            "sorted": partial(_fresh, _LANDPLAN, sc_sorted),
            "peer_shuffled": partial(_fresh, _PARQUET_PEER, str(shuffled), str(corr)),
            "peer_sorted": partial(_fresh, _PARQUET_PEER, str(sorted_), str(corr)),
        }
        res = _interleave(sides, repeat)
        for k in got:
            got[k].append(res[k]["seconds"])
        cell = "  ".join(f"{res[k]['seconds']:>7.2f} s {_rng(res[k]):>13}" for k in sides)
        print(f"  {n:>9,} {res['sorted']['pieces']:>7,} {cell} {sort_s:>19.1f} s")
    for k, label in (("shuffled", "arbitrary order"), ("sorted", "sorted copy")):
        print(f"  landplan on the {label}: largest ÷ smallest time over the sizes {max(got[k]) / min(got[k]):.2f}")


# --- dirty cadastre -----------------------------------------------------------------------------

_DIRTY = """
import json, sys, time
import numpy as np, shapely
from landplan.takes import make_disjoint
import landplan
n = int(sys.argv[1])
rng = np.random.default_rng(0)
side = int(np.sqrt(n))
i = np.arange(n)
x, y = (i % side) * 20.0, (i // side) * 100.0
g = shapely.box(x, y, x + 20 + rng.uniform(0.5, 3, n), y + 100)  # each drawn 0.5-3 m into its east neighbour
t = time.perf_counter()
new, pairs = make_disjoint(g, np.arange(n))
print(json.dumps({"seconds": time.perf_counter() - t, "overlaps": len(pairs), "area": float(shapely.area(new).sum()),
                  "file": landplan.__file__}))
"""


def dirty(repeat: int, sizes: list[int], base: str, base_max: int, base_once: int = 60_000) -> None:
    old = checkout(base) / "src"
    print(f"\n## dirty cadastre: every parcel drawn 0.5–3 m into its neighbour; overlap resolution now against {base} "
          "(when the issue was filed); target ≥ 20×")
    print(f"  {'parcels':>8} {'overlaps':>9} {'now':>8} {'(range)':>13} {base:>10} {'(range)':>15} {'speed-up':>9}  same land?")
    for n in sizes:
        sides = {"now": (lambda n=n: _fresh(_DIRTY, str(n), pythonpath=ROOT / "src"))}
        if n <= base_max:
            sides["base"] = lambda n=n: _fresh(_DIRTY, str(n), pythonpath=old)
        # the old engine is quadratic in overlaps: above base_once it runs once, after the new one's repeats
        res = _interleave(sides if n <= base_once else {"now": sides["now"]}, repeat)
        if n > base_once and "base" in sides:
            res.update(_interleave({"base": sides["base"]}, 1))
        now = res["now"]
        assert str(ROOT / "src") in now["file"]
        if "base" in res:
            b = res["base"]
            assert str(old) in b["file"]
            same = abs(b["area"] - now["area"]) <= 1e-9 * b["area"]
            print(f"  {n:>8,} {now['overlaps']:>9,} {now['seconds']:>7.2f}s {_rng(now):>13} {b['seconds']:>9.2f}s {_rng(b):>15} "
                  f"{b['seconds'] / now['seconds']:>8.1f}×  {same}")
        else:
            print(f"  {n:>8,} {now['overlaps']:>9,} {now['seconds']:>7.2f}s {_rng(now):>13} {'(not run)':>26}")


# --- raster -------------------------------------------------------------------------------------

_RASTER = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from benchmarks import bench_raster as b
n = int(sys.argv[2])
b.make_raster(n); b.footprints(n)
import exactextract, landplan.raster  # noqa: E401,F401 - both sides' modules loaded before the clock starts, as in every case
t = time.perf_counter()
res = b.CASES[sys.argv[1]](n)
print(json.dumps({"seconds": time.perf_counter() - t, "areas": res}))
"""


def raster(repeat: int, sizes: list[int]) -> None:
    print("\n## land-cover raster: class areas under five corridors; target ≤ 1× exactextract on 2 km tiles")
    print(f"  {'pixels':>17} {'landplan':>8} {'(range)':>13} {'exactextract, 2 km tiles':>25} {'(range)':>13} {'ratio':>7}  "
          "largest difference in a class area")
    for n in sizes:
        bench_raster.make_raster(n)
        sides = {c: (lambda c=c, n=n: _fresh(_RASTER, c, str(n), str(ROOT))) for c in ("landplan", "exactextract_tiled")}
        res = _interleave(sides, repeat)
        lp, ee = res["landplan"], res["exactextract_tiled"]
        diff = max((abs(lp["areas"].get(p, {}).get(k, 0.0) - v) / v for p, cl in ee["areas"].items() for k, v in cl.items() if v > 0),
                   default=0.0)
        print(f"  {n:>7,} × {n:<7,} {lp['seconds']:>7.2f}s {_rng(lp):>13} {ee['seconds']:>24.2f}s {_rng(ee):>13} "
              f"{lp['seconds'] / ee['seconds']:>6.2f}×  {diff:.1e}")


def _versions() -> str:
    from importlib.metadata import version

    names = ("shapely", "geopandas", "pyogrio", "pyarrow", "exactextract", "numpy")
    out = []
    for name in names:
        try:
            out.append(f"{name} {version(name)}")
        except Exception:  # noqa: BLE001 - a peer not installed is said so
            out.append(f"{name} (absent)")
    return ", ".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=CASES, default=list(CASES))
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per side (median shown; default 3)")
    ap.add_argument("--corridors", type=int, nargs="+", default=[4, 16, 64, 256])
    ap.add_argument("--no-overlay", action="store_true", help="leave geopandas.overlay out of the corridors case")
    ap.add_argument("--parquet-sizes", type=int, nargs="+", default=[40_000, 250_000, 1_000_000, 4_000_000])
    ap.add_argument("--dirty-sizes", type=int, nargs="+", default=[20_000, 60_000, 300_000])
    ap.add_argument("--base", default=BASE_REV, help=f"the revision the dirty case compares with (default {BASE_REV})")
    ap.add_argument("--base-max", type=int, default=300_000,
                    help="largest dirty layer also run at --base (above 60,000 parcels, once: it takes minutes)")
    ap.add_argument("--raster-sizes", type=int, nargs="+", default=[12_000, 40_000])
    a = ap.parse_args()
    t0 = time.perf_counter()
    print(f"landplan benchmarks, {time.strftime('%Y-%m-%d %H:%M')}: {os.cpu_count()} cores, {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.1f}; {_versions()}")
    print(f"median of {a.repeat} fresh processes per side (fastest–slowest), sides interleaved round by round")
    if "endtoend" in a.only:
        endtoend(a.repeat)
    if "corridors" in a.only:
        corridors(a.repeat, a.corridors, not a.no_overlay)
    if "parquet" in a.only:
        parquet(a.repeat, a.parquet_sizes)
    if "dirty" in a.only:
        dirty(a.repeat, a.dirty_sizes, a.base, a.base_max)
    if "raster" in a.only:
        raster(a.repeat, a.raster_sizes)
    print(f"\n(done in {time.perf_counter() - t0:.0f} s; load average now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
