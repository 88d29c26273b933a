"""Drive Debian's Chromium with Playwright, as a planner would open the map: no network at all."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


@dataclass
class Page:
    """A loaded map page and what the browser reported while loading and using it."""

    page: Any
    errors: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def js(self, script: str, arg: Any = None) -> Any:
        return self.page.evaluate(script, arg)


# The page's map, its overlays by name (as the layer control lists them) and their feature counts.
FIND = """
window.__lp = {map: landplan.map, layer: n => landplan.overlays[n] || null, count: n => landplan.count(n)};
null;  // return nothing: Playwright would try to serialise the whole map
"""


@contextmanager
def open_map(html: Path, *, width: int = 1200, height: int = 800) -> Iterator[Page]:
    """Open ``html`` in headless Chromium with every non-local request refused (downloads accepted)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        context = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True)
        result = Page(page=None)

        def route(r: Any) -> None:
            if r.request.url.startswith(("file:", "data:")):
                r.continue_()
            else:
                result.blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        result.page = page
        page.on("console", lambda m: result.errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: result.errors.append(str(e)))
        page.on("dialog", lambda d: (result.errors.append(f"dialog: {d.message}"), d.dismiss()))
        page.goto(html.resolve().as_uri())
        page.wait_for_function("() => window.landplan && window.landplan.ready")
        page.evaluate(FIND)
        page.wait_for_timeout(300)
        try:
            yield result
        finally:
            browser.close()
