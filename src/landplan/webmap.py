"""The planner's map: one HTML file that answers the questions without Python, on a desktop or a phone.

A title bar (scenario, date, data note); a map with base maps (a plain background that needs no
network, and OpenStreetMap and satellite imagery unless ``self_contained``, falling back to the
plain background with a notice when tiles cannot be reached); layers for administrative units with
their names, rivers and roads, rice land around the projects, land taken by land use, what remains
of each parcel (the piece that fails a minimum drawn as such), affected parcels, project footprints
and the hub; a panel with the all-projects total, a summary per project (click to zoom) and a
legend that follows the layers shown (a bottom sheet on narrow screens); popups that explain each
parcel; search by parcel id, owner and unit; distance and area measuring; print; CSV downloads of
the summary and of the parcels in view. ``public`` leaves owners' names out of the file.

The data goes into the page once, as compact JSON and packed polygons (:mod:`landplan.packed`),
and the page (``web/landplan.js``) draws the large layers on canvases: a map of tens of thousands
of parcels opens in about a second. Every text reaches the page as JSON data or HTML-escaped, and
the page puts data in as text only. Scripts are always inlined (:mod:`landplan.assets`).
"""

from __future__ import annotations

import html
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import assets, landuse, palette
from .numfmt import format_number
from .packed import UNIT_M, mercator_xy, pack_polygons
from .parallel import geos_map

if TYPE_CHECKING:
    import folium

    from .pipeline import Result, ResultView

log = logging.getLogger("landplan")

LABELS: dict[str, dict[str, str]] = {
    "vi": {
        "plain": "Nền trơn (không cần mạng)", "osm": "Bản đồ OpenStreetMap", "satellite": "Ảnh vệ tinh",
        "admin": "Ranh giới hành chính", "footprints": "Ranh giới dự án", "hub": "Trung tâm nông nghiệp",
        "takes": "Đất bị thu hồi (theo loại đất)", "parcels": "Thửa đất bị ảnh hưởng", "remnants": "Phần còn lại của thửa",
        "context": "Đất lúa xung quanh dự án", "orientation": "Sông, kênh và đường", "legend": "Chú giải", "project": "Dự án",
        "parcel": "Thửa", "landuse": "Loại đất", "owner": "Người sử dụng đất", "unit": "Đơn vị hành chính",
        "parcel_area": "Diện tích thửa (m²)", "take": "Thu hồi (m²)", "take_pct": "Tỷ lệ thu hồi (%)", "remnant": "Còn lại (m²)",
        "flag": "Cảnh báo phần còn lại", "pieces_n": "Số phần còn lại", "piece": "Phần", "piece_ok": "đạt mức tối thiểu",
        "remnant_ok": "Phần còn lại đạt mức tối thiểu", "remnant_bad": "Phần còn lại dưới mức tối thiểu (diện tích hoặc bề rộng)",
        "summary": "Tổng hợp theo dự án", "footprint_ha": "Diện tích dự án (ha)", "taken_ha": "Đất thu hồi (ha)",
        "rice_ha": "Đất lúa (ha)", "luc_ha": "LUC (ha)", "luk_ha": "LUK (ha)", "parcels_n": "Số thửa bị ảnh hưởng",
        "remnants_n": "Số thửa có phần còn lại dưới mức", "declared": "Đất lúa khai báo (ha)", "diff": "Chênh lệch (ha)",
        "approval": "Thẩm quyền chấp thuận", "search": "Tìm thửa, chủ sử dụng, đơn vị…", "search_public": "Tìm thửa, đơn vị…",
        "not_found": "Không tìm thấy", "cancel": "Hủy",
        "fullscreen": "Toàn màn hình", "fullscreen_off": "Thoát toàn màn hình", "measure": "Đo khoảng cách",
        "measure_off": "Tắt đo khoảng cách", "measure_clear": "Xóa các đường đo", "area": "Đo diện tích (m², ha)",
        "area_clear": "Xóa các vùng đo", "print": "In bản đồ", "csv_summary": "Tải bảng tổng hợp (CSV)",
        "csv_view": "Tải danh sách thửa trong khung nhìn (CSV)",
        "all": "Tất cả dự án", "all_note": "Đất nằm trong nhiều dự án chỉ tính một lần.",
        "empty": "Không có thửa đất nào bị ảnh hưởng trong phạm vi dự án", "zoom": "Phóng tới dự án",
        "panel": "Tổng hợp và chú giải", "panel_button": "Tổng hợp", "close": "Đóng",
        "offline": "Không tải được bản đồ nền trực tuyến (không có mạng?): đang dùng nền trơn.",
        "water": "Sông, kênh, mặt nước", "roads": "Đường giao thông", "public": "Bản công khai: không có tên người sử dụng đất.",
        "page": "Bản đồ thu hồi đất",
        "estimate": "Ước tính chi phí", "illustrative": "MINH HỌA: bảng giá giả định, không phải bảng giá của tỉnh, thành phố",
        "position": "Vị trí (khoảng cách tới đường)", "unit_price": "Đơn giá bồi thường (đồng/m²)",
        "legal_take": "Diện tích thu hồi pháp lý (m²)", "compensation": "Bồi thường về đất (đồng)", "support": "Hỗ trợ (đồng)",
        "conversion": "Tiền bảo vệ, phát triển đất trồng lúa (đồng)", "cost_total": "Tổng ước tính (đồng)",
        "candidate": "Phần còn lại có thể thu hồi theo đề nghị (đồng, không cộng vào tổng)",
    },
    "en": {
        "plain": "Plain background (no network)", "osm": "OpenStreetMap", "satellite": "Satellite imagery",
        "admin": "Administrative units", "footprints": "Project footprints", "hub": "Agricultural hub",
        "takes": "Land taken (by land use)", "parcels": "Affected parcels", "remnants": "What remains of parcels",
        "context": "Rice land around the projects", "orientation": "Rivers, canals and roads", "legend": "Legend", "project": "Project",
        "parcel": "Parcel", "landuse": "Land use", "owner": "Land user", "unit": "Administrative unit",
        "parcel_area": "Parcel area (m²)", "take": "Taken (m²)", "take_pct": "Share taken (%)", "remnant": "Remaining (m²)",
        "flag": "Remnant flag", "pieces_n": "Remaining pieces", "piece": "Piece", "piece_ok": "meets the minimums",
        "remnant_ok": "Remaining piece above the minimums", "remnant_bad": "Remaining piece below a minimum (area or width)",
        "summary": "Summary by project", "footprint_ha": "Footprint (ha)", "taken_ha": "Land taken (ha)",
        "rice_ha": "Rice land (ha)", "luc_ha": "LUC (ha)", "luk_ha": "LUK (ha)", "parcels_n": "Parcels affected",
        "remnants_n": "Parcels with a remnant below a minimum", "declared": "Declared rice (ha)", "diff": "Difference (ha)",
        "approval": "Approval", "search": "Find a parcel, land user, unit…", "search_public": "Find a parcel, unit…",
        "not_found": "Not found", "cancel": "Cancel",
        "fullscreen": "Full screen", "fullscreen_off": "Exit full screen", "measure": "Measure distance",
        "measure_off": "Stop measuring distance", "measure_clear": "Clear distance lines", "area": "Measure area (m², ha)",
        "area_clear": "Clear measured areas", "print": "Print the map", "csv_summary": "Download the summary (CSV)",
        "csv_view": "Download the parcels in view (CSV)",
        "all": "All projects", "all_note": "Land under several projects is counted once.",
        "empty": "No parcel is affected within the project footprints", "zoom": "Zoom to the project",
        "panel": "Summary and legend", "panel_button": "Summary", "close": "Close",
        "offline": "The online base map cannot be reached (no network?): showing the plain background.",
        "water": "Rivers, canals, water", "roads": "Roads", "public": "Public copy: land users' names left out.",
        "page": "Land acquisition map",
        "estimate": "Cost estimate", "illustrative": "ILLUSTRATIVE: an invented price table, not a province's",
        "position": "Position (distance to the road)", "unit_price": "Unit price (VND/m²)", "legal_take": "Legal area taken (m²)",
        "compensation": "Land compensation (VND)", "support": "Support (VND)", "conversion": "Rice-land conversion payment (VND)",
        "cost_total": "Estimated total (VND)", "candidate": "Remnant that may be acquired on request (VND, not in the total)",
    },
}

#: The area-measuring tool's prompts (leaflet-geoman's keys).
GEOMAN_TEXT: dict[str, dict[str, Any]] = {
    "vi": {"tooltips": {"firstVertex": "Chạm hoặc bấm để đặt đỉnh đầu tiên", "continueLine": "Bấm để thêm đỉnh",
                        "finishPoly": "Bấm vào đỉnh đầu tiên (hoặc bấm đúp) để kết thúc"},
           "actions": {"finish": "Xong", "cancel": "Hủy", "removeLastVertex": "Bỏ đỉnh cuối"}},
    "en": {"tooltips": {"firstVertex": "Tap or click to place the first corner", "continueLine": "Click to add a corner",
                        "finishPoly": "Click the first corner (or double-click) to finish"},
           "actions": {"finish": "Finish", "cancel": "Cancel", "removeLastVertex": "Remove last corner"}},
}

#: The distance-measuring tool's prompts (leaflet.polylinemeasure's options; the plugin shows them as HTML).
MEASURE_TEXT: dict[str, dict[str, str]] = {
    "vi": {"tooltipTextFinish": "Bấm để <b>kết thúc đường đo</b><br>", "tooltipTextDelete": "Giữ SHIFT và bấm để <b>xóa điểm</b>",
           "tooltipTextMove": "Bấm và kéo để <b>di chuyển điểm</b><br>", "tooltipTextResume": "<br>Giữ CTRL và bấm để <b>đo tiếp</b>",
           "tooltipTextAdd": "Giữ CTRL và bấm để <b>thêm điểm</b>"},
    "en": {"tooltipTextFinish": "Click to <b>finish the line</b><br>", "tooltipTextDelete": "Press SHIFT and click to <b>delete a point</b>",
           "tooltipTextMove": "Click and drag to <b>move a point</b><br>", "tooltipTextResume": "<br>Press CTRL and click to <b>resume the line</b>",
           "tooltipTextAdd": "Press CTRL and click to <b>add a point</b>"},
}
#: Columns that name people: left out of a public map entirely.
PERSONAL_COLUMNS: tuple[str, ...] = ("owner",)
#: Land-use codes drawn as rivers and canals, and as roads, to orient a reader on the plain background.
WATER_CODES: frozenset[str] = frozenset({"SON", "MNC", "DTL"})
ROAD_CODES: frozenset[str] = frozenset({"DGT"})
#: Rice land, rivers and roads are drawn this far around the footprints (m).
CONTEXT_MARGIN_M = 300.0
#: Administrative units are drawn this far around the footprints (m).
ADMIN_MARGIN_M = 5_000.0
#: Coordinates of the small GeoJSON layers (footprints, units): 6 decimals of a degree, about 0.1 m.
COORD_DECIMALS = 6
#: Names of the CSV files the page offers for download.
DOWNLOADS: dict[str, dict[str, str]] = {
    "vi": {"summary": "tong_hop_du_an.csv", "view": "thua_dat_trong_khung_nhin.csv"},
    "en": {"summary": "project_summary.csv", "view": "parcels_in_view.csv"},
}
_WEB = Path(__file__).parent / "web"


def _png_1x1(rgb: tuple[int, int, int]) -> bytes:
    """A 1 × 1 PNG of one colour."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"\x00" + bytes(rgb)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


#: The plain background: every tile is the same light pixel, so no tile is ever fetched.
_PLAIN_TILE = assets.data_uri(_png_1x1(palette.PLAIN_BACKGROUND_RGB), "image/png")


def escape_html(value: Any) -> str:
    """HTML-escape an attribute value (quotes too) for popups, tooltips and panels."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return html.escape(str(value), quote=True)


def script_json(value: Any) -> str:
    """``value`` as compact UTF-8 JSON that is safe inside an HTML ``<script>`` element: ``<``, ``>``,
    ``&`` and the line separators are written as ``\\u`` escapes, so no text can end the element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def feature_collection(gdf: gpd.GeoDataFrame, props: dict[str, Any]) -> str:
    """A GeoJSON FeatureCollection (WGS 84, 6 decimals) with only ``props``; a ``None`` value leaves
    that property out of that feature.

    Values that popups or tooltips show as HTML must be HTML-escaped already (:func:`escape_html`)."""
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


def _plain(values: Any) -> list[Any]:
    """A column as JSON-ready Python values: NaN and missing become ``None``; numpy scalars become Python's."""
    out = pd.Series(values).astype(object).where(pd.notna(pd.Series(values)), None).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in out]


# ------------------------------------------------------------------------------------------------
# the data the page draws


class _Codes:
    """Land-use codes met while building the layers, each given an index into one table."""

    def __init__(self, lang: str) -> None:
        self.lang, self.index = lang, {}  # type: ignore[var-annotated]

    def __call__(self, codes: Any) -> list[int]:
        return [self.index.setdefault(c, len(self.index)) for c in codes]

    def table(self) -> list[dict[str, str]]:
        return [{"code": c, "name": landuse.name(c, self.lang), "color": landuse.color(c)} for c in self.index]


def _surroundings(result: Result, sub: ResultView, margin_m: float) -> dict[str, gpd.GeoDataFrame]:
    """Rice land (not itself affected), rivers and canals, and roads within ``margin_m`` of the footprints.

    Read once, with only the id and land-use columns, through the run's own parcel reader (codes
    normalised, ids in NFC, geometry repaired); simplified to 0.5 m for drawing. Empty when the
    layer cannot be read again (the map is then drawn without them, with a warning)."""
    from dataclasses import replace

    from .footprints import cut_by_grid
    from .layers import read_parcels
    from .report import RunReport
    from .rules.households import rows_in
    from .takes import TILE_SIZE_M

    zone = shapely.get_parts(shapely.union_all(shapely.buffer(np.asarray(sub.footprints.geometry.values), margin_m)))
    tiles, _ = cut_by_grid(zone, TILE_SIZE_M, np.ones(len(zone), dtype=bool))  # small parts test faster than a long band
    spec = replace(result.scenario.parcels, owner_column=None)  # the map does not need owners around
    try:
        # its warnings were given by the run; no neighbours: no overlap is resolved for drawing
        raw = read_parcels(spec, result.scenario.crs, mask=tiles, report=RunReport(quiet=True), neighbours=False)
    except Exception as exc:  # noqa: BLE001 - context is a nicety: the map is drawn without it
        log.warning("map: rice land, rivers and roads around the projects left out (%s)", exc)
        return {}
    codes = raw["landuse"].to_numpy()
    affected = rows_in(raw["parcel_id"], sub.affected["parcel_id"]) >= 0  # by Arrow's hash, no Python strings
    out = {}
    for key, keep in (("context", np.isin(codes, list(landuse.RICE_CODES)) & ~affected),
                      ("water", np.isin(codes, list(WATER_CODES))), ("roads", np.isin(codes, list(ROAD_CODES)))):
        if keep.any():
            geoms = geos_map(lambda g: shapely.simplify(g, 0.5), np.asarray(raw.geometry.values)[keep])
            out[key] = gpd.GeoDataFrame({"landuse": codes[keep]}, geometry=geoms, crs=raw.crs)
    return out


def _units_of(points: np.ndarray, units: gpd.GeoDataFrame) -> np.ndarray:
    """Index (into ``units``) of the unit holding each point, -1 where none does."""
    out = np.full(len(points), -1, dtype=np.int64)
    if len(points) and len(units):
        tree = shapely.STRtree(np.asarray(units.geometry.values))
        pi, ui = tree.query(points, predicate="within")
        out[pi[::-1]] = ui[::-1]  # the first unit where a point lies on a shared boundary
    return out


def map_data(result: Result, sub: ResultView, *, lang: str, self_contained: bool, public: bool,
             context_margin_m: float = CONTEXT_MARGIN_M) -> dict[str, Any]:
    """Everything the page draws and shows, as JSON-ready data (see ``web/landplan.js``).

    Polygons are packed (:func:`landplan.packed.pack_polygons`), attributes are columns of plain
    values; areas are those of the tables (rounded by the scenario's rule), so the page's figures
    are the files'. The surroundings are read from the parcel layer on a thread while the run's own
    results are packed.
    """
    with ThreadPoolExecutor(max_workers=1) as pool:
        around = pool.submit(_surroundings, result, sub, context_margin_m) if context_margin_m > 0 else None
        data = _own_data(result, sub, lang=lang, public=public)
        surroundings = around.result() if around is not None else {}
    pack, codes = data.pop("_pack"), data.pop("_codes")
    for key, gdf in surroundings.items():
        data["layers"][key] = {**pack(gdf), "lu": codes(gdf["landuse"]), "pane": "context"}
    data["landuse"] = codes.table()
    data["online"] = not self_contained
    return data


def _own_data(result: Result, sub: ResultView, *, lang: str, public: bool) -> dict[str, Any]:
    """The run's own results for the page: parcels, land taken, remaining pieces, footprints, units, tables."""
    from .outputs import rounded_table

    crs, tol = result.scenario.crs, result.scenario.tolerance
    lab = LABELS[lang]
    codes = _Codes(lang)
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    colors = palette.project_colors([(p.id, p.hub) for p in result.scenario.projects])
    fp = sub.footprints
    x0, y0, _, _ = shapely.total_bounds(mercator_xy(np.asarray(fp.geometry.values), crs))
    origin = (float(np.floor(x0)), float(np.floor(y0)))
    project_index = {p.id: i for i, p in enumerate(sub.projects)}

    def pack(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
        p = pack_polygons(np.asarray(gdf.geometry.values), crs, origin)
        return {"n": p.n, "geom": p.data}

    def areas(values: Any) -> list[Any]:
        return _plain(tol.round_m2(np.asarray(values, dtype="float64")) + 0.0)

    layers: dict[str, Any] = {}
    # affected parcels: the facts a popup shows, all shown projects together (overlaps counted once)
    aff = sub.affected
    ids = aff["parcel_id"].to_numpy()
    parcel_index = {p: i for i, p in enumerate(ids)}
    per = rounded_table(sub.parcel_totals, tol).set_index("parcel_id").reindex(ids)
    units = _admin_units(result, sub)
    pts = shapely.point_on_surface(np.asarray(aff.geometry.values))
    if len(aff):
        layers["parcels"] = {
            **pack(aff), "id": [str(v) for v in ids], "lu": codes(aff["landuse"]),
            "area": _plain(per["parcel_area_m2"]), "counted": _plain(per["counted_area_m2"]), "take": _plain(per["take_m2"]),
            "fraction": _plain(per["take_fraction"]), "rest": _plain(per["remnant_m2"]), "flag": _plain(per["remnant_flag"].fillna("")),
            "unit": [_units_of(pts, u).tolist() for u in units.values()],
            **({} if public else {"owner": _plain(aff["owner"].fillna("").astype(str))}),
            **(_cost_columns(per) if result.costs is not None else {}),
        }
    # land taken, one feature per parcel and project
    tk = sub.pieces
    if len(tk):
        layers["takes"] = {**pack(tk), "parcel": [parcel_index[p] for p in tk["parcel_id"]],
                           "project": [project_index[p] for p in tk["project"]], "lu": codes(tk["landuse"]), "take": areas(tk["take_m2"])}
    # what remains, piece by piece, the piece that fails a minimum flagged
    rem = sub.remnants
    if len(rem):
        layers["remnants"] = {**pack(rem), "parcel": [parcel_index[p] for p in rem["parcel_id"]], "piece": _plain(rem["piece"]),
                              "area": areas(rem["area_m2"]), "flag": _plain(rem["flag"])}

    # parcels.csv's rows for the download of the parcels in view; columns that repeat a parcel's facts are read from the parcel's
    rows = rounded_table(sub.parcels, tol)
    columns = [c for c in rows.columns if not (public and c in PERSONAL_COLUMNS)]
    by_parcel = {"parcel_id": "id", "owner": "owner", "parcel_area_m2": "area", "counted_area_m2": "counted"}
    table: dict[str, Any] = {"columns": columns, "parcel": [parcel_index[p] for p in rows["parcel_id"]],
                             "project": [project_index[p] for p in rows["project"]],
                             "parcelColumns": {c: k for c, k in by_parcel.items() if c in columns},
                             # written as Python writes floats, 25.0 not 25, so a download is parcels.csv's text
                             "floats": [c for c in columns if pd.api.types.is_float_dtype(rows[c])]}
    table.update({c: _plain(rows[c]) for c in columns if c not in by_parcel and c not in ("project", "landuse")})

    # footprints and the hub (drawn as outlines with hover text), and each project's bounds for "zoom to"
    rice_ha = dict(zip(sub.approvals["project"], sub.approvals["rice_ha"].to_numpy(dtype=float)))
    fp4326 = fp.to_crs("EPSG:4326")
    layers["footprints"] = {**pack(fp), "project": [project_index[p] for p in fp["project"]],
                            "area_ha": _plain(fp["footprint_m2"] / landuse.M2_PER_HA), "rice_ha": [rice_ha[p] for p in fp["project"]]}
    projects = []
    for p in sub.projects:
        b = fp4326[fp4326["project"] == p.id].total_bounds
        projects.append({"id": p.id, "name": names[p.id], "color": colors[p.id], "hub": p.hub,
                         "bounds": [[float(b[1]), float(b[0])], [float(b[3]), float(b[2])]]})
    admin = []
    titles = {a.key: a.label() for a in result.scenario.admin}
    for key, shown in units.items():
        simple = shown.set_geometry(shapely.simplify(np.asarray(shown.geometry.values), 2.0))
        label_pts = gpd.GeoSeries(shapely.point_on_surface(np.asarray(shown.geometry.values)), crs=shown.crs).to_crs("EPSG:4326")
        admin.append({"key": key, "title": f"{lab['admin']}: {titles.get(key, key)}", "units": [str(u) for u in shown["admin_unit"]],
                      "labels": [[round(float(q.y), COORD_DECIMALS), round(float(q.x), COORD_DECIMALS)] for q in label_pts],
                      "outlines": pack(simple)})
    minx, miny, maxx, maxy = fp4326.total_bounds
    appr = rounded_table(sub.approvals, tol)
    return {
        "lang": lang, "labels": lab, "geomanText": GEOMAN_TEXT[lang], "measureText": MEASURE_TEXT[lang], "plainTile": _PLAIN_TILE,
        "origin": list(origin), "unit": UNIT_M, "bounds": [[float(miny), float(minx)], [float(maxy), float(maxx)]],
        "palette": palette.MAP_STYLE, "projects": projects, "admin": admin, "layers": layers, "rows": table,
        "summaryTable": {"columns": list(appr.columns), "rows": [list(r) for r in zip(*(_plain(appr[c]) for c in appr.columns))]},
        "files": DOWNLOADS[lang], "public": public, "_pack": pack, "_codes": codes,
        "costs": None if result.costs is None else {"illustrative": bool(result.costs.settings.illustrative()),
                                                    "farthest": (list(result.costs.settings.positions.bands_m) or [0.0])[-1]},
    }


#: The estimate's columns a popup shows, by the page's short names (see ``web/landplan.js``).
COST_COLUMNS: dict[str, str] = {"position": "position", "road": "road", "roadDistance": "road_distance_m",
                                "unitPrice": "unit_price_per_m2_vnd", "k": "k", "legal": "legal_take_m2",
                                "comp": "land_compensation_vnd", "job": "job_support_vnd", "life": "life_support_vnd",
                                "conv": "conversion_vnd", "total": "total_vnd", "cand": "remnant_candidate_vnd"}


def _cost_columns(per: pd.DataFrame) -> dict[str, Any]:
    """The estimate of each parcel for its popup (the records' columns, as the tables give them)."""
    return {key: _plain(per[col]) for key, col in COST_COLUMNS.items()}


def _admin_units(result: Result, sub: ResultView) -> dict[str, gpd.GeoDataFrame]:
    """Each administrative layer's units within :data:`ADMIN_MARGIN_M` of the footprints (indexes reset)."""
    zone = shapely.union_all(shapely.buffer(np.asarray(sub.footprints.geometry.values), ADMIN_MARGIN_M))
    return {key: units[shapely.intersects(np.asarray(units.geometry.values), zone)].reset_index(drop=True)
            for key, units in result.admin.items()}


# ------------------------------------------------------------------------------------------------
# the page


def result_map(result: Result, *, lang: str = "vi", self_contained: bool = False, project: str | None = None,
               public: bool = False, context_margin_m: float = CONTEXT_MARGIN_M) -> folium.Map:
    """Draw a run's results (every project, or ``project``) on a folium map and return it.

    ``self_contained`` leaves out the online base maps (the file needs no network at all);
    ``public`` leaves owners' names (:data:`PERSONAL_COLUMNS`) out of the file. Nothing is
    written; save it with :func:`save_map`.
    """
    lang = "en" if lang == "en" else "vi"
    lab = LABELS[lang]
    sub = result.view(project)
    data = map_data(result, sub, lang=lang, self_contained=self_contained, public=public, context_margin_m=context_margin_m)
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    colors = palette.project_colors([(p.id, p.hub) for p in result.scenario.projects])
    heading = result.scenario.name if project is None else f"{names[project]} – {result.scenario.name}"
    from .exports import data_note

    note = data_note(result, lang)  # CRS, sources and the date, as on the print maps
    b = data["bounds"]
    m = _planner_map(location=[(b[0][0] + b[1][0]) / 2, (b[0][1] + b[1][1]) / 2], lang=lang,
                     title=f"{lab['page']} – {heading}")
    root = m.get_root()
    head = (f'<header id="lp-title"><h1>{escape_html(heading)}</h1>'
            f'<div class="lp-meta">{escape_html(note)}</div>'
            f'<button id="lp-panel-toggle" type="button" aria-controls="lp-panel" aria-expanded="true">'
            f'{escape_html(lab["panel_button"])}</button></header>'
            f'<p id="lp-notice" role="status" hidden></p>')
    root.html.add_child(_raw(head))  # type: ignore[attr-defined]
    root.html.add_child(_raw(f'<script type="application/json" id="landplan-data">{script_json(data)}</script>'))  # type: ignore[attr-defined]
    root.html.add_child(_raw(f"<script>{(_WEB / 'landplan.js').read_text(encoding='utf-8')}</script>"))  # type: ignore[attr-defined]
    root.header.add_child(_raw(f"<style>{(_WEB / 'landplan.css').read_text(encoding='utf-8')}</style>"))  # type: ignore[attr-defined]
    legend = _legend_html(data, sub, lab=lab, names=names, colors=colors)
    summary = _summary_html(result, sub, lab=lab, lang=lang, names=names, whole=project is None)
    public_note = f'<p class="lp-panel-note">{escape_html(lab["public"])}</p>' if public else ""
    panel = (f'<aside id="lp-panel" aria-label="{escape_html(lab["panel"])}"><div class="lp-panel-head">'
             f'<h2>{escape_html(lab["panel"])}</h2><button id="lp-panel-close" type="button" aria-label="{escape_html(lab["close"])}">×</button>'
             f'</div>{summary}{legend}{public_note}<p class="lp-panel-note">{escape_html(note)}</p></aside>')
    _after_map(panel).add_to(m)
    js = [assets.plugin(name) for name in ("fullscreen", "measure", "search", "geoman")]
    _macro(m, f"LandplanMap.start({MAP_JS}, JSON.parse(document.getElementById('landplan-data').textContent));",
           js=tuple(a[0] for a in js if a), css=tuple(a[1] for a in js if a))
    return m


def _legend_html(data: dict[str, Any], sub: ResultView, *, lab: dict[str, str], names: dict[str, str], colors: dict[str, str]) -> str:
    """A legend with one section per layer (the page shows a section while its layer is shown)."""
    style = palette.MAP_STYLE

    def swatch(fill: str, line: str | None = None, *, outline: bool = False, dashed: bool = False) -> str:
        border = f"2px {'dashed' if dashed else 'solid'} {line or fill}"
        return f'<span class="lp-swatch" style="background:{"transparent" if outline else fill};border:{border}"></span>'

    def entry(sw: str, text: str) -> str:
        return f"<div>{sw}{escape_html(text)}</div>"

    lu = data["landuse"]
    layers = data["layers"]
    sections: list[tuple[str, str]] = []
    if "takes" in layers:
        used = sorted(set(layers["takes"]["lu"]), key=lambda i: lu[i]["code"])
        sections.append((lab["takes"], "".join(entry(swatch(lu[i]["color"]), f"{lu[i]['code']} – {lu[i]['name']}") for i in used)))
    hubs = {p.id for p in sub.projects if p.hub}
    roads = "".join(entry(swatch(colors[p.id], outline=True), names[p.id]) for p in sub.projects if p.id not in hubs)
    if roads:
        sections.append((lab["footprints"], roads))
    hub = "".join(entry(swatch(colors[p.id], outline=True), names[p.id]) for p in sub.projects if p.id in hubs)
    if hub:
        sections.append((lab["hub"], hub))
    if "remnants" in layers:
        sections.append((lab["remnants"], entry(swatch(style["remnantOk"], style["remnantOkLine"]), lab["remnant_ok"])
                         + entry(swatch(style["remnantBad"], style["remnantBadLine"]), lab["remnant_bad"])))
    if "parcels" in layers:
        sections.append((lab["parcels"], entry(swatch(style["parcelLine"], outline=True), lab["parcels"])))
    if "context" in layers:
        ctx_codes = sorted({lu[i]["code"] for i in layers["context"]["lu"]})
        sections.append((lab["context"], entry(swatch(style["context"], style["contextOutline"]), f"{', '.join(ctx_codes)} – {lab['context']}")))
    if "water" in layers or "roads" in layers:
        rows = (entry(swatch(style["water"]), lab["water"]) if "water" in layers else "") + \
               (entry(swatch(style["road"], style["roadOutline"]), lab["roads"]) if "roads" in layers else "")
        sections.append((lab["orientation"], rows))
    for a in data["admin"]:
        sections.append((a["title"], entry(swatch(style["admin"], outline=True, dashed=True), a["title"])))
    body = "".join(f'<div class="landplan-legend-section" data-layer="{escape_html(name)}"><b>{escape_html(name)}</b>{rows}</div>'
                   for name, rows in sections)
    return f'<section id="landplan-legend" aria-label="{escape_html(lab["legend"])}"><h3>{escape_html(lab["legend"])}</h3>{body}</section>'


def _summary_html(result: Result, sub: ResultView, *, lab: dict[str, str], lang: str, names: dict[str, str], whole: bool) -> str:
    """The all-projects total (overlaps counted once, from ``result.totals``) and each project's key
    figures, with a button that zooms to the project."""
    def num(v: float, decimals: int = 2) -> str:
        return format_number(v, decimals, lang)

    def table(rows: list[tuple[str, str]]) -> str:
        return "<table>" + "".join(f"<tr><td>{escape_html(k)}</td><td>{escape_html(v)}</td></tr>" for k, v in rows) + "</table>"

    parts = []
    flagged = sub.parcels[sub.parcels["remnant_flag"] != ""].groupby("project")["parcel_id"].nunique()
    if whole and len(sub.approvals) > 1:
        t = result.totals.set_index("landuse")["area_m2"]
        per = sub.parcel_totals
        rows = [(lab["taken_ha"], num(t.get("TOTAL", 0.0) / landuse.M2_PER_HA)), (lab["rice_ha"], num(t.get("RICE", 0.0) / landuse.M2_PER_HA)),
                (lab["luc_ha"], num(t.get("LUC", 0.0) / landuse.M2_PER_HA)), (lab["luk_ha"], num(t.get("LUK", 0.0) / landuse.M2_PER_HA)),
                (lab["parcels_n"], num(len(per), 0)), (lab["remnants_n"], num(int((per["remnant_flag"] != "").sum()), 0))]
        rows += _budget_rows(result, None, lab, lang)
        parts.append(f'<div class="lp-total" data-project="__all__"><b>{escape_html(lab["all"])}</b>{table(rows)}'
                     f'<div class="lp-note">{escape_html(lab["all_note"])}</div></div>')
    single = len(sub.approvals) == 1
    for k, r in enumerate(sub.approvals.to_dict("records")):
        declared = r["declared_rice_ha"]
        rows = [
            (lab["footprint_ha"], num(r["footprint_m2"] / landuse.M2_PER_HA)),
            (lab["taken_ha"], num(r["take_m2"] / landuse.M2_PER_HA)),
            (lab["rice_ha"], num(r["rice_ha"])),
            (lab["luc_ha"], num(r["rice_luc_m2"] / landuse.M2_PER_HA)),
            (lab["luk_ha"], num(r["rice_luk_m2"] / landuse.M2_PER_HA)),
            (lab["parcels_n"], num(int(r["parcels_affected"]), 0)),
            (lab["remnants_n"], num(int(flagged.get(r["project"], 0)), 0)),
        ]
        if declared == declared:  # not NaN
            rows += [(lab["declared"], num(declared)),
                     (lab["diff"], f"{format_number(r['rice_diff_ha'], 2, lang, sign=True)} ({format_number(r['rice_diff_pct'], 1, lang, sign=True)} %)")]
        rows.append((lab["approval"], str(r["approval_authority"])))
        rows += _budget_rows(result, str(r["project"]), lab, lang)
        parts.append(f'<details class="landplan-project" data-project="{escape_html(r["project"])}"{" open" if single else ""}>'
                     f'<summary>{escape_html(names.get(r["project"], r["project"]))}</summary>'
                     f'<button type="button" class="lp-zoom" data-index="{k}">{escape_html(lab["zoom"])}</button>{table(rows)}</details>')
    if not len(sub.pieces):
        parts.insert(0, f'<p class="lp-empty">{escape_html(lab["empty"])}</p>')
    if result.costs is not None and result.costs.settings.illustrative():
        parts.append(f'<p class="lp-note lp-illustrative">{escape_html(lab["estimate"])}: {escape_html(lab["illustrative"])}</p>')
    return f'<section id="landplan-summary" aria-label="{escape_html(lab["summary"])}"><h3>{escape_html(lab["summary"])}</h3>{"".join(parts)}</section>'


def _budget_rows(result: Result, project: str | None, lab: dict[str, str], lang: str) -> list[tuple[str, str]]:
    """A project's (or all projects') budget lines for the panel (:func:`landplan.rules.compensation.budget_lines`)."""
    if result.costs is None:
        return []
    from .rules.compensation import budget_lines

    return budget_lines(result.costs, project, lang)


# ------------------------------------------------------------------------------------------------
# folium plumbing: the page skeleton, raw HTML, scripts


def _planner_map(*, location: list[float], lang: str, title: str) -> folium.Map:
    """A folium map whose page says its language and title, lets a reader pinch-zoom it, and fills
    the page's grid cell (the title bar and panel are laid out around it)."""
    import folium
    from branca.element import Figure
    from jinja2 import Template

    class PlannerMap(folium.Map):
        _template = Template("""
{% macro header(this, kwargs) %}
<meta name="viewport" content="width=device-width, initial-scale=1">
{% endmacro %}
{% macro html(this, kwargs) %}
<div class="folium-map" id={{ this.get_name()|tojson }}></div>
{% endmacro %}
{% macro script(this, kwargs) %}
var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }},
    {center: {{ this.location|tojson }}, zoom: 12, crs: L.CRS.EPSG3857, zoomControl: true});  {# the page then fits the footprints #}
{% endmacro %}
""")

    class Page(Figure):
        _template = Template(
            "<!DOCTYPE html>\n<html lang=\"{{ this.lang }}\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<title>{{ this.title }}</title>\n{{ this.header.render(**kwargs) }}\n</head>\n"
            "<body>\n{{ this.html.render(**kwargs) }}\n<script>\n{{ this.script.render(**kwargs) }}\n</script>\n</body>\n</html>\n")

    page = Page()
    page.lang = lang  # type: ignore[attr-defined]
    page.title = html.escape(title)
    m = PlannerMap(location=location, zoom_start=12, tiles=None, control_scale=False, zoom_control=True)
    js, css = assets.leaflet()
    m.default_js = [("leaflet", js)]
    m.default_css = [("leaflet_css", css)]
    page.add_child(m)
    return m


@cache
def _elements() -> tuple[type, type]:
    """Two page elements (classes made once, on first use, so folium is imported only when drawing)."""
    from branca.element import Element, MacroElement
    from jinja2 import Template

    class Raw(Element):
        """Text put into the page as it is: no template is made of it, however long, and no ``{{``
        in it is read as one."""

        _template = Template("{{ this.text }}")

        def __init__(self, text: str) -> None:
            super().__init__()
            self._name = "Raw"
            self.text = text

    class AfterMap(MacroElement):
        """HTML put into the page's body after the map's own (so the keyboard meets the map's controls first)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self._name = "AfterMap"
            self.text = text

        def render(self, **kwargs: Any) -> str:
            self.get_root().html.add_child(Raw(self.text), name=self.get_name())  # type: ignore[attr-defined]
            return ""

    return Raw, AfterMap


def _raw(text: str) -> Any:
    """Text for the page, as it is."""
    return _elements()[0](text)


def _after_map(text: str) -> Any:
    """HTML for the page's body, after the map."""
    return _elements()[1](text)


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
    """Write ``m`` as a single HTML file (UTF-8, stable ids); return the path."""
    path = Path(path)
    _stable_ids(m)
    m.save(str(path))
    return path


#: In a macro's script, the map's JavaScript name (resolved when the page is rendered).
MAP_JS = "{{ this._parent.get_name() }}"


def _macro(m: folium.Map, script: str = "", js: tuple[str, ...] = (), css: tuple[str, ...] = ()) -> None:
    """Add an inline script (run after the map exists) and header assets to ``m``.

    The script is a Jinja template in which :data:`MAP_JS` names the map. The assets go through
    folium's own mechanism (``JSCSSMixin``), so they are written into the page's header after
    Leaflet itself.
    """
    import hashlib

    from branca.element import MacroElement
    from folium.elements import JSCSSMixin
    from jinja2 import Template

    def key(uri: str) -> str:  # a stable name per asset, so the same map gives the same bytes
        return "landplan_" + hashlib.sha1(uri.encode("ascii")).hexdigest()[:12]

    class _Control(JSCSSMixin, MacroElement):
        default_js = [(key(u), u) for u in js]  # noqa: RUF012 - folium reads these class attributes
        default_css = [(key(u), u) for u in css]  # noqa: RUF012

    macro = _Control()
    macro._template = Template("{% macro script(this, kwargs) %}" + script + "{% endmacro %}")
    m.add_child(macro)
