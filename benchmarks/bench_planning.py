"""Benchmark routing and siting over a 20 km × 10 km area at 10 m, and the exact measurement of each candidate.

Generates (cached in benchmarks/.data/) a synthetic cadastre over [0, 20 km] × [0, 10 km] (EPSG:5897):
canal blocks of about 600 × 400 m cut into strips 12–45 m wide, two rows deep, mostly rice (LUC,
LUK) with homesteads (ONT, 30 m) and gardens (CLN) along the canals in a third of the strips, and
villages (residential) scattered; a road across it. Then, in this process, median of ``--repeats``:

- routing: ``search_routes`` between end points 18 km apart (length limit 1.15 ×: the reachable
  ellipse spans the whole 20 × 10 km area; 2,000 × 1,000+ cells of 10 m; a minimum radius of 300 m);
  the peer is a skilled user's bare least-cost path on the same grid (the parcels rasterised at 10 m
  with rasterio, a rice cost, one ``MCP_Geometric`` run: no corridor width, no length trade-off, no
  smoothing, no exact measurement);
- siting: ``search_sites`` of a 250 ha hub (1.5 : 1) at four orientations over the same area, every
  placement on the 10 m grid; the peer evaluates the same placements of the unturned rectangle with
  ``scipy.ndimage.uniform_filter`` on the rasterised rice (one orientation, no constraints, no road);
- the exact measurement of one candidate (``landplan.run`` on its scenario file), which every
  candidate costs on top of the search.

The machine is shared with other developers' work (2 cores): figures move from run to run; the
median of the repeats is printed with the range.

    .venv/bin/python benchmarks/bench_planning.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = HERE / ".data"
W_M, H_M = 20_000.0, 10_000.0
X0, Y0 = 560_000.0, 1_100_000.0


def make_cadastre(seed: int = 7) -> Path:
    """The synthetic cadastre and its scenario (cached); returns the scenario's path."""
    import geopandas as gpd
    import pyogrio
    import shapely

    folder = DATA / "planning"
    scenario = folder / "planning.toml"
    if scenario.exists():
        return scenario
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    boxes, codes = [], []
    villages = rng.uniform([0, 0], [W_M, H_M], size=(25, 2))
    bx = 0.0
    while bx < W_M:
        bw = min(rng.uniform(550, 650), W_M - bx)
        by = 0.0
        while by < H_M:
            bh = min(rng.uniform(350, 450), H_M - by)
            boxes.append((bx, by, bx + bw, by + 10))  # canal along the block's south side
            codes.append("SON")
            y_mid = by + 10 + (bh - 10) / 2
            for y_lo, y_hi, front in ((by + 10, y_mid, by + 10), (y_mid, by + bh, by + bh)):
                x = bx
                while x < bx + bw - 1:
                    sw = min(rng.uniform(12, 45), bx + bw - x)
                    near = np.min(np.hypot(villages[:, 0] - (x + sw / 2), villages[:, 1] - y_mid)) < 400
                    if near and rng.random() < 0.7:
                        boxes.append((x, y_lo, x + sw, y_hi))
                        codes.append("ONT")
                    elif rng.random() < 0.33:
                        depth = 30.0
                        if front == y_lo:
                            boxes += [(x, y_lo, x + sw, y_lo + depth), (x, y_lo + depth, x + sw, y_hi)]
                        else:
                            boxes += [(x, y_hi - depth, x + sw, y_hi), (x, y_lo, x + sw, y_hi - depth)]
                        codes += ["ONT", str(rng.choice(["LUC", "LUC", "CLN"]))]
                    else:
                        boxes.append((x, y_lo, x + sw, y_hi))
                        codes.append(str(rng.choice(["LUC"] * 6 + ["LUK", "CLN", "NTS"])))
                    x += sw
            by += bh
        bx += bw
    arr = np.array(boxes) + np.array([X0, Y0, X0, Y0])
    geoms = shapely.box(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
    n = len(geoms)
    parcels = gpd.GeoDataFrame({"pid": [f"T{i:07d}" for i in range(n)], "lu": codes, "chu": [""] * n}, geometry=geoms, crs="EPSG:5897")
    gpkg = folder / "planning.gpkg"
    pyogrio.write_dataframe(parcels, gpkg, layer="parcels", driver="GPKG")
    road = shapely.LineString([(X0 + 1000, Y0 + 5000), (X0 + 7000, Y0 + 5600), (X0 + 13000, Y0 + 4400), (X0 + 19000, Y0 + 5000)])
    pyogrio.write_dataframe(gpd.GeoDataFrame({"k": [1]}, geometry=[road], crs="EPSG:5897"), gpkg, layer="road", driver="GPKG")
    scenario.write_text(
        '[scenario]\nname = "bench planning"\ncrs = "EPSG:5897"\n\n[parcels]\npath = "planning.gpkg"\nlayer = "parcels"\n'
        'id = "pid"\nlanduse = "lu"\nowner = "chu"\n\n[[projects]]\nid = "road"\nkind = "centreline"\npath = "planning.gpkg"\n'
        'layer = "road"\nwidth_m = 80\n', encoding="utf-8")
    print(f"wrote {n:,} parcels into {gpkg}", file=sys.stderr)
    return scenario


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):6.2f} s ({min(xs):.2f}–{max(xs):.2f})"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()

    import shapely
    from rasterio.features import rasterize
    from scipy.ndimage import uniform_filter
    from skimage.graph import MCP_Geometric

    from landplan import layers
    from landplan.planning import costsurface as cs
    from landplan.planning.routing import RouteSettings, search_area, search_routes
    from landplan.planning.siting import SiteSettings, search_sites
    from landplan.report import RunReport
    from landplan.scenario import load_scenario

    sc = load_scenario(make_cadastre())
    pts = [(X0 + 1000, Y0 + 5000), (X0 + 19000, Y0 + 5000)]
    rs = RouteSettings(width_m=80, min_radius_m=300, resolution_m=10, candidates=5)
    t = time.perf_counter()
    parcels = layers.read_parcels(sc.parcels, sc.crs, mask=shapely.box(X0, Y0, X0 + W_M, Y0 + H_M), report=RunReport())
    parcels = parcels[~parcels["neighbour"].to_numpy(dtype=bool)]
    read_s = time.perf_counter() - t
    reach, known = np.asarray(search_area(pts, rs)), np.asarray(parcels.total_bounds)
    pad = rs.width_m + 2 * rs.resolution_m
    grid = cs.grid_for((max(reach[0], known[0] - pad), max(reach[1], known[1] - pad), min(reach[2], known[2] + pad),
                        min(reach[3], known[3] + pad)), rs.resolution_m)  # as search_routes grids it
    print(f"cadastre: {len(parcels):,} parcels read in {read_s:.2f} s; routing grid {grid.rows:,} × {grid.cols:,} cells of 10 m "
          f"({grid.rows * grid.res_m / 1000:.1f} × {grid.cols * grid.res_m / 1000:.1f} km)")

    route_s, peer_route_s, site_s, peer_site_s = [], [], [], []
    found = None
    sites = None
    for _ in range(args.repeats):
        t = time.perf_counter()
        found = search_routes(parcels, pts, rs)
        route_s.append(time.perf_counter() - t)

        t = time.perf_counter()
        rice = rasterize(((g, 1) for g, c in zip(parcels.geometry.values, parcels["landuse"]) if c in ("LUC", "LUK")),
                         out_shape=grid.shape, transform=grid.transform, fill=0, dtype="uint8")
        mcp = MCP_Geometric(rice.astype(float) * 80.0 + 1.0, fully_connected=True, sampling=(10.0, 10.0))
        a, b = grid.cell_of(*pts[0]), grid.cell_of(*pts[1])
        mcp.find_costs([a], [b])
        mcp.traceback(b)
        peer_route_s.append(time.perf_counter() - t)

        area = shapely.box(X0, Y0, X0 + W_M, Y0 + H_M)
        road = shapely.LineString([(X0 + 1000, Y0 + 5000), (X0 + 19000, Y0 + 5000)])
        t = time.perf_counter()
        sites = search_sites(parcels, area, SiteSettings(area_m2=2_500_000, aspect=1.5, resolution_m=10), road=road)
        site_s.append(time.perf_counter() - t)

        t = time.perf_counter()
        g2 = cs.grid_for(area.bounds, 10.0)
        rice2 = rasterize(((g, 1) for g, c in zip(parcels.geometry.values, parcels["landuse"]) if c in ("LUC", "LUK")),
                          out_shape=g2.shape, transform=g2.transform, fill=0, dtype="uint8").astype("float32")
        length = (2_500_000 * 1.5) ** 0.5
        uniform_filter(rice2, size=(round(2_500_000 / length / 10), round(length / 10)), mode="constant")
        peer_site_s.append(time.perf_counter() - t)
    assert found is not None and sites is not None

    # the exact measurement of one candidate: landplan.run on its scenario file
    from landplan import run
    from landplan.planning.alternatives import Alternative, alternative_scenario, write_candidates

    measure_s = []
    with tempfile.TemporaryDirectory() as tmp:
        import geopandas as gpd

        folder = Path(tmp)
        c = found.candidates[0]
        write_candidates({"route_1": gpd.GeoDataFrame({"k": [1]}, geometry=[c.line], crs=sc.crs)}, folder)
        alt = Alternative("route_1", "r1", "r1", {"kind": "centreline", "path": str(folder / "candidates.gpkg"), "layer": "route_1",
                                                  "width_m": 80.0})
        path = alternative_scenario(sc, alt, folder)
        for _ in range(args.repeats):
            t = time.perf_counter()
            res = run(path)
            measure_s.append(time.perf_counter() - t)
    print(f"machine: 2 cores shared with other developers' work; median of {args.repeats} (range)")
    print(f"routing search (20 × 10 km, 10 m, λ sweep, R ≥ 300 m): {_median(route_s)}   peer (one bare MCP): {_median(peer_route_s)}"
          f"   ratio {statistics.median(route_s) / statistics.median(peer_route_s):.1f}×")
    print(f"  {len(found.candidates)} candidates: " + ", ".join(f"{x.length_m / 1000:.2f} km / {x.estimated_rice_m2 / 1e4:.1f} ha"
                                                              for x in found.candidates))
    print(f"siting search (250 ha, 4 orientations, {sites.evaluated:,} placements): {_median(site_s)}   "
          f"peer (uniform_filter, 1 orientation): {_median(peer_site_s)}   ratio {statistics.median(site_s) / statistics.median(peer_site_s):.1f}×")
    print(f"exact measurement of one route candidate (landplan.run, {int(res.approvals['parcels_affected'].iloc[0]):,} parcels): "
          f"{_median(measure_s)} each")


if __name__ == "__main__":
    main()
