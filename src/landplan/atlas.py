"""Strip maps (bình đồ) along each corridor at a fixed scale, and a sheet for each polygon project.

A corridor is cut into pages along its centreline: each page is a window of the map frame's size at
the stated scale (1:2,000 by default), turned so the alignment runs left to right, with chainage
ticks (Km+m from the project's start), the affected parcels with their ids and land-use colours, the
land taken, the page's key map and its number. A polygon project (the hub) gets one sheet at the
largest round scale that fits it. Pages are computed first (:func:`project_pages`, pure geometry);
:func:`write_atlas` draws them, building each project's static layers once and reusing them on
every page: one multi-page PDF per project (fonts embedded once) and a PNG per page.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry import LineString
from shapely.ops import substring

from . import landuse, printing
from .palette import ADMIN_LINE, PARCEL_LINE, REMNANT_BAD, project_colors

if TYPE_CHECKING:
    from .pipeline import Result
    from .scenario import ProjectSpec

log = logging.getLogger("landplan")

#: Page of a strip map: A3 landscape (mm).
PAGE_MM: tuple[float, float] = (420.0, 297.0)
#: The map frame on the page: left, bottom, width, height (mm).
MAP_MM: tuple[float, float, float, float] = (10.0, 60.0, 400.0, 212.0)
#: Share of a page's length repeated on the next page.
OVERLAP = 0.06
#: Chainage tick interval (m).
TICK_M = 100.0
#: PNG resolution of strip-map pages (the PDF is the print product; PNGs are for screens and reports).
PNG_DPI = 150
#: Scales a polygon project's sheet may use (1:N).
SHEET_SCALES: tuple[float, ...] = (500, 1000, 2000, 2500, 5000, 10000, 20000, 25000, 50000)
#: Folder of the strip maps inside exports/.
ATLAS_DIR = "atlas"

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bình đồ thu hồi đất – {name}", "sheet": "Sơ đồ thu hồi đất – {name}", "page": "Tờ {n}/{total}",
        "chainage": "Lý trình {a} – {b}", "scale": "Tỷ lệ {ratio}", "units": "Đơn vị hành chính: {names}",
        "key": "Sơ đồ vị trí tờ", "legend": "Chú giải", "taken": "Phần đất thu hồi ({code})", "rest": "Phần còn lại của thửa",
        "bad": "Phần còn lại dưới mức tối thiểu", "footprint": "Ranh giới thu hồi của dự án",
        "centre": "Tim tuyến, cọc lý trình (100 m)", "admin": "Ranh giới hành chính", "other": "Dự án khác",
        "crs": "Hệ tọa độ {crs}", "made": "Lập bằng landplan {version}", "ids": "Số hiệu thửa ghi trên thửa",
    },
    "en": {
        "title": "Strip map of land taken – {name}", "sheet": "Map of land taken – {name}", "page": "Sheet {n} of {total}",
        "chainage": "Chainage {a} – {b}", "scale": "Scale {ratio}", "units": "Administrative units: {names}",
        "key": "Key map", "legend": "Legend", "taken": "Land taken ({code})", "rest": "Rest of the parcel",
        "bad": "Remaining piece below a minimum", "footprint": "Project acquisition boundary",
        "centre": "Centreline, chainage pegs (100 m)", "admin": "Administrative boundary", "other": "Other project",
        "crs": "Coordinate system {crs}", "made": "Made with landplan {version}", "ids": "Parcel ids written on the parcels",
    },
}


@dataclass(frozen=True)
class Page:
    """One page of a project's atlas: a window on the ground turned by ``angle_deg``.

    ``centre`` and sizes are in metres of the working CRS; the window's x axis (along the page) points
    at ``angle_deg`` counter-clockwise from grid east. ``chainage_m`` is the (from, to) stretch of the
    centreline the page shows, or ``None`` on a polygon project's sheet.
    """

    project: str
    number: int
    total: int
    centre: tuple[float, float]
    angle_deg: float
    width_m: float
    height_m: float
    scale: float
    chainage_m: tuple[float, float] | None = None

    def window(self) -> shapely.Polygon:
        """The ground the page shows, as a (rotated) rectangle in the working CRS."""
        return _window(self.centre, self.angle_deg, self.width_m, self.height_m)

    def to_page(self, xy: np.ndarray) -> np.ndarray:
        """Ground coordinates → page coordinates (metres from the page centre, x along the page)."""
        a = math.radians(self.angle_deg)
        c, s = math.cos(a), math.sin(a)
        d = np.asarray(xy, dtype=float) - np.asarray(self.centre)
        return np.column_stack([c * d[:, 0] + s * d[:, 1], -s * d[:, 0] + c * d[:, 1]])


def _window(centre: tuple[float, float], angle_deg: float, w: float, h: float) -> shapely.Polygon:
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    pts = [(-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2)]
    return shapely.Polygon([(centre[0] + c * x - s * y, centre[1] + s * x + c * y) for x, y in pts])


def chainage_label(m: float) -> str:
    """Chainage in the Vietnamese road notation: 1,520 m → ``Km1+520``.

    >>> chainage_label(0), chainage_label(1520.4), chainage_label(999.6)
    ('Km0+000', 'Km1+520', 'Km1+000')
    """
    whole = round(m)
    return f"Km{whole // 1000}+{whole % 1000:03d}"


def chainage_ticks(line: LineString, *, step_m: float = TICK_M, start_m: float = 0.0) -> list[tuple[float, float, float, float]]:
    """Chainage pegs every ``step_m`` along ``line``: ``(chainage m, x, y, direction °)``.

    ``start_m`` is the chainage at the line's first vertex (a project in several parts continues its
    chainage). Direction is the alignment's bearing there, counter-clockwise from grid east.
    """
    length = float(line.length)
    first = math.ceil(start_m / step_m - 1e-9) * step_m
    along = np.arange(first - start_m, length + 1e-9, step_m)
    if not len(along):
        return []
    pts = shapely.line_interpolate_point(line, along)
    ahead = shapely.line_interpolate_point(line, np.minimum(along + 0.5, length))
    behind = shapely.line_interpolate_point(line, np.maximum(along - 0.5, 0.0))
    a, b, p = shapely.get_coordinates(behind), shapely.get_coordinates(ahead), shapely.get_coordinates(pts)
    ang = np.degrees(np.arctan2(b[:, 1] - a[:, 1], b[:, 0] - a[:, 0]))
    return [(float(start_m + s), float(x), float(y), float(d)) for s, (x, y), d in zip(along, p, ang)]


def centreline_parts(lines: gpd.GeoDataFrame | list[LineString]) -> list[LineString]:
    """A project's centreline features chained into continuous lines, in the layer's order.

    A feature that starts (or ends) where the current line ends is joined to it, reversed when needed;
    otherwise a new part starts. Chainage runs from the first vertex of the first feature.
    """
    geoms = list(lines.geometry.values) if isinstance(lines, gpd.GeoDataFrame) else list(lines)
    segs = [np.asarray(g.coords)[:, :2] for geom in geoms for g in shapely.get_parts(shapely.line_merge(geom))
            if not g.is_empty and g.length > 0]
    parts: list[np.ndarray] = []
    tol = 0.5
    for seg in segs:
        if parts:
            end = parts[-1][-1]
            if np.hypot(*(seg[0] - end)) <= tol:
                parts[-1] = np.vstack([parts[-1], seg[1:]])
                continue
            if np.hypot(*(seg[-1] - end)) <= tol:
                parts[-1] = np.vstack([parts[-1], seg[::-1][1:]])
                continue
            if len(parts) == 1 and len(parts[0]) and np.hypot(*(seg[0] - parts[0][0])) <= tol and np.hypot(*(seg[-1] - end)) > tol:
                parts[0] = np.vstack([parts[0][::-1], seg[1:]])  # the first feature was drawn end to start
                continue
        parts.append(seg)
    return [LineString(p) for p in parts if len(p) >= 2]


def _fits(line: LineString, centre: np.ndarray, angle: float, w: float, h: float, half_width: float) -> bool:
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    xy = shapely.get_coordinates(shapely.segmentize(line, max(w / 50, 1.0))) - centre
    u = c * xy[:, 0] + s * xy[:, 1]
    v = -s * xy[:, 0] + c * xy[:, 1]
    return bool((np.abs(u) <= w / 2 + 1e-6).all() and (np.abs(v) <= h / 2 - half_width - 0.02 * h).all())


def strip_pages(parts: list[LineString], footprint: shapely.Geometry, *, project: str, scale: float, half_width_m: float,
                map_mm: tuple[float, float] = (MAP_MM[2], MAP_MM[3])) -> list[Page]:
    """Pages along a corridor at 1:``scale``: each the map frame's size on the ground, turned along the
    centreline, consecutive pages overlapping by :data:`OVERLAP`, every part of ``footprint`` on a page.

    Parameters
    ----------
    parts : list of LineString
        The centreline in chainage order (:func:`centreline_parts`).
    footprint : shapely geometry
        The project's footprint; pages are added for any part the windows along the line miss.
    scale : float
        Scale denominator (2000 for 1:2,000).
    half_width_m : float
        Half the widest right-of-way (m): a page keeps the corridor inside its frame across the line.
    """
    w = map_mm[0] / 1000.0 * scale
    h = map_mm[1] / 1000.0 * scale
    step = w * (1 - OVERLAP)
    raw: list[tuple[tuple[float, float], float, tuple[float, float]]] = []
    offset = 0.0
    for line in parts:
        length = float(line.length)
        s0 = 0.0
        while s0 < length - 1e-6 or (s0 == 0.0 and length <= 1e-6):
            chunk = min(step, length - s0)
            while True:
                s1 = min(s0 + chunk, length)
                p0 = np.asarray(line.interpolate(s0).coords[0])
                p1 = np.asarray(line.interpolate(s1).coords[0])
                sub = LineString(shapely.get_coordinates(substring(line, s0, s1))) if s1 - s0 > 1e-6 else line
                centre = (p0 + p1) / 2 if s1 - s0 > 1e-6 else p0
                angle = math.degrees(math.atan2(p1[1] - p0[1], p1[0] - p0[0])) if s1 - s0 > 1e-6 else 0.0
                if _fits(sub, centre, angle, w - 2 * OVERLAP * w / 2, h, half_width_m) or chunk <= w * 0.1:
                    break
                chunk *= 0.8
            # the page is centred on the stretch, whose ends the overlap leaves room around
            raw.append(((float(centre[0]), float(centre[1])), _upright(angle), (offset + s0, offset + s1)))
            s0 = s1
            if s1 >= length:
                break
        offset += length
    windows = [_window(c, a, w, h) for c, a, _ in raw]
    missed = shapely.difference(footprint, shapely.union_all(windows)) if windows else footprint
    for piece in shapely.get_parts(missed):
        if piece.area <= 1.0:
            continue
        c = piece.centroid
        along = 0.0
        if parts:
            distances = [p.distance(c) for p in parts]
            k = int(np.argmin(distances))
            along = sum(p.length for p in parts[:k]) + parts[k].project(c)
        raw.append(((c.x, c.y), 0.0, (along, along)))
    raw.sort(key=lambda r: r[2][0])
    total = len(raw)
    return [Page(project, i + 1, total, c, a, w, h, float(scale), ch) for i, (c, a, ch) in enumerate(raw)]


def _upright(angle: float) -> float:
    """An angle in (-180, 180]; pages keep the direction of travel left to right."""
    return float((angle + 180.0) % 360.0 - 180.0)


def sheet_page(footprint: shapely.Geometry, *, project: str, map_mm: tuple[float, float] = (MAP_MM[2], MAP_MM[3]),
               margin: float = 0.08) -> Page:
    """One page for a polygon project at the largest scale of :data:`SHEET_SCALES` that fits it.

    The page is turned to the footprint's minimum rotated rectangle when that allows a larger
    scale (the north arrow shows the turn), else kept north up.
    """
    best: tuple[float, float, tuple[float, float]] | None = None
    rect = shapely.minimum_rotated_rectangle(footprint)
    xy = shapely.get_coordinates(rect)[:4] if rect.geom_type == "Polygon" else np.zeros((4, 2))
    edge = xy[1] - xy[0]
    candidates = [0.0, _upright(math.degrees(math.atan2(edge[1], edge[0]))), _upright(math.degrees(math.atan2(edge[1], edge[0])) + 90)]
    for angle in candidates:
        a = math.radians(angle)
        c, s = math.cos(a), math.sin(a)
        pts = shapely.get_coordinates(footprint)
        u = c * pts[:, 0] + s * pts[:, 1]
        v = -s * pts[:, 0] + c * pts[:, 1]
        need = max((u.max() - u.min()) / (map_mm[0] / 1000.0), (v.max() - v.min()) / (map_mm[1] / 1000.0)) * (1 + 2 * margin)
        scale = next((sc for sc in SHEET_SCALES if sc >= need), printing.nice_scale(need))
        cu, cv = (u.max() + u.min()) / 2, (v.max() + v.min()) / 2
        centre = (c * cu - s * cv, s * cu + c * cv)
        if best is None or scale < best[0] - 1e-9:
            best = (float(scale), angle, (float(centre[0]), float(centre[1])))
    assert best is not None
    scale, angle, centre = best
    return Page(project, 1, 1, centre, angle, map_mm[0] / 1000.0 * scale, map_mm[1] / 1000.0 * scale, scale, None)


def project_pages(result: Result, project: ProjectSpec, *, scale: float | None = None) -> list[Page]:
    """The pages of one project: strip pages along a centreline, or one sheet for a polygon."""
    from . import layers

    fp_rows = result.footprints[result.footprints["project"] == project.id]
    if fp_rows.empty:
        return []
    footprint = fp_rows.geometry.values[0]
    if project.kind != "centreline":
        return [sheet_page(footprint, project=project.id)]
    lines = layers.read_project(project, result.scenario.crs)
    parts = centreline_parts(lines)
    if project.width_column:
        half = float(np.nanmax(lines[project.width_column].to_numpy(dtype=float))) / 2
    else:
        half = float(project.width_m or 0.0) / 2
    sc = float(scale or result.scenario.outputs.strip_scale)
    return strip_pages(parts, footprint, project=project.id, scale=sc, half_width_m=half)


def atlas_pages(result: Result, *, scale: float | None = None) -> dict[str, list[Page]]:
    """Every project's pages, by project id, in scenario order."""
    return {p.id: project_pages(result, p, scale=scale) for p in result.scenario.projects}


def pages_frame(pages: dict[str, list[Page]], crs: Any, *, lang: str = "vi", names: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """The pages as polygons (the QGIS atlas's coverage layer): project, its name, page, total, angle, scale,
    chainage and a label (``Tờ 3/25 · Km1+504 – Km2+256``)."""
    names = names or {}
    rows = []
    for pid, plist in pages.items():
        for p in plist:
            ch = p.chainage_m
            rows.append({
                "project": pid, "name": names.get(pid, pid), "page": p.number, "pages": p.total, "angle_deg": p.angle_deg, "scale": p.scale,
                "chainage_from_m": ch[0] if ch else None, "chainage_to_m": ch[1] if ch else None,
                "label": TEXT[lang]["page"].format(n=p.number, total=p.total)
                + (f" · {chainage_label(ch[0])} – {chainage_label(ch[1])}" if ch else ""),
                "geometry": p.window(),
            })
    cols = ["project", "name", "page", "pages", "angle_deg", "scale", "chainage_from_m", "chainage_to_m", "label", "geometry"]
    return gpd.GeoDataFrame(rows, columns=cols, geometry="geometry", crs=crs)


# --- drawing ------------------------------------------------------------------------------------------------


class _Canvas:
    """One project's atlas figure: static layers built once, then moved, subset and relabelled per page."""

    def __init__(self, result: Result, project: ProjectSpec, pages: list[Page], *, lang: str) -> None:
        from matplotlib.patches import Patch, Rectangle
        from matplotlib.patches import Polygon as MplPolygon
        from matplotlib.transforms import Affine2D

        self.result, self.project, self.pages, self.lang = result, project, pages, lang
        t = self.t = TEXT["en" if lang == "en" else "vi"]
        sc = result.scenario
        view = result.view(project.id)
        colors = project_colors([(p.id, p.hub) for p in sc.projects])
        W, H = PAGE_MM
        fig = self.fig = printing.new_figure(W, H)
        mx, my, mw, mh = MAP_MM
        ax = self.ax = fig.add_axes((mx / W, my / H, mw / W, mh / H))
        page0 = pages[0]
        ax.set_xlim(-page0.width_m / 2, page0.width_m / 2)
        ax.set_ylim(-page0.height_m / 2, page0.height_m / 2)
        ax.set_aspect("auto")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_linewidth(0.8)
        self.rot = Affine2D()
        tf = self.rot + ax.transData

        parcels = view.affected
        pieces = view.pieces
        self.parcel_geoms = np.asarray(parcels.geometry.values)
        self.parcel_ids = parcels["parcel_id"].astype(str).to_numpy()
        self.parcel_tree = shapely.STRtree(self.parcel_geoms)
        self.piece_geoms = np.asarray(pieces.geometry.values)
        self.piece_tree = shapely.STRtree(self.piece_geoms)
        tint = np.array([_rgba(landuse.color(c), 0.30) for c in parcels["landuse"]]).reshape(-1, 4)
        full = np.array([_rgba(landuse.color(c), 1.0) for c in pieces["landuse"]]).reshape(-1, 4)
        self.layers: list[tuple[Any, list[Any], np.ndarray | None, str]] = []
        self._layer(printing.polygons(ax, self.parcel_geoms, facecolor=tint, edgecolor=PARCEL_LINE, linewidth=0.35, zorder=2,
                                      transform=tf), self.parcel_geoms, tint, "parcels")
        self._layer(printing.polygons(ax, self.piece_geoms, facecolor=full, edgecolor="#333333", linewidth=0.25, zorder=3,
                                      transform=tf), self.piece_geoms, full, "pieces")
        rem = view.remnants[view.remnants["flag"] != ""]  # what remains of a parcel below a minimum
        bad_geoms = np.asarray(rem.geometry.values)
        self._layer(printing.polygons(ax, bad_geoms, facecolor=(0.906, 0.298, 0.235, 0.45), edgecolor=REMNANT_BAD, linewidth=0.8,
                                      zorder=4, transform=tf), bad_geoms, None, "bad")
        others = result.footprints[result.footprints["project"] != project.id]
        other_geoms = np.asarray(others.geometry.values)
        self._layer(printing.polygons(ax, other_geoms, edgecolor="#7f7f7f", linewidth=0.8, linestyle=(0, (5, 3)), zorder=5,
                                      transform=tf), other_geoms, None, "others")
        fp_geoms = np.asarray(view.footprints.geometry.values)
        self._layer(printing.polygons(ax, fp_geoms, edgecolor=colors[project.id], linewidth=1.4, zorder=6, transform=tf), fp_geoms,
                    None, "footprint")
        key = sc.outputs.label_layer(list(result.admin))
        self.units = result.admin.get(key) if key else None
        if self.units is not None:
            ug = np.asarray(self.units.geometry.values)
            self._layer(printing.lines(ax, ug, color=ADMIN_LINE, linewidth=0.9, linestyle=(0, (8, 3, 2, 3)), zorder=5.5, transform=tf),
                        ug, None, "admin")
        self.parts: list[LineString] = []
        self.ticks: list[tuple[float, float, float, float]] = []
        if project.kind == "centreline":
            from . import layers

            self.parts = centreline_parts(layers.read_project(project, sc.crs))
            start = 0.0
            for part in self.parts:
                self.ticks += chainage_ticks(part, start_m=start)
                start += part.length
            pg = np.asarray(self.parts, dtype=object)
            printing.lines(ax, pg, color="#c0392b", linewidth=0.6, linestyle=(0, (12, 3, 2, 3)), zorder=7, transform=tf)
        from matplotlib.collections import LineCollection

        self.tick_coll = LineCollection([], colors="#c0392b", linewidths=0.8, zorder=7, transform=ax.transData)
        ax.add_collection(self.tick_coll)
        ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, fill=False, edgecolor="black", linewidth=0.8, zorder=30))

        # title band and furniture that stay on every page
        name = project.name(lang)
        title = t["sheet" if project.kind != "centreline" else "title"].format(name=name)
        self.title = fig.text(mx / W, (my + mh + 3) / H, printing.wrap_to_width(title, mw - 70, 12, bold=True), fontsize=12,
                              fontweight="bold", va="bottom", ha="left")
        self.page_text = fig.text((mx + mw) / W, (my + mh + 3) / H, "", fontsize=11, fontweight="bold", ha="right", va="bottom")
        self.sub_text = fig.text((mx + mw) / W, (my + mh + 9) / H, "", fontsize=8, ha="right", va="bottom", color="#333333")
        self.bar = printing.scale_bar(ax, scale=page0.scale, lang=lang, loc=(0.012, 0.02))
        self.scale = page0.scale

        # key map: the whole project with every page outlined; the current page is filled
        kax = self.kax = fig.add_axes((mx / W, 10 / H, 110 / W, 44 / H))
        kax.set_xticks([])
        kax.set_yticks([])
        kax.set_title(t["key"], fontsize=7, loc="left", pad=2)
        printing.polygons(kax, fp_geoms, facecolor=_rgba(colors[project.id], 0.25), edgecolor=colors[project.id], linewidth=0.6)
        wins = [p.window() for p in pages]
        printing.polygons(kax, np.asarray(wins, dtype=object), edgecolor="#555555", linewidth=0.4, zorder=3)
        if self.units is not None:
            printing.lines(kax, np.asarray(self.units.geometry.values), color="#bbbbbb", linewidth=0.3, zorder=1)
        allb = shapely.union_all(np.asarray([*wins, *fp_geoms], dtype=object)).bounds
        kw, kh = 110.0, 44.0
        cx, cy = (allb[0] + allb[2]) / 2, (allb[1] + allb[3]) / 2
        span = max((allb[2] - allb[0]) / kw, (allb[3] - allb[1]) / kh) * 1.08
        kax.set_xlim(cx - span * kw / 2, cx + span * kw / 2)
        kax.set_ylim(cy - span * kh / 2, cy + span * kh / 2)
        self.key_patch = MplPolygon(np.zeros((4, 2)), closed=True, facecolor=(0.86, 0.1, 0.1, 0.55), edgecolor="#b00000",
                                    linewidth=0.8, zorder=4)
        kax.add_patch(self.key_patch)
        self.key_label = kax.text(0, 0, "", fontsize=7, color="#b00000", fontweight="bold", zorder=5, ha="left", va="bottom")

        # legend
        codes = sorted(set(pieces["landuse"])) if len(pieces) else []
        handles: list[Any] = [Patch(facecolor=landuse.color(c), edgecolor="#333333", linewidth=0.4,
                                    label=t["taken"].format(code=f"{c} – {landuse.name(c, lang)}")) for c in codes]
        handles += [Patch(facecolor=_rgba("#bbbbbb", 0.35), edgecolor=PARCEL_LINE, linewidth=0.4, label=t["rest"]),
                    Patch(facecolor=(0.906, 0.298, 0.235, 0.45), edgecolor=REMNANT_BAD, linewidth=0.8, label=t["bad"]),
                    Patch(facecolor="none", edgecolor=colors[project.id], linewidth=1.4, label=t["footprint"])]
        if project.kind == "centreline":
            handles.append(Patch(facecolor="none", edgecolor="#c0392b", linewidth=0.8, linestyle=(0, (6, 2, 1, 2)), label=t["centre"]))
        if len(others):
            handles.append(Patch(facecolor="none", edgecolor="#7f7f7f", linestyle="--", linewidth=0.8, label=t["other"]))
        if self.units is not None:
            handles.append(Patch(facecolor="none", edgecolor=ADMIN_LINE, linestyle="-.", linewidth=0.8, label=t["admin"]))
        # laid out once by hand: matplotlib's legend re-measures every entry on every page it is drawn
        printing.legend_grid(fig, handles, (128.0, 10.0, 150.0, 44.0), title=t["legend"], ncols=2, fontsize=7)

        # notes: CRS, source, ids; the units on the page change per page
        from . import __version__

        files = ", ".join(sorted({p.name for p in sc.input_files()}))
        note = (f"{t['crs'].format(crs=f'{sc.crs.name} ({sc.crs.to_string()})')}. {t['ids']}. "
                f"{files}. {t['made'].format(version=__version__)}.")
        fig.text(285 / W, 54 / H, printing.wrap_to_width(note, 125, 7), fontsize=7, va="top", ha="left", color="#333333")
        self.units_text = fig.text(285 / W, 12 / H, "", fontsize=7, va="bottom", ha="left", color="#333333")
        self.page_artists: list[Any] = []
        #: what changes from page to page; everything else is the page's static background
        self.dynamic: list[Any] = [self.ax, self.page_text, self.sub_text, self.units_text, self.key_patch, self.key_label]
        self._background: Any = None

    def png(self, page: Page, path: Path, *, dpi: float) -> None:
        """Write ``page`` as a PNG, drawing only what changes onto the static background drawn once.

        The first call draws the legend, notes, key map and frames once (the page's artists hidden)
        and keeps the pixels; each page then restores them and draws the map, its labels and texts.
        """
        canvas = self.fig.canvas
        if self._background is None or self.fig.dpi != dpi:
            self.fig.set_dpi(dpi)
            for a in self.dynamic:
                a.set_animated(True)
            canvas.draw()
            self._background = canvas.copy_from_bbox(self.fig.bbox)  # type: ignore[attr-defined]
        self.show(page)
        canvas.restore_region(self._background)  # type: ignore[attr-defined]
        for a in self.dynamic:
            self.fig.draw_artist(a)
        printing.write_png(np.asarray(canvas.buffer_rgba()), path, dpi=dpi)  # type: ignore[attr-defined]

    def vector(self) -> None:
        """Back to drawing everything (for the PDF)."""
        for a in self.dynamic:
            a.set_animated(False)
        self._background = None

    def _layer(self, coll: Any, geoms: np.ndarray, colors: np.ndarray | None, name: str) -> None:
        self.layers.append((coll, list(coll.get_paths()), colors, name))
        self.__dict__.setdefault("_trees", {})[name] = shapely.STRtree(geoms) if len(geoms) else None

    def show(self, page: Page) -> None:
        """Move the map to ``page``: rotation, visible features, labels, ticks, key map and texts."""
        from matplotlib.transforms import Affine2D

        t = self.t
        for a in self.page_artists:
            a.remove()
        self.page_artists = []
        a = math.radians(page.angle_deg)
        self.rot.set_matrix(Affine2D().translate(-page.centre[0], -page.centre[1]).rotate(-a).get_matrix())
        win = page.window()
        for coll, paths, colors, name in self.layers:
            tree = self.__dict__["_trees"].get(name)
            idx = np.sort(tree.query(win, predicate="intersects")) if tree is not None else np.zeros(0, dtype=int)
            coll.set_paths([paths[i] for i in idx])
            if colors is not None:
                coll.set_facecolor(colors[idx] if len(idx) else "none")
        ax = self.ax
        # parcel ids at a point of each parcel's visible part (each parcel labelled on the page that shows most of it)
        idx = np.sort(self.parcel_tree.query(win, predicate="intersects"))
        inner = shapely.box(-page.width_m / 2, -page.height_m / 2, page.width_m / 2, page.height_m / 2)
        if len(idx):
            parts = shapely.intersection(self.parcel_geoms[idx], win)
            areas = shapely.area(parts)
            best = self._best_page_of(idx, areas, page)
            pts = shapely.get_coordinates(shapely.point_on_surface(parts))
            local = page.to_page(pts)
            min_m2 = (6.0 / 1000 * page.scale) ** 2  # at least 6 × 6 mm on paper, or the parcel's best page
            for k, (x, y) in enumerate(local):
                if areas[k] <= 0 or not (areas[k] >= min_m2 or best[k]):
                    continue
                if not inner.contains(shapely.Point(x, y)):
                    continue
                self.page_artists.append(ax.text(x, y, self.parcel_ids[idx[k]], fontsize=7, ha="center", va="center", zorder=9,
                                                 color="#111111", clip_on=True))
        # chainage pegs with Km+m labels, drawn across the centreline
        segs = []
        tick_mm = 2.5 / 1000 * page.scale
        for ch, x, y, d in self.ticks:
            lx, ly = page.to_page(np.array([[x, y]]))[0]
            if abs(lx) > page.width_m / 2 or abs(ly) > page.height_m / 2:
                continue
            dd = math.radians(d - page.angle_deg)
            nx, ny = -math.sin(dd), math.cos(dd)
            major = abs(ch / 1000 - round(ch / 1000)) < 1e-9
            half = tick_mm * (1.8 if major else 1.0)
            segs.append([(lx - nx * half, ly - ny * half), (lx + nx * half, ly + ny * half)])
            rot = math.degrees(math.atan2(ny, nx))
            rot = rot - 180 if rot > 90 else rot + 180 if rot < -90 else rot
            self.page_artists.append(ax.text(lx + nx * half * 1.15, ly + ny * half * 1.15, chainage_label(ch), fontsize=7,
                                             fontweight="bold" if major else "normal", color="#c0392b", rotation=rot,
                                             rotation_mode="anchor", ha="left", va="center", zorder=10, clip_on=True))
        self.tick_coll.set_segments(segs)
        printing_north = _north(ax, page, self.lang)
        self.page_artists += printing_north
        # texts and key map
        self.page_text.set_text(t["page"].format(n=page.number, total=page.total))
        ratio = t["scale"].format(ratio=printing.fmt_scale(page.scale, self.lang))
        stretch = page.chainage_m
        self.sub_text.set_text(ratio + (f" · {t['chainage'].format(a=chainage_label(stretch[0]), b=chainage_label(stretch[1]))}"
                                        if stretch else ""))
        self.key_patch.set_xy(np.asarray(win.exterior.coords))
        c = win.centroid
        self.key_label.set_position((c.x, c.y))
        self.key_label.set_text(str(page.number))
        names: list[str] = []
        if self.units is not None:
            hit = self.units[self.units.intersects(win)]
            names = [str(n) for n in hit["admin_unit"]]
        self.units_text.set_text(printing.wrap_to_width(t["units"].format(names=", ".join(names) or "–"), 125, 7))

    def _best_page_of(self, idx: np.ndarray, areas: np.ndarray, page: Page) -> np.ndarray:
        """True for parcels whose largest visible part is on ``page`` (so each is labelled at least once)."""
        best = self.__dict__.setdefault("_best", {})
        if not best:
            wins = [p.window() for p in self.pages]
            pi, wi = shapely.STRtree(np.asarray(wins, dtype=object)).query(self.parcel_geoms, predicate="intersects")
            ar = shapely.area(shapely.intersection(self.parcel_geoms[pi], np.asarray(wins, dtype=object)[wi]))
            order = np.lexsort((-ar, pi))
            first = np.r_[True, np.diff(pi[order]) != 0]
            for p_i, w_i in zip(pi[order][first], wi[order][first]):
                best[int(p_i)] = self.pages[int(w_i)].number
        return np.array([best.get(int(i)) == page.number for i in idx], dtype=bool)


def _north(ax: Any, page: Page, lang: str) -> list[Any]:
    return printing.north_arrow(ax, rotation_deg=-page.angle_deg, xy=(0.965, 0.87), lang=lang)


def _rgba(hex_color: str, alpha: float) -> tuple[float, float, float, float]:
    h = hex_color.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, alpha)


def render_project(result: Result, project_id: str, pages: list[Page], folder: Path, *, lang: str = "vi",
                   numbers: list[int] | None = None, pdf: bool = True, png: bool = True, dpi: float = PNG_DPI) -> list[Path]:
    """Draw a project's pages: a multi-page PDF ``<folder>/strip_<project>.pdf`` and/or a PNG per page
    (``strip_<project>_p001.png`` …). ``numbers`` limits the PNGs to those pages (to share a long
    project between processes); the PDF always holds every page. Returns the written paths."""
    from matplotlib.backends.backend_pdf import PdfPages

    project = next(p for p in result.scenario.projects if p.id == project_id)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if not pages:
        return written
    with printing.drawing():
        canvas = _Canvas(result, project, pages, lang=lang)
        stem = f"strip_{project_id}"
        if pdf:
            canvas.vector()
            path = folder / f"{stem}.pdf"
            meta = printing.metadata("pdf", canvas.title.get_text().replace("\n", " "))
            with PdfPages(path, metadata=meta) as doc:
                for page in pages:
                    canvas.show(page)
                    doc.savefig(canvas.fig)
            written.append(path)
        if png:
            for page in pages:
                if numbers is not None and page.number not in numbers:
                    continue
                path = folder / f"{stem}_p{page.number:03d}.png"
                canvas.png(page, path, dpi=dpi)
                written.append(path)
    return written
