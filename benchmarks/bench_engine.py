"""Benchmark the affected-area engine against the minimal pipeline and geopandas.overlay, in one run.

Generates synthetic parcel layers (250,000 and 1,000,000 parcels by default) as GeoPackage and
GeoParquet, with four long corridors (80 m right-of-way) and a 250 ha hub, then measures in fresh
subprocesses, each case on the same data:

  landplan   landplan.run(scenario): masked read → overlap check → take table → remnants → summary
  minimal    pyogrio masked read (Arrow) + STRtree query + vectorised intersection + area by land use
  overlay    geopandas.read_file (Arrow; read_parquet for GeoParquet) + geopandas.overlay(how="intersection")
             + area by land use

and prints wall time (work only, imports excluded; the median of ``--repeat`` fresh processes, with
the fastest and slowest), peak memory (max RSS of the subprocess) and the ratios landplan/minimal and
overlay/landplan (the latter also at worst: the fastest overlay against the slowest landplan). A
heavy case runs every road of a city-wide network (2,000+ centreline segments) against the largest
layer and reports how time grows with pieces.

    .venv/bin/python benchmarks/bench_engine.py                 # 250k and 1M parcels (several minutes)
    .venv/bin/python benchmarks/bench_engine.py --sizes 50000   # a quick look

Data is cached in benchmarks/.data/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
CRS = "EPSG:5897"
X0, Y0 = 540_000.0, 1_080_000.0
BLOCK = 100.0  # a canal block of 100 × 100 m holds 5 strips of 20 × 100 m (2,000 m² each)


# --- data -----------------------------------------------------------------------------------

def make_layers(n_parcels: int) -> dict[str, Path]:
    """Write the synthetic layers for ``n_parcels`` (cached); return their paths."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    import shapely

    folder = DATA / f"p{n_parcels}"
    paths = {"gpkg": folder / "parcels.gpkg", "parquet": folder / "parcels.parquet", "projects": folder / "projects.gpkg",
             "network": folder / "network.gpkg"}
    if all(p.exists() for p in paths.values()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    n_blocks = int(np.ceil(n_parcels / 5))
    side = int(np.ceil(np.sqrt(n_blocks)))
    k = np.arange(n_parcels)
    block, strip = k // 5, k % 5
    bx, by = block % side, block // side
    x0 = X0 + bx * BLOCK + strip * 20.0
    y0 = Y0 + by * BLOCK
    geoms = shapely.box(x0, y0, x0 + 20.0, y0 + BLOCK)
    rng = np.random.default_rng(7)
    codes = rng.choice(["LUC", "LUK", "CLN", "ONT", "NTS", "SON"], size=n_parcels, p=[0.55, 0.15, 0.12, 0.08, 0.06, 0.04])
    parcels = gpd.GeoDataFrame({"parcel_id": [f"T{i:07d}" for i in k], "landuse": codes}, geometry=geoms, crs=CRS)
    pyogrio.write_dataframe(parcels, paths["gpkg"], layer="parcels", driver="GPKG")
    # GeoParquet as it should be written for spatial reads: Hilbert-sorted, bbox covering, small row groups
    parcels.iloc[np.argsort(parcels.hilbert_distance())].to_parquet(paths["parquet"], write_covering_bbox=True, row_group_size=10_000)

    extent = side * BLOCK
    from shapely.geometry import LineString, box

    lines = [
        LineString([(X0 + 0.05 * extent, Y0 + 0.1 * extent), (X0 + 0.95 * extent, Y0 + 0.9 * extent)]),
        LineString([(X0 + 0.05 * extent, Y0 + 0.9 * extent), (X0 + 0.95 * extent, Y0 + 0.15 * extent)]),
        LineString([(X0 + 0.02 * extent, Y0 + 0.37 * extent), (X0 + 0.5 * extent, Y0 + 0.33 * extent), (X0 + 0.98 * extent, Y0 + 0.41 * extent)]),
        LineString([(X0 + 0.63 * extent, Y0 + 0.02 * extent), (X0 + 0.6 * extent, Y0 + 0.98 * extent)]),
    ]
    proj = gpd.GeoDataFrame({"project": [f"road{i}" for i in range(len(lines))], "width_m": 80.0}, geometry=lines, crs=CRS)
    cx, cy = X0 + 0.3 * extent, Y0 + 0.6 * extent
    hub = gpd.GeoDataFrame({"project": ["hub"]}, geometry=[box(cx, cy, cx + 1700.0, cy + 2_500_000.0 / 1700.0)], crs=CRS)
    pyogrio.write_dataframe(proj, paths["projects"], layer="roads", driver="GPKG")
    pyogrio.write_dataframe(hub, paths["projects"], layer="hub", driver="GPKG")

    # a city-wide network: streets every 1.3 km each way, cut into segments of about 1 km, 12 m wide
    segs = []
    step = 1300.0
    for pos in np.arange(X0 + 650.0, X0 + extent, step):
        ys = np.arange(Y0, Y0 + extent, 1000.0)
        segs += [LineString([(pos, a), (pos, min(a + 1000.0, Y0 + extent))]) for a in ys]
    for pos in np.arange(Y0 + 650.0, Y0 + extent, step):
        xs = np.arange(X0, X0 + extent, 1000.0)
        segs += [LineString([(a, pos), (min(a + 1000.0, X0 + extent), pos)]) for a in xs]
    net = gpd.GeoDataFrame({"project": "network", "width_m": 12.0, "seg": np.arange(len(segs))}, geometry=segs, crs=CRS)
    pyogrio.write_dataframe(net, paths["network"], layer="network", driver="GPKG")
    return paths


def make_corridors(paths: dict[str, Path], n_parcels: int, count: int, *, seed: int = 11) -> tuple[Path, Path]:
    """``count`` corridors (40 m right-of-way, 4–9 km, one bend) laid across parts of the layer, each its
    own project, as a city's planned roads are (not corner to corner); returns the layer's path and a
    scenario naming them all."""
    import geopandas as gpd
    import numpy as np
    import pyogrio
    from shapely.geometry import LineString

    side = int(np.ceil(np.sqrt(int(np.ceil(n_parcels / 5))))) * BLOCK
    rng = np.random.default_rng(seed)
    lines = []
    for _ in range(count):
        x, y = X0 + rng.uniform(0.1, 0.9) * side, Y0 + rng.uniform(0.1, 0.9) * side
        pts = [(x, y)]
        heading = rng.uniform(0, 2 * np.pi)
        for _ in range(2):
            length = rng.uniform(2000, 4500)
            heading += rng.uniform(-0.6, 0.6)
            x = float(np.clip(x + length * np.cos(heading), X0 + 0.02 * side, X0 + 0.98 * side))
            y = float(np.clip(y + length * np.sin(heading), Y0 + 0.02 * side, Y0 + 0.98 * side))
            pts.append((x, y))
        lines.append(LineString(pts))
    path = paths["projects"].parent / f"corridors_{count}.gpkg"
    if not path.exists():
        gdf = gpd.GeoDataFrame({"project": [f"c{i:03d}" for i in range(count)], "width_m": 40.0}, geometry=lines, crs=CRS)
        pyogrio.write_dataframe(gdf, path, layer="corridors", driver="GPKG")
    text = f'''[scenario]
name = "corridors"
crs = "{CRS}"

[parcels]
path = "{paths["gpkg"]}"
layer = "parcels"
id = "parcel_id"
landuse = "landuse"
'''
    for i in range(count):
        text += f'''
[[projects]]
id = "c{i:03d}"
kind = "centreline"
path = "{path}"
layer = "corridors"
where = "project = 'c{i:03d}'"
width_m = 40
'''
    sc = paths["projects"].parent / f"scenario_corridors_{count}.toml"
    sc.write_text(text, encoding="utf-8")
    return path, sc


def scenario_text(parcels: Path, projects: Path, network: Path | None = None, limit: int | None = None) -> str:
    layer = "" if parcels.suffix == ".parquet" else 'layer = "parcels"\n'
    text = f'''[scenario]
name = "benchmark"
crs = "{CRS}"

[parcels]
path = "{parcels}"
{layer}id = "parcel_id"
landuse = "landuse"
'''
    if network is not None:
        where = f'where = "seg < {limit}"\n' if limit else ""
        return text + f'''
[[projects]]
id = "network"
kind = "centreline"
path = "{network}"
layer = "network"
{where}width_m = 12
'''
    for i in range(4):
        text += f'''
[[projects]]
id = "road{i}"
kind = "centreline"
path = "{projects}"
layer = "roads"
where = "project = 'road{i}'"
width_m = 80
'''
    return text + f'''
[[projects]]
id = "hub"
kind = "polygon"
path = "{projects}"
layer = "hub"
'''


# --- the cases (each runs in its own process) -------------------------------------------------

def case_landplan(scenario: str) -> dict[str, float]:
    import landplan

    run = landplan.run  # imports the engine (landplan loads its modules on first use), outside the timing
    t, c = time.perf_counter(), time.process_time()
    r = run(scenario)
    dt, cpu = time.perf_counter() - t, time.process_time() - c  # CPU of every thread: the work, whatever the load
    return {"seconds": dt, "cpu_s": cpu, "pieces": float(len(r.pieces)), "rice_m2": float(r.approvals["rice_m2"].sum())}


def _footprints(scenario: str):
    """Footprints built the plain way (the same geometry landplan builds)."""
    import tomllib

    import geopandas as gpd
    import pyogrio
    import shapely

    sc = tomllib.loads(Path(scenario).read_text(encoding="utf-8"))
    rows = []
    for p in sc["projects"]:
        g = pyogrio.read_dataframe(p["path"], layer=p["layer"], where=p.get("where"))
        if p["kind"] == "centreline":
            merged = shapely.line_merge(shapely.union_all(g.geometry.values))
            fp = shapely.union_all(shapely.buffer(shapely.get_parts(merged), p["width_m"] / 2, cap_style="flat", join_style="mitre", mitre_limit=5.0))
        else:
            fp = shapely.union_all(g.geometry.values)
        rows.append({"project": p["id"], "geometry": fp})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS), sc["parcels"]["path"]


def _measure(fp, parcels, t: float) -> dict[str, float]:
    """The peers' common measurement of parcels already read: an STRtree, vectorised intersections, the
    rice total and the table by project and land use (what landplan's totals give); ``t`` the start."""
    import numpy as np
    import pandas as pd
    import shapely

    tree = shapely.STRtree(parcels.geometry.values)
    fi, pi = tree.query(fp.geometry.values, predicate="intersects")
    area = shapely.area(shapely.intersection(parcels.geometry.values[pi], fp.geometry.values[fi]))
    df = pd.DataFrame({"project": fp["project"].to_numpy()[fi], "landuse": parcels["landuse"].to_numpy()[pi], "area": area})
    df = df[df["area"] > 0]
    rice = float(df.loc[df["landuse"].isin(["LUC", "LUK", "LUN"]), "area"].sum())
    df.groupby(["project", "landuse"])["area"].sum()
    return {"seconds": time.perf_counter() - t, "pieces": float(np.count_nonzero(area > 0)), "rice_m2": rice}


def case_minimal(scenario: str) -> dict[str, float]:
    import pyogrio
    import shapely

    t = time.perf_counter()
    fp, path = _footprints(scenario)
    mask = shapely.union_all(fp.geometry.values)
    if path.endswith(".parquet"):
        import geopandas as gpd

        parcels = gpd.read_parquet(path, bbox=tuple(mask.bounds))
    else:
        parcels = pyogrio.read_dataframe(path, layer="parcels", mask=mask, use_arrow=True)
    return _measure(fp, parcels, t)


def case_minimal_per_footprint(scenario: str) -> dict[str, float]:
    """The skilled user's hand-written pipeline for many footprints: one Arrow read per footprint with that
    footprint as GDAL's spatial filter, features read twice dropped by FID, an STRtree, vectorised
    intersections."""
    import pandas as pd
    import pyogrio

    t = time.perf_counter()
    fp, path = _footprints(scenario)
    reads = [pyogrio.read_dataframe(path, layer="parcels", mask=g, use_arrow=True, fid_as_index=True) for g in fp.geometry.values]
    parcels = pd.concat(reads)
    parcels = parcels[~parcels.index.duplicated()]
    return _measure(fp, parcels, t)


def case_fullread(scenario: str) -> dict[str, float]:
    """Read the whole layer (Arrow), then an STRtree and vectorised intersections: no spatial filter."""
    import pyogrio

    t = time.perf_counter()
    fp, path = _footprints(scenario)
    parcels = pyogrio.read_dataframe(path, layer="parcels", use_arrow=True)
    return _measure(fp, parcels, t)


def case_overlay(scenario: str) -> dict[str, float]:
    import geopandas as gpd

    t = time.perf_counter()
    fp, path = _footprints(scenario)
    parcels = gpd.read_parquet(path) if path.endswith(".parquet") else gpd.read_file(path, layer="parcels")
    out = gpd.overlay(parcels, fp, how="intersection", keep_geom_type=True)
    out["area"] = out.area
    rice = float(out.loc[out["landuse"].isin(["LUC", "LUK", "LUN"]), "area"].sum())
    out.groupby(["project", "landuse"])["area"].sum()
    return {"seconds": time.perf_counter() - t, "pieces": float(len(out)), "rice_m2": rice}


CASES = {"landplan": case_landplan, "minimal": case_minimal, "overlay": case_overlay,
         "minimal_per_footprint": case_minimal_per_footprint, "fullread": case_fullread}


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM), which, unlike ru_maxrss, starts afresh at exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024.0
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _once(case: str, scenario: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--case", case, "--scenario", scenario],
                         stdout=subprocess.PIPE, text=True, check=True).stdout
    return dict(json.loads(out.strip().splitlines()[-1]))


def _summary(runs: list[dict[str, float]]) -> dict[str, float]:
    secs = sorted(r["seconds"] for r in runs)
    res = dict(runs[0])
    res.update(seconds=secs[len(secs) // 2], min_s=secs[0], max_s=secs[-1], peak_mb=max(r["peak_mb"] for r in runs))
    if "cpu_s" in res:
        res["cpu_s"] = statistics.median(r["cpu_s"] for r in runs)
    return res


def measure(case: str, scenario: str, repeat: int = 1) -> dict[str, float]:
    """Run one case ``repeat`` times, each in a fresh process; report the median time (with the
    fastest and slowest), the result and the largest peak memory."""
    return _summary([_once(case, scenario) for _ in range(repeat)])


def measure_interleaved(cases: list[str], scenario: str, repeat: int) -> dict[str, dict[str, float]]:
    """Every case ``repeat`` times in fresh processes, round by round (landplan, minimal, overlay,
    landplan, …), so that a busy moment of the machine slows each case alike."""
    runs: dict[str, list[dict[str, float]]] = {c: [] for c in cases}
    for _ in range(repeat):
        for c in cases:
            runs[c].append(_once(c, scenario))
    return {c: _summary(r) for c, r in runs.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[250_000, 1_000_000])
    ap.add_argument("--no-overlay", action="store_true", help="skip the geopandas.overlay baseline")
    ap.add_argument("--no-heavy", action="store_true", help="skip the city-wide network case")
    ap.add_argument("--corridors", type=int, nargs="*", default=[4, 16, 64, 256],
                    help="corridor counts of the scaling case (default 4 16 64 256; none to skip)")
    ap.add_argument("--repeat", type=int, default=3, help="fresh processes per case; the median time is shown (default 3)")
    ap.add_argument("--case", choices=list(CASES), help=argparse.SUPPRESS)
    ap.add_argument("--scenario", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.case:
        import geopandas  # noqa: F401

        import landplan  # noqa: F401 - imports are not part of the timing, in every case alike

        before = _peak_mb()
        res = CASES[a.case](a.scenario)
        res["peak_mb"] = _peak_mb()
        res["import_mb"] = before
        print(json.dumps(res))
        return

    print(f"median of {a.repeat} fresh process(es) per case; (fastest–slowest)")
    print(f"{'parcels':>9} {'format':<8} {'case':<9} {'seconds':>8} {'(range)':>13} {'peak MB':>8} {'pieces':>8}  rice m² (all agree?)")
    for n in a.sizes:
        t = time.perf_counter()
        paths = make_layers(n)
        print(f"# {n:,} parcels: data ready in {time.perf_counter() - t:.1f} s")
        for fmt in ("gpkg", "parquet"):
            sc = paths["projects"].parent / f"scenario_{fmt}.toml"
            sc.write_text(scenario_text(paths[fmt], paths["projects"]), encoding="utf-8")
            cases = [c for c in ("landplan", "minimal", "overlay") if not (c == "overlay" and a.no_overlay)]
            results = measure_interleaved(cases, str(sc), a.repeat)
            for case, r in results.items():
                rng = f"({r['min_s']:.2f}–{r['max_s']:.2f})"
                print(f"{n:>9,} {fmt:<8} {case:<9} {r['seconds']:>8.2f} {rng:>13} {r['peak_mb']:>8.0f} {int(r['pieces']):>8,}  {r['rice_m2']:,.3f}")
            lp, mn = results["landplan"], results["minimal"]
            agree = abs(lp["rice_m2"] - mn["rice_m2"]) <= 1e-9 * mn["rice_m2"]
            line = f"{'':>9} {fmt:<8} ratios    landplan/minimal time {lp['seconds'] / mn['seconds']:.2f}×, memory {lp['peak_mb'] / mn['peak_mb']:.2f}×"
            if "overlay" in results:
                ov = results["overlay"]
                line += (f"; overlay/landplan time {ov['seconds'] / lp['seconds']:.1f}× (at worst {ov['min_s'] / lp['max_s']:.1f}×), "
                         f"memory {ov['peak_mb'] / lp['peak_mb']:.1f}×")
                agree = agree and abs(ov["rice_m2"] - mn["rice_m2"]) <= 1e-9 * mn["rice_m2"]
            print(line + f"; rice areas agree to 1e-9: {agree}")

    if a.corridors:
        n = max(a.sizes)
        paths = make_layers(n)
        print(f"# corridors: 4 to {max(a.corridors)} corridors (40 m, 4–9 km, each its own project) across parts of {n:,} parcels "
              f"(GeoPackage); µs per piece, and each peer's time ÷ landplan's")
        print(f"  {'corridors':>9} {'pieces':>9} {'landplan':>9} {'µs/piece':>9}  " +
              "  ".join(f"{c:>22}" for c in ("minimal_per_footprint", "fullread", "overlay")))
        for count in a.corridors:
            _, sc = make_corridors(paths, n, count)
            cases = ["landplan", "minimal_per_footprint", "fullread"] + ([] if a.no_overlay else ["overlay"])
            res = measure_interleaved(cases, str(sc), a.repeat)
            lp = res["landplan"]
            peers = "  ".join(f"{res[c]['seconds']:>9.2f} s ({res[c]['seconds'] / lp['seconds']:>5.1f}×)" if c in res else f"{'':>22}"
                              for c in ("minimal_per_footprint", "fullread", "overlay"))
            # landplan sets slivers under its tolerance aside (listed, not taken): agreement to 1 m² in all
            agree = all(abs(res[c]["rice_m2"] - lp["rice_m2"]) <= 1.0 for c in res)
            print(f"  {count:>9,} {int(lp['pieces']):>9,} {lp['seconds']:>8.2f}s {1e6 * lp['seconds'] / max(lp['pieces'], 1):>9.1f}  {peers}"
                  f"  rice agrees (±1 m²): {agree}")

    if not a.no_heavy:
        n = max(a.sizes)
        paths = make_layers(n)
        import pyogrio

        total = pyogrio.read_info(paths["network"], layer="network")["features"]
        print(f"# heavy: city-wide network of {total:,} segments (12 m) against {n:,} parcels (GeoPackage)")
        for limit in sorted({total // 8, total // 4, total // 2, total}):
            sc = paths["network"].parent / f"scenario_net_{limit}.toml"
            sc.write_text(scenario_text(paths["gpkg"], paths["projects"], paths["network"], limit), encoding="utf-8")
            r = measure("landplan", str(sc), a.repeat)
            print(f"  {limit:>6,} segments  {int(r['pieces']):>9,} pieces  {r['seconds']:>7.2f} s  {r['peak_mb']:>6.0f} MB  "
                  f"{1e6 * r['seconds'] / max(r['pieces'], 1):.1f} µs/piece")


if __name__ == "__main__":
    main()
