"""Benchmark land-cover measurement: landplan vs exactextract called directly vs rasterstats (categorical).

Generates (cached in benchmarks/.data/) classified GeoTIFFs of 12,000 × 12,000 and 40,000 × 40,000
pixels (10 m, EPSG:5897, tiled, DEFLATE) whose classes are whole-pixel fields of 50 × 30 pixels, so
the exact class areas inside any polygon are known from vector geometry. Three long diagonal
corridors (80 m) and a 250 ha hub are measured by each method in a fresh process; the script prints
wall time, peak memory (VmHWM) and each method's largest error against the exact vector truth.

    .venv/bin/python benchmarks/bench_raster.py                   # both rasters (the large one takes minutes to write)
    .venv/bin/python benchmarks/bench_raster.py --sizes 12000
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
PIXEL = 10.0
X0, Y0 = 400_000.0, 1_400_000.0  # top-left corner
FW, FH = 50, 30  # field size in pixels
NCLASS = 5


def field_class(rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Class 1..5 of the field holding each pixel (a fixed pseudo-random pattern of fields)."""
    fr, fc = rows // FH, cols // FW
    return ((fr * 7 + fc * 13 + (fr * fc) % 3) % NCLASS + 1).astype("uint8")


def make_raster(n: int) -> Path:
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    path = DATA / f"landcover_{n}.tif"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.tif")
    profile = {"driver": "GTiff", "width": n, "height": n, "count": 1, "dtype": "uint8", "crs": "EPSG:5897", "nodata": 0,
               "transform": from_origin(X0, Y0, PIXEL, PIXEL), "compress": "deflate", "tiled": True,
               "blockxsize": 512, "blockysize": 512, "BIGTIFF": "IF_SAFER"}
    with rasterio.open(tmp, "w", **profile) as dst:
        cols = np.arange(n)
        for r0 in range(0, n, 1024):
            rows = np.arange(r0, min(r0 + 1024, n))
            dst.write(field_class(rows[:, None], cols[None, :]), 1, window=Window(0, r0, n, len(rows)))
    tmp.replace(path)
    return path


def footprints(n: int):
    import geopandas as gpd
    from shapely.geometry import LineString, box

    ext = n * PIXEL
    lines = [
        LineString([(X0 + 0.05 * ext, Y0 - 0.10 * ext), (X0 + 0.55 * ext, Y0 - 0.60 * ext)]),
        LineString([(X0 + 0.20 * ext, Y0 - 0.70 * ext), (X0 + 0.70 * ext, Y0 - 0.25 * ext)]),
        LineString([(X0 + 0.40 * ext, Y0 - 0.45 * ext), (X0 + 0.90 * ext, Y0 - 0.50 * ext)]),
    ]
    geoms = [ln.buffer(40.0, cap_style="flat", join_style="mitre") for ln in lines]
    cx, cy = X0 + 0.3 * ext, Y0 - 0.3 * ext
    geoms.append(box(cx, cy, cx + 1700.0, cy + 2_500_000.0 / 1700.0))
    return gpd.GeoDataFrame({"project": ["road0", "road1", "road2", "hub"]}, geometry=geoms, crs="EPSG:5897")


def truth(n: int) -> dict[str, dict[int, float]]:
    """Exact class areas from the fields as vectors."""
    import shapely

    out = {}
    for pid, g in zip(footprints(n)["project"], footprints(n).geometry):
        xmin, ymin, xmax, ymax = g.bounds
        c0, c1 = int((xmin - X0) // (FW * PIXEL)), int((xmax - X0) // (FW * PIXEL)) + 1
        r0, r1 = int((Y0 - ymax) // (FH * PIXEL)), int((Y0 - ymin) // (FH * PIXEL)) + 1
        fr, fc = np.meshgrid(np.arange(r0, r1), np.arange(c0, c1), indexing="ij")
        fr, fc = fr.ravel(), fc.ravel()
        boxes = shapely.box(X0 + fc * FW * PIXEL, Y0 - (fr + 1) * FH * PIXEL, X0 + (fc + 1) * FW * PIXEL, Y0 - fr * FH * PIXEL)
        # clip to the raster
        boxes = shapely.intersection(boxes, shapely.box(X0, Y0 - n * PIXEL, X0 + n * PIXEL, Y0))
        area = shapely.area(shapely.intersection(boxes, g))
        cls = field_class(fr * FH, fc * FW)
        out[pid] = {int(k): float(area[cls == k].sum()) for k in range(1, NCLASS + 1) if area[cls == k].sum() > 0}
    return out


def _peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def case_landplan(n: int) -> dict[str, dict[int, float]]:
    import pyproj

    from landplan.raster import LandcoverClass, LandcoverSpec, inspect_raster, measure

    spec = LandcoverSpec(make_raster(n), 1, None, tuple(LandcoverClass(k, "", "other", str(k), str(k)) for k in range(1, NCLASS + 1)))
    fp = footprints(n)
    cls, _ = measure(fp, spec, inspect_raster(spec), crs=pyproj.CRS("EPSG:5897"))
    out: dict[str, dict[int, float]] = {p: {} for p in fp["project"]}
    for row, v, a in cls.itertuples(index=False):
        out[fp["project"].iloc[row]][int(v)] = float(a)
    return out


def case_exactextract(n: int) -> dict[str, dict[int, float]]:
    from exactextract import exact_extract

    fp = footprints(n)
    df = exact_extract(str(make_raster(n)), fp[["geometry"]], ["unique", "frac", "count"], output="pandas")
    return {p: {int(v): float(f * c * PIXEL * PIXEL) for v, f in zip(u, fr)}
            for p, u, fr, c in zip(fp["project"], df["unique"], df["frac"], df["count"])}


def case_exactextract_tiled(n: int) -> dict[str, dict[int, float]]:
    """exactextract as a skilled user calls it on long corridors: footprints cut into 2 km tiles first
    (so each extraction reads a small window), class areas from its unique/frac/count operations."""
    import numpy as np
    import shapely
    from exactextract import exact_extract

    fp = footprints(n)
    parts, owner = [], []
    for i, g in enumerate(fp.geometry):
        x0, y0, x1, y1 = g.bounds
        xs, ys = np.arange(x0, x1, 2000.0), np.arange(y0, y1, 2000.0)
        cells = shapely.box(*np.meshgrid(xs, ys), *np.meshgrid(xs + 2000.0, ys + 2000.0)).ravel()
        cut = shapely.intersection(cells, g)
        cut = cut[~shapely.is_empty(cut)]
        parts += list(cut)
        owner += [i] * len(cut)
    tiles = fp.iloc[owner][["project"]].reset_index(drop=True).set_geometry(parts, crs=fp.crs)
    df = exact_extract(str(make_raster(n)), tiles, ["unique", "frac", "count"], output="pandas")
    out: dict[str, dict[int, float]] = {p: {} for p in fp["project"]}
    for p, u, fr, c in zip(tiles["project"], df["unique"], df["frac"], df["count"]):
        for v, f in zip(u, fr):
            out[p][int(v)] = out[p].get(int(v), 0.0) + float(f * c * PIXEL * PIXEL)
    return out


def case_rasterstats(n: int) -> dict[str, dict[int, float]]:
    from rasterstats import zonal_stats

    fp = footprints(n)
    stats = zonal_stats(list(fp.geometry), str(make_raster(n)), categorical=True)
    return {p: {int(k): float(v * PIXEL * PIXEL) for k, v in s.items()} for p, s in zip(fp["project"], stats)}


CASES = {"landplan": case_landplan, "exactextract_tiled": case_exactextract_tiled, "exactextract": case_exactextract,
         "rasterstats": case_rasterstats}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[12_000, 40_000])
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per case (median shown)")
    ap.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    ap.add_argument("--n", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        make_raster(a.n)
        footprints(a.n)
        t = time.perf_counter()
        res = CASES[a.case](a.n)
        print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": _peak_mb(), "areas": res}))
        return
    print(f"median of {a.repeat} fresh processes per case, cases interleaved round by round")
    print(f"{'pixels':>15} {'method':<18} {'seconds':>8} {'(range)':>13} {'peak MB':>8} {'max error vs exact':>20}")
    for n in a.sizes:
        t = time.perf_counter()
        make_raster(n)
        print(f"# {n:,} × {n:,} raster ready in {time.perf_counter() - t:.1f} s")
        exact = truth(n)
        runs: dict[str, list[dict]] = {case: [] for case in CASES}
        for _ in range(a.repeat):  # interleaved: a busy moment slows every method alike
            for case in CASES:
                out = subprocess.run([sys.executable, __file__, "--case", case, "--n", str(n)], stdout=subprocess.PIPE, text=True,
                                     check=True).stdout
                runs[case].append(json.loads(out.strip().splitlines()[-1]))
        med: dict[str, float] = {}
        for case, rs in runs.items():
            secs = sorted(r["seconds"] for r in rs)
            med[case] = secs[len(secs) // 2]
            r = rs[0]
            err = 0.0
            for pid, classes in exact.items():
                for k, v in classes.items():
                    got = r["areas"].get(pid, {}).get(str(k), 0.0)
                    err = max(err, abs(got - v) / v)
            peak = max(x["peak_mb"] for x in rs)
            print(f"{n:>7,} × {n:<7,} {case:<18} {med[case]:>8.2f} ({secs[0]:5.2f}–{secs[-1]:5.2f}) {peak:>8.0f} {err:>19.2e}")
        print(f"{'':>15} ratios: landplan / exactextract on 2 km tiles {med['landplan'] / med['exactextract_tiled']:.2f}×, "
              f"landplan / exactextract untiled {med['landplan'] / med['exactextract']:.2f}×")


if __name__ == "__main__":
    main()
