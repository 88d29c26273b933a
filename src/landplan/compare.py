"""Alternatives side by side: the same questions answered for several runs (alignments, hub sites)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pandas as pd

from . import landuse
from .palette import PROJECT_COLORS

if TYPE_CHECKING:
    import folium

    from .pipeline import Result



def compare_results(results: Mapping[str, Result]) -> pd.DataFrame:
    """One row per alternative and project: footprint, land and rice taken, parcels, remnants, approval.

    ``results`` maps an alternative's label (e.g. "Tuyến A") to its :class:`~landplan.Result`.
    """
    rows = []
    for label, r in results.items():
        flagged = r.parcels[r.parcels["remnant_flag"] != ""].groupby("project")["parcel_id"].nunique()
        for a in r.approvals.to_dict("records"):
            rows.append({
                "alternative": label, "project": a["project"], "footprint_ha": a["footprint_m2"] / landuse.M2_PER_HA,
                "take_ha": a["take_m2"] / landuse.M2_PER_HA, "rice_ha": a["rice_ha"], "luc_ha": a["rice_luc_m2"] / landuse.M2_PER_HA,
                "luk_ha": a["rice_luk_m2"] / landuse.M2_PER_HA, "parcels_affected": int(a["parcels_affected"]),
                "remnants_flagged": int(flagged.get(a["project"], 0)), "approval_authority": a["approval_authority"],
            })
    return pd.DataFrame(rows)


def compare_map(results: Mapping[str, Result], *, lang: str = "vi") -> folium.Map:
    """A map with each alternative's footprints in its own colour and the rice land each takes."""
    import folium

    from . import assets
    from .webmap import escape_html, feature_collection

    m = folium.Map(tiles=None, control_scale=True)
    js, css = assets.leaflet()
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    folium.TileLayer("OpenStreetMap", name="OpenStreetMap").add_to(m)
    bounds = None
    for i, (label, r) in enumerate(results.items()):
        color = PROJECT_COLORS[i % len(PROJECT_COLORS)]
        fp = r.footprints
        names = {p.id: p.name(lang) for p in r.scenario.projects}
        folium.GeoJson(
            feature_collection(fp, {"alt": [escape_html(label)] * len(fp), "name": [escape_html(names.get(p, p)) for p in fp["project"]]}),
            name=f"{escape_html(label)}",
            style_function=lambda f, c=color: {"color": c, "weight": 3, "fillOpacity": 0.05},
            tooltip=folium.GeoJsonTooltip(fields=["alt", "name"], labels=False),
        ).add_to(m)
        rice = r.pieces[r.pieces["landuse"].isin(landuse.RICE_CODES)]
        if len(rice):
            folium.GeoJson(
                feature_collection(rice, {"lu": rice["landuse"].map(escape_html)}), name=f"{escape_html(label)}: {'đất lúa' if lang == 'vi' else 'rice land'}",
                style_function=lambda f, c=color: {"color": c, "weight": 0.3, "fillColor": c, "fillOpacity": 0.35},
            ).add_to(m)
        b = fp.to_crs("EPSG:4326").total_bounds
        bounds = b if bounds is None else [min(bounds[0], b[0]), min(bounds[1], b[1]), max(bounds[2], b[2]), max(bounds[3], b[3])]
    if bounds is not None:
        m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    folium.LayerControl(collapsed=False).add_to(m)
    return m
