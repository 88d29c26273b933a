"""QGIS styles (QML) and a QGIS project (.qgs) for a run's GeoPackage, and storing the styles inside it."""

from __future__ import annotations

import copy
import sqlite3
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pyproj

from . import landuse, palette
from .errors import InputFileError, LayerError

#: GeoPackage layer names a run writes, top of the map first (outputs.py uses these).
LAYERS: tuple[str, str, str, str] = ("footprints", "remnants", "takes", "affected_parcels")
LAYER_FOOTPRINTS, LAYER_REMNANTS, LAYER_TAKES, LAYER_AFFECTED = LAYERS
#: The strip-map pages (atlas coverage layer of the QGIS print layout).
LAYER_PAGES = "strip_pages"

#: The QGIS version the styles and projects declare (QGIS 3.x reads them all; checked with 3.22).
QGIS_VERSION = "3.28.0-Firenze"
#: Languages of the legend labels.
LANGS: tuple[str, ...] = ("vi", "en")
#: Fixed time stamp of the stored styles, so the same run writes the same bytes.
STYLE_UPDATE_TIME = "2025-01-01T00:00:00.000Z"

#: Layer names shown in a project's layer tree.
LAYER_TITLES: dict[str, dict[str, str]] = {
    "vi": {LAYER_FOOTPRINTS: "Ranh giới dự án", LAYER_REMNANTS: "Phần còn lại của thửa (sau mọi dự án)",
           LAYER_TAKES: "Đất bị thu hồi (theo loại đất)", LAYER_AFFECTED: "Thửa đất bị ảnh hưởng", "strip_pages": "Các tờ bình đồ"},
    "en": {LAYER_FOOTPRINTS: "Project footprints", LAYER_REMNANTS: "What remains of parcels (after every project)",
           LAYER_TAKES: "Land taken (by land use)", LAYER_AFFECTED: "Affected parcels", "strip_pages": "Strip-map pages"},
}

_LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "other_code": "Mã khác",
        "other_project": "Dự án khác",
        "remnant_bad": "Thửa có phần còn lại dưới mức tối thiểu",
        "affected": "Thửa bị ảnh hưởng",
        "piece_bad": "Phần còn lại dưới mức tối thiểu",
        "piece_ok": "Phần còn lại đủ điều kiện",
    },
    "en": {
        "other_code": "Other code",
        "other_project": "Other project",
        "remnant_bad": "Parcel with a remnant below a minimum",
        "affected": "Affected parcel",
        "piece_bad": "Remaining piece below a minimum",
        "piece_ok": "Remaining piece above the minimums",
    },
}

_DOCTYPE = "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>"
_POLYGON = "2"  # QgsWkbTypes::PolygonGeometry, the <layerGeometryType> of a polygon layer

# Outline widths in millimetres.
TAKE_OUTLINE_MM = 0.1
FOOTPRINT_OUTLINE_MM = 0.8
PARCEL_OUTLINE_MM = 0.26
REMNANT_BAD_OUTLINE_MM = 0.6
PAGES_OUTLINE_MM = 0.5
PAGES_OUTLINE = "#b03a2e"

# The layer_styles table exactly as QGIS (through GDAL) creates it in a GeoPackage.
_LAYER_STYLES_DDL = (
    'CREATE TABLE IF NOT EXISTS "layer_styles" ( "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, '
    '"f_table_catalog" TEXT(256), "f_table_schema" TEXT(256), "f_table_name" TEXT(256), '
    '"f_geometry_column" TEXT(256), "styleName" TEXT(30), "styleQML" TEXT, "styleSLD" TEXT, '
    '"useAsDefault" BOOLEAN, "description" TEXT, "owner" TEXT(30), "ui" TEXT(30), '
    "\"update_time\" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
)
# GDAL keeps feature counts in gpkg_ogr_contents with these triggers; QGIS's table has them too.
_LAYER_STYLES_TRIGGERS = (
    'CREATE TRIGGER IF NOT EXISTS "trigger_insert_feature_count_layer_styles" AFTER INSERT ON "layer_styles" '
    "BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count + 1 WHERE lower(table_name) = lower('layer_styles'); END",
    'CREATE TRIGGER IF NOT EXISTS "trigger_delete_feature_count_layer_styles" AFTER DELETE ON "layer_styles" '
    "BEGIN UPDATE gpkg_ogr_contents SET feature_count = feature_count - 1 WHERE lower(table_name) = lower('layer_styles'); END",
)


def _check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {', '.join(LANGS)}, got {lang!r}")
    return lang


def _rgba(hex_color: str, alpha: int = 255) -> str:
    """``"#f2d33b"`` → ``"242,211,59,255"`` (QGIS's colour notation)."""
    h = hex_color.lstrip("#")
    if len(h) != 6:
        raise ValueError(f"colour must be #rrggbb, got {hex_color!r}")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{alpha}"


def _sub(parent: ET.Element, tag: str, attrib: Mapping[str, str] | None = None, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag, dict(attrib or {}))
    if text is not None:
        el.text = text
    return el


def _fill_symbol(name: str, *, fill: str | None, outline: str, width_mm: float) -> ET.Element:
    """A QGIS fill symbol with one simple-fill layer; ``fill=None`` draws the outline only.

    The properties are written both as ``<Option>`` (QGIS ≥ 3.16) and as legacy ``<prop>`` elements.
    """
    props = {
        "border_width_map_unit_scale": "3x:0,0,0,0,0,0",
        "color": _rgba(fill) if fill else _rgba(outline, 0),
        "joinstyle": "bevel",
        "offset": "0,0",
        "offset_map_unit_scale": "3x:0,0,0,0,0,0",
        "offset_unit": "MM",
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{width_mm:g}",
        "outline_width_unit": "MM",
        "style": "solid" if fill else "no",
    }
    sym = ET.Element("symbol", {"type": "fill", "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"})
    layer = _sub(sym, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"})
    options = _sub(layer, "Option", {"type": "Map"})
    for k, v in props.items():
        _sub(options, "Option", {"type": "QString", "name": k, "value": v})
    for k, v in props.items():
        _sub(layer, "prop", {"k": k, "v": v})
    return sym


def _qml_root() -> ET.Element:
    return ET.Element("qgis", {
        "version": QGIS_VERSION, "styleCategories": "AllStyleCategories", "labelsEnabled": "0",
        "hasScaleBasedVisibilityFlag": "0", "minScale": "100000000", "maxScale": "0", "readOnly": "0",
    })


def _renderer(root: ET.Element, attrib: Mapping[str, str]) -> ET.Element:
    return _sub(root, "renderer-v2", {**attrib, "forceraster": "0", "symbollevels": "0", "enableorderby": "0", "referencescale": "-1"})


def _finish_qml(root: ET.Element) -> str:
    for tag, text in (("blendMode", "0"), ("featureBlendMode", "0"), ("layerOpacity", "1")):
        _sub(root, tag, text=text)
    _sub(root, "legend", {"type": "default-vector", "showLabelLegend": "0"})
    _sub(root, "layerGeometryType", text=_POLYGON)
    return _serialize(root)


def _serialize(root: ET.Element) -> str:
    ET.indent(root, space="  ")
    return f"{_DOCTYPE}\n{ET.tostring(root, encoding='unicode')}\n"


def _categorized(attr: str, categories: Sequence[tuple[str, str, ET.Element]]) -> str:
    """A categorized renderer on ``attr``; each category is ``(value, label, symbol)``; value ``""`` takes all other values."""
    root = _qml_root()
    renderer = _renderer(root, {"type": "categorizedSymbol", "attr": attr})
    cats = _sub(renderer, "categories")
    symbols = _sub(renderer, "symbols")
    for i, (value, label, symbol) in enumerate(categories):
        _sub(cats, "category", {"value": value, "symbol": str(i), "label": label, "render": "true"})
        symbol.set("name", str(i))
        symbols.append(symbol)
    _sub(renderer, "rotation")
    _sub(renderer, "sizescale")
    return _finish_qml(root)


def qml_takes(lang: str = "vi") -> str:
    """QGIS style of the ``takes`` layer: each piece filled with its land-use colour.

    Parameters
    ----------
    lang : {"vi", "en"}
        Language of the legend labels (``"LUC – Đất chuyên trồng lúa"`` or ``"LUC – Specialised rice land"``).

    Returns
    -------
    str
        A QML document categorized on ``landuse``: one category per code of
        :data:`landplan.landuse.LANDUSE_TABLE`, in table order, with the HTML map's colours and a thin
        outline, then a grey category for every other value.
    """
    _check_lang(lang)
    cats = [
        (lu.code, f"{lu.code} – {landuse.name(lu.code, lang)}",
         _fill_symbol("", fill=palette.landuse_color(lu.code), outline=palette.PARCEL_LINE, width_mm=TAKE_OUTLINE_MM))
        for lu in landuse.LANDUSE_TABLE
    ]
    cats.append(("", _LABELS[lang]["other_code"],
                 _fill_symbol("", fill=palette.UNKNOWN_LANDUSE, outline=palette.PARCEL_LINE, width_mm=TAKE_OUTLINE_MM)))
    return _categorized("landuse", cats)


def qml_footprints(projects: Sequence[tuple[str, str, bool]], lang: str = "vi") -> str:
    """QGIS style of the ``footprints`` layer: each project's outline in its colour, no fill.

    Parameters
    ----------
    projects : sequence of (str, str, bool)
        ``(project id, display name, is_hub)`` in scenario order; colours follow
        :func:`landplan.palette.project_colors`, as on the HTML map.
    lang : {"vi", "en"}
        Language of the label of the catch-all category (other project ids, drawn in grey).

    Returns
    -------
    str
        A QML document categorized on ``project``, outlines 0.8 mm wide.
    """
    _check_lang(lang)
    colors = palette.project_colors([(pid, hub) for pid, _, hub in projects])
    cats = [(pid, name, _fill_symbol("", fill=None, outline=colors[pid], width_mm=FOOTPRINT_OUTLINE_MM)) for pid, name, _ in projects]
    cats.append(("", _LABELS[lang]["other_project"], _fill_symbol("", fill=None, outline=palette.REMNANT_OK, width_mm=FOOTPRINT_OUTLINE_MM)))
    return _categorized("project", cats)


def qml_affected_parcels(lang: str = "vi") -> str:
    """QGIS style of the ``affected_parcels`` layer: outlines only, red where a remnant is below a minimum.

    Parameters
    ----------
    lang : {"vi", "en"}
        Language of the rule labels.

    Returns
    -------
    str
        A rule-based QML document: ``"remnant_flag" <> ''`` outlined 0.6 mm in
        :data:`landplan.palette.REMNANT_BAD`, every other parcel (``ELSE``) 0.26 mm in
        :data:`landplan.palette.PARCEL_LINE`.
    """
    _check_lang(lang)
    lab = _LABELS[lang]
    root = _qml_root()
    renderer = _renderer(root, {"type": "RuleRenderer"})
    rules = _sub(renderer, "rules", {"key": "{landplan-affected-parcels}"})
    symbols = _sub(renderer, "symbols")
    spec = (
        ("\"remnant_flag\" <> ''", lab["remnant_bad"], palette.REMNANT_BAD, REMNANT_BAD_OUTLINE_MM, "{landplan-remnant-below-minimum}"),
        ("ELSE", lab["affected"], palette.PARCEL_LINE, PARCEL_OUTLINE_MM, "{landplan-affected-parcel}"),
    )
    for i, (expr, label, color, width, key) in enumerate(spec):
        _sub(rules, "rule", {"key": key, "symbol": str(i), "label": label, "filter": expr})
        symbols.append(_fill_symbol(str(i), fill=None, outline=color, width_mm=width))
    return _finish_qml(root)


def qml_remnants(lang: str = "vi") -> str:
    """QGIS style of the ``remnants`` layer (each piece that remains of a parcel after every project):
    pieces failing a minimum (``"flag" <> ''``) filled in :data:`landplan.palette.REMNANT_BAD`, the
    others outlined in :data:`landplan.palette.REMNANT_OK`."""
    _check_lang(lang)
    lab = _LABELS[lang]
    root = _qml_root()
    renderer = _renderer(root, {"type": "RuleRenderer"})
    rules = _sub(renderer, "rules", {"key": "{landplan-remnants}"})
    symbols = _sub(renderer, "symbols")
    spec = (
        ("\"flag\" <> ''", lab["piece_bad"], palette.REMNANT_BAD, palette.REMNANT_BAD, REMNANT_BAD_OUTLINE_MM, "{landplan-piece-below-minimum}"),
        ("ELSE", lab["piece_ok"], None, palette.REMNANT_OK, PARCEL_OUTLINE_MM, "{landplan-piece-ok}"),
    )
    for i, (expr, label, fill, color, width, key) in enumerate(spec):
        _sub(rules, "rule", {"key": key, "symbol": str(i), "label": label, "filter": expr})
        symbols.append(_fill_symbol(str(i), fill=fill, outline=color, width_mm=width))
    return _finish_qml(root)


def qml_pages(lang: str = "vi") -> str:
    """QGIS style of the ``strip_pages`` layer: each strip-map page outlined (dashed, no fill).

    Parameters
    ----------
    lang : {"vi", "en"}
        Language of the legend label.
    """
    _check_lang(lang)
    root = _qml_root()
    renderer = _renderer(root, {"type": "singleSymbol"})
    symbols = _sub(renderer, "symbols")
    sym = _fill_symbol("0", fill=None, outline=PAGES_OUTLINE, width_mm=PAGES_OUTLINE_MM)
    for layer in sym.iter("layer"):
        for opt in layer.iter("Option"):
            if opt.get("name") == "outline_style":
                opt.set("value", "dash")
        for prop in layer.iter("prop"):
            if prop.get("k") == "outline_style":
                prop.set("v", "dash")
    symbols.append(sym)
    _sub(renderer, "rotation")
    _sub(renderer, "sizescale")
    return _finish_qml(root)


def styles_for(projects: Sequence[tuple[str, str, bool]], lang: str = "vi") -> dict[str, str]:
    """The QML styles keyed by GeoPackage layer name (:data:`LAYERS`).

    Parameters
    ----------
    projects : sequence of (str, str, bool)
        ``(project id, display name, is_hub)`` in scenario order.
    lang : {"vi", "en"}
        Language of the legend labels.
    """
    return {LAYER_FOOTPRINTS: qml_footprints(projects, lang), LAYER_REMNANTS: qml_remnants(lang), LAYER_TAKES: qml_takes(lang),
            LAYER_AFFECTED: qml_affected_parcels(lang)}


def write_layer_styles(gpkg: Path, styles: Mapping[str, str]) -> None:
    """Store each QML as the default style of its layer in the GeoPackage, as QGIS does.

    QGIS opens each layer with this style ("Save as default" → "Datasource database" in QGIS).

    Parameters
    ----------
    gpkg : Path
        A GeoPackage holding the layers named in ``styles``.
    styles : mapping of str to str
        QML documents keyed by layer name (:func:`styles_for`).

    Raises
    ------
    InputFileError
        When ``gpkg`` is missing or not a GeoPackage.
    LayerError
        When a layer named in ``styles`` is not a geometry layer of ``gpkg`` (all such names listed).

    Notes
    -----
    The table ``layer_styles`` is created exactly as QGIS (through GDAL) creates it, with GDAL's
    feature-count triggers, and registered in ``gpkg_contents`` as ``attributes``. One row per layer:
    ``f_table_catalog`` and ``f_table_schema`` empty, ``f_table_name`` the layer,
    ``f_geometry_column`` its geometry column (from ``gpkg_geometry_columns``), ``styleName`` the
    layer name, ``useAsDefault`` 1, ``update_time`` :data:`STYLE_UPDATE_TIME`. A second call replaces
    the row of the same style name; other styles a user saved for the layer are kept but no longer default.
    """
    gpkg = Path(gpkg)
    if not gpkg.is_file():
        raise InputFileError(f"GeoPackage {gpkg} not found")
    with closing(sqlite3.connect(gpkg)) as con:
        try:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise InputFileError(f"{gpkg} is not a GeoPackage ({exc})") from exc
        if not {"gpkg_contents", "gpkg_geometry_columns"} <= tables:
            raise InputFileError(f"{gpkg} is not a GeoPackage (it has no gpkg_contents/gpkg_geometry_columns table)")
        geom_cols = {t.lower(): (t, c) for t, c in con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns")}
        missing = [name for name in styles if name.lower() not in geom_cols]
        if missing:
            raise LayerError(
                f"{gpkg} has no geometry layer {', '.join(map(repr, missing))}; its layers are "
                f"{', '.join(sorted(t for t, _ in geom_cols.values())) or 'none'}"
            )
        with con:  # one transaction
            con.execute(_LAYER_STYLES_DDL)
            if "gpkg_ogr_contents" in tables:
                for trigger in _LAYER_STYLES_TRIGGERS:
                    con.execute(trigger)
                if con.execute("SELECT 1 FROM gpkg_ogr_contents WHERE lower(table_name) = 'layer_styles'").fetchone() is None:
                    n = con.execute("SELECT count(*) FROM layer_styles").fetchone()[0]
                    con.execute("INSERT INTO gpkg_ogr_contents (table_name, feature_count) VALUES ('layer_styles', ?)", (n,))
            if con.execute("SELECT 1 FROM gpkg_contents WHERE lower(table_name) = 'layer_styles'").fetchone() is None:
                con.execute(
                    "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change, srs_id) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles', '', ?, 0)",
                    (STYLE_UPDATE_TIME,),
                )
            for name, qml in styles.items():
                table, geom = geom_cols[name.lower()]
                where = "f_table_schema = '' AND f_table_name = ? AND f_geometry_column = ?"
                con.execute(f"DELETE FROM layer_styles WHERE {where} AND styleName = ?", (table, geom, table))
                con.execute(f"UPDATE layer_styles SET useAsDefault = 0 WHERE {where}", (table, geom))
                con.execute(
                    "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName, "
                    "styleQML, styleSLD, useAsDefault, description, owner, ui, update_time) "
                    "VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
                    (table, geom, table, qml, f"landplan: default style of {table}", STYLE_UPDATE_TIME),
                )


def _spatialrefsys(parent: ET.Element, crs: pyproj.CRS) -> None:
    """A QGIS ``<spatialrefsys>``: QGIS reads the CRS from ``<wkt>``.

    A CRS with an authority code is written as WKT1 with ``AUTHORITY[...]`` (QGIS then takes the
    definition from its own database, and the text does not change with the PROJ version); any other
    CRS as WKT2, which is lossless.
    """
    srs = _sub(parent, "spatialrefsys")
    auth = crs.to_authority()
    wkt = (crs.to_wkt("WKT1_GDAL") if auth else None) or crs.to_wkt()
    _sub(srs, "wkt", text=wkt)
    _sub(srs, "srid", text=auth[1] if auth and auth[0] == "EPSG" else "0")
    _sub(srs, "authid", text=f"{auth[0]}:{auth[1]}" if auth else "")
    _sub(srs, "description", text=crs.name)
    _sub(srs, "geographicflag", text="true" if crs.is_geographic else "false")


def _relative_source(gpkg_name: str) -> str:
    p = PurePosixPath(gpkg_name.replace("\\", "/"))
    if p.is_absolute() or (len(gpkg_name) > 1 and gpkg_name[1] == ":"):
        raise ValueError(f"gpkg_name must be a path relative to the project file, got {gpkg_name!r}")
    text = str(p)
    return text if text.startswith("../") else f"./{text}"  # QGIS resolves only ./ and ../ paths against the project


@dataclass(frozen=True)
class AtlasLayout:
    """A print layout whose map follows the strip-map pages (an atlas over ``layer``).

    ``first_page`` is the first page's centre (x, y) and ``scale`` its scale denominator; each page then
    takes its own scale and rotation from the layer's ``scale`` and ``angle_deg`` fields. Sizes in mm
    on an A3 landscape page (the strip maps' layout: :data:`landplan.atlas.MAP_MM`).
    """

    layer: str
    first_page: tuple[float, float]
    scale: float
    page_mm: tuple[float, float] = (420.0, 297.0)
    map_mm: tuple[float, float, float, float] = (10.0, 60.0, 400.0, 212.0)  # left, bottom, width, height


_LAYOUT_TYPES = {"page": "65638", "map": "65639", "label": "65641", "legend": "65642", "scalebar": "65646"}
_LAYOUT_TEXT = {
    "vi": {"name": "Bình đồ thu hồi đất", "title": "Bình đồ thu hồi đất – [% \"name\" %]",
           "page": "[% \"label\" %] · tỷ lệ 1:[% format_number(\"scale\", 0) %]", "legend": "Chú giải"},
    "en": {"name": "Strip maps of land taken", "title": "Strip map of land taken – [% \"name\" %]",
           "page": "[% \"label\" %] · scale 1:[% format_number(\"scale\", 0) %]", "legend": "Legend"},
}


def _layout_item(parent: ET.Element, kind: str, uid: str, pos: tuple[float, float], size: tuple[float, float], z: int,
                 extra: Mapping[str, str] | None = None, dd: Mapping[str, str] | None = None) -> ET.Element:
    """A layout item of ``kind`` at ``pos`` (mm from the page's top left) of ``size`` (mm)."""
    attrib = {"type": _LAYOUT_TYPES[kind], "uuid": uid, "templateUuid": uid, "id": uid.strip("{}"), "position": f"{pos[0]:g},{pos[1]:g},mm",
              "positionOnPage": f"{pos[0]:g},{pos[1]:g},mm", "size": f"{size[0]:g},{size[1]:g},mm", "zValue": str(z),
              "visibility": "1", "positionLock": "false", "referencePoint": "0", "frame": "false", "background": "true" if kind != "label" else "false",
              "itemRotation": "0", "opacity": "1", "blendMode": "0", "excludeFromExports": "0", "groupUuid": "", **(extra or {})}
    item = _sub(parent, "LayoutItem", attrib)
    _sub(item, "FrameColor", {"alpha": "255", "blue": "0", "green": "0", "red": "0"})
    _sub(item, "BackgroundColor", {"alpha": "255", "blue": "255", "green": "255", "red": "255"})
    obj = _sub(item, "LayoutObject")
    props = _sub(_sub(obj, "dataDefinedProperties"), "Option", {"type": "Map"})
    _sub(props, "Option", {"type": "QString", "value": "", "name": "name"})
    p = _sub(props, "Option", {"type": "Map", "name": "properties"})
    for name, expression in (dd or {}).items():
        o = _sub(p, "Option", {"type": "Map", "name": name})
        _sub(o, "Option", {"type": "bool", "value": "true", "name": "active"})
        _sub(o, "Option", {"type": "QString", "value": expression, "name": "expression"})
        _sub(o, "Option", {"type": "int", "value": "3", "name": "type"})
    _sub(props, "Option", {"type": "QString", "value": "collection", "name": "type"})
    _sub(_sub(obj, "customproperties"), "Option")
    return item


def atlas_layout_xml(parent: ET.Element, atlas: AtlasLayout, *, layer_id: str, layer_name: str, source: str, lang: str = "vi") -> ET.Element:
    """Add to ``parent`` (a project's ``<Layouts>``) a print layout with an atlas over the strip-map pages.

    The layout holds the page (A3 landscape), a map driven by the atlas whose scale and rotation come
    from each page's ``scale`` and ``angle_deg`` (so it prints each page as landplan's PDF does), a
    title and a page label from the page's fields, a legend and a scale bar linked to the map. GIS
    staff can then move, restyle or add items and print (Layout → Atlas → Export) themselves.
    """
    t = _LAYOUT_TEXT[lang]
    pw, ph = atlas.page_mm
    left, bottom, mw, mh = atlas.map_mm
    top = ph - bottom - mh
    layout = _sub(parent, "Layout", {"name": t["name"], "units": "mm", "printResolution": "300", "worldFileMap": ""})
    _sub(layout, "Snapper", {"snapToGuides": "1", "tolerance": "5", "snapToGrid": "0", "snapToItems": "1"})
    _sub(layout, "Grid", {"offsetY": "0", "offsetUnits": "mm", "resolution": "10", "resUnits": "mm", "offsetX": "0"})
    pages = _sub(layout, "PageCollection")
    _layout_item(pages, "page", "{landplan-page-1}", (0, 0), (pw, ph), 0)
    _sub(pages, "GuideCollection", {"visible": "1"})
    map_uid = "{landplan-atlas-map}"
    half_w, half_h = mw / 2000 * atlas.scale, mh / 2000 * atlas.scale
    cx, cy = atlas.first_page
    m = _layout_item(layout, "map", map_uid, (left, top), (mw, mh), 1,
                     {"keepLayerSet": "false", "followPreset": "false", "followPresetName": "", "drawCanvasItems": "true", "mapRotation": "0",
                      "mapFlags": "0", "isTemporal": "0", "labelMargin": "0,mm", "frame": "true"},
                     {"dataDefinedMapRotation": '"angle_deg"', "dataDefinedMapScale": '"scale"'})
    _sub(m, "Extent", {"xmin": f"{cx - half_w:.3f}", "ymin": f"{cy - half_h:.3f}", "xmax": f"{cx + half_w:.3f}", "ymax": f"{cy + half_h:.3f}"})
    _sub(m, "LayerSet")
    _sub(m, "AtlasMap", {"atlasDriven": "1", "scalingMode": "0", "margin": "0"})
    _layout_item(layout, "label", "{landplan-atlas-title}", (left, 8), (mw - 120, 12), 2,
                 {"labelText": t["title"], "htmlState": "0", "halign": "1", "valign": "32", "marginX": "0", "marginY": "0"})
    _layout_item(layout, "label", "{landplan-atlas-page}", (left + mw - 120, 8), (120, 12), 2,
                 {"labelText": t["page"], "htmlState": "0", "halign": "2", "valign": "32", "marginX": "0", "marginY": "0"})
    _layout_item(layout, "scalebar", "{landplan-atlas-scalebar}", (left, ph - bottom + 6), (100, 14), 3,
                 {"mapUuid": map_uid, "style": "Single Box", "numSegments": "4", "numSegmentsLeft": "0", "numUnitsPerSegment": "25",
                  "segmentSizeMode": "0", "unitType": "meters", "unitLabel": "m", "numMapUnitsPerScaleBarUnit": "1", "height": "3",
                  "labelBarSpace": "3", "boxContentSpace": "1", "alignment": "0", "background": "false"})
    _layout_item(layout, "legend", "{landplan-atlas-legend}", (left + 120, ph - bottom + 4), (mw - 120, bottom - 14), 3,
                 {"map_uuid": map_uid, "title": t["legend"], "columnCount": "2", "resizeToContents": "0", "legendFilterByAtlas": "1",
                  "symbolWidth": "7", "symbolHeight": "4", "boxSpace": "2", "columnSpace": "4", "lineSpacing": "1", "equalColumnWidth": "0",
                  "splitLayer": "0", "titleAlignment": "1", "wrapChar": "", "fontColor": "#000000", "rasterBorder": "1",
                  "rasterBorderColor": "0,0,0,255", "rasterBorderWidth": "0", "wmsLegendWidth": "50", "wmsLegendHeight": "25",
                  "minSymbolSize": "0", "maxSymbolSize": "0", "symbolAlignment": "1"})
    props = _sub(_sub(layout, "customproperties"), "Option", {"type": "Map"})
    _sub(props, "Option", {"type": "bool", "value": "true", "name": "singleFile"})
    _sub(layout, "Atlas", {"enabled": "1", "coverageLayer": layer_id, "coverageLayerName": layer_name, "coverageLayerSource": source,
                           "coverageLayerProvider": "ogr", "hideCoverage": "1", "filterFeatures": "0", "sortFeatures": "0",
                           "pageNameExpression": '"label"', "filenamePattern": "'strip_' || \"project\" || '_p' || lpad(\"page\", 3, '0')"})
    return layout


def project_xml(gpkg_name: str, layers: Sequence[str], crs_wkt_or_epsg: str | int | pyproj.CRS, styles: Mapping[str, str],
                title: str, *, lang: str = "vi", extent: tuple[float, float, float, float] | None = None,
                atlas: AtlasLayout | None = None) -> str:
    """A QGIS project (.qgs) that opens ``layers`` of a GeoPackage, each with its style.

    Parameters
    ----------
    gpkg_name : str
        The GeoPackage's path relative to the project file (``"./landplan.gpkg"``,
        ``"../output/demo/landplan.gpkg"``); the project stores relative paths, so the folder can be moved.
    layers : sequence of str
        GeoPackage layer names, **top of the map first** (:data:`LAYERS` is a sensible order). All are
        polygon layers.
    crs_wkt_or_epsg : str, int or pyproj.CRS
        The layers' CRS (``"EPSG:5897"``, ``5897``, WKT); also the project CRS.
    styles : mapping of str to str
        QML per layer name (:func:`styles_for`); every layer needs one. Embedded in the project.
    title : str
        Project title.
    lang : {"vi", "en"}
        Language of the layer names in the layer tree (:data:`LAYER_TITLES`; other layers keep their name).
    extent : (xmin, ymin, xmax, ymax), optional
        Initial view in the CRS's units; without it QGIS keeps its current view.
    atlas : AtlasLayout, optional
        Adds a print layout with an atlas over the strip-map pages (:func:`atlas_layout_xml`);
        ``atlas.layer`` must be one of ``layers``.

    Returns
    -------
    str
        The project XML (UTF-8 text).
    """
    _check_lang(lang)
    if atlas is not None and atlas.layer not in layers:
        raise ValueError(f"the atlas layer {atlas.layer!r} is not among the layers {list(layers)}")
    crs = pyproj.CRS.from_user_input(crs_wkt_or_epsg)
    missing = [name for name in layers if name not in styles]
    if missing:
        raise ValueError(f"no style for layer(s) {', '.join(map(repr, missing))}; styles has {', '.join(styles) or 'none'}")
    if len(set(layers)) != len(layers):
        raise ValueError(f"layers must be distinct, got {list(layers)}")
    source = _relative_source(gpkg_name)
    titles = LAYER_TITLES[lang]
    ids = {name: f"{name}_landplan" for name in layers}

    root = ET.Element("qgis", {"projectname": title, "version": QGIS_VERSION})
    _sub(root, "homePath", {"path": ""})
    _sub(root, "title", text=title)
    _spatialrefsys(_sub(root, "projectCrs"), crs)

    tree = _sub(root, "layer-tree-group")
    _sub(tree, "customproperties")
    for name in layers:
        node = _sub(tree, "layer-tree-layer", {
            "id": ids[name], "name": titles.get(name, name), "source": f"{source}|layername={name}",
            "providerKey": "ogr", "checked": "Qt::Checked", "expanded": "1",
        })
        _sub(node, "customproperties")
    order = _sub(tree, "custom-order", {"enabled": "0"})
    for name in layers:
        _sub(order, "item", text=ids[name])

    bounds = dict(zip(("xmin", "ymin", "xmax", "ymax"), (f"{float(v):.3f}" for v in extent))) if extent is not None else None
    if bounds is not None:
        canvas = _sub(root, "mapcanvas", {"name": "theMapCanvas", "annotationsVisible": "1"})
        _sub(canvas, "units", text="meters" if not crs.is_geographic else "degrees")
        box = _sub(canvas, "extent")
        for tag, v in bounds.items():
            _sub(box, tag, text=v)
        _sub(canvas, "rotation", text="0")
        _spatialrefsys(_sub(canvas, "destinationsrs"), crs)
        _sub(canvas, "rendermaptips", text="0")

    project_layers = _sub(root, "projectlayers")
    for name in layers:
        qml = ET.fromstring(styles[name])
        attrib = {k: v for k, v in qml.attrib.items() if k != "version"}
        ml = _sub(project_layers, "maplayer", {"type": "vector", "geometry": "Polygon", "wkbType": "MultiPolygon", **attrib})
        _sub(ml, "id", text=ids[name])
        _sub(ml, "datasource", text=f"{source}|layername={name}")
        _sub(ml, "layername", text=titles.get(name, name))
        _spatialrefsys(_sub(ml, "srs"), crs)
        _sub(ml, "provider", {"encoding": "UTF-8"}, text="ogr")
        manager = _sub(ml, "map-layer-style-manager", {"current": "default"})
        _sub(manager, "map-layer-style", {"name": "default"})
        for child in qml:
            ml.append(copy.deepcopy(child))

    layer_order = _sub(root, "layerorder")
    for name in layers:
        _sub(layer_order, "layer", {"id": ids[name]})
    props = _sub(root, "properties")
    paths = _sub(props, "Paths")
    _sub(paths, "Absolute", {"type": "bool"}, text="false")
    srs_props = _sub(props, "SpatialRefSys")
    _sub(srs_props, "ProjectionsEnabled", {"type": "int"}, text="1")
    meta = _sub(root, "projectMetadata")
    _sub(meta, "title", text=title)
    _sub(meta, "language", text=lang)
    if bounds is not None:
        view = _sub(root, "ProjectViewSettings", {"UseProjectScales": "0", "rotation": "0"})
        _sub(view, "Scales")
        default = _sub(view, "DefaultViewExtent", bounds)
        _spatialrefsys(default, crs)
    if atlas is not None:
        atlas_layout_xml(_sub(root, "Layouts"), atlas, layer_id=ids[atlas.layer], layer_name=titles.get(atlas.layer, atlas.layer),
                         source=f"{source}|layername={atlas.layer}", lang=lang)
    return _serialize(root)


def write_project(path: Path, gpkg_name: str, layers: Sequence[str], crs_wkt_or_epsg: str | int | pyproj.CRS,
                  styles: Mapping[str, str], title: str, *, lang: str = "vi",
                  extent: tuple[float, float, float, float] | None = None, atlas: AtlasLayout | None = None) -> Path:
    """Write :func:`project_xml` to ``path`` (UTF-8, ``.qgs``); return ``path``.

    ``gpkg_name`` is relative to ``path``'s folder; see :func:`project_xml` for the other parameters.
    """
    path = Path(path)
    path.write_text(project_xml(gpkg_name, layers, crs_wkt_or_epsg, styles, title, lang=lang, extent=extent, atlas=atlas), encoding="utf-8")
    return path
