"""Take a screenshot of a landplan map.html in headless Chromium (for the README and for checking by eye).

Usage: python scripts/screenshot_map.py MAP.html OUT.png [--center LAT LON --zoom Z]
The README's picture: python scripts/screenshot_map.py output/demo/map.html docs/map.png --center 10.045 105.705 --zoom 14
"""

from __future__ import annotations

import argparse
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def screenshot(html: Path, png: Path, *, center: tuple[float, float] | None = None, zoom: int | None = None,
               width: int = 1200, height: int = 800) -> list[str]:
    """Render ``html`` and save a PNG; return the console errors seen."""
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": width, "height": height})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(html.resolve().as_uri())
        page.wait_for_timeout(1500)
        if center and zoom:
            page.evaluate("([lat, lon, z]) => { Object.values(window).find(v => v instanceof L.Map).setView([lat, lon], z); }",
                          [center[0], center[1], zoom])
            page.wait_for_timeout(1000)
        page.screenshot(path=str(png))
        browser.close()
    return errors


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("html", type=Path)
    ap.add_argument("png", type=Path)
    ap.add_argument("--center", type=float, nargs=2, metavar=("LAT", "LON"))
    ap.add_argument("--zoom", type=int)
    a = ap.parse_args()
    errs = screenshot(a.html, a.png, center=tuple(a.center) if a.center else None, zoom=a.zoom)
    for e in errs:
        print("console error:", e)
