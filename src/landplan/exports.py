"""Static maps for print and for reports: landscape print maps (A4/A3), report figures one text column
wide (16 cm, portrait), and one-page project sheets.

Drawn with matplotlib in the working CRS at a round scale, so the ratio printed beside the scale bar
is true on the paper the figure is made for. Layers are single collections built with shapely's
vectorised accessors. Colours come from :mod:`landplan.palette`, as in the HTML map and the QGIS
styles; text is landplan's subset of DejaVu Sans (:func:`landplan.printing.font_files`), embedded as
TrueType so PDF text stays searchable. The administrative layer named by the scenario's
``[outputs] admin_labels`` (wards by default) labels the maps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import shapely

from . import landuse, printing
from .numfmt import format_number
from .palette import ADMIN_LINE, PARCEL_LINE, REMNANT_BAD, project_colors

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .pipeline import Result, ResultView

log = logging.getLogger("landplan")

#: Paper sizes, landscape, in millimetres.
PAPERS: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DPI = 300
MM_PER_INCH = printing.MM_PER_INCH
#: Fill of a remaining piece below a minimum (the palette's colour, half transparent).
REMNANT_BAD_FILL = (0xE7 / 255, 0x4C / 255, 0x3C / 255, 0.55)
#: Affected parcels are outlined on maps at this scale or larger (1:N).
OUTLINE_MAX_SCALE = 25_000
#: Width of a report figure: a portrait A4 text column (mm).
REPORT_WIDTH_MM = 160.0
FigureKind = Literal["map", "report", "sheet"]

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "overview": "Tổng quan đất thu hồi các dự án", "project": "Đất thu hồi – {name}", "legend": "Chú giải",
        "takes": "Đất thu hồi theo loại đất", "projects": "Ranh giới dự án", "parcels": "Thửa bị ảnh hưởng",
        "remnant_bad": "Phần còn lại dưới mức tối thiểu", "admin": "Ranh giới hành chính",
        "crs": "Hệ tọa độ", "sources": "Nguồn dữ liệu", "made": "Lập bằng landplan {version}, ngày {day}",
        "empty": "Không có thửa đất nào bị ảnh hưởng trong phạm vi dự án",
        "figures": "Số liệu chính", "north": "B", "inset": "Vị trí",
        "by_landuse": "Đất thu hồi theo loại đất (ha)", "luc_yes": "Có: phương án bóc tầng đất mặt và nộp tiền bảo vệ, phát triển đất trồng lúa",
        "luc_no": "Không", "sheet": "Phiếu dự án", "note": "Ghi chú dữ liệu", "printed": "in rộng {w} cm",
        "prices": "Bảng giá đất", "illustrative": "MINH HỌA: giả định, không phải bảng giá của tỉnh, thành phố",
    },
    "en": {
        "overview": "Land taken by all projects", "project": "Land taken – {name}", "legend": "Legend",
        "takes": "Land taken, by land use", "projects": "Project footprints", "parcels": "Affected parcels",
        "remnant_bad": "Remnant below a minimum", "admin": "Administrative boundaries",
        "crs": "Coordinate system", "sources": "Data sources", "made": "Made with landplan {version} on {day}",
        "empty": "No parcel is affected within the project footprints",
        "figures": "Key figures", "north": "N", "inset": "Location",
        "by_landuse": "Land taken by land use (ha)", "luc_yes": "Yes: topsoil reuse plan and payment for the lost rice land",
        "luc_no": "No", "sheet": "Project sheet", "note": "Data note", "printed": "printed {w} cm wide",
        "prices": "Price table", "illustrative": "ILLUSTRATIVE: invented, not a province's table",
    },
}

#: Row labels of a project sheet's key figures.
ROWS: dict[str, list[str]] = {
    "vi": ["Diện tích dự án (ha)", "Đất thu hồi (ha)", "Đất lúa (ha)", "  trong đó LUC (ha)", "  trong đó LUK (ha)",
           "Số thửa bị ảnh hưởng", "Số thửa có phần còn lại dưới mức", "Đất lúa khai báo (ha)", "Chênh lệch (ha)",
           "Thẩm quyền chấp thuận", "Nghĩa vụ khi chuyển đất LUC"],
    "en": ["Footprint (ha)", "Land taken (ha)", "Rice land (ha)", "  of which LUC (ha)", "  of which LUK (ha)",
           "Parcels affected", "Parcels with a remnant below a minimum", "Declared rice (ha)", "Difference (ha)",
           "Approval", "Obligation when converting LUC"],
}


@dataclass(frozen=True)
class Export:
    """One written export file."""

    path: Path
    kind: str  # "map", "report", "sheet" or "atlas"
    project: str | None
    paper: str
    fmt: str


def _t(lang: str) -> dict[str, str]:
    return TEXT["en" if lang == "en" else "vi"]


def nice_length_m(width_m: float) -> float:
    """A round scale-bar length about a fifth of ``width_m`` (see :func:`landplan.printing.nice_length_m`)."""
    return printing.nice_length_m(width_m)


def label_units(result: Result) -> tuple[str | None, Any]:
    """The admin layer that labels maps and sheets (``[outputs] admin_labels``; wards by default) and its units."""
    key = result.scenario.outputs.label_layer(list(result.admin))
    return key, (result.admin.get(key) if key else None)


def _data_extent(view: ResultView) -> tuple[float, float, float, float]:
    fp = view.footprints
    xmin, ymin, xmax, ymax = fp.total_bounds
    pad = 0.06 * max(xmax - xmin, ymax - ymin, 200.0)
    return xmin - pad, ymin - pad, xmax + pad, ymax + pad


def draw_map(ax: Axes, result: Result, *, project: str | None = None, lang: str = "vi", grid: bool | None = None,
             inset: bool = True, fontsize: float = 7.0, view: ResultView | None = None) -> dict[str, Any]:
    """Draw the map of every project (or ``project``) on ``ax`` at a round scale; return facts.

    The axes must already have their place on the figure: the extent is widened to the smallest round
    scale (1, 2, 2.5, 5 × 10^k) at which the projects fit the axes' size on paper. Drawn: land taken
    coloured by land use, affected parcels, parcels with a remnant below a minimum, project outlines,
    the boundaries and names of the labelling admin layer, a scale bar with the ratio beside it, a
    north arrow, and an inset locator in a corner where it hides no data (none when every corner holds
    data; the caller then puts it beside the map with :func:`draw_inset`). ``grid`` adds the working
    CRS's coordinate grid (default: the scenario's ``[outputs] grid``). ``view`` is ``result.view(project)``
    when the caller has it already (building it costs more than drawing a small map).

    Returns
    -------
    dict
        ``extent``, ``scale`` (denominator), ``scale_m`` (bar length), ``ratio`` (text), ``inset_box``
        (map units, or None), ``data`` (the footprints' union), ``handles`` (legend), ``n_pieces``.
    """
    t = _t(lang)
    view = view if view is not None else result.view(project)
    fp, pieces, parcels = view.footprints, view.pieces, view.affected
    colors = project_colors([(p.id, p.hub) for p in result.scenario.projects])
    x0, y0, x1, y1 = _data_extent(view)
    pos = ax.get_position()
    w_paper = pos.width * printing.fig_of(ax).get_figwidth() * MM_PER_INCH / 1000.0
    h_paper = pos.height * printing.fig_of(ax).get_figheight() * MM_PER_INCH / 1000.0
    scale = printing.nice_scale(max((x1 - x0) / w_paper, (y1 - y0) / h_paper))
    extent = printing.set_extent_at_scale(ax, (x0 + x1) / 2, (y0 + y1) / 2, scale)
    _no_axis(ax)
    data = shapely.union_all(np.asarray(fp.geometry.values)) if len(fp) else shapely.Point()

    key, units = label_units(result)
    if units is not None:
        printing.lines(ax, np.asarray(units.geometry.values), color=ADMIN_LINE, linewidth=0.6, linestyle=(0, (4, 2)), zorder=1)
    if len(pieces):
        printing.polygons(ax, np.asarray(pieces.geometry.values), facecolor=_landuse_rgba(pieces["landuse"].to_numpy()),
                          edgecolor="#555555", linewidth=0.1, zorder=2)
        if scale <= OUTLINE_MAX_SCALE:  # parcel outlines only where they read as outlines, not as hatching
            printing.polygons(ax, np.asarray(parcels.geometry.values), edgecolor=PARCEL_LINE, linewidth=0.15, zorder=3)
        bad = view.remnants[view.remnants["flag"] != ""]  # what remains of a parcel below a minimum
        if len(bad):
            printing.polygons(ax, np.asarray(bad.geometry.values), facecolor=REMNANT_BAD_FILL, edgecolor=REMNANT_BAD, linewidth=0.5,
                              zorder=4)
    printing.polygons(ax, np.asarray(fp.geometry.values), edgecolor=[colors[p] for p in fp["project"]], linewidth=1.2, zorder=5)

    # furniture: the inset in a corner free of data, the scale bar in another, labels avoiding both
    taken: list[Any] = []
    inset_box = None
    city = shapely.union_all(np.asarray(units.geometry.values)) if units is not None and len(units) else None
    if inset and city is not None:
        cb = city.bounds
        aspect = (cb[3] - cb[1]) / max(cb[2] - cb[0], 1.0)
        fw = 0.26
        fh = min(fw * aspect * (extent[2] - extent[0]) / (extent[3] - extent[1]), 0.45)
        fw = fh / aspect * (extent[3] - extent[1]) / (extent[2] - extent[0])
        corner = printing.free_corner(extent, (fw, fh), data)
        if corner is not None:
            inset_box = corner[1]
            taken.append(shapely.box(*inset_box))
            inset_in_map(ax, inset_box, city, extent, units)
    bar_box = None
    probe = printing.free_corner(extent, (0.36, 0.07), data, avoid=taken)
    loc = (0.02, 0.03)
    if probe is not None:
        bx0, by0, _, _ = probe[1]
        loc = ((bx0 - extent[0]) / (extent[2] - extent[0]) + 0.01, (by0 - extent[1]) / (extent[3] - extent[1]) + 0.01)
    bar = printing.scale_bar(ax, scale=scale, lang=lang, loc=loc, fontsize=fontsize)
    bar_box = shapely.box(*bar["box"])
    taken.append(bar_box)
    arrow_corner = printing.free_corner(extent, (0.06, 0.1), data, avoid=taken)
    if arrow_corner is not None:
        ax0, ay0, ax1, ay1 = arrow_corner[1]
        xy = (((ax0 + ax1) / 2 - extent[0]) / (extent[2] - extent[0]), ((ay0 + ay1) / 2 - extent[1]) / (extent[3] - extent[1]))
    else:
        xy = (0.96, 0.9)
    printing.north_arrow(ax, xy=xy, lang=lang, size_mm=8.0)
    if grid if grid is not None else result.scenario.outputs.grid:
        crs = result.scenario.crs
        printing.coordinate_grid(ax, extent=extent, crs_label=crs.name.split(" / ")[0] if crs.name else crs.to_string(), lang=lang,
                                 fontsize=fontsize)

    if units is not None:
        # each unit named at a point of its part of the map away from the frame, the data and the furniture
        w = extent[2] - extent[0]
        view_box = shapely.box(*extent)
        inner = shapely.box(extent[0] + 0.1 * w, extent[1] + 0.05 * w, extent[2] - 0.1 * w, extent[3] - 0.05 * w)
        free = shapely.difference(inner, shapely.union_all([shapely.buffer(data, 0.02 * w), *[shapely.buffer(g, 0.02 * w) for g in taken]]))
        names = units["admin_unit"].to_numpy()
        geoms = np.asarray(units.geometry.values)
        keep = shapely.area(shapely.intersection(geoms, view_box)) >= 0.02 * view_box.area
        parts = shapely.intersection(geoms[keep], free)
        for name, part in zip(names[keep], parts):
            if part.is_empty or part.area < 0.002 * view_box.area:
                continue
            p = shapely.point_on_surface(part)
            ax.text(p.x, p.y, str(name), fontsize=fontsize + 1, color="#333333", ha="center", va="center", style="normal", zorder=6,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.6}, clip_on=True)

    if not len(pieces):
        ax.text(0.5, 0.5, printing.wrap_to_width(t["empty"], w_paper * 1000 * 0.8, 10), transform=ax.transAxes, ha="center",
                va="center", fontsize=10, color="#a00000", bbox={"boxstyle": "round,pad=0.5", "fc": "white", "ec": "#a00000"}, zorder=10)
    return {"extent": extent, "scale": scale, "scale_m": bar["length_m"], "ratio": bar["ratio"], "inset_box": inset_box,
            "data": data, "handles": _legend_handles(result, view, lang), "n_pieces": len(pieces), "label_layer": key,
            "bar_box": bar["box"]}


def _no_axis(ax: Axes) -> None:
    """No ticks or tick labels on a map's axes, its frame kept: the axes' x and y axis hidden, which draws
    what empty tick lists draw without making the ticks matplotlib makes to set them (a third of an
    axes' cost)."""
    ax.xaxis.set_visible(False)
    ax.yaxis.set_visible(False)


def _landuse_rgba(codes: np.ndarray) -> np.ndarray:
    """Each land-use code's colour as RGBA rows (0–1), converted once per code, not once per piece."""
    from matplotlib.colors import to_rgba_array

    uniq, inverse = np.unique(np.asarray(codes).astype(str), return_inverse=True)
    return to_rgba_array([landuse.color(str(c)) for c in uniq])[inverse.reshape(-1)]


def _inset_bounds(city: Any, extent: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """What an inset locator shows: the city and the map's extent."""
    b = city.bounds
    return min(b[0], extent[0]), min(b[1], extent[1]), max(b[2], extent[2]), max(b[3], extent[3])


def _inset_shapes(ax: Axes, city: Any, extent: tuple[float, float, float, float], units: Any, *, transform: Any,
                  zorder: float = 1.0) -> None:
    """What an inset locator shows, drawn on ``ax`` through ``transform`` (from map units): the city (its
    units outlined), the map's extent as a red box and its centre."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    if units is not None:
        printing.polygons(ax, np.asarray(units.geometry.values), facecolor="#eeeeee", edgecolor="#9a9a9a", linewidth=0.25,
                          zorder=zorder, transform=transform)
    else:
        printing.polygons(ax, [city], facecolor="#eeeeee", edgecolor="#888888", linewidth=0.3, zorder=zorder, transform=transform)
    ax.add_patch(Rectangle((extent[0], extent[1]), extent[2] - extent[0], extent[3] - extent[1], fill=False, edgecolor="#c00000",
                           linewidth=1.0, transform=transform, zorder=zorder + 0.1))
    ax.add_line(Line2D([(extent[0] + extent[2]) / 2], [(extent[1] + extent[3]) / 2], marker="s", markersize=3, color="#c00000",
                       transform=transform, zorder=zorder + 0.2))


def inset_in_map(ax: Axes, box: tuple[float, float, float, float], city: Any, extent: tuple[float, float, float, float],
                 units: Any = None) -> Any:
    """An inset locator inside the map, in ``box`` (map units): :func:`_inset_shapes` at one scale,
    centred in ``box`` on a white framed ground; return the frame.

    Drawn in the map's own axes through a transform (no axes of its own: an axes costs more to make and
    draw than the inset's few shapes); :func:`draw_inset` draws the same beside the map.
    """
    import matplotlib
    from matplotlib.patches import Rectangle
    from matplotlib.transforms import Affine2D

    b = _inset_bounds(city, extent)
    bw, bh = max(b[2] - b[0], 1e-9), max(b[3] - b[1], 1e-9)
    k = min((box[2] - box[0]) / bw, (box[3] - box[1]) / bh)  # map units of the inset per map unit
    ox, oy = box[0] + (box[2] - box[0] - k * bw) / 2, box[1] + (box[3] - box[1] - k * bh) / 2
    frame = Rectangle((ox, oy), k * bw, k * bh, facecolor="white", edgecolor="black", linewidth=matplotlib.rcParams["axes.linewidth"],
                      zorder=7, gid="inset")
    ax.add_patch(frame)
    _inset_shapes(ax, city, extent, units, transform=Affine2D().translate(-b[0], -b[1]).scale(k).translate(ox, oy) + ax.transData,
                  zorder=7.1)
    return frame


def draw_inset(iax: Axes, city: Any, extent: tuple[float, float, float, float], units: Any = None) -> None:
    """An inset locator on axes of its own (beside the map): :func:`_inset_shapes`, the axes fitted to them."""
    _inset_shapes(iax, city, extent, units, transform=iax.transData)
    b = _inset_bounds(city, extent)
    iax.set_xlim(b[0], b[2])
    iax.set_ylim(b[1], b[3])
    _no_axis(iax)
    iax.set_aspect("equal", adjustable="box")
    iax.set_facecolor("white")


def _legend_handles(result: Result, view: ResultView, lang: str) -> list[Any]:
    from matplotlib.patches import Patch

    t = _t(lang)
    colors = project_colors([(p.id, p.hub) for p in result.scenario.projects])
    codes = sorted(set(view.pieces["landuse"])) if len(view.pieces) else []
    handles: list[Any] = [Patch(facecolor=landuse.color(c), edgecolor="#555555", label=f"{c} – {landuse.name(c, lang)}") for c in codes]
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    handles += [Patch(facecolor="none", edgecolor=colors[pid], linewidth=1.2, label=names[pid]) for pid in view.footprints["project"]]
    handles += [Patch(facecolor="none", edgecolor=PARCEL_LINE, linewidth=0.5, label=t["parcels"]),
                Patch(facecolor=REMNANT_BAD_FILL, edgecolor=REMNANT_BAD, linewidth=1.0, label=t["remnant_bad"]),
                Patch(facecolor="none", edgecolor=ADMIN_LINE, linestyle="--", linewidth=0.6, label=t["admin"])]
    return handles


def data_note(result: Result, lang: str) -> str:
    """The data note every map carries: CRS, data sources, landplan's version and the date."""
    from . import __version__

    t = _t(lang)
    sc = result.scenario
    files = ", ".join(sorted({p.name for p in sc.input_files()}))
    return (f"{t['crs']}: {sc.crs.name} ({sc.crs.to_string()}) · {t['sources']}: {files} · "
            f"{t['made'].format(version=__version__, day=date.today().isoformat())}")


def _title(result: Result, project: str | None, lang: str) -> str:
    t = _t(lang)
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    return t["overview"] if project is None else t["project"].format(name=names[project])


def map_figure(result: Result, *, project: str | None = None, lang: str = "vi", paper: str = "A4",
               grid: bool | None = None, view: ResultView | None = None) -> tuple[Figure, dict[str, Any]]:
    """A landscape print map: wrapped title, subtitle, the map, legend and inset beside it, data note
    (``view``: ``result.view(project)``, when the caller has it already)."""
    view = view if view is not None else result.view(project)
    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, got {paper!r}")
    w, h = PAPERS[paper]
    with printing.drawing():
        fig = printing.new_figure(w, h)
        big = 16 if paper == "A4" else 20
        title = printing.wrap_to_width(_title(result, project, lang), w * 0.94, big, bold=True)
        lines = title.count("\n") + 1
        top = 1 - 8 / h
        tt = fig.text(0.02, top, title, fontsize=big, fontweight="bold", va="top")
        title_h = lines * big * 1.25 / 72 * MM_PER_INCH / h
        fig.text(0.02, top - title_h - 0.005, f"{result.scenario.name} · {date.today().isoformat()}", fontsize=9, color="#444444",
                 va="top")
        map_top = top - title_h - 0.045
        ax = fig.add_axes((0.02, 0.07, 0.70, map_top - 0.07))
        facts = draw_map(ax, result, project=project, lang=lang, grid=grid, view=view)
        facts["legend"] = printing.legend_grid(fig, facts["handles"], (0.74 * w, 0.07 * h, 0.25 * w, (map_top - 0.07) * h),
                                               title=_t(lang)["legend"], ncols=1, fontsize=7.5, title_fontsize=9)  # beside the map
        if facts["inset_box"] is None and facts["data"] is not None:
            _, units = label_units(result)
            if units is not None and len(units):
                iax = fig.add_axes((0.76, 0.09, 0.21, 0.25))
                draw_inset(iax, shapely.union_all(np.asarray(units.geometry.values)), facts["extent"], units)
        fig.text(0.02, 0.02, printing.wrap_to_width(data_note(result, lang), w * 0.96, 7), fontsize=7, color="#444444", va="bottom")
        facts["title"] = tt
    return fig, facts


def report_figure(result: Result, *, project: str | None = None, lang: str = "vi", width_mm: float = REPORT_WIDTH_MM,
                  grid: bool | None = None, view: ResultView | None = None) -> tuple[Figure, dict[str, Any]]:
    """A figure for a report's text column: ``width_mm`` wide (16 cm), portrait, fonts ≥ 7 pt printed.

    The title wraps to the width; the map's height follows the projects' shape (between 0.55 and 1.25
    of the width); the legend (two columns, its height measured), the data note and, when no corner of
    the map is free of data, the inset sit below the map, so nothing covers the data. ``view``:
    ``result.view(project)``, when the caller has it already.
    """
    t = _t(lang)
    pad = 4.0
    view = view if view is not None else result.view(project)
    x0, y0, x1, y1 = _data_extent(view)
    ratio = min(max((y1 - y0) / max(x1 - x0, 1.0), 0.55), 1.25)
    map_w = width_mm - 2 * pad
    map_h = map_w * ratio
    handles = _legend_handles(result, view, lang)
    legend_w = map_w * 0.72  # two columns; the rest of the width kept for an inset that finds no free corner of the map
    with printing.drawing():
        title = printing.wrap_to_width(_title(result, project, lang), width_mm - 2 * pad, 10, bold=True)
        title_mm = (title.count("\n") + 1) * 10 * 1.25 / 72 * MM_PER_INCH + 3
        legend_mm = printing.legend_height_mm(handles, legend_w, ncols=2, fontsize=7) + 2
        note = printing.wrap_to_width(data_note(result, lang), width_mm - 2 * pad, 7)
        note_mm = (note.count("\n") + 1) * 7 * 1.25 / 72 * MM_PER_INCH + 2
        height = pad + title_mm + map_h + 3 + legend_mm + note_mm + pad
        fig = printing.new_figure(width_mm, height)
        tt = fig.text(pad / width_mm, 1 - pad / height, title, fontsize=10, fontweight="bold", va="top", ha="left")
        map_bottom = pad + note_mm + legend_mm + 3
        ax = fig.add_axes((pad / width_mm, map_bottom / height, map_w / width_mm, map_h / height))
        facts = draw_map(ax, result, project=project, lang=lang, grid=grid, view=view)
        facts["legend"] = printing.legend_grid(fig, handles, (pad, map_bottom - 3 - (legend_mm - 2), legend_w, legend_mm - 2),
                                               title=t["legend"], ncols=2, fontsize=7, title_fontsize=8)
        if facts["inset_box"] is None:
            _, units = label_units(result)
            if units is not None and len(units):
                side = min(map_w * 0.26, legend_mm)
                iax = fig.add_axes(((pad + map_w - side) / width_mm, (pad + note_mm) / height, side / width_mm, side / height))
                draw_inset(iax, shapely.union_all(np.asarray(units.geometry.values)), facts["extent"], units)
        fig.text(pad / width_mm, pad / height, note, fontsize=7, color="#444444", va="bottom", ha="left")
        facts.update({"title": tt, "width_mm": width_mm, "height_mm": height,
                      "printed": t["printed"].format(w=printing.fmt_number(width_mm / 10, 0, lang))})
    return fig, facts


def _ha(m2: float, lang: str, decimals: int = 2) -> str:
    return printing.fmt_number(m2 / landuse.M2_PER_HA, decimals, lang)


def sheet_figure(result: Result, project: str, *, lang: str = "vi", view: ResultView | None = None) -> Figure:
    """A one-page A4 portrait sheet: the project's map, key figures, land taken by land use, data note
    (``view``: ``result.view(project)``, when the caller has it already)."""
    from matplotlib.patches import Rectangle

    t = _t(lang)
    view = view if view is not None else result.view(project)
    a: dict[Any, Any] = view.approvals.iloc[0].to_dict()
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    rows = view.parcels
    flagged = rows.loc[rows["remnant_flag"] != "", "parcel_id"].nunique()
    declared = a["declared_rice_ha"]
    n = printing.fmt_number
    values = [
        _ha(a["footprint_m2"], lang), _ha(a["take_m2"], lang), n(a["rice_ha"], 2, lang),
        _ha(a["rice_luc_m2"], lang), _ha(a["rice_luk_m2"], lang), n(int(a["parcels_affected"]), 0, lang), n(flagged, 0, lang),
        "–" if declared != declared else n(declared, 2, lang),
        "–" if declared != declared else f"{format_number(a['rice_diff_ha'], 2, lang, sign=True)} "
                                          f"({format_number(a['rice_diff_pct'], 1, lang, sign=True)} %)",
        str(a["approval_authority"]), t["luc_yes"] if a["luc_obligation"] else t["luc_no"],
    ]
    labels = list(ROWS["en" if lang == "en" else "vi"])
    if result.costs is not None:  # the budget lines (landplan.rules.compensation), illustrative tables said so
        from .rules.compensation import budget_lines

        for label, value in budget_lines(result.costs, project, lang):
            labels.append(label)
            values.append(value)
        if result.costs.settings.illustrative():
            labels.append(t["prices"])
            values.append(t["illustrative"])
    by_lu = view.pieces.groupby("landuse")["take_m2"].sum().sort_values(ascending=False)
    W, H = 210.0, 297.0
    with printing.drawing():
        fig = printing.new_figure(W, H)
        fig.text(0.06, 0.975, t["sheet"], fontsize=9, color="#666666", va="top")
        title = printing.wrap_to_width(names[project], W * 0.88, 14, bold=True)
        fig.text(0.06, 0.955, title, fontsize=14, fontweight="bold", va="top")
        ax = fig.add_axes((0.06, 0.47, 0.88, 0.42))
        draw_map(ax, result, project=project, lang=lang, view=view)
        fig.text(0.06, 0.445, t["figures"], fontsize=11, fontweight="bold", va="top")
        y = 0.415
        for label, value in zip(labels, values):
            wrapped = printing.wrap_to_width(value, 60, 8, bold=True)
            lab = printing.wrap_to_width(label, 48, 8)
            fig.text(0.06, y, lab, fontsize=8, va="top")
            fig.text(0.30, y, wrapped, fontsize=8, va="top", fontweight="bold")
            y -= 0.0135 * max(wrapped.count("\n") + 1, lab.count("\n") + 1) + 0.003
        fig.text(0.60, 0.445, t["by_landuse"], fontsize=11, fontweight="bold", va="top")
        y = 0.415
        for code, m2 in by_lu.items():
            label = printing.wrap_to_width(f"{code} – {landuse.name(str(code), lang)}", 58, 8)
            fig.patches.append(Rectangle((0.575, y - 0.009), 0.018, 0.009, transform=fig.transFigure, figure=fig,
                                         facecolor=landuse.color(str(code)), edgecolor="#555555", linewidth=0.4))
            fig.text(0.60, y, label, fontsize=8, va="top")
            fig.text(0.94, y, _ha(float(m2), lang, 4), fontsize=8, va="top", ha="right")
            y -= 0.0135 * (label.count("\n") + 1) + 0.003
        fig.text(0.06, 0.035, printing.wrap_to_width(f"{t['note']}: {data_note(result, lang)}", W * 0.88, 7), fontsize=7, color="#444444",
                 va="bottom")
    return fig
