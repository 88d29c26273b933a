"""The interactive HTML map (folium): footprints, taken land by land use, affected parcels, admin units."""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely

from . import landuse

if TYPE_CHECKING:
    import folium

    from .pipeline import Result

LABELS = {
    "vi": {
        "footprints": "Ranh giới dự án", "takes": "Đất bị thu hồi (theo loại đất)", "parcels": "Thửa đất bị ảnh hưởng",
        "admin": "Ranh giới hành chính", "legend": "Loại đất bị thu hồi", "project": "Dự án", "parcel": "Thửa",
        "landuse": "Loại đất", "owner": "Chủ sử dụng", "parcel_area": "Diện tích thửa (m²)", "take": "Thu hồi (m²)",
        "take_pct": "Tỷ lệ thu hồi (%)", "remnant": "Còn lại (m²)", "flag": "Thửa còn lại", "footprint_area": "Diện tích (ha)",
        "rice": "Đất lúa (ha)",
    },
    "en": {
        "footprints": "Project footprints", "takes": "Land taken (by land use)", "parcels": "Affected parcels",
        "admin": "Administrative units", "legend": "Land taken, by land use", "project": "Project", "parcel": "Parcel",
        "landuse": "Land use", "owner": "Land user", "parcel_area": "Parcel area (m²)", "take": "Taken (m²)",
        "take_pct": "Share taken (%)", "remnant": "Remaining (m²)", "flag": "Remnant", "footprint_area": "Area (ha)",
        "rice": "Rice land (ha)",
    },
}

_COORD_DECIMALS = 7  # about 1 cm at Cần Thơ's latitude


def _to_wgs84(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = gdf.to_crs("EPSG:4326")
    out["geometry"] = shapely.set_precision(out.geometry.values, 10.0 ** -_COORD_DECIMALS)
    return out


def _esc(value: Any) -> str:
    """HTML-escape an attribute value for a popup or tooltip."""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return html.escape(str(value), quote=True)


def _data_uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def embed_assets(m: folium.Map) -> None:
    """Make ``m`` self-contained: Leaflet's script and stylesheet inlined from the installed
    ``xstatic-leaflet`` package (its images too), and folium's other CDN assets (jQuery, Bootstrap,
    awesome-markers), which these maps do not use, left out. Nothing is downloaded.
    """
    import xstatic.pkg.leaflet as xleaflet

    base = Path(xleaflet.BASE_DIR)
    css = (base / "leaflet.css").read_text(encoding="utf-8")
    for img in sorted((base / "images").glob("*.png")):
        css = css.replace(f"images/{img.name}", _data_uri(img.read_bytes(), "image/png"))
    m.default_js = [("leaflet", _data_uri((base / "leaflet.js").read_bytes(), "text/javascript"))]
    m.default_css = [("leaflet_css", _data_uri(css.encode("utf-8"), "text/css"))]


def result_map(result: Result, *, lang: str = "vi", self_contained: bool = False) -> folium.Map:
    """Draw a run's results on a folium map and return it (nothing is written).

    Scripts and stylesheets are always inlined (the page never loads code from the internet).
    With ``self_contained`` the background is plain and the page needs no network at all;
    otherwise OpenStreetMap tiles are shown, fetched by the planner's browser.
    """
    import folium

    lab = LABELS["en" if lang == "en" else "vi"]
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    fp = _to_wgs84(result.footprints)
    minx, miny, maxx, maxy = fp.total_bounds
    m = folium.Map(tiles=None, control_scale=True)
    embed_assets(m)
    if not self_contained:
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]])

    for key, units in result.admin.items():
        a = _to_wgs84(units[["admin_unit", "geometry"]])
        a["label"] = a["admin_unit"].map(_esc)
        folium.GeoJson(
            a[["label", "geometry"]].to_json(), name=f"{lab['admin']}: {html.escape(key)}",
            style_function=lambda f: {"color": "#555555", "weight": 1.5, "fill": False, "dashArray": "6 4"},
            tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False),
            show=key == next(iter(result.admin)),
        ).add_to(m)

    pt = result.parcels.groupby("parcel_id", sort=False).agg(
        take_m2=("take_m2", "sum"), counted=("counted_area_m2", "first"), flag=("remnant_flag", "first"))
    ap = _to_wgs84(result.affected[["parcel_id", "landuse", "owner", "parcel_area_m2", "geometry"]])
    ap = ap.join(pt, on="parcel_id")
    props = {
        "id": ap["parcel_id"].map(_esc),
        "lu": [f"{_esc(c)} – {_esc(landuse.name(c, lang))}" for c in ap["landuse"]],
        "owner": ap["owner"].map(_esc),
        "area": ap["parcel_area_m2"].map(lambda v: f"{v:,.1f}"),
        "take": ap["take_m2"].map(lambda v: f"{v:,.1f}"),
        "pct": (100 * ap["take_m2"] / ap["counted"].where(ap["counted"] > 0, np.nan)).map(lambda v: f"{v:.1f}"),
        "rest": (ap["counted"] - ap["take_m2"]).clip(lower=0).map(lambda v: f"{v:,.1f}"),
        "flag": ap["flag"].map(_esc),
    }
    for k, v in props.items():
        ap[k] = list(v)
    fields = list(props)
    aliases = [lab["parcel"], lab["landuse"], lab["owner"], lab["parcel_area"], lab["take"], lab["take_pct"],
               lab["remnant"], lab["flag"]]
    folium.GeoJson(
        ap[[*fields, "geometry"]].to_json(), name=lab["parcels"],
        style_function=lambda f: {"color": "#555555", "weight": 0.6, "fill": True, "fillColor": "#ffffff", "fillOpacity": 0.25},
        popup=folium.GeoJsonPopup(fields=fields, aliases=aliases),
        tooltip=folium.GeoJsonTooltip(fields=["id"], aliases=[lab["parcel"]]),
    ).add_to(m)

    tk = _to_wgs84(result.pieces[["project", "landuse", "take_m2", "geometry"]])
    tk["color"] = tk["landuse"].map(landuse.color)
    tk["landuse_name"] = [f"{_esc(c)} – {_esc(landuse.name(c, lang))}" for c in tk["landuse"]]
    tk["project"] = [_esc(names.get(p, p)) for p in tk["project"]]
    tk["take"] = tk["take_m2"].map(lambda v: f"{v:,.1f}")
    folium.GeoJson(
        tk[["project", "landuse_name", "take", "color", "geometry"]].to_json(), name=lab["takes"],
        style_function=lambda f: {"color": f["properties"]["color"], "weight": 0.5,
                                  "fillColor": f["properties"]["color"], "fillOpacity": 0.9},
        tooltip=folium.GeoJsonTooltip(fields=["project", "landuse_name", "take"],
                                      aliases=[lab["project"], lab["landuse"], lab["take"]]),
    ).add_to(m)

    appr = result.approvals.set_index("project")
    fp["label"] = [_esc(names.get(p, p)) for p in fp["project"]]
    fp["area_ha"] = [f"{a / 1e4:,.2f}" for a in result.footprints["footprint_m2"]]
    fp["rice_ha"] = [f"{appr.loc[p, 'rice_ha']:,.2f}" for p in fp["project"]]
    folium.GeoJson(
        fp[["label", "area_ha", "rice_ha", "geometry"]].to_json(), name=lab["footprints"],
        style_function=lambda f: {"color": "#c0392b", "weight": 2.5, "fill": False},
        tooltip=folium.GeoJsonTooltip(fields=["label", "area_ha", "rice_ha"],
                                      aliases=[lab["project"], lab["footprint_area"], lab["rice"]]),
    ).add_to(m)

    _add_legend(m, sorted(set(result.pieces["landuse"])), lang=lang, title=lab["legend"])
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _add_legend(m: folium.Map, codes: list[str], *, lang: str, title: str) -> None:
    """A categorical legend: colour, code and name for each land use taken."""
    import folium
    from branca.element import MacroElement, Template

    rows = "".join(
        f'<div><span style="display:inline-block;width:14px;height:14px;background:{landuse.color(c)};'
        f'border:1px solid #555;margin-right:6px;vertical-align:middle"></span>{_esc(c)} – {_esc(landuse.name(c, lang))}</div>'
        for c in codes
    )
    box = (f'<div id="landplan-legend" style="position:fixed;bottom:30px;left:10px;z-index:9999;background:white;'
           f'padding:8px 10px;border:1px solid #999;border-radius:4px;font:12px sans-serif;max-width:320px">'
           f'<b>{_esc(title)}</b>{rows}</div>')
    macro = MacroElement()
    macro._template = Template("{% macro html(this, kwargs) %}" + box + "{% endmacro %}")
    m.get_root().add_child(macro)
    _ = folium  # imported for the side effect of checking folium is installed
