"""The alternatives map: one HTML page where alternatives are switched and their figures read side by side.

A variant of the planner's map (:mod:`landplan.webmap`: the same page skeleton, inlined Leaflet, plain
background that needs no network, escaped text). Each alternative is a layer of its footprint and
the land it takes coloured by land use; a panel holds the comparison table, one column per
alternative, whose header buttons switch the alternative shown; the other alternatives' outlines can
stay drawn for reference. Every text reaches the page HTML-escaped or as JSON data put in as text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .. import landuse
from ..numfmt import format_number
from ..palette import PROJECT_COLORS

if TYPE_CHECKING:
    import folium

    from ..pipeline import Result
    from .alternatives import Comparison

_WEB = Path(__file__).resolve().parents[1] / "web"

WORDS: dict[str, dict[str, str]] = {
    "vi": {"title": "So sánh phương án", "panel": "Các phương án", "figure": "Chỉ tiêu", "outlines": "Hiện ranh giới các phương án khác",
           "show": "Hiện phương án này", "plain": "Nền trơn (không cần mạng)", "osm": "Bản đồ OpenStreetMap",
           "note": "Mỗi phương án được đo chính xác bằng cùng quy tắc như lệnh landplan run.", "taken": "thu hồi"},
    "en": {"title": "Alternatives compared", "panel": "Alternatives", "figure": "Figure", "outlines": "Show the other alternatives' outlines",
           "show": "Show this alternative", "plain": "Plain background (no network)", "osm": "OpenStreetMap",
           "note": "Each alternative is measured exactly with the same rules as landplan run.", "taken": "taken"},
}

#: Rows of the side-by-side table: column, decimals (None: text).
ROWS: tuple[tuple[str, int | None], ...] = (
    ("length_m", 0), ("distance_road_m", 0), ("footprint_ha", 2), ("take_ha", 2), ("rice_ha", 2), ("luc_ha", 2), ("luk_ha", 2),
    ("other_agriculture_ha", 2), ("residential_ha", 2), ("infrastructure_ha", 2), ("water_ha", 2), ("other_ha", 2),
    ("parcels_affected", 0), ("households_affected", 0), ("remnants_flagged", 0), ("cost", 0), ("rice_saved_ha", 2),
    ("extra_length_m", 0), ("extra_distance_m", 0), ("approval_authority", None),
)


def _takes_json(result: Result, project: str | None, lang: str) -> Any:
    """The land a project takes, coloured by land use, as GeoJSON (code, land-use name and area as text)."""
    from ..webmap import feature_collection

    pieces = result.pieces if project is None else result.pieces[result.pieces["project"] == project]
    if pieces.empty:
        return {"type": "FeatureCollection", "features": []}
    return json.loads(feature_collection(pieces, {
        "lu": list(pieces["landuse"].astype(str)),
        "name": [landuse.name(c, lang) for c in pieces["landuse"].astype(str)],
        "area": [f"{format_number(v, 0, lang)} m²" for v in pieces["take_m2"].to_numpy(dtype=float)],
        "parcel": list(pieces["parcel_id"].astype(str)),
    }))


def _footprint_json(result: Result, project: str | None) -> Any:
    from ..webmap import feature_collection

    fp = result.footprints if project is None else result.footprints[result.footprints["project"] == project]
    return json.loads(feature_collection(fp, {}))


def _cell(value: Any, decimals: int | None, lang: str) -> str:
    if decimals is None:
        return "" if value is None or (isinstance(value, float) and not np.isfinite(value)) else str(value)
    if value is None or (isinstance(value, (float, np.floating)) and not np.isfinite(value)):
        return "–"
    return format_number(float(value), decimals, lang)


def _table_html(table: pd.DataFrame, labels: list[str], colors: list[str], *, lang: str, price_unit: str = "") -> str:
    """The side-by-side table: a header row of buttons (one per alternative), one row per figure."""
    from ..webmap import escape_html
    from .alternatives import HEADERS

    w = WORDS[lang]
    i = 0 if lang == "vi" else 1
    heads = "".join(
        f'<th scope="col"><button type="button" class="lp-alt-btn" data-alt="{k}" aria-pressed="{"true" if k == 0 else "false"}" '
        f'title="{escape_html(w["show"])}"><span class="lp-alt-swatch" style="border-color:{escape_html(c)}"></span>{escape_html(lab)}</button></th>'
        for k, (lab, c) in enumerate(zip(labels, colors)))
    rows = []
    for col, dec in ROWS:
        if col not in table or (dec is not None and not np.isfinite(pd.to_numeric(table[col], errors="coerce")).any()):
            continue
        head = HEADERS.get(col, (col, col))[i]
        if col == "cost" and price_unit:
            head = f"{head} ({price_unit})"
        cells = "".join(f'<td data-alt="{k}">{escape_html(_cell(v, dec, lang))}</td>' for k, v in enumerate(table[col].tolist()))
        rows.append(f"<tr><th scope=\"row\">{escape_html(head)}</th>{cells}</tr>")
    return (f'<table class="lp-alt-table"><thead><tr><th scope="col">{escape_html(w["figure"])}</th>{heads}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


_CSS = """
html, body { margin: 0; height: 100%; font-family: "DejaVu Sans", Arial, sans-serif; }
.folium-map { position: absolute; top: 0; bottom: 0; left: 0; right: min(680px, 50vw); }
#lp-alt-panel { position: absolute; top: 0; bottom: 0; right: 0; width: min(680px, 50vw); overflow: auto; background: #fff;
  border-left: 1px solid #999; padding: 8px 10px; box-sizing: border-box; font-size: 13px; }
#lp-alt-panel h1 { font-size: 16px; margin: 4px 0 8px; }
.lp-alt-table { border-collapse: collapse; width: 100%; }
.lp-alt-table th, .lp-alt-table td { border-bottom: 1px solid #ddd; padding: 3px 4px; text-align: right; vertical-align: top; }
.lp-alt-table th[scope=row] { text-align: left; font-weight: normal; min-width: 11em; }
.lp-alt-table td.lp-on, .lp-alt-table th.lp-on { background: #fff6d5; font-weight: bold; }
.lp-alt-btn { font: inherit; font-size: 12px; padding: 3px 5px; cursor: pointer; background: #f4f4f4; border: 1px solid #999; border-radius: 3px; }
.lp-alt-btn[aria-pressed=true] { background: #ffe58a; border-color: #7a5b00; }
.lp-alt-btn:focus-visible { outline: 3px solid #1f618d; outline-offset: 1px; }
.lp-alt-swatch { display: inline-block; width: 10px; height: 10px; border: 3px solid; margin-right: 4px; vertical-align: -2px; }
.lp-alt-note { color: #555; font-size: 12px; }
@media (max-width: 760px) {
  .folium-map { right: 0; bottom: 45vh; }
  #lp-alt-panel { top: auto; height: 45vh; width: 100%; border-left: 0; border-top: 1px solid #999; }
}
"""


def results_map(results: Mapping[str, Result], table: pd.DataFrame, *, lang: str = "vi", self_contained: bool = False,
                names: Mapping[str, str] | None = None, title: str | None = None, price_unit: str = "") -> folium.Map:
    """The alternatives map of ``results`` (label → Result) with ``table`` (one row per alternative, in the
    same order; :func:`~landplan.planning.alternatives.compare_results`)."""
    import folium

    from ..webmap import _PLAIN_TILE, _after_map, _macro, _planner_map, _raw, escape_html, script_json

    lang = "en" if lang == "en" else "vi"
    w = WORDS[lang]
    labels = list(results)
    table = table.drop_duplicates("alternative").set_index("alternative").loc[labels].reset_index()
    shown = [f"{lab} – {names[lab]}" if names and names.get(lab) and names[lab] != lab else lab for lab in labels]
    colors = [PROJECT_COLORS[k % len(PROJECT_COLORS)] for k in range(len(labels))]
    alts = []
    bounds: list[float] | None = None
    for lab, col, text in zip(labels, colors, shown):
        r = results[lab]
        alts.append({"label": text, "color": col, "footprint": _footprint_json(r, None), "takes": _takes_json(r, None, lang)})
        if len(r.footprints):
            b = r.footprints.to_crs("EPSG:4326").total_bounds
            bounds = list(b) if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]), max(bounds[2], b[2]), max(bounds[3], b[3])]
    if bounds is None:
        bounds = [105.7, 10.0, 105.8, 10.1]
    heading = title or w["title"]
    m = _planner_map(location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2], lang=lang, title=heading)
    folium.TileLayer(tiles=_PLAIN_TILE, attr="landplan", name=w["plain"], max_zoom=22).add_to(m)
    if not self_contained:
        folium.TileLayer("OpenStreetMap", name=w["osm"], max_zoom=19).add_to(m)
        folium.LayerControl(collapsed=True).add_to(m)
    colors_lu = {lu.code: lu.color for lu in landuse.LANDUSE_TABLE}
    data = {"alternatives": alts, "landuse": colors_lu, "bounds": [[bounds[1], bounds[0]], [bounds[3], bounds[2]]],
            "taken": w["taken"]}
    root = m.get_root()
    root.header.add_child(_raw(f"<style>{_CSS}</style>"))  # type: ignore[attr-defined]
    root.html.add_child(_raw(f'<script type="application/json" id="lp-alt-data">{script_json(data)}</script>'))  # type: ignore[attr-defined]
    root.html.add_child(_raw(f"<script>{(_WEB / 'compare.js').read_text(encoding='utf-8')}</script>"))  # type: ignore[attr-defined]
    panel = (f'<aside id="lp-alt-panel" aria-label="{escape_html(w["panel"])}"><h1>{escape_html(heading)}</h1>'
             f'{_table_html(table, shown, colors, lang=lang, price_unit=price_unit)}'
             f'<p><label><input type="checkbox" id="lp-alt-outlines" checked> {escape_html(w["outlines"])}</label></p>'
             f'<p class="lp-alt-note">{escape_html(w["note"])}</p></aside>')
    _after_map(panel).add_to(m)
    from ..webmap import MAP_JS

    _macro(m, f"LandplanAlternatives.start({MAP_JS}, JSON.parse(document.getElementById('lp-alt-data').textContent));")
    return m


def comparison_map(comparison: Comparison, *, lang: str = "vi", self_contained: bool = False) -> folium.Map:
    """The alternatives map of a :class:`~landplan.planning.alternatives.Comparison`."""
    names = {a.id: a.name(lang) for a in comparison.alternatives.items}
    return results_map(comparison.results, comparison.table, lang=lang, self_contained=self_contained, names=names,
                       title=f"{WORDS['en' if lang == 'en' else 'vi']['title']} – {comparison.scenario.name}",
                       price_unit=comparison.alternatives.price_unit)
