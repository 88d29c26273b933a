"""Shared print furniture for every static map: the font (subset once), saving a figure in each format,
fast polygon collections, scale bar with its ratio, north arrow, coordinate grid, inset placement,
measured title wrapping and numbers written the Vietnamese way.

Everything is drawn in the working CRS (metres), so a length on paper is a length on the ground
divided by the map's scale. matplotlib is imported inside the functions that draw.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import shapely

from .numfmt import format_number

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.figure import Figure
    from matplotlib.path import Path as MplPath

log = logging.getLogger("landplan")

MM_PER_INCH = 25.4
PT_PER_INCH = 72.0
#: Deflate level of PNG files: 1, with ISA-L's deflate (``isal``) where installed, writes a 300 dpi A3
#: page in about 15 ms (Pillow's writer, with its per-row filters and zlib, took 0.34 s) and about 20 %
#: larger than Pillow's level 1 (maps are mostly flat colour, which deflate's run-length matches catch
#: without PNG's row filters).
PNG_COMPRESS_LEVEL = 1
#: The family name of landplan's font: DejaVu Sans cut down to Latin and Vietnamese (see :func:`font_files`).
FONT_FAMILY = "landplan Sans VI"
#: Characters the subset font keeps: ASCII, Latin-1, Latin Extended-A/B, Vietnamese, combining marks
#: and the punctuation and symbols the maps print. Anything else falls back to DejaVu Sans.
FONT_CHARS: frozenset[int] = frozenset(
    [*range(0x20, 0x7F), *range(0xA0, 0x250), *range(0x300, 0x324), *range(0x1EA0, 0x1F00),
     *(ord(c) for c in "–—‘’“”…·•‰′″←↑→↓−≤≥×÷±°²³µ∅√∞≈≠")]
)
#: Version of the cut (:func:`font_files`): a new cut gets a new file name, so no older one is reused.
FONT_CUT = 2
#: Smallest printed text (points): a figure in report mode never prints smaller.
MIN_FONT_PT = 7.0


def _cache_dir() -> Path:
    base = os.environ.get("LANDPLAN_CACHE") or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "landplan")
    return Path(base) / "fonts"


def font_files() -> list[Path]:
    """DejaVu Sans (regular and bold, from matplotlib's own data) cut down to :data:`FONT_CHARS`.

    Written once into the cache folder (``$LANDPLAN_CACHE/fonts``, else ``~/.cache/landplan/fonts``,
    else a temporary folder) and reused. A PDF embeds a subset of the font it uses; cutting the
    756 kB DejaVu Sans to the 76 kB this package needs once makes each later embedding about five
    times faster, so fonts cost once, not once per file.

    Returns
    -------
    list of Path
        The regular and the bold font file, family :data:`FONT_FAMILY`.
    """
    import matplotlib
    from fontTools import version

    src_dir = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    out = []
    for style, name in (("Regular", "DejaVuSans.ttf"), ("Bold", "DejaVuSans-Bold.ttf")):
        src = src_dir / name
        stamp = f"{src.stat().st_size}-{int(src.stat().st_mtime)}-{version}-{FONT_CUT}"
        for folder in (_cache_dir(), Path(tempfile.gettempdir()) / "landplan-fonts"):
            target = folder / f"landplan-sans-vi-{style.lower()}-{stamp}.ttf"
            if target.is_file():
                break
            try:
                from fontTools import subset  # only to cut the font: a cut already made costs no import
                from fontTools.ttLib import TTFont

                folder.mkdir(parents=True, exist_ok=True)
                font = TTFont(src)
                options = subset.Options(glyph_names=True, recommended_glyphs=True, layout_features=["*"], name_IDs=["*"],
                                         notdef_outline=True)
                options.drop_tables += ["FFTM", "GSUB", "MATH"]  # kept: GPOS (kerning, marks), which matplotlib applies
                sub = subset.Subsetter(options)
                sub.populate(unicodes=FONT_CHARS)
                sub.subset(font)
                names = font["name"]
                for rec in list(names.names):
                    if rec.nameID in (1, 16):
                        names.setName(FONT_FAMILY, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
                    elif rec.nameID in (4, 6):
                        full = f"{FONT_FAMILY} {style}" if rec.nameID == 4 else f"landplanSansVI-{style}"
                        names.setName(full, rec.nameID, rec.platformID, rec.platEncID, rec.langID)
                tmp = target.with_suffix(f".{os.getpid()}.tmp")
                font.save(tmp)
                os.replace(tmp, target)
                break
            except OSError:
                continue
        out.append(target)
    return out


_REGISTERED: set[Path] = set()


def _register_font() -> None:
    """Add the subset font to matplotlib's font list, once per process: a new family name that only
    landplan's :func:`rc` asks for, so nothing else a caller draws changes."""
    from matplotlib import font_manager

    for path in font_files():
        if path not in _REGISTERED and path.is_file():
            font_manager.fontManager.addfont(str(path))
            _REGISTERED.add(path)


def fig_of(ax: Axes) -> Figure:
    """The (root) figure an axes is drawn on."""
    return cast("Figure", ax.figure)


def rc() -> dict[str, Any]:
    """matplotlib settings of every static map (fonts embedded as TrueType, SVG text as outlines)."""
    _register_font()
    return {"font.family": [FONT_FAMILY, "DejaVu Sans"], "pdf.fonttype": 42, "svg.fonttype": "path", "axes.linewidth": 0.6,
            "svg.hashsalt": "landplan", "path.simplify": True}


@contextmanager
def drawing() -> Iterator[None]:
    """Draw with landplan's settings (:func:`rc`), restoring matplotlib's settings after; pyplot and
    its global backend are never touched (figures come from :func:`new_figure`)."""
    import matplotlib

    with matplotlib.rc_context(rc()):  # type: ignore[arg-type]
        yield


def new_figure(width_mm: float, height_mm: float) -> Figure:
    """A figure of the given paper size not managed by pyplot (so no global figure list grows)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_mm / MM_PER_INCH, height_mm / MM_PER_INCH))
    FigureCanvasAgg(fig)
    return fig


def metadata(fmt: str, title: str) -> dict[str, Any]:
    """Fixed metadata so the same results give the same files (no creation dates)."""
    if fmt == "pdf":
        return {"Title": title, "Creator": "landplan", "Producer": "landplan", "CreationDate": None}
    if fmt == "svg":
        return {"Title": title, "Creator": "landplan", "Date": None}
    if fmt == "png":
        return {"Software": "landplan"}
    return {}


def _deflate(data: bytes | memoryview, level: int) -> bytes:
    """zlib-wrapped deflate of ``data``: ISA-L's (``isal``, several times faster than zlib) or zlib's."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - isal is a dependency; zlib gives the same format
        import zlib

        return zlib.compress(data, level)
    return bytes(isal_zlib.compress(data, min(level, isal_zlib.ISAL_BEST_COMPRESSION)))


def png_bytes(pixels: np.ndarray, *, dpi: float, software: str = "landplan") -> bytes:
    """An RGB(A) pixel array (rows × columns × 3 or 4, uint8; any strides, so a view of a BGRA buffer
    with its channels reversed will do) as an RGB PNG file's bytes.

    The alpha channel, if any, is dropped (opaque maps need none). Rows are stored unfiltered (filter 0)
    and deflated at :data:`PNG_COMPRESS_LEVEL` (:func:`_deflate`); the file says ``dpi`` (``pHYs``, in
    pixels per metre) and the software (``tEXt``).
    """
    import struct
    import zlib

    px = np.asarray(pixels, dtype=np.uint8)
    h, w = px.shape[:2]
    rows = np.empty((h, 1 + 3 * w), dtype=np.uint8)
    rows[:, 0] = 0  # filter type 0 (none) on every row
    channels = rows[:, 1:].reshape(h, w, 3)
    for c in range(3):  # channel by channel: numpy copies single bytes with a stride far faster than 3-byte groups
        channels[..., c] = px[..., c]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)) & 0xFFFFFFFF)

    ppm = round(dpi / MM_PER_INCH * 1000)
    return b"".join([
        b"\x89PNG\r\n\x1a\n",
        chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)),  # 8-bit RGB, deflate, no interlace
        chunk(b"pHYs", struct.pack(">IIB", ppm, ppm, 1)),  # pixels per metre
        chunk(b"tEXt", b"Software\x00" + software.encode("latin-1")),
        chunk(b"IDAT", _deflate(memoryview(rows.reshape(-1)), PNG_COMPRESS_LEVEL)),  # type: ignore[arg-type]
        chunk(b"IEND", b""),
    ])


def write_png(pixels: np.ndarray, path: Path, *, dpi: float) -> None:
    """Write an RGB(A) pixel buffer as an RGB PNG tagged with ``dpi`` (:func:`png_bytes`)."""
    Path(path).write_bytes(png_bytes(pixels, dpi=dpi))


def save(fig: Figure, stem: Path, formats: Sequence[str], *, dpi: float = 300, title: str | None = None,
         canvas: Any = None) -> list[Path]:
    """Save a figure built once in each of ``formats`` (``png``, ``svg``, ``pdf``); return the paths.

    The figure is drawn once, by matplotlib's cairo renderer onto a recording surface
    (:func:`landplan.cairodraw.record_figure`), and that drawing is written in each format by cairo:
    the PDF embeds a subset of the font, the SVG holds text as glyph outlines, the PNG is rendered at
    ``dpi`` (on ``canvas``, a :class:`landplan.cairodraw.Canvas` kept by the caller, when given) and
    written by :func:`write_png`.
    """
    from . import cairodraw

    recording = cairodraw.record_figure(fig)
    paths = []
    for fmt in formats:
        path = stem.with_name(f"{stem.name}.{fmt}")
        cairodraw.write_recording(recording, path, fmt, dpi=dpi, title=title or stem.name, canvas=canvas)
        paths.append(path)
    return paths


# --- numbers ---------------------------------------------------------------------------------------------


def fmt_number(value: float, decimals: int = 2, lang: str = "vi") -> str:
    """A number for print: ``1.234,56`` in Vietnamese, ``1,234.56`` in English (the map's own rule,
    :func:`landplan.numfmt.format_number`, so a figure reads the same on paper and on screen).

    >>> fmt_number(1234.5, 2, "vi"), fmt_number(1234.5, 2, "en"), fmt_number(-0.5, 1)
    ('1.234,50', '1,234.50', '-0,5')
    """
    return format_number(value, decimals, lang)


def fmt_scale(denominator: float, lang: str = "vi") -> str:
    """A scale ratio: ``1:2.000`` (Vietnamese) or ``1:2,000`` (English)."""
    return f"1:{fmt_number(denominator, 0, lang)}"


#: Scales a map may be printed at: 1, 2, 2.5 and 5 times a power of ten.
_NICE = (1.0, 2.0, 2.5, 5.0)


def nice_scale(at_least: float) -> float:
    """The smallest round scale denominator (1, 2, 2.5, 5 × 10^k) not below ``at_least``.

    >>> nice_scale(1800), nice_scale(2000), nice_scale(41_000)
    (2000.0, 2000.0, 50000.0)
    """
    if not at_least > 0:
        return 1.0
    k = math.floor(math.log10(at_least))
    for base in (10.0 ** (k - 1), 10.0 ** k, 10.0 ** (k + 1)):
        for m in _NICE:
            if m * base >= at_least * (1 - 1e-12):
                return m * base
    return 10.0 ** (k + 1)


def nice_length_m(width_m: float) -> float:
    """A round scale-bar length (1, 2, 2.5, 5 × 10^k m) about a fifth of ``width_m`` and not more."""
    target = max(width_m / 5.0, 1.0)
    k = math.floor(math.log10(target))
    best = 10.0 ** k
    for m in _NICE:
        if m * 10.0 ** k <= target:
            best = m * 10.0 ** k
    return best


# --- polygons as one matplotlib collection ---------------------------------------------------------------


def polygon_paths(geoms: np.ndarray | Sequence[Any]) -> list[MplPath]:
    """One matplotlib ``Path`` per geometry (its polygons and holes as one compound path).

    Built with shapely's vectorised accessors, not per vertex in Python; exteriors are oriented
    counter-clockwise and holes clockwise so the non-zero fill rule leaves holes empty. Non-polygonal
    parts are ignored; a geometry with no polygon gets an empty path.
    """
    from matplotlib.path import Path as MplPath

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return []
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    keep = shapely.get_type_id(parts) == 3
    parts, pidx = shapely.orient_polygons(parts[keep]), pidx[keep]
    rings, ridx = shapely.get_rings(parts, return_index=True)
    xy, cidx = shapely.get_coordinates(rings, return_index=True)
    if not len(xy):
        return [MplPath(np.zeros((0, 2))) for _ in range(n)]
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[0, np.flatnonzero(np.diff(cidx)) + 1]
    ends = np.r_[starts[1:] - 1, len(xy) - 1]
    codes[starts] = MplPath.MOVETO
    codes[ends] = MplPath.CLOSEPOLY
    feature = pidx[ridx[cidx]]
    bounds = np.searchsorted(feature, np.arange(n + 1)).tolist()
    return _paths(xy, codes, bounds)


def _paths(xy: np.ndarray, codes: np.ndarray, bounds: list[int]) -> list[MplPath]:
    """Read-only paths ``xy[bounds[i]:bounds[i + 1]]`` of closed rings (every ring ends in CLOSEPOLY).

    Made as matplotlib's ``Path`` constructor would make them (which never simplifies a path holding a
    CLOSEPOLY) without checking each one again: a map's tens of thousands of parcels cost a third as
    much (matplotlib's ``Path._fast_from_codes_and_verts``, the constructor where it is missing).
    """
    from matplotlib.path import Path as MplPath

    n = len(bounds) - 1
    fast = getattr(MplPath, "_fast_from_codes_and_verts", None)
    if fast is None or not n:  # pragma: no cover - every matplotlib landplan supports has it
        return [MplPath(xy[bounds[i]:bounds[i + 1]], codes[bounds[i]:bounds[i + 1]], readonly=True) for i in range(n)]
    like = MplPath(np.zeros((2, 2)), np.array([MplPath.MOVETO, MplPath.CLOSEPOLY], dtype=MplPath.code_type))
    out = [fast(xy[bounds[i]:bounds[i + 1]], codes[bounds[i]:bounds[i + 1]], internals_from=like) for i in range(n)]
    for p in out:
        p._readonly = True
    return out


def line_paths(geoms: np.ndarray | Sequence[Any]) -> list[MplPath]:
    """One matplotlib ``Path`` per line geometry (each part a separate stroke); polygons give their rings."""
    from matplotlib.path import Path as MplPath

    geoms = np.asarray(geoms, dtype=object)
    n = len(geoms)
    if n == 0:
        return []
    types = shapely.get_type_id(geoms)
    geoms = np.where(np.isin(types, [3, 6]), shapely.boundary(geoms), geoms)
    parts, pidx = shapely.get_parts(geoms, return_index=True)
    xy, cidx = shapely.get_coordinates(parts, return_index=True)
    if not len(xy):
        return [MplPath(np.zeros((0, 2))) for _ in range(n)]
    codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
    codes[np.r_[0, np.flatnonzero(np.diff(cidx)) + 1]] = MplPath.MOVETO
    feature = pidx[cidx]
    bounds = np.searchsorted(feature, np.arange(n + 1))
    return [MplPath(xy[bounds[i]:bounds[i + 1]], codes[bounds[i]:bounds[i + 1]], readonly=True) for i in range(n)]


def polygons(ax: Axes, geoms: np.ndarray | Sequence[Any], *, facecolor: Any = "none", edgecolor: Any = "none",
             linewidth: float = 0.2, zorder: float = 2, transform: Any = None, **kwargs: Any) -> PathCollection:
    """Add polygons to ``ax`` as one collection (fast to build and to draw); return it."""
    from matplotlib.collections import PathCollection

    coll = PathCollection(polygon_paths(geoms), facecolors=facecolor, edgecolors=edgecolor, linewidths=linewidth,
                          zorder=zorder, transform=transform if transform is not None else ax.transData, **kwargs)
    coll.set_offset_transform(None)  # type: ignore[arg-type]
    ax.add_collection(coll, autolim=False)
    return coll


def lines(ax: Axes, geoms: np.ndarray | Sequence[Any], *, color: Any = "black", linewidth: float = 0.5, zorder: float = 3,
          transform: Any = None, **kwargs: Any) -> PathCollection:
    """Add line geometries (or polygon outlines) to ``ax`` as one collection; return it."""
    from matplotlib.collections import PathCollection

    coll = PathCollection(line_paths(geoms), facecolors="none", edgecolors=color, linewidths=linewidth, zorder=zorder,
                          transform=transform if transform is not None else ax.transData, **kwargs)
    ax.add_collection(coll, autolim=False)
    return coll


# --- furniture ---------------------------------------------------------------------------------------------


def map_scale(ax: Axes) -> float:
    """The scale denominator at which ``ax`` prints: ground metres per metre of paper along x."""
    x0, x1 = ax.get_xlim()
    width_m_paper = ax.get_position().width * fig_of(ax).get_figwidth() * MM_PER_INCH / 1000.0
    return abs(x1 - x0) / width_m_paper


def set_extent_at_scale(ax: Axes, cx: float, cy: float, scale: float) -> tuple[float, float, float, float]:
    """Centre ``ax`` on (cx, cy) at exactly 1:``scale`` for its size on paper; return the extent."""
    pos = ax.get_position()
    w_m = pos.width * fig_of(ax).get_figwidth() * MM_PER_INCH / 1000.0 * scale
    h_m = pos.height * fig_of(ax).get_figheight() * MM_PER_INCH / 1000.0 * scale
    ext = (cx - w_m / 2, cy - h_m / 2, cx + w_m / 2, cy + h_m / 2)
    ax.set_xlim(ext[0], ext[2])
    ax.set_ylim(ext[1], ext[3])
    ax.set_aspect("equal", adjustable="box")
    return ext


def scale_bar(ax: Axes, *, scale: float, lang: str = "vi", length_m: float | None = None, loc: tuple[float, float] = (0.02, 0.03),
              fontsize: float = 7.0, zorder: float = 20) -> dict[str, Any]:
    """A scale bar drawn in the map's own units (metres) with the scale ratio beside it.

    Four alternating black and white segments from ``loc`` (axes fraction of the bar's left end),
    labelled ``0`` and the length, and ``Tỷ lệ 1:2.000`` (``Scale 1:2,000``) to its right, on a white box.

    Returns
    -------
    dict
        ``length_m`` (ground length of the bar), ``ratio`` (the printed text), ``artists``.
    """
    from matplotlib.patches import Rectangle

    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    width = abs(x1 - x0)
    length = length_m if length_m is not None else nice_length_m(width)
    bx = x0 + loc[0] * width
    by = y0 + loc[1] * abs(y1 - y0)
    h = 1.2 / 1000.0 * scale  # 1.2 mm high on paper
    artists: list[Any] = []
    seg = length / 4
    pad = 2.0 / 1000.0 * scale
    label_h = fontsize / PT_PER_INCH * MM_PER_INCH / 1000.0 * scale
    ratio = f"{'Tỷ lệ' if lang == 'vi' else 'Scale'} {fmt_scale(scale, lang)}"
    ratio_w = (len(ratio) * 0.6 * fontsize / PT_PER_INCH * MM_PER_INCH) / 1000.0 * scale
    box = Rectangle((bx - pad, by - pad), length + 3 * pad + ratio_w + 2 * pad, h + label_h + 3 * pad, facecolor="white",
                    edgecolor="none", alpha=0.85, zorder=zorder - 1)
    ax.add_patch(box)
    artists.append(box)
    for i in range(4):
        r = Rectangle((bx + i * seg, by), seg, h, facecolor="black" if i % 2 == 0 else "white", edgecolor="black",
                      linewidth=0.4, zorder=zorder, gid=f"scalebar-{i}")
        ax.add_patch(r)
        artists.append(r)
    unit = "km" if length >= 1000 else "m"
    shown = length / 1000 if length >= 1000 else length
    for x, text in ((bx, "0"), (bx + length, f"{fmt_number(shown, 0 if shown == int(shown) else 1, lang)} {unit}")):
        artists.append(ax.text(x, by + h + pad / 2, text, ha="center", va="bottom", fontsize=fontsize, zorder=zorder))
    artists.append(ax.text(bx + length + 3 * pad, by + h / 2, ratio, ha="left", va="center", fontsize=fontsize,
                           fontweight="bold", zorder=zorder))
    return {"length_m": length, "ratio": ratio, "artists": artists, "box": (bx - pad, by - pad, bx + length + 5 * pad + ratio_w,
                                                                            by + h + label_h + 2 * pad)}


def north_arrow(ax: Axes, *, rotation_deg: float = 0.0, xy: tuple[float, float] = (0.96, 0.90), lang: str = "vi",
                size_mm: float = 9.0, zorder: float = 20) -> list[Any]:
    """A north arrow at ``xy`` (axes fraction) pointing to grid north on a page whose ground is turned
    by ``rotation_deg`` (counter-clockwise); ``size_mm`` long on paper. Returns its artists."""
    from matplotlib.patches import Polygon as MplPolygon
    from matplotlib.transforms import Affine2D

    fig = fig_of(ax)
    pos = ax.get_position()
    ax_in = (pos.x0 + xy[0] * pos.width) * fig.get_figwidth(), (pos.y0 + xy[1] * pos.height) * fig.get_figheight()
    s = size_mm / MM_PER_INCH / 2
    inches = Affine2D().scale(s).rotate_deg(rotation_deg).translate(*ax_in)
    t = inches + fig.dpi_scale_trans
    out: list[Any] = []
    for side, face in ((-1, "black"), (1, "white")):
        out.append(MplPolygon([(0, 1), (side * 0.38, -0.8), (0, -0.45)], closed=True, facecolor=face, edgecolor="black",
                              linewidth=0.5, transform=t, zorder=zorder))
        ax.add_patch(out[-1])
    tx, ty = inches.transform((0, 1.45))
    out.append(ax.text(tx, ty, "B" if lang == "vi" else "N", transform=fig.dpi_scale_trans, ha="center", va="center", fontsize=9,
                       fontweight="bold", zorder=zorder))
    return out


def grid_step_m(width_m: float) -> float:
    """A round grid interval giving three to eight lines across ``width_m``."""
    step = nice_length_m(width_m * 5 / 4)
    return step


def coordinate_grid(ax: Axes, *, extent: tuple[float, float, float, float], crs_label: str, lang: str = "vi",
                    step_m: float | None = None, fontsize: float = 7.0) -> float:
    """Grid lines of the working CRS (e.g. VN-2000 / TM-3) every ``step_m`` with coordinates at the frame.

    Returns the interval used (m).
    """
    x0, y0, x1, y1 = extent
    step = step_m or grid_step_m(x1 - x0)
    xs = np.arange(math.ceil(x0 / step) * step, x1, step)
    ys = np.arange(math.ceil(y0 / step) * step, y1, step)
    kw: dict[str, Any] = {"color": "#7f7f7f", "linewidth": 0.3, "zorder": 1.5}
    for x in xs:
        ax.plot([x, x], [y0, y1], **kw)
        ax.text(x, y1, f"{x:.0f}", ha="center", va="bottom", fontsize=fontsize, color="#555555", clip_on=False)
    for y in ys:
        ax.plot([x0, x1], [y, y], **kw)
        ax.text(x0, y, f"{y:.0f}", ha="right", va="center", rotation=90, fontsize=fontsize, color="#555555", clip_on=False)
    ax.text(x1, y0, f"{'Lưới tọa độ' if lang == 'vi' else 'Grid'} {crs_label} (m)", ha="right", va="top", fontsize=fontsize,
            color="#555555", clip_on=False)
    return float(step)


def free_corner(extent: tuple[float, float, float, float], size: tuple[float, float], data: Any, *,
                margin: float = 0.015, avoid: Sequence[Any] = ()) -> tuple[str, tuple[float, float, float, float]] | None:
    """A corner of ``extent`` where a box of ``size`` (fractions of width and height) meets neither
    ``data`` (a shapely geometry) nor any geometry of ``avoid``; ``None`` when every corner is taken.

    Returns the corner's name (``"lower right"`` …) and the box (xmin, ymin, xmax, ymax) in map units.
    Corners are tried lower right, upper right, upper left, lower left.
    """
    x0, y0, x1, y1 = extent
    w, h = (x1 - x0) * size[0], (y1 - y0) * size[1]
    mx, my = (x1 - x0) * margin, (y1 - y0) * margin
    corners = {
        "lower right": (x1 - mx - w, y0 + my),
        "upper right": (x1 - mx - w, y1 - my - h),
        "upper left": (x0 + mx, y1 - my - h),
        "lower left": (x0 + mx, y0 + my),
    }
    for name, (bx, by) in corners.items():
        b = shapely.box(bx, by, bx + w, by + h)
        if (data is None or not b.intersects(data)) and not any(b.intersects(g) for g in avoid):
            return name, (bx, by, bx + w, by + h)
    return None


#: A legend swatch's width (mm); its height is 0.9 of the labels' font size.
LEGEND_SWATCH_MM = 5.5


def _legend_layout(handles: Sequence[Any], width_mm: float, *, ncols: int, fontsize: float) -> tuple[list[tuple[float, float, str]], float]:
    """Where :func:`legend_grid` puts each entry: (x from the left, y of the swatch's centre below the
    top, its label wrapped to the column), in mm, and the height the legend takes (its title line and
    its tallest column)."""
    line_mm = fontsize * 1.35 / PT_PER_INCH * MM_PER_INCH
    col_w = width_mm / ncols
    per_col = max(1, -(-len(handles) // ncols))
    out: list[tuple[float, float, str]] = []
    height = 1.6 * line_mm
    down = 0.0
    for k, h in enumerate(handles):
        col, row = divmod(k, per_col)
        if row == 0:
            down = 1.6 * line_mm
        label = wrap_to_width(" ".join(str(h.get_label()).split()), col_w - LEGEND_SWATCH_MM - 3, fontsize)
        out.append((col * col_w, down, label))
        down += line_mm * (label.count("\n") + 1) + 0.6
        height = max(height, down)
    return out, height


def legend_height_mm(handles: Sequence[Any], width_mm: float, *, ncols: int = 2, fontsize: float = 7.0) -> float:
    """The height (mm) :func:`legend_grid` gives ``handles`` in ``width_mm``."""
    return _legend_layout(handles, width_mm, ncols=ncols, fontsize=fontsize)[1]


def legend_grid(fig: Figure, handles: Sequence[Any], rect_mm: tuple[float, float, float, float], *, title: str, ncols: int = 2,
                fontsize: float = 7.0, title_fontsize: float | None = None) -> list[Any]:
    """A legend laid out once at a fixed place: a swatch and a label per handle, in columns.

    ``rect_mm`` is (left, bottom, width, height) on the page in mm; the title is at its top and entries
    fill the columns top to bottom (labels wrapped to the column; :func:`legend_height_mm` is the height
    they take). Far cheaper to make and draw than matplotlib's legend, which lays its boxes out again
    whenever it is measured or drawn. Returns the artists (the title first).
    """
    from matplotlib.patches import Rectangle

    W, H = fig.get_figwidth() * MM_PER_INCH, fig.get_figheight() * MM_PER_INCH
    left, bottom, width, height = rect_mm
    top = bottom + height
    artists: list[Any] = [fig.text(left / W, top / H, title, fontsize=title_fontsize or fontsize + 1, fontweight="bold", va="top")]
    sw, sh = LEGEND_SWATCH_MM, fontsize * 0.9 / PT_PER_INCH * MM_PER_INCH
    entries, _ = _legend_layout(handles, width, ncols=ncols, fontsize=fontsize)
    for h, (dx, down, label) in zip(handles, entries):
        x, y = left + dx, top - down
        swatch = Rectangle((x / W, (y - sh / 2) / H), sw / W, sh / H, transform=fig.transFigure, figure=fig, facecolor=h.get_facecolor(),
                           edgecolor=h.get_edgecolor(), linewidth=h.get_linewidth(), linestyle=h.get_linestyle())
        fig.patches.append(swatch)
        artists.append(swatch)
        many = "\n" in label
        artists.append(fig.text((x + sw + 1.5) / W, ((y + sh / 2) if many else y) / H, label, fontsize=fontsize,
                                va="top" if many else "center", ha="left"))
    return artists


def wrap_to_width(text: str, width_mm: float, fontsize: float, *, bold: bool = False) -> str:
    """Break ``text`` into lines (at spaces) none wider than ``width_mm`` when printed at ``fontsize`` pt.

    Widths are the font's own advances (measured by cairo, which sets the text of every export:
    :meth:`landplan.cairodraw.Pen.wrap`), not guessed from a character count; a single word wider
    than the width stays on its own line.
    """
    from .cairodraw import measurer

    return measurer().wrap(text, width_mm, fontsize, bold=bold)
