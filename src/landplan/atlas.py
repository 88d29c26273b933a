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
    from .pipeline import Result, ResultView
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

#: Fill of a remaining piece below a minimum on a strip map (the palette's red, half transparent).
BAD_FILL = (0.906, 0.298, 0.235, 0.45)
#: Chainage, centreline and page-number red.
RED = "#c0392b"


class _Sheet:
    """One project's strip maps drawn with cairo (:mod:`landplan.cairodraw`): layers converted to path
    data and indexed once, then each page picks what its window shows, turned and placed at its scale.

    The page is A3 landscape (:data:`PAGE_MM`): title band above the map frame (:data:`MAP_MM`); below
    it the key map, the legend, the notes and the administrative units of the page.
    """

    def __init__(self, result: Result, project: ProjectSpec, pages: list[Page], *, lang: str, view: ResultView | None = None) -> None:
        from . import cairodraw as cd

        self.result, self.project, self.pages, self.lang = result, project, pages, lang
        t = self.t = TEXT["en" if lang == "en" else "vi"]
        sc = result.scenario
        view = view if view is not None else result.view(project.id)
        self.colors = project_colors([(p.id, p.hub) for p in sc.projects])
        self.color = cd.rgba(self.colors[project.id])
        parcels = view.affected
        pieces = view.pieces
        self.parcel_geoms = np.asarray(parcels.geometry.values)
        self.parcel_ids = parcels["parcel_id"].astype(str).to_numpy()
        rem = view.remnants[view.remnants["flag"] != ""]  # what remains of a parcel below a minimum
        others = result.footprints[result.footprints["project"] != project.id]
        fp_geoms = np.asarray(view.footprints.geometry.values)
        key = sc.outputs.label_layer(list(result.admin))
        self.units = result.admin.get(key) if key else None
        unit_geoms = np.asarray(self.units.geometry.values) if self.units is not None else np.zeros(0, dtype=object)
        # (name, geometries, as lines, fill: one colour or one per feature, edge, line width pt, dash pt)
        specs: list[tuple[str, np.ndarray, bool, Any, Any, float, tuple[float, ...] | None]] = [
            # the parcels are the first layer, on white paper: their 30 % tint is mixed with white once (an opaque
            # colour fills far faster than a transparent one, and prints without transparency)
            ("parcels", self.parcel_geoms, False, np.array([_on_white(landuse.color(c), 0.30) for c in parcels["landuse"]]).reshape(-1, 4),
             cd.rgba(PARCEL_LINE), 0.35, None),
            ("pieces", np.asarray(pieces.geometry.values), False, np.array([cd.rgba(landuse.color(c)) for c in pieces["landuse"]]).reshape(-1, 4),
             cd.rgba("#333333"), 0.25, None),
            ("bad", np.asarray(rem.geometry.values), False, BAD_FILL, cd.rgba(REMNANT_BAD), 0.8, None),
            ("others", np.asarray(others.geometry.values), True, None, cd.rgba("#7f7f7f"), 0.8, (4.0, 2.4)),
            ("admin", unit_geoms, True, None, cd.rgba(ADMIN_LINE), 0.9, (7.2, 2.7, 1.8, 2.7)),
            ("footprint", fp_geoms, True, None, self.color, 1.4, None),
        ]
        self.parts: list[LineString] = []
        self.ticks: list[tuple[float, float, float, float]] = []
        if project.kind == "centreline":
            from . import layers

            self.parts = centreline_parts(layers.read_project(project, sc.crs))
            start = 0.0
            for part in self.parts:
                self.ticks += chainage_ticks(part, start_m=start)
                start += part.length
            specs.append(("centre", np.asarray(self.parts, dtype=object), True, None, cd.rgba(RED), 0.6, (7.2, 1.8, 1.2, 1.8)))
        self.layers = [(name, cd.Shapes(geoms, lines=as_lines), shapely.STRtree(geoms) if len(geoms) else None, fill, edge, lw, dash)
                       for name, geoms, as_lines, fill, edge, lw, dash in specs]
        self.parcel_tree = self.layers[0][2]
        self.tick_tree = shapely.STRtree(shapely.points([(x, y) for _, x, y, _ in self.ticks])) if self.ticks else None

        # key map: the whole project, every page outlined, the current one filled
        self.windows = [p.window() for p in pages]
        self.key_fp = cd.Shapes(fp_geoms)
        self.key_windows = cd.Shapes(np.asarray(self.windows, dtype=object), lines=True)
        self.key_units = cd.Shapes(unit_geoms, lines=True)
        allb = shapely.union_all(np.asarray([*self.windows, *fp_geoms], dtype=object)).bounds
        kw, kh = KEY_MM[2], KEY_MM[3]
        span = max((allb[2] - allb[0]) / kw, (allb[3] - allb[1]) / kh) * 1.08
        H = PAGE_MM[1]
        self.key_frame = cd.GroundFrame(((allb[0] + allb[2]) / 2, (allb[1] + allb[3]) / 2),
                                        (KEY_MM[0] + kw / 2, H - KEY_MM[1] - kh / 2), span * 1000.0)

        # legend entries: (swatch fill, edge, line width pt, dash pt, label)
        codes = sorted(set(pieces["landuse"])) if len(pieces) else []
        entries: list[tuple[Any, Any, float, tuple[float, ...] | None, str]] = [
            (cd.rgba(landuse.color(c)), cd.rgba("#333333"), 0.4, None, t["taken"].format(code=f"{c} – {landuse.name(c, lang)}"))
            for c in codes]
        entries += [(cd.rgba("#bbbbbb", 0.35), cd.rgba(PARCEL_LINE), 0.4, None, t["rest"]),
                    (BAD_FILL, cd.rgba(REMNANT_BAD), 0.8, None, t["bad"]),
                    (None, self.color, 1.4, None, t["footprint"])]
        if project.kind == "centreline":
            entries.append((None, cd.rgba(RED), 0.8, (4.8, 1.6, 0.8, 1.6), t["centre"]))
        if len(others):
            entries.append((None, cd.rgba("#7f7f7f"), 0.8, (2.96, 1.28), t["other"]))
        if self.units is not None:
            entries.append((None, cd.rgba(ADMIN_LINE), 0.8, (5.12, 1.28, 0.8, 1.28), t["admin"]))
        self.entries = entries

        from . import __version__

        name = project.name(lang)
        self.title = t["sheet" if project.kind != "centreline" else "title"].format(name=name)
        files = ", ".join(sorted({p.name for p in sc.input_files()}))
        self.note = (f"{t['crs'].format(crs=f'{sc.crs.name} ({sc.crs.to_string()})')}. {t['ids']}. "
                     f"{files}. {t['made'].format(version=__version__)}.")
        self._best: dict[int, int] = {}

    # --- one page -----------------------------------------------------------------------------------------

    def draw(self, pen: Any, page: Page, *, furniture: bool = True, map_: bool = True) -> None:
        """Draw ``page``: its map and texts (``map_``) and the furniture every page shares (``furniture``)."""
        if furniture:
            self._furniture(pen)
        if map_:
            self._map(pen, page)
            self._texts(pen, page)

    def _furniture(self, pen: Any) -> None:
        """What every page of the project shows alike: the title, the legend, the notes, the key map's base."""
        from . import cairodraw as cd

        H = PAGE_MM[1]
        mx, my, mw, mh = MAP_MM
        pen.text(mx, H - (my + mh + 3), pen.wrap(self.title, mw - 70, 12, bold=True), size_pt=12, bold=True, va="bottom")
        # legend: entries fill two columns top to bottom, labels wrapped to the column
        left, bottom, width, height = LEGEND_MM
        size = 7.0
        line_mm = size * 1.35 * cd.MM_PER_PT
        pen.text(left, H - (bottom + height), self.t["legend"], size_pt=size + 1, bold=True, va="top")
        col_w = width / 2
        sw, sh = 5.5, size * 0.9 * cd.MM_PER_PT
        per_col = -(-len(self.entries) // 2)
        y = 0.0
        for k, (fill, edge, lw, dash, label) in enumerate(self.entries):
            col, row = divmod(k, per_col)
            if row == 0:
                y = bottom + height - line_mm * 1.6
            x = left + col * col_w
            text = pen.wrap(label, col_w - sw - 3, size)
            pen.rect(x, H - y - sh / 2, sw, sh, fill=fill, edge=edge, lw_pt=lw, dash_pt=dash)
            pen.text(x + sw + 1.5, H - (y + sh / 2) if "\n" in text else H - y, text, size_pt=size,
                     va="top" if "\n" in text else "center")
            y -= line_mm * (text.count("\n") + 1) + 0.6
        grey = cd.rgba("#333333")
        pen.text(285, H - 54, pen.wrap(self.note, 125, 7), size_pt=7, va="top", color=grey)
        # key map: units, the footprint, every page outlined
        kx, ky, kw, kh = KEY_MM
        top = H - ky - kh
        pen.text(kx, top - 0.7, self.t["key"], size_pt=7, va="bottom")
        pen.clip(kx, top, kw, kh)
        frame = self.key_frame
        pen.features(self.key_units, np.arange(self.key_units.n), frame, edge=cd.rgba("#bbbbbb"), lw_pt=0.3)
        pen.features(self.key_fp, np.arange(self.key_fp.n), frame, fill=cd.rgba(self.colors[self.project.id], 0.25), edge=self.color,
                     lw_pt=0.6)
        pen.features(self.key_windows, np.arange(self.key_windows.n), frame, edge=cd.rgba("#555555"), lw_pt=0.4)
        pen.unclip()
        pen.rect(kx, top, kw, kh, edge=cd.rgba("#000000"), lw_pt=0.6)

    def _map(self, pen: Any, page: Page) -> None:
        """The page's window of the map: layers, parcel ids, chainage pegs, north arrow, scale bar, frame."""
        from . import cairodraw as cd

        H = PAGE_MM[1]
        mx, my, mw, mh = MAP_MM
        top = H - my - mh
        frame = cd.GroundFrame(page.centre, (mx + mw / 2, top + mh / 2), page.scale, page.angle_deg)
        win = page.window()
        pen.clip(mx, top, mw, mh)
        for _name, shapes, tree, fill, edge, lw, dash in self.layers:
            if tree is None:
                continue
            idx = np.sort(tree.query(win, predicate="intersects"))
            f = fill[idx] if isinstance(fill, np.ndarray) else fill
            pen.features(shapes, idx, frame, fill=f, edge=edge, lw_pt=lw, dash_pt=dash)
        # parcel ids at a point of each parcel's visible part (each parcel labelled on the page that shows most of it)
        tree = self.parcel_tree
        idx = np.sort(tree.query(win, predicate="intersects")) if tree is not None else np.zeros(0, dtype=np.int64)
        inner = shapely.box(-page.width_m / 2, -page.height_m / 2, page.width_m / 2, page.height_m / 2)
        if len(idx):
            parts = shapely.intersection(self.parcel_geoms[idx], win)
            areas = shapely.area(parts)
            best = self._best_page_of(idx, areas, page)
            pts = shapely.get_coordinates(shapely.point_on_surface(parts))
            inside = shapely.contains_xy(inner, *page.to_page(pts).T)
            min_m2 = (6.0 / 1000 * page.scale) ** 2  # at least 6 × 6 mm on paper, or the parcel's best page
            mm = frame.to_mm(pts)
            dark = cd.rgba("#111111")
            shown = np.flatnonzero((areas > 0) & ((areas >= min_m2) | best) & inside)
            pen.labels(mm[shown], self.parcel_ids[idx[shown]].tolist(), size_pt=7, ha="center", va="center", color=dark)
        # chainage pegs with Km+m labels, drawn across the centreline
        red = cd.rgba(RED)
        segs = []
        tick_mm = 2.5  # half a peg on paper (mm); a kilometre peg 1.8 times as long
        if self.tick_tree is not None:
            for i in np.sort(self.tick_tree.query(win)):
                ch, x, y, d = self.ticks[int(i)]
                lx, ly = page.to_page(np.array([[x, y]]))[0]
                if abs(lx) > page.width_m / 2 or abs(ly) > page.height_m / 2:
                    continue
                dd = math.radians(d - page.angle_deg)
                nx, ny = -math.sin(dd), math.cos(dd)  # across the line, page axes (y up)
                major = abs(ch / 1000 - round(ch / 1000)) < 1e-9
                half = tick_mm * (1.8 if major else 1.0)
                (px, py), = frame.to_mm(np.array([[x, y]]))
                segs.append(((px - nx * half, py + ny * half), (px + nx * half, py - ny * half)))
                rot = math.degrees(math.atan2(ny, nx))
                rot = rot - 180 if rot > 90 else rot + 180 if rot < -90 else rot
                pen.text(px + nx * half * 1.15, py - ny * half * 1.15, chainage_label(ch), size_pt=7, bold=major, color=red,
                         va="center", rotation_deg=rot)
        if segs:
            pen.segments(segs, edge=red, lw_pt=0.8)
        pen.unclip()
        _north_arrow(pen, (mx + 0.965 * mw, top + (1 - 0.87) * mh), rotation_deg=-page.angle_deg, lang=self.lang)
        _scale_bar(pen, (mx + 0.012 * mw, top + (1 - 0.02) * mh), scale=page.scale, width_m=page.width_m, lang=self.lang)
        pen.rect(mx, top, mw, mh, edge=cd.rgba("#000000"), lw_pt=0.8)
        # the current page on the key map
        kx, ky, kw, kh = KEY_MM
        ktop = H - ky - kh
        pen.clip(kx, ktop, kw, kh)
        pts = self.key_frame.to_mm(np.asarray(win.exterior.coords))
        pen.polygon(pts, fill=(0.86, 0.1, 0.1, 0.55), edge=cd.rgba("#b00000"), lw_pt=0.8)
        (cx, cy), = self.key_frame.to_mm(np.array([[win.centroid.x, win.centroid.y]]))
        pen.text(cx, cy, str(page.number), size_pt=7, bold=True, color=cd.rgba("#b00000"), va="bottom")
        pen.unclip()

    def _texts(self, pen: Any, page: Page) -> None:
        """The page number, scale and chainage above the map; the administrative units the page covers."""
        from . import cairodraw as cd

        H = PAGE_MM[1]
        mx, my, mw, mh = MAP_MM
        t = self.t
        pen.text(mx + mw, H - (my + mh + 3), t["page"].format(n=page.number, total=page.total), size_pt=11, bold=True, ha="right",
                 va="bottom")
        ratio = t["scale"].format(ratio=printing.fmt_scale(page.scale, self.lang))
        stretch = page.chainage_m
        sub = ratio + (f" · {t['chainage'].format(a=chainage_label(stretch[0]), b=chainage_label(stretch[1]))}" if stretch else "")
        grey = cd.rgba("#333333")
        pen.text(mx + mw, H - (my + mh + 9), sub, size_pt=8, ha="right", va="bottom", color=grey)
        names: list[str] = []
        if self.units is not None:
            hit = shapely.intersects(np.asarray(self.units.geometry.values), page.window())
            names = [str(n) for n in self.units["admin_unit"].to_numpy()[hit]]
        pen.text(285, H - 12, pen.wrap(t["units"].format(names=", ".join(names) or "–"), 125, 7), size_pt=7, va="bottom", color=grey)

    def _best_page_of(self, idx: np.ndarray, areas: np.ndarray, page: Page) -> np.ndarray:
        """True for parcels whose largest visible part is on ``page`` (so each is labelled at least once)."""
        best = self._best
        if not best:
            wins = np.asarray(self.windows, dtype=object)
            pi, wi = shapely.STRtree(wins).query(self.parcel_geoms, predicate="intersects")
            ar = shapely.area(shapely.intersection(self.parcel_geoms[pi], wins[wi]))
            order = np.lexsort((-ar, pi))
            first = np.r_[True, np.diff(pi[order]) != 0]
            for p_i, w_i in zip(pi[order][first], wi[order][first]):
                best[int(p_i)] = self.pages[int(w_i)].number
        return np.array([best.get(int(i)) == page.number for i in idx], dtype=bool)


def _on_white(color: str, alpha: float) -> tuple[float, float, float, float]:
    """``color`` at ``alpha`` over white paper, as an opaque colour."""
    from . import cairodraw as cd

    rgba = cd.rgba(color)
    assert rgba is not None
    return (*(alpha * c + (1 - alpha) for c in rgba[:3]), 1.0)  # type: ignore[return-value]


#: The key map on a strip-map page: left, bottom, width, height (mm from the page's lower left).
KEY_MM: tuple[float, float, float, float] = (10.0, 10.0, 110.0, 44.0)
#: The legend on a strip-map page: left, bottom, width, height (mm from the page's lower left).
LEGEND_MM: tuple[float, float, float, float] = (128.0, 10.0, 150.0, 44.0)


def _north_arrow(pen: Any, at_mm: tuple[float, float], *, rotation_deg: float, lang: str, size_mm: float = 9.0) -> None:
    """A north arrow centred at ``at_mm`` pointing to grid north on a page turned by ``rotation_deg``."""
    from . import cairodraw as cd

    s = size_mm / 2
    a = math.radians(rotation_deg)
    c, sn = math.cos(a), math.sin(a)

    def place(pts: list[tuple[float, float]]) -> np.ndarray:  # arrow units (y up) → page mm (y down)
        p = np.asarray(pts, dtype=float) * s
        return np.column_stack([at_mm[0] + c * p[:, 0] - sn * p[:, 1], at_mm[1] - (sn * p[:, 0] + c * p[:, 1])])

    black = cd.rgba("#000000")
    for side, face in ((-1, black), (1, cd.rgba("#ffffff"))):
        pen.polygon(place([(0, 1), (side * 0.38, -0.8), (0, -0.45)]), fill=face, edge=black, lw_pt=0.5)
    (tx, ty), = place([(0, 1.45)])
    pen.text(tx, ty, "B" if lang == "vi" else "N", size_pt=9, bold=True, ha="center", va="center")


def _scale_bar(pen: Any, at_mm: tuple[float, float], *, scale: float, width_m: float, lang: str, size: float = 7.0) -> None:
    """A scale bar whose left end is at ``at_mm`` (its lower edge), four segments of a round length,
    ``0`` and the length above it and the ratio (``Tỷ lệ 1:2.000``) to its right, on a white box."""
    from . import cairodraw as cd

    length = printing.nice_length_m(width_m)
    k = 1000.0 / scale  # mm per ground metre
    bx, by = at_mm
    h, pad = 1.2, 2.0
    label_h = size * cd.MM_PER_PT
    ratio = f"{'Tỷ lệ' if lang == 'vi' else 'Scale'} {printing.fmt_scale(scale, lang)}"
    ratio_w = pen.width(ratio, size, bold=True)
    bar = length * k
    pen.rect(bx - pad, by + pad - (h + label_h + 3 * pad), bar + 3 * pad + ratio_w + 2 * pad, h + label_h + 3 * pad,
             fill=(1.0, 1.0, 1.0, 0.85))
    black, white = cd.rgba("#000000"), cd.rgba("#ffffff")
    for i in range(4):
        pen.rect(bx + i * bar / 4, by - h, bar / 4, h, fill=black if i % 2 == 0 else white, edge=black, lw_pt=0.4)
    unit = "km" if length >= 1000 else "m"
    shown = length / 1000 if length >= 1000 else length
    for x, text in ((bx, "0"), (bx + bar, f"{printing.fmt_number(shown, 0 if shown == int(shown) else 1, lang)} {unit}")):
        pen.text(x, by - h - pad / 2, text, size_pt=size, ha="center", va="bottom")
    pen.text(bx + bar + 3 * pad, by - h / 2, ratio, size_pt=size, bold=True, va="center")


def render_project(result: Result, project_id: str, pages: list[Page], folder: Path, *, lang: str = "vi",
                   numbers: list[int] | None = None, pdf: bool = True, png: bool = True, dpi: float = PNG_DPI,
                   kept: dict[Any, Any] | None = None, view: ResultView | None = None) -> list[Path]:
    """Draw a project's pages: a multi-page PDF ``<folder>/strip_<project>.pdf`` and/or a PNG per page
    (``strip_<project>_p001.png`` …). ``numbers`` limits the PNGs to those pages (to share a long
    project between processes); the PDF always holds every page. Returns the written paths.

    Drawn with cairo (:mod:`landplan.cairodraw`): the PDF embeds its font once; the PNGs share one
    background (title, legend, notes, key map) drawn once, each page adding its map and texts.
    ``kept`` is a dict the caller keeps between calls (a worker drawing several stretches of pages): the
    project's layers, prepared once, and the two images' pixels are kept in it for the next call.
    ``view`` is ``result.view(project_id)`` when the caller has it already.
    """
    from . import cairodraw as cd

    project = next(p for p in result.scenario.projects if p.id == project_id)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if not pages:
        return written
    kept = kept if kept is not None else {}
    key = (id(result), project_id, lang, tuple((p.number, p.centre, p.angle_deg, p.scale) for p in pages))
    sheet = kept.get(key)
    if sheet is None or sheet.result is not result:
        sheet = kept[key] = _Sheet(result, project, pages, lang=lang, view=view)
    stem = f"strip_{project_id}"
    if pdf:
        path = folder / f"{stem}.pdf"
        doc = cd.PdfDocument(path, *PAGE_MM, title=sheet.title)
        shared = cd.Recording(*PAGE_MM)  # what every page shows alike, written once into the file
        sheet.draw(shared.pen, pages[0], map_=False)
        try:
            for page in pages:
                pen = doc.page()
                pen.replay(shared)
                sheet.draw(pen, page, furniture=False)
        finally:
            doc.close()
        written.append(path)
    if png:
        chosen = [p for p in pages if numbers is None or p.number in numbers]
        if chosen:
            canvases = kept.setdefault("canvases", (cd.Canvas(), cd.Canvas()))
            background = cd.Raster(*PAGE_MM, dpi, canvas=canvases[0])
            sheet.draw(background.pen, chosen[0], map_=False)
            image = cd.Raster(*PAGE_MM, dpi, canvas=canvases[1])
            for page in chosen:
                image.paste(background)
                sheet.draw(image.pen, page, furniture=False)
                path = folder / f"{stem}_p{page.number:03d}.png"
                image.write_png(path)
                written.append(path)
    return written
