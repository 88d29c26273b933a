"""The planner's map (folium): one HTML file that answers the questions without Python.

Base maps (OpenStreetMap, satellite imagery, a plain background that needs no network), layers for
administrative units, project footprints, the hub, land taken by land use, affected parcels and what
remains of them, and rice land around the projects; a layer control, a legend that follows the
layers shown, a summary panel per project, popups and tooltips, a metric scale bar, fullscreen, a
distance-measuring tool, and a search box that finds a parcel by its id. Every attribute value is
HTML-escaped. Scripts are always inlined (:mod:`landplan.assets`); with ``self_contained`` the plain
background is the only one, so the file needs no network at all.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from . import assets, landuse
from .palette import ADMIN_LINE, CONTEXT_RICE, CONTEXT_RICE_OUTLINE, PARCEL_LINE, REMNANT_BAD, REMNANT_OK, project_colors

if TYPE_CHECKING:
    import folium

    from .pipeline import Result, ResultView

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "plain": "Nền trơn (không cần mạng)", "osm": "Bản đồ OpenStreetMap", "satellite": "Ảnh vệ tinh",
        "admin": "Ranh giới hành chính", "footprints": "Ranh giới dự án", "hub": "Trung tâm nông nghiệp",
        "takes": "Đất bị thu hồi (theo loại đất)", "parcels": "Thửa đất bị ảnh hưởng", "remnants": "Phần còn lại của thửa",
        "context": "Đất lúa xung quanh dự án", "legend": "Chú giải", "project": "Dự án", "parcel": "Thửa",
        "landuse": "Loại đất", "owner": "Người sử dụng đất", "parcel_area": "Diện tích thửa (m²)", "take": "Thu hồi (m²)",
        "take_pct": "Tỷ lệ thu hồi (%)", "remnant": "Còn lại (m²)", "flag": "Cảnh báo phần còn lại",
        "remnant_ok": "Phần còn lại đủ điều kiện", "remnant_bad": "Phần còn lại dưới mức tối thiểu",
        "summary": "Tổng hợp theo dự án", "footprint_ha": "Diện tích dự án (ha)", "taken_ha": "Đất thu hồi (ha)",
        "rice_ha": "Đất lúa (ha)", "luc_ha": "LUC (ha)", "luk_ha": "LUK (ha)", "parcels_n": "Số thửa bị ảnh hưởng",
        "remnants_n": "Số thửa có phần còn lại dưới mức", "declared": "Đất lúa khai báo (ha)", "diff": "Chênh lệch (ha)",
        "approval": "Thẩm quyền chấp thuận", "search": "Tìm thửa theo mã…", "not_found": "Không tìm thấy",
        "fullscreen": "Toàn màn hình", "fullscreen_off": "Thoát toàn màn hình", "measure": "Đo khoảng cách",
        "all": "Tất cả dự án", "empty": "Không có thửa đất nào bị ảnh hưởng trong phạm vi dự án",
    },
    "en": {
        "plain": "Plain background (no network)", "osm": "OpenStreetMap", "satellite": "Satellite imagery",
        "admin": "Administrative units", "footprints": "Project footprints", "hub": "Agricultural hub",
        "takes": "Land taken (by land use)", "parcels": "Affected parcels", "remnants": "What remains of parcels",
        "context": "Rice land around the projects", "legend": "Legend", "project": "Project", "parcel": "Parcel",
        "landuse": "Land use", "owner": "Land user", "parcel_area": "Parcel area (m²)", "take": "Taken (m²)",
        "take_pct": "Share taken (%)", "remnant": "Remaining (m²)", "flag": "Remnant flag",
        "remnant_ok": "Remnant above the minimums", "remnant_bad": "Remnant below a minimum",
        "summary": "Summary by project", "footprint_ha": "Footprint (ha)", "taken_ha": "Land taken (ha)",
        "rice_ha": "Rice land (ha)", "luc_ha": "LUC (ha)", "luk_ha": "LUK (ha)", "parcels_n": "Parcels affected",
        "remnants_n": "Parcels with a remnant below a minimum", "declared": "Declared rice (ha)", "diff": "Difference (ha)",
        "approval": "Approval", "search": "Find a parcel by id…", "not_found": "Not found",
        "fullscreen": "Full screen", "fullscreen_off": "Exit full screen", "measure": "Measure distance",
        "all": "All projects", "empty": "No parcel is affected within the project footprints",
    },
}



def _png_1x1(rgb: tuple[int, int, int]) -> bytes:
    """A 1 × 1 PNG of one colour."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00" + bytes(rgb)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


#: The plain background: every tile is the same light grey pixel, so no tile is ever fetched.
_PLAIN_TILE = assets.data_uri(_png_1x1((242, 242, 238)), "image/png")
#: Coordinates are written with 6 decimals of a degree: about 0.1 m at Cần Thơ.
COORD_DECIMALS = 6
CONTEXT_MARGIN_M = 300.0
#: Maps with more features than this are drawn on a canvas instead of as SVG elements.
CANVAS_ABOVE_FEATURES = 20_000


def escape_html(value: Any) -> str:
    """HTML-escape an attribute value (quotes too) for popups, tooltips and panels."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def _num(v: float, decimals: int = 1) -> str:
    return "" if v is None or not np.isfinite(v) else f"{v:,.{decimals}f}"


def feature_collection(gdf: gpd.GeoDataFrame, props: dict[str, Any]) -> str:
    """A GeoJSON FeatureCollection (WGS 84, 6 decimals) with only ``props``; a ``None`` value leaves
    that property out of that feature.

    Values that popups or tooltips show must be HTML-escaped already (:func:`escape_html`). Raw text
    cannot break out of the page's script either: Jinja's ``tojson`` escapes ``<``, ``>``, ``&`` and
    ``'`` when the map is written."""
    geoms = np.asarray(gdf.to_crs("EPSG:4326").geometry.values)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, COORD_DECIMALS))
    gj = shapely.to_geojson(geoms)
    cols = {k: list(v) for k, v in props.items()}
    feats = []
    for i, g in enumerate(gj):
        if g is None:
            continue
        p = json.dumps({k: v[i] for k, v in cols.items() if v[i] is not None}, ensure_ascii=False, separators=(",", ":"))
        feats.append(f'{{"type":"Feature","properties":{p},"geometry":{g}}}')
    return '{"type":"FeatureCollection","features":[' + ",".join(feats) + "]}"


def _remnants(sub: ResultView) -> gpd.GeoDataFrame:
    """What remains of each affected parcel after every shown project: one feature per remaining
    piece, with the minimum it fails (``flag``, empty when none)."""
    return sub.remnants[["parcel_id", "flag", "geometry"]]


def _context_rice(result: Result, sub: ResultView, margin_m: float) -> gpd.GeoDataFrame | None:
    """Rice parcels within ``margin_m`` of the footprints (not themselves affected), clipped and simplified."""
    from .layers import read_parcels
    from .report import RunReport

    zone = shapely.union_all(shapely.buffer(np.asarray(sub.footprints.geometry.values), margin_m))
    try:  # read as the run read its parcels (codes normalised, ids in NFC, geometry repaired); its warnings were given
        raw = read_parcels(result.scenario.parcels, result.scenario.crs, mask=zone, report=RunReport())
        raw = raw[~raw["neighbour"].to_numpy(dtype=bool)]
    except Exception as exc:  # noqa: BLE001 - context is a nicety: the map is drawn without it
        import logging

        logging.getLogger("landplan").warning("map: rice land around the projects left out (%s)", exc)
        return None
    keep = (raw["landuse"].isin(landuse.RICE_CODES) & ~raw["parcel_id"].isin(set(sub.affected["parcel_id"]))).to_numpy()
    geoms = shapely.simplify(shapely.intersection(np.asarray(raw.geometry.values)[keep], zone), 0.5)
    gdf = gpd.GeoDataFrame({"landuse": raw["landuse"].to_numpy()[keep]}, geometry=geoms, crs=raw.crs)
    return gdf[~shapely.is_empty(np.asarray(gdf.geometry.values))]


def result_map(result: Result, *, lang: str = "vi", self_contained: bool = False, project: str | None = None,
               context_margin_m: float = CONTEXT_MARGIN_M) -> folium.Map:
    """Draw a run's results (every project, or ``project``) on a folium map and return it.

    Nothing is written; save it with ``m.save(path)``.
    """
    import folium

    lang = "en" if lang == "en" else "vi"
    lab = LABELS[lang]
    sub = result.view(project)
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    colors = project_colors([(p.id, p.hub) for p in result.scenario.projects])

    n_features = len(sub.pieces) * 2 + len(sub.affected) * 2
    # many features draw far faster on a canvas than as SVG elements
    m = folium.Map(tiles=None, control_scale=False, zoom_control=True, prefer_canvas=n_features > CANVAS_ABOVE_FEATURES)
    js, css = assets.leaflet()
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    folium.TileLayer(tiles=_PLAIN_TILE, attr="landplan", name=lab["plain"], max_zoom=22, show=self_contained).add_to(m)
    if not self_contained:
        folium.TileLayer("OpenStreetMap", name=lab["osm"], max_zoom=19, show=True).add_to(m)
        folium.TileLayer("Esri.WorldImagery", name=lab["satellite"], max_zoom=19, show=False).add_to(m)
    minx, miny, maxx, maxy = sub.footprints.to_crs("EPSG:4326").total_bounds
    m.fit_bounds([[miny, minx], [maxy, maxx]])

    # administrative units
    titles = {a.key: a.label() for a in result.scenario.admin}
    for k, (key, units) in enumerate(result.admin.items()):
        zone = shapely.union_all(shapely.buffer(np.asarray(sub.footprints.geometry.values), 5_000.0))
        shown = units[shapely.intersects(np.asarray(units.geometry.values), zone)]
        if shown.empty:
            continue
        name = f"{lab['admin']}: {titles.get(key, key)}"
        folium.GeoJson(
            feature_collection(shown, {"name": shown["admin_unit"].map(escape_html)}), name=name, show=k == 0,
            style_function=lambda f: {"color": ADMIN_LINE, "weight": 1.5, "fill": False, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False, sticky=True),
        ).add_to(m)

    # rice land around the projects (context)
    ctx = _context_rice(result, sub, context_margin_m) if context_margin_m > 0 else None
    if ctx is not None and len(ctx):
        folium.GeoJson(
            feature_collection(ctx, {"lu": ctx["landuse"].map(escape_html)}), name=lab["context"], show=True,
            style_function=lambda f: {"color": CONTEXT_RICE_OUTLINE, "weight": 0.3, "fillColor": CONTEXT_RICE, "fillOpacity": 0.45},
            tooltip=folium.GeoJsonTooltip(fields=["lu"], labels=False),
        ).add_to(m)

    # what remains of affected parcels
    rem = _remnants(sub)
    if len(rem):
        rem_json = feature_collection(rem, {"id": rem["parcel_id"].map(escape_html), "flag": rem["flag"].map(escape_html),
                                  "bad": (rem["flag"] != "").map(lambda b: "1" if b else "")})
        folium.GeoJson(
            rem_json, name=lab["remnants"], show=True,
            style_function=lambda f: {"color": REMNANT_BAD if f["properties"]["bad"] else REMNANT_OK,
                                      "weight": 1.2 if f["properties"]["bad"] else 0.4,
                                      "fillColor": REMNANT_BAD if f["properties"]["bad"] else "#ffffff",
                                      "fillOpacity": 0.35 if f["properties"]["bad"] else 0.15},
            tooltip=folium.GeoJsonTooltip(fields=["id", "flag"], aliases=[lab["parcel"], lab["flag"]]),
        ).add_to(m)

    parcels_layer = None
    if len(sub.pieces):  # folium cannot bind tooltips to an empty layer
        # land taken, coloured by land use
        tk = sub.pieces
        folium.GeoJson(
            feature_collection(tk, {
                "project": tk["project"].map(lambda p: escape_html(names.get(p, p))),
                "lu": [f"{escape_html(c)} – {escape_html(landuse.name(c, lang))}" for c in tk["landuse"]],
                "take": tk["take_m2"].map(_num),
                "color": tk["landuse"].map(landuse.color),
            }),
            name=lab["takes"], show=True,
            style_function=lambda f: {"color": f["properties"]["color"], "weight": 0.4,
                                      "fillColor": f["properties"]["color"], "fillOpacity": 0.85},
            tooltip=folium.GeoJsonTooltip(fields=["project", "lu", "take"], aliases=[lab["project"], lab["landuse"], lab["take"]]),
        ).add_to(m)

        # affected parcels, with popups (the layer the search box looks in)
        per = sub.parcel_totals.set_index("parcel_id")[["projects", "take_m2", "take_fraction", "remnant_m2", "remnant_flag"]]
        per = per.rename(columns={"remnant_flag": "flag"})
        per["projects"] = per["projects"].map(lambda ids: ", ".join(names.get(p, p) for p in ids.split(",")))
        ap = sub.affected.join(per, on="parcel_id")
        pct = 100.0 * ap["take_fraction"]
        props = {
            "id": ap["parcel_id"].map(escape_html),
            "lu": [f"{escape_html(c)} – {escape_html(landuse.name(c, lang))}" for c in ap["landuse"]],
            "owner": ap["owner"].map(escape_html),
            "project": ap["projects"].map(escape_html),
            "area": ap["parcel_area_m2"].map(_num),
            "take": ap["take_m2"].map(_num),
            "pct": pct.map(lambda v: _num(v, 1)),
            "rest": ap["remnant_m2"].map(_num),
            "flag": ap["flag"].map(escape_html),
        }
        # the search box matches what a planner types against the id as it is, not HTML-escaped: where
        # escaping changed an id, the raw id goes along as "sid" (the page copies "id" for the rest).
        # Suggestions are shown as text (buildTip below); Jinja's tojson keeps the JSON script-safe.
        raw_ids = ap["parcel_id"].fillna("").astype(str)
        searchable = {**props, "sid": [r if r != e else None for r, e in zip(raw_ids, props["id"])]}
        parcels_layer = folium.GeoJson(
            feature_collection(ap, searchable), name=lab["parcels"], show=True,
            style_function=lambda f: {"color": PARCEL_LINE, "weight": 0.8, "fill": True, "fillColor": "#ffffff", "fillOpacity": 0.0},
            highlight_function=lambda f: {"weight": 3, "color": "#000000"},
            popup=folium.GeoJsonPopup(fields=list(props), aliases=[
                lab["parcel"], lab["landuse"], lab["owner"], lab["project"], lab["parcel_area"], lab["take"],
                lab["take_pct"], lab["remnant"], lab["flag"]], max_width=420),
            tooltip=folium.GeoJsonTooltip(fields=["id", "lu"], aliases=[lab["parcel"], lab["landuse"]]),
        )
        parcels_layer.add_to(m)

    # footprints (roads) and the hub
    fp = sub.footprints
    hub_ids = {p.id for p in sub.projects if p.hub}
    rice_ha = dict(zip(sub.approvals["project"], sub.approvals["rice_ha"].to_numpy(dtype=float)))
    for group_name, mask in ((lab["footprints"], ~fp["project"].isin(hub_ids)), (lab["hub"], fp["project"].isin(hub_ids))):
        part = fp[mask.to_numpy()]
        if part.empty:
            continue
        folium.GeoJson(
            feature_collection(part, {
                "name": part["project"].map(lambda p: escape_html(names.get(p, p))),
                "area": part["footprint_m2"].map(lambda v: _num(v / landuse.M2_PER_HA, 2)),
                "rice": part["project"].map(lambda p: _num(rice_ha[p], 2)),
                "color": part["project"].map(colors),
            }),
            name=group_name, show=True,
            style_function=lambda f: {"color": f["properties"]["color"], "weight": 2.5, "fill": False},
            tooltip=folium.GeoJsonTooltip(fields=["name", "area", "rice"], aliases=[lab["project"], lab["footprint_ha"], lab["rice_ha"]]),
        ).add_to(m)

    _add_controls(m, parcels_layer, lab)
    _add_legend(m, sub, lab=lab, lang=lang, names=names, colors=colors, context=ctx is not None and len(ctx) > 0)
    _add_summary(m, sub, lab=lab, names=names)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    return m


@contextmanager
def _compact_json() -> Iterator[None]:
    """While rendering, write folium's embedded JSON compactly and in UTF-8 (no ``\\uXXXX`` for
    Vietnamese letters, no spaces): about a third smaller. Jinja still escapes ``<``, ``>``, ``&``
    and ``'`` inside the JSON, so attribute values cannot break out of the script."""
    from folium.features import GeoJson

    env = GeoJson._template.environment
    old = env.policies.get("json.dumps_kwargs")
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
    try:
        yield
    finally:
        env.policies["json.dumps_kwargs"] = old


def _stable_ids(m: folium.Map) -> None:
    """Give every element of the map an id from its place in the tree instead of a random one, so
    the same results give the same bytes."""
    n = 0

    def walk(el: Any) -> None:
        nonlocal n
        n += 1
        el._id = f"{n:032x}"
        for child in list(getattr(el, "_children", {}).values()):
            walk(child)

    walk(m.get_root())


def save_map(m: folium.Map, path: str | Path) -> Path:
    """Write ``m`` as a single HTML file (UTF-8, compact JSON, stable ids); return the path."""
    path = Path(path)
    _stable_ids(m)
    with _compact_json():
        m.save(str(path))
    return path


#: In a macro's script, the map's JavaScript name (resolved when the page is rendered).
MAP_JS = "{{ this._parent.get_name() }}"


def _macro(m: folium.Map, script: str = "", html_text: str = "", js: tuple[str, ...] = (), css: tuple[str, ...] = (),
           layer: Any = None) -> None:
    """Add inline script (run after the map exists), HTML, and header assets to ``m``.

    The script is a Jinja template: :data:`MAP_JS` names the map and ``{{ this.layer.get_name() }}``
    the ``layer`` given, so names are resolved when the page is written.

    The assets go through folium's own mechanism (``JSCSSMixin``), so they are written into the
    page's header after Leaflet itself.
    """
    from branca.element import Element, MacroElement, Template
    from folium.elements import JSCSSMixin

    def key(uri: str) -> str:  # a stable name per asset, so the same map gives the same bytes
        return "landplan_" + hashlib.sha1(uri.encode("ascii")).hexdigest()[:12]

    class _Control(JSCSSMixin, MacroElement):
        default_js = [(key(u), u) for u in js]  # noqa: RUF012 - folium reads these class attributes
        default_css = [(key(u), u) for u in css]  # noqa: RUF012
        layer: Any = None

    if html_text:
        m.get_root().html.add_child(Element(html_text))  # type: ignore[attr-defined]
    macro = _Control()
    macro.layer = layer
    macro._template = Template("{% macro script(this, kwargs) %}" + script + "{% endmacro %}")
    m.add_child(macro)


def _add_controls(m: folium.Map, parcels_layer: folium.GeoJson | None, lab: dict[str, str]) -> None:
    """Scale bar (metres), fullscreen, distance measuring and the parcel search box."""
    map_js = MAP_JS
    _macro(m, f"L.control.scale({{imperial: false, metric: true, maxWidth: 200, position: 'bottomright'}}).addTo({map_js});")
    fs = assets.plugin("fullscreen")
    if fs:
        _macro(m, f"{map_js}.addControl(new L.Control.FullScreen({{position: 'topleft', title: {json.dumps(lab['fullscreen'])}, "
                  f"titleCancel: {json.dumps(lab['fullscreen_off'])}, forceSeparateButton: true}}));", js=(fs[0],), css=(fs[1],))
    ms = assets.plugin("measure")
    if ms:
        _macro(m, f"L.control.polylineMeasure({{position: 'topleft', unit: 'metres', showBearings: false, "
                  f"clearMeasurementsOnStop: false, showClearControl: true, measureControlTitleOn: {json.dumps(lab['measure'])}}})"
                  f".addTo({map_js});", js=(ms[0],), css=(ms[1],))
    se = assets.plugin("search")
    if se and parcels_layer is not None:
        layer_js = "{{ this.layer.get_name() }}"
        _macro(m, f"""
{layer_js}.eachLayer(function(l) {{ var p = l.feature.properties; if (p.sid === undefined) p.sid = p.id; }});
var landplanSearch = new L.Control.Search({{
    layer: {layer_js}, propertyName: 'sid', initial: false, zoom: 19, marker: false, collapsed: false,
    buildTip: function(text) {{ var li = document.createElement('li'); li.textContent = text; return li; }},
    position: 'topleft', textPlaceholder: {json.dumps(lab['search'])}, textErr: {json.dumps(lab['not_found'])},
    moveToLocation: function(latlng, title, map) {{
        var layer = latlng.layer;
        if (layer && layer.getBounds) {{ map.fitBounds(layer.getBounds(), {{maxZoom: 19}}); }} else {{ map.setView(latlng, 18); }}
    }}
}});
landplanSearch.on('search:locationfound', function(e) {{
    if (e.layer) {{
        e.layer.setStyle({{weight: 4, color: '#000000'}});
        // the popup is bound to the layer group: a click on the parcel opens it where the parcel is
        e.layer.fire('click', {{latlng: e.layer.getCenter ? e.layer.getCenter() : e.latlng}}, true);
    }}
}});
{map_js}.addControl(landplanSearch);
""", js=(se[0],), css=(se[1],), layer=parcels_layer)


def _add_legend(m: folium.Map, sub: ResultView, *, lab: dict[str, str], lang: str, names: dict[str, str],
                colors: dict[str, str], context: bool) -> None:
    """A legend whose sections appear and disappear with their layers."""
    def swatch(color: str, *, outline: bool = False) -> str:
        fill = "transparent" if outline else color
        return (f'<span style="display:inline-block;width:14px;height:12px;background:{fill};border:2px solid {color};'
                f'margin-right:6px;vertical-align:middle"></span>')

    sections = []
    codes = sorted(set(sub.pieces["landuse"]))
    rows = "".join(f"<div>{swatch(landuse.color(c))}{escape_html(c)} – {escape_html(landuse.name(c, lang))}</div>" for c in codes)
    sections.append((lab["takes"], rows))
    hub_ids = {p.id for p in sub.projects if p.hub}
    roads = "".join(f"<div>{swatch(colors[p.id], outline=True)}{escape_html(names[p.id])}</div>" for p in sub.projects if p.id not in hub_ids)
    if roads:
        sections.append((lab["footprints"], roads))
    hubs = "".join(f"<div>{swatch(colors[p.id], outline=True)}{escape_html(names[p.id])}</div>" for p in sub.projects if p.id in hub_ids)
    if hubs:
        sections.append((lab["hub"], hubs))
    sections.append((lab["remnants"], f"<div>{swatch(REMNANT_OK, outline=True)}{escape_html(lab['remnant_ok'])}</div>"
                                      f"<div>{swatch(REMNANT_BAD)}{escape_html(lab['remnant_bad'])}</div>"))
    if context:
        sections.append((lab["context"], f"<div>{swatch(CONTEXT_RICE)}LUC, LUK – {escape_html(lab['context'])}</div>"))
    body = "".join(
        f'<div class="landplan-legend-section" data-layer="{escape_html(name)}"><b>{escape_html(name)}</b>{rows}</div>' for name, rows in sections
    )
    box = (f'<div id="landplan-legend" style="position:absolute;bottom:28px;left:10px;z-index:1000;background:rgba(255,255,255,0.95);'
           f'padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px/1.5 sans-serif;max-width:330px;max-height:45vh;overflow:auto">'
           f'<div style="font-weight:bold;font-size:13px">{escape_html(lab["legend"])}</div>{body}</div>')
    map_js = MAP_JS
    script = f"""
(function() {{
    var box = document.getElementById('landplan-legend');
    {map_js}.getContainer().appendChild(box);
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
    function esc(s) {{ var d = document.createElement('div'); d.textContent = s; return d.innerHTML; }}
    function toggle(name, on) {{
        box.querySelectorAll('.landplan-legend-section').forEach(function(s) {{
            if (s.getAttribute('data-layer') === esc(name) || s.dataset.layer === name) s.style.display = on ? '' : 'none';
        }});
    }}
    {map_js}.on('overlayadd', function(e) {{ toggle(e.name, true); }});
    {map_js}.on('overlayremove', function(e) {{ toggle(e.name, false); }});
}})();
"""
    _macro(m, script, html_text=box)


def _add_summary(m: folium.Map, sub: ResultView, *, lab: dict[str, str], names: dict[str, str]) -> None:
    """A panel with each project's key figures: area, rice (LUC/LUK), parcels, remnants, declared, approval."""
    flagged = sub.parcels[sub.parcels["remnant_flag"] != ""].groupby("project")["parcel_id"].nunique()
    single = len(sub.approvals) == 1
    cards = []
    for r in sub.approvals.to_dict("records"):
        declared = r["declared_rice_ha"]
        rows = [
            (lab["footprint_ha"], _num(r["footprint_m2"] / landuse.M2_PER_HA, 2)),
            (lab["taken_ha"], _num(r["take_m2"] / landuse.M2_PER_HA, 2)),
            (lab["rice_ha"], _num(r["rice_ha"], 2)),
            (lab["luc_ha"], _num(r["rice_luc_m2"] / landuse.M2_PER_HA, 2)),
            (lab["luk_ha"], _num(r["rice_luk_m2"] / landuse.M2_PER_HA, 2)),
            (lab["parcels_n"], str(int(r["parcels_affected"]))),
            (lab["remnants_n"], str(int(flagged.get(r["project"], 0)))),
        ]
        if declared == declared:  # not NaN
            rows += [(lab["declared"], _num(declared, 2)),
                     (lab["diff"], f"{r['rice_diff_ha']:+,.2f} ({r['rice_diff_pct']:+.1f} %)")]
        rows.append((lab["approval"], escape_html(r["approval_authority"])))
        table = "".join(f'<tr><td style="padding-right:8px">{escape_html(k)}</td><td style="text-align:right"><b>{v}</b></td></tr>' for k, v in rows)
        cards.append(f'<details class="landplan-project" data-project="{escape_html(r["project"])}"{" open" if single else ""}>'
                     f'<summary style="cursor:pointer;font-weight:bold">{escape_html(names.get(r["project"], r["project"]))}</summary>'
                     f'<table style="font-size:12px;margin:2px 0 6px 8px">{table}</table></details>')
    if not len(sub.pieces):
        cards.insert(0, f'<p style="color:#a00000;font-weight:bold">{escape_html(lab["empty"])}</p>')
    box = (f'<div id="landplan-summary" style="position:absolute;bottom:48px;right:10px;z-index:1000;background:rgba(255,255,255,0.95);'
           f'padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px/1.4 sans-serif;max-width:380px;max-height:50vh;overflow:auto">'
           f'<div style="font-weight:bold;font-size:13px;margin-bottom:4px">{escape_html(lab["summary"])}</div>{"".join(cards)}</div>')
    map_js = MAP_JS
    _macro(m, f"""
(function() {{
    var box = document.getElementById('landplan-summary');
    {map_js}.getContainer().appendChild(box);
    L.DomEvent.disableClickPropagation(box); L.DomEvent.disableScrollPropagation(box);
}})();
""", html_text=box)
