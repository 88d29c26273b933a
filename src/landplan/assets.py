"""Web assets for the HTML map, read from installed packages and inlined: nothing is downloaded.

Leaflet comes from the ``xstatic-leaflet`` Python package. The controls (fullscreen, distance
and area measuring, search) come from npm packages that ``make`` installs from ``web/package.json``
(locked) into ``<venv>/share/landplan/web`` at install time; ``LANDPLAN_WEB_ASSETS`` may point at
another ``node_modules`` folder. A control whose assets are missing is left out, with a warning.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import sys
from functools import cache
from pathlib import Path

log = logging.getLogger("landplan")

#: Each control's script and stylesheet inside node_modules.
PLUGINS: dict[str, tuple[str, str]] = {
    "fullscreen": ("leaflet.fullscreen/dist/Control.FullScreen.umd.js", "leaflet.fullscreen/dist/Control.FullScreen.css"),
    "measure": ("leaflet.polylinemeasure/Leaflet.PolylineMeasure.js", "leaflet.polylinemeasure/Leaflet.PolylineMeasure.css"),
    "search": ("leaflet-search/dist/leaflet-search.min.js", "leaflet-search/dist/leaflet-search.min.css"),
    "geoman": ("@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.min.js", "@geoman-io/leaflet-geoman-free/dist/leaflet-geoman.css"),
}


def data_uri(data: bytes, mime: str) -> str:
    """A ``data:`` URI holding ``data``."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def node_modules() -> Path | None:
    """The folder holding the npm-installed controls, or ``None`` when they are not installed."""
    env = os.environ.get("LANDPLAN_WEB_ASSETS")
    candidates = [Path(env)] if env else []
    candidates.append(Path(sys.prefix) / "share" / "landplan" / "web" / "node_modules")
    for c in candidates:
        if c.is_dir():
            return c
    return None


def _inline_css_urls(css: str, folder: Path) -> str:
    """Replace ``url(relative.png)`` in a stylesheet with data URIs of the files beside it."""
    def repl(m: re.Match[str]) -> str:
        ref = m.group(2)
        if ref.startswith(("data:", "http:", "https:", "#")):
            return m.group(0)
        f = (folder / ref).resolve()
        if not f.is_file():
            return m.group(0)
        mime = {"png": "image/png", "svg": "image/svg+xml", "gif": "image/gif"}.get(f.suffix.lstrip(".").lower(), "application/octet-stream")
        return f"url({data_uri(f.read_bytes(), mime)})"

    return re.sub(r"""url\((['"]?)([^'")]+)\1\)""", repl, css)


@cache
def leaflet() -> tuple[str, str]:
    """Leaflet's script and stylesheet (images inlined) as data URIs."""
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    css = _inline_css_urls((base / "leaflet.css").read_text(encoding="utf-8"), base)
    return (data_uri((base / "leaflet.js").read_bytes(), "text/javascript"),
            data_uri(css.encode("utf-8"), "text/css"))


@cache
def plugin(name: str) -> tuple[str, str] | None:
    """A control's script and stylesheet as data URIs, or ``None`` (with a warning) when not installed."""
    root = node_modules()
    js_rel, css_rel = PLUGINS[name]
    if root is None or not (root / js_rel).is_file():
        log.warning("map: the %s control is left out: its web assets are not installed (run `make`, which needs npm)", name)
        return None
    js = (root / js_rel).read_bytes()
    css_path = root / css_rel
    css = _inline_css_urls(css_path.read_text(encoding="utf-8"), css_path.parent)
    return data_uri(js, "text/javascript"), data_uri(css.encode("utf-8"), "text/css")
