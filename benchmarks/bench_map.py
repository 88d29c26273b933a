"""How big the planner's map gets, how fast it is built, and how fast it opens and zooms in a browser.

Measures, on the Cần Thơ sample and on the 1,000,000-parcel benchmark scenario of bench_engine.py
(generated if missing; 16,384 affected parcels, 16,461 pieces):

  build       Result.map() + save_map(): seconds, and the file's size
  first frame navigation start until every layer is drawn and a frame painted (the page's own
              ``performance.now()``), in headless Chromium (Debian's, through Playwright), network blocked
  zoom        from a zoom's start (animated, as a wheel or button zooms) until the layers are redrawn
              at the new zoom and a frame painted; the median of zooming in and out three times each

against a peer measured in the same run on the same layers: the map a skilled folium user makes
(``folium.GeoJson`` per layer from the GeoDataFrames, ``prefer_canvas=True``, only the properties the
popups and tooltips show, a ``GeoJsonPopup`` on the parcels, tooltips on the land taken). Each figure
is the median of ``--repeat`` runs (a fresh browser page each); other users share this machine's
2 cores, so single runs are noisy.

    .venv/bin/python benchmarks/bench_map.py              # sample and 1M parcels (about 3 minutes)
    .venv/bin/python benchmarks/bench_map.py --no-big     # the sample only
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

FIRST_FRAME = """() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now()))))"""

#: Zoom in then out, animated; each time from the start of the zoom to a painted frame at the new zoom.
ZOOMS = """async (n) => {
    var map = window.landplan ? landplan.map : Object.values(window).find(v => v instanceof L.Map), times = [];
    function frame() { return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); }
    for (var i = 0; i < 2 * n; i++) {
        var t0 = performance.now(), done = new Promise(r => map.once('zoomend', r));
        map.setZoom(map.getZoom() + (i % 2 ? -1 : 1));
        await done; await frame();
        times.push(performance.now() - t0);
    }
    return times;
}"""


def _mb(path: Path) -> float:
    return path.stat().st_size / 1e6


def browser_times(html: Path, *, repeats: int, ready: str) -> tuple[float, float]:
    """Median first frame (s) over ``repeats`` fresh pages, and median zoom (s) over all their zooms."""
    from playwright.sync_api import sync_playwright
    from tests.browser import ARGS, CHROMIUM

    firsts, zooms = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        for _ in range(repeats):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            ctx.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page = ctx.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(html.resolve().as_uri(), timeout=120_000)
            page.wait_for_function(ready, timeout=120_000)
            firsts.append(page.evaluate(FIRST_FRAME) / 1000)
            zooms += [t / 1000 for t in page.evaluate(ZOOMS, 3)]
            assert not errors, errors
            ctx.close()
        browser.close()
    return statistics.median(firsts), statistics.median(zooms)


def peer_map(result: Any, context: Any) -> Any:
    """The same layers as a skilled folium user draws them: GeoJson per layer, canvas, popups and tooltips."""
    import folium

    from landplan import assets, landuse

    m = folium.Map(tiles=None, prefer_canvas=True)
    js, css = assets.leaflet()
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    b = result.footprints.to_crs("EPSG:4326").total_bounds
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])

    def layer(gdf: Any, name: str, style: Any, **kw: Any) -> None:
        folium.GeoJson(gdf.to_crs("EPSG:4326"), name=name, style_function=style, **kw).add_to(m)

    if context is not None and len(context):
        layer(context[["landuse", "geometry"]], "context", lambda f: {"color": "#c9b458", "weight": 0.3, "fillColor": "#f3f0d8", "fillOpacity": 1})
    pieces = result.pieces[["project", "landuse", "take_m2", "geometry"]].assign(color=lambda d: d["landuse"].map(landuse.color))
    layer(pieces, "takes", lambda f: {"color": f["properties"]["color"], "weight": 0.4, "fillColor": f["properties"]["color"], "fillOpacity": 0.9},
          tooltip=folium.GeoJsonTooltip(fields=["project", "landuse", "take_m2"]))
    rem = result.remnants[["parcel_id", "area_m2", "flag", "geometry"]]
    layer(rem, "remnants", lambda f: {"color": "#5f6b6d", "weight": 0.8, "fillColor": "#b80f0a" if f["properties"]["flag"] else "#ffffff",
                                      "fillOpacity": 0.9})
    per = result.parcel_totals.set_index("parcel_id")[["take_m2", "take_fraction", "remnant_m2", "remnant_flag"]]
    aff = result.affected[["parcel_id", "landuse", "owner", "parcel_area_m2", "geometry"]].join(per, on="parcel_id")
    layer(aff, "parcels", lambda f: {"color": "#333333", "weight": 0.8, "fillOpacity": 0},
          popup=folium.GeoJsonPopup(fields=["parcel_id", "landuse", "owner", "parcel_area_m2", "take_m2", "take_fraction", "remnant_m2", "remnant_flag"]))
    folium.LayerControl().add_to(m)
    return m


def measure(name: str, result: Any, folder: Path, *, repeats: int, context_for_peer: Any) -> list[tuple[str, str, str, str]]:
    from landplan.webmap import save_map

    ours, theirs = folder / f"{name}_landplan.html", folder / f"{name}_folium.html"
    build, peer_build = [], []
    for _ in range(repeats):
        t = time.perf_counter()
        save_map(result.map(self_contained=True), ours)
        build.append(time.perf_counter() - t)
        t = time.perf_counter()
        peer_map(result, context_for_peer).save(str(theirs))
        peer_build.append(time.perf_counter() - t)
    first, zoom = browser_times(ours, repeats=repeats, ready="() => window.landplan && window.landplan.ready")
    p_first, p_zoom = browser_times(theirs, repeats=repeats, ready="() => Object.values(window).some(v => v instanceof L.Map)")
    b, pb = statistics.median(build), statistics.median(peer_build)
    return [
        (name, "build (s)", f"{b:.2f}", f"{pb:.2f} ({pb / b:.1f}×)"),
        (name, "map.html (MB)", f"{_mb(ours):.1f}", f"{_mb(theirs):.1f} ({_mb(theirs) / _mb(ours):.1f}×)"),
        (name, "first frame (s)", f"{first:.2f}", f"{p_first:.2f} ({p_first / first:.1f}×)"),
        (name, "zoom (s)", f"{zoom:.2f}", f"{p_zoom:.2f} ({p_zoom / zoom:.1f}×)"),
    ]


def _context(result: Any) -> Any:
    """The rice land around the projects that landplan's map draws (for the peer to draw the same)."""
    from landplan.webmap import CONTEXT_MARGIN_M, _surroundings

    return _surroundings(result, result.view(), CONTEXT_MARGIN_M).get("context")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-big", action="store_true", help="only the sample")
    args = ap.parse_args()

    import landplan
    from landplan.sample import write_sample_scenario

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        r = landplan.run(write_sample_scenario(t / "sample"))
        rows += measure(f"sample ({len(r.affected):,} parcels)", r, t, repeats=args.repeat, context_for_peer=_context(r))
        if not args.no_big:
            from benchmarks.bench_engine import make_layers, scenario_text

            paths = make_layers(1_000_000)
            big = paths["projects"].parent / "scenario_gpkg.toml"
            big.write_text(scenario_text(paths["gpkg"], paths["projects"]), encoding="utf-8")
            rb = landplan.run(big)
            rows += measure(f"1M-parcel run ({len(rb.affected):,} parcels, {len(rb.pieces):,} pieces)", rb, t,
                            repeats=args.repeat, context_for_peer=_context(rb))
    print("| map | measure | landplan | folium peer (peer / landplan) |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
