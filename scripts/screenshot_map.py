"""Screenshots of a landplan map.html in headless Chromium, as a planner sees it on a desktop, a tablet and a phone.

Usage: python scripts/screenshot_map.py MAP.html OUT_DIR [--center LAT LON --zoom Z] [--parcel ID]
Writes OUT_DIR/map_desktop.png (1280 × 800), map_tablet.png (768 × 1024) and map_phone.png (390 × 844),
each with the popup of a parcel open (by default the largest parcel whose remainder fails a minimum),
and, when the run has a cost estimate, map_costs.png: the desktop popup scrolled to the parcel's estimate.
The README's pictures (after `make demo`):

    .venv/bin/python scripts/screenshot_map.py output/demo/map.html docs --parcel 1922-0027
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {"desktop": (1280, 800), "tablet": (768, 1024), "phone": (390, 844)}

#: Open a parcel's popup: the one named, or the largest whose remainder fails a minimum.
OPEN_PARCEL = """([pid, lat, lon, z]) => {
    var P = landplan.data.layers.parcels, best = -1;
    for (var i = 0; i < P.n; i++) {
        if (pid ? P.id[i] === pid : (P.flag[i] && (best < 0 || P.area[i] > P.area[best]))) best = i;
    }
    if (lat != null) landplan.map.setView([lat, lon], z, {animate: false});
    else if (best >= 0) landplan.map.fitBounds(landplan.packed.parcels.featureBounds(best), {animate: false, maxZoom: 17});
    if (best >= 0) {
        var c = landplan.packed.parcels.featureBounds(best).getCenter();
        if (lat != null && !landplan.map.getBounds().contains(c)) return -1;
        landplan.openParcel(best);
    }
    return best;
}"""


def screenshots(html: Path, out: Path, *, center: tuple[float, float] | None = None, zoom: int | None = None,
                parcel: str | None = None) -> list[str]:
    """Write the three screenshots into ``out``; return the console errors seen."""
    errors: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, (width, height) in SIZES.items():
            context = browser.new_context(viewport={"width": width, "height": height})
            context.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "ERR_FAILED" not in m.text else None)  # tiles refused
            page.goto(html.resolve().as_uri())
            page.wait_for_function("() => window.landplan && window.landplan.ready")
            lat, lon = center if center else (None, None)
            page.evaluate(OPEN_PARCEL, [parcel, lat, lon, zoom])
            page.wait_for_timeout(700)
            page.screenshot(path=str(out / f"map_{name}.png"))
            if name == "desktop" and page.evaluate("() => !!document.querySelector('.lp-cost-head')"):
                # the popup scrolled to the parcel's cost estimate, beside the panel's budget
                page.evaluate("() => { var c = document.querySelector('.leaflet-popup-content'); c.scrollTop = c.scrollHeight; }")
                page.wait_for_timeout(200)
                page.screenshot(path=str(out / "map_costs.png"))
            context.close()
        browser.close()
    return errors


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html", type=Path)
    ap.add_argument("out", type=Path, help="folder for map_desktop.png, map_tablet.png, map_phone.png")
    ap.add_argument("--center", type=float, nargs=2, metavar=("LAT", "LON"))
    ap.add_argument("--zoom", type=int, default=16)
    ap.add_argument("--parcel", help="open this parcel's popup")
    a = ap.parse_args()
    for e in screenshots(a.html, a.out, center=tuple(a.center) if a.center else None, zoom=a.zoom, parcel=a.parcel):
        print("console error:", e)
