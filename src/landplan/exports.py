"""Print-ready static maps (PNG 300 dpi, SVG, PDF; A4 and A3 landscape) and one-page project sheets.

Drawn with matplotlib in the working CRS, so the scale bar (matplotlib-scalebar, one data unit = one
metre) is exact for the map's coordinates. Colours come from :mod:`landplan.palette`, as in the HTML
map and the QGIS styles. Text is DejaVu Sans, which has every Vietnamese letter; PDF fonts are
embedded as TrueType so the text stays searchable.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely

from . import landuse
from .palette import ADMIN_LINE, PARCEL_LINE, REMNANT_BAD, project_colors

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .pipeline import Result

log = logging.getLogger("landplan")

#: Paper sizes, landscape, in millimetres.
PAPERS: dict[str, tuple[float, float]] = {"A4": (297.0, 210.0), "A3": (420.0, 297.0)}
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
DPI = 300
MM_PER_INCH = 25.4
#: Nice scale-bar lengths in metres.
_NICE_M = (10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 2_500, 5_000, 10_000, 20_000, 25_000, 50_000)

TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "overview": "Tổng quan đất thu hồi các dự án", "project": "Đất thu hồi – {name}", "legend": "Chú giải",
        "takes": "Đất thu hồi theo loại đất", "projects": "Ranh giới dự án", "parcels": "Thửa bị ảnh hưởng",
        "remnant_bad": "Phần còn lại dưới mức tối thiểu", "admin": "Ranh giới hành chính",
        "crs": "Hệ tọa độ", "sources": "Nguồn dữ liệu", "made": "Lập bằng landplan {version}, ngày {day}",
        "empty": "Không có thửa đất nào bị ảnh hưởng trong phạm vi dự án",
        "figures": "Số liệu chính", "north": "B",
        "by_landuse": "Đất thu hồi theo loại đất (ha)", "luc_yes": "Có: phương án bóc tầng đất mặt và nộp tiền bảo vệ, phát triển đất trồng lúa",
        "luc_no": "Không", "sheet": "Phiếu dự án", "note": "Ghi chú dữ liệu",
    },
    "en": {
        "overview": "Land taken by all projects", "project": "Land taken – {name}", "legend": "Legend",
        "takes": "Land taken, by land use", "projects": "Project footprints", "parcels": "Affected parcels",
        "remnant_bad": "Remnant below a minimum", "admin": "Administrative boundaries",
        "crs": "Coordinate system", "sources": "Data sources", "made": "Made with landplan {version} on {day}",
        "empty": "No parcel is affected within the project footprints",
        "figures": "Key figures", "north": "N",
        "by_landuse": "Land taken by land use (ha)", "luc_yes": "Yes: topsoil reuse plan and payment for the lost rice land",
        "luc_no": "No", "sheet": "Project sheet", "note": "Data note",
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
    kind: str  # "map" or "sheet"
    project: str | None
    paper: str
    fmt: str


def _rc() -> Any:
    return {"font.family": "DejaVu Sans", "pdf.fonttype": 42, "svg.fonttype": "path", "axes.linewidth": 0.6}


def nice_length_m(width_m: float) -> float:
    """A round scale-bar length about a fifth of ``width_m``."""
    target = width_m / 5.0
    return float(max([v for v in _NICE_M if v <= target] or [_NICE_M[0]]))


def draw_map(ax: Axes, result: Result, *, project: str | None = None, lang: str = "vi", legend_ax: Axes | None = None,
             inset: bool = True) -> dict[str, Any]:
    """Draw the map of every project (or ``project``) on ``ax``; return facts tests and sheets use.

    The axes are in the working CRS (metres): equal aspect, a scale bar, a north arrow, labels of
    administrative units, an inset locator of the city, and a legend on ``legend_ax`` (or inside).
    """
    from matplotlib.patches import FancyArrow, Patch, Rectangle
    from matplotlib_scalebar.scalebar import ScaleBar

    t = TEXT["en" if lang == "en" else "vi"]
    view = result.view(project)
    fp, pieces, parcels, rows = view.footprints, view.pieces, view.affected, view.parcels
    colors = project_colors([(p.id, p.hub) for p in result.scenario.projects])
    xmin, ymin, xmax, ymax = fp.total_bounds
    pad = 0.08 * max(xmax - xmin, ymax - ymin, 200.0)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad

    admin_key = next(iter(result.admin), None)
    if admin_key is not None:
        units = result.admin[admin_key]
        units.boundary.plot(ax=ax, color=ADMIN_LINE, linewidth=0.6, linestyle=(0, (4, 2)), zorder=1)
    if len(pieces):
        pieces.plot(ax=ax, color=[landuse.color(c) for c in pieces["landuse"]], linewidth=0.1, edgecolor="#555555", zorder=2)
        parcels.boundary.plot(ax=ax, color=PARCEL_LINE, linewidth=0.15, zorder=3)
        flagged = set(rows.loc[rows["remnant_flag"] != "", "parcel_id"])
        bad = parcels[parcels["parcel_id"].isin(flagged)]
        if len(bad):
            bad.boundary.plot(ax=ax, color=REMNANT_BAD, linewidth=0.5, zorder=4)
    for pid, geom in zip(fp["project"], fp.geometry):
        gpd.GeoSeries([geom], crs=fp.crs).boundary.plot(ax=ax, color=colors[pid], linewidth=1.2, zorder=5)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")

    # labels of administrative units in view (at a point inside each, clipped to the view)
    if admin_key is not None:
        view = shapely.box(xmin, ymin, xmax, ymax)
        for name, geom in zip(result.admin[admin_key]["admin_unit"], result.admin[admin_key].geometry):
            part = shapely.intersection(geom, view)
            if part.is_empty or part.area < 0.02 * view.area:
                continue
            p = shapely.point_on_surface(part)
            ax.text(p.x, p.y, name, fontsize=8, color="#333333", ha="center", va="center", style="italic", zorder=6,
                    bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.6})

    if not len(pieces):
        ax.text(0.5, 0.5, t["empty"], transform=ax.transAxes, ha="center", va="center", fontsize=12, color="#a00000",
                bbox={"boxstyle": "round,pad=0.5", "fc": "white", "ec": "#a00000"}, zorder=10)

    length = nice_length_m(xmax - xmin)
    bar = ScaleBar(1.0, units="m", fixed_value=length if length < 1000 else length / 1000, fixed_units="m" if length < 1000 else "km",
                   location="lower left", box_alpha=0.8, font_properties={"size": 8},
                   scale_formatter=lambda value, unit: f"{value:g} {unit}")
    ax.add_artist(bar)
    ax.add_artist(FancyArrow(0.95, 0.90, 0, 0.04, width=0.004, head_width=0.016, head_length=0.02, color="black",
                             transform=ax.transAxes, zorder=10))
    ax.text(0.95, 0.885, t["north"], transform=ax.transAxes, ha="center", va="top", fontsize=10, fontweight="bold", zorder=10)

    if inset and admin_key is not None:
        # an inset locator of the city at the lower right, so it does not cover the scale bar
        city = result.admin[admin_key]
        iax = ax.inset_axes((0.78, 0.02, 0.2, 0.2))
        city.plot(ax=iax, color="#eeeeee", edgecolor="#888888", linewidth=0.3)
        iax.add_patch(Rectangle((xmin, ymin), xmax - xmin, ymax - ymin, fill=False, edgecolor="#c00000", linewidth=1.0))
        iax.set_xticks([])
        iax.set_yticks([])
        iax.set_xlabel("")
        iax.set_ylabel("")
        iax.set_aspect("equal")
        iax.set_facecolor("white")

    handles: list[Any] = []
    codes = sorted(set(pieces["landuse"])) if len(pieces) else []
    handles += [Patch(facecolor=landuse.color(c), edgecolor="#555555", label=f"{c} – {landuse.name(c, lang)}") for c in codes]
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    handles += [Patch(facecolor="none", edgecolor=colors[pid], linewidth=1.2, label=names[pid]) for pid in fp["project"]]
    handles += [Patch(facecolor="none", edgecolor=PARCEL_LINE, linewidth=0.5, label=t["parcels"]),
                Patch(facecolor="none", edgecolor=REMNANT_BAD, linewidth=1.0, label=t["remnant_bad"]),
                Patch(facecolor="none", edgecolor=ADMIN_LINE, linestyle="--", linewidth=0.6, label=t["admin"])]
    target = legend_ax if legend_ax is not None else ax
    if legend_ax is not None:
        legend_ax.axis("off")
    import textwrap

    for h in handles:
        h.set_label("\n".join(textwrap.wrap(h.get_label(), 42)))
    target.legend(handles=handles, loc="upper left", fontsize=7, title=t["legend"], title_fontsize=9, frameon=False)
    return {"scalebar": bar, "scale_m": length, "extent": (xmin, ymin, xmax, ymax), "n_pieces": len(pieces)}


def data_note(result: Result, lang: str) -> str:
    """The data note every map carries: CRS, data sources, landplan's version and the date."""
    from . import __version__

    t = TEXT["en" if lang == "en" else "vi"]
    sc = result.scenario
    files = ", ".join(sorted({p.name for p in sc.input_files()}))
    return (f"{t['crs']}: {sc.crs.name} ({sc.crs.to_string()}) · {t['sources']}: {files} · "
            f"{t['made'].format(version=__version__, day=date.today().isoformat())}")


def map_figure(result: Result, *, project: str | None = None, lang: str = "vi", paper: str = "A4") -> tuple[Figure, dict[str, Any]]:
    """A landscape page with title, subtitle, map, legend and data note; returns (figure, draw facts)."""
    import matplotlib.pyplot as plt

    if paper not in PAPERS:
        raise ValueError(f"paper must be one of {', '.join(PAPERS)}, got {paper!r}")
    t = TEXT["en" if lang == "en" else "vi"]
    w, h = PAPERS[paper]
    with plt.rc_context(_rc()):
        fig = plt.figure(figsize=(w / MM_PER_INCH, h / MM_PER_INCH))
        names = {p.id: p.name(lang) for p in result.scenario.projects}
        title = t["overview"] if project is None else t["project"].format(name=names[project])
        fig.text(0.02, 0.965, title, fontsize=16 if paper == "A4" else 20, fontweight="bold", va="top")
        fig.text(0.02, 0.925, f"{result.scenario.name} · {date.today().isoformat()}", fontsize=9, color="#444444", va="top")
        ax = fig.add_axes((0.02, 0.07, 0.70, 0.83))
        lax = fig.add_axes((0.74, 0.07, 0.25, 0.83))
        facts = draw_map(ax, result, project=project, lang=lang, legend_ax=lax)
        fig.text(0.02, 0.02, data_note(result, lang), fontsize=6.5, color="#444444", va="bottom", wrap=True)
    return fig, facts


def sheet_figure(result: Result, project: str, *, lang: str = "vi") -> Figure:
    """A one-page A4 portrait sheet: the project's map, key figures, land taken by land use, data note."""
    import matplotlib.pyplot as plt

    t = TEXT["en" if lang == "en" else "vi"]
    view = result.view(project)
    a: dict[Any, Any] = view.approvals.iloc[0].to_dict()
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    rows = view.parcels
    flagged = rows.loc[rows["remnant_flag"] != "", "parcel_id"].nunique()
    declared = a["declared_rice_ha"]
    ha = landuse.M2_PER_HA
    values = [
        f"{a['footprint_m2'] / ha:,.2f}", f"{a['take_m2'] / ha:,.2f}", f"{a['rice_ha']:,.2f}",
        f"{a['rice_luc_m2'] / ha:,.2f}", f"{a['rice_luk_m2'] / ha:,.2f}", f"{int(a['parcels_affected']):,}", f"{flagged:,}",
        "–" if declared != declared else f"{declared:,.2f}",
        "–" if declared != declared else f"{a['rice_diff_ha']:+,.2f} ({a['rice_diff_pct']:+.1f} %)",
        str(a["approval_authority"]), t["luc_yes"] if a["luc_obligation"] else t["luc_no"],
    ]
    by_lu = view.pieces.groupby("landuse")["take_m2"].sum().sort_values(ascending=False)
    import textwrap

    with plt.rc_context(_rc()):
        fig = plt.figure(figsize=(210 / MM_PER_INCH, 297 / MM_PER_INCH))
        fig.text(0.06, 0.975, t["sheet"], fontsize=9, color="#666666", va="top")
        fig.text(0.06, 0.955, "\n".join(textwrap.wrap(names[project], 60)), fontsize=14, fontweight="bold", va="top")
        ax = fig.add_axes((0.06, 0.47, 0.88, 0.42))
        draw_map(ax, result, project=project, lang=lang, legend_ax=None, inset=True)
        legend = ax.get_legend()
        if legend is not None:
            legend.remove()
        fig.text(0.06, 0.445, t["figures"], fontsize=11, fontweight="bold", va="top")
        y = 0.415
        for label, value in zip(ROWS["en" if lang == "en" else "vi"], values):
            wrapped = textwrap.wrap(value, 30) or [""]
            fig.text(0.06, y, "\n".join(textwrap.wrap(label, 26)), fontsize=8, va="top")
            fig.text(0.30, y, "\n".join(wrapped), fontsize=8, va="top", fontweight="bold")
            y -= 0.016 * max(len(wrapped), len(textwrap.wrap(label, 26)))
        fig.text(0.60, 0.445, t["by_landuse"], fontsize=11, fontweight="bold", va="top")
        y = 0.415
        from matplotlib.patches import Rectangle

        for code, m2 in by_lu.items():
            fig.patches.append(Rectangle((0.575, y - 0.009), 0.018, 0.009, transform=fig.transFigure, figure=fig,
                                         facecolor=landuse.color(str(code)), edgecolor="#555555", linewidth=0.4))
            fig.text(0.60, y, "\n".join(textwrap.wrap(f"{code} – {landuse.name(str(code), lang)}", 28)), fontsize=8, va="top")
            fig.text(0.94, y, f"{m2 / landuse.M2_PER_HA:,.4f}", fontsize=8, va="top", ha="right")
            y -= 0.016 * len(textwrap.wrap(f"{code} – {landuse.name(str(code), lang)}", 28))
        fig.text(0.06, 0.035, "\n".join(textwrap.wrap(f"{t['note']}: {data_note(result, lang)}", 130)), fontsize=6.5, color="#444444", va="bottom")
    return fig


def write_exports(result: Result, folder: Path, *, lang: str = "vi", papers: tuple[str, ...] = ("A4", "A3"),
                  formats: tuple[str, ...] = FORMATS) -> list[Export]:
    """Write the overview and per-project maps in every paper and format, and a PDF sheet per project."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    written: list[Export] = []
    targets: list[str | None] = [None, *[p.id for p in result.scenario.projects]]
    for project in targets:
        stem = "overview" if project is None else f"project_{project}"
        for paper in papers:
            fig, _ = map_figure(result, project=project, lang=lang, paper=paper)
            with plt.rc_context(_rc()):
                for fmt in formats:
                    path = folder / f"{stem}_{paper}.{fmt}"
                    fig.savefig(path, dpi=DPI, metadata=_metadata(fmt, result, stem))
                    written.append(Export(path, "map", project, paper, fmt))
            plt.close(fig)
    for p in result.scenario.projects:
        fig = sheet_figure(result, p.id, lang=lang)
        path = folder / f"sheet_{p.id}.pdf"
        with plt.rc_context(_rc()):
            fig.savefig(path, metadata=_metadata("pdf", result, f"sheet_{p.id}"))
        plt.close(fig)
        written.append(Export(path, "sheet", p.id, "A4", "pdf"))
    return written


def _metadata(fmt: str, result: Result, stem: str) -> dict[str, Any]:
    """Fixed metadata so the same results give the same files (no creation dates)."""
    if fmt == "pdf":
        return {"Title": stem, "Creator": "landplan", "Producer": "landplan", "CreationDate": None}
    if fmt == "svg":
        return {"Title": stem, "Creator": "landplan", "Date": None}
    if fmt == "png":
        return {"Software": "landplan"}
    return {}
