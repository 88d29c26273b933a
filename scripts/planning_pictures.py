"""Draw the README's pictures of least-impact routing from the embedded sample.

    .venv/bin/python scripts/planning_pictures.py     # writes docs/route_chart.png and docs/route_map.png (needs Chromium)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def main() -> None:
    from playwright.sync_api import sync_playwright
    from tests.browser import ARGS, CHROMIUM

    from landplan import printing
    from landplan.planning import routing
    from landplan.sample import write_sample_scenario
    from landplan.webmap import save_map

    docs = ROOT / "docs"
    with tempfile.TemporaryDirectory() as tmp:
        routes = routing.route(write_sample_scenario(Path(tmp) / "sample"), project="vanh_dai_tay")
        fig = routes.chart()
        with printing.drawing():
            fig.savefig(docs / "route_chart.png", dpi=110, pil_kwargs={"compress_level": 9})
        page_path = save_map(routes.map(self_contained=True), Path(tmp) / "map.html")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort())
            page.goto(page_path.resolve().as_uri())
            page.wait_for_function("() => window.LandplanAlternatives && window.LandplanAlternatives.shown")
            page.click('.lp-alt-btn[data-alt="1"]')
            page.wait_for_timeout(500)
            page.screenshot(path=str(docs / "route_map.png"))
            browser.close()
    print("wrote docs/route_chart.png, docs/route_map.png")


if __name__ == "__main__":
    main()
