"""Pages drawn straight onto cairo surfaces: one drawing, in millimetres, written as a PDF page or a PNG.

matplotlib lays out and draws every artist in Python, and a strip-map page holds about a thousand
polygons and hundreds of labels, so most of a page's time went to Python per artist. Here a page is
drawn with cairo (through ``cairocffi``): the polygons of a layer are converted once into cairo's own
path layout (a numpy array handed to ``cairo_append_path``), each page only picks the features it
shows; text is set with landplan's font (:func:`landplan.printing.font_files`, made known to
fontconfig once per process), and a PDF embeds a subset of it once, however many pages it has.

Coordinates on a page are millimetres from its top-left corner (y down, as cairo's); line widths and
font sizes are in points, as on paper. Ground coordinates are placed on a page with a
:class:`GroundFrame` (scale and rotation).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from . import printing

MM_PER_PT = printing.MM_PER_INCH / printing.PT_PER_INCH
#: cairo's path element types (``cairo_path_data_type_t``).
_MOVE_TO, _LINE_TO, _CLOSE_PATH = 0, 1, 3
#: Line spacing of multi-line text, in font sizes (matplotlib's default).
LINE_SPACING = 1.2

Color = tuple[float, float, float, float]


def rgba(color: str | Sequence[float] | None, alpha: float | None = None) -> Color | None:
    """A colour as (r, g, b, a) in 0–1 from ``#rrggbb`` or a 3- or 4-sequence; ``None`` or ``"none"`` stays ``None``."""
    if color is None or (isinstance(color, str) and color == "none"):
        return None
    if isinstance(color, str):
        h = color.lstrip("#")
        r, g, b = (int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))
        return (r, g, b, 1.0 if alpha is None else alpha)
    c = tuple(float(v) for v in color)
    a = c[3] if len(c) > 3 else 1.0
    return (c[0], c[1], c[2], a if alpha is None else alpha)


@cache
def font_family() -> str:
    """The family text is set in: landplan's subset of DejaVu Sans, added to fontconfig's fonts for
    this process (``FcConfigAppFontAddFile``: adds a font under its own family name, changes nothing
    else); DejaVu Sans from the system where fontconfig cannot be reached."""
    name = ctypes.util.find_library("fontconfig") or "libfontconfig.so.1"
    try:
        fc = ctypes.CDLL(name)
        fc.FcConfigAppFontAddFile.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
        ok = all(fc.FcConfigAppFontAddFile(None, str(p).encode()) for p in printing.font_files())
    except OSError:
        ok = False
    return printing.FONT_FAMILY if ok else "DejaVu Sans"


@cache
def _faces() -> tuple[Any, Any]:
    import cairocffi

    family = font_family()
    return (cairocffi.ToyFontFace(family, cairocffi.FONT_SLANT_NORMAL, cairocffi.FONT_WEIGHT_NORMAL),
            cairocffi.ToyFontFace(family, cairocffi.FONT_SLANT_NORMAL, cairocffi.FONT_WEIGHT_BOLD))


@cache
def _unhinted() -> Any:
    """Font options with glyph metrics and outlines unhinted (cairo's default on images and recordings
    rounds each advance to a whole device unit)."""
    import cairocffi

    opts = cairocffi.FontOptions()
    opts.set_hint_metrics(cairocffi.HINT_METRICS_OFF)
    opts.set_hint_style(cairocffi.HINT_STYLE_NONE)
    return opts


def _starts(counts: np.ndarray) -> np.ndarray:
    """Where each run of ``counts`` starts in their concatenation."""
    counts = np.asarray(counts, dtype=np.int64)
    return np.concatenate([np.zeros(min(len(counts), 1), dtype=np.int64), np.cumsum(counts)[:-1]])


class Shapes:
    """Many features' outlines in cairo's path layout, built once (vectorised) and drawn by index.

    ``data`` holds cairo path elements (16 bytes each: a header ``type, length`` or a point ``x, y``)
    in ground coordinates; feature ``i`` is rows ``start[i]:start[i] + count[i]``. Polygons give closed
    rings (holes included, so the non-zero rule leaves them open once oriented); lines give open
    strokes; a polygon given as a line gives its rings.
    """

    def __init__(self, geoms: np.ndarray | Sequence[Any], *, lines: bool = False) -> None:
        geoms = np.asarray(geoms, dtype=object)
        n = len(geoms)
        if lines:
            types = shapely.get_type_id(geoms) if n else np.zeros(0, dtype=int)
            geoms = np.where(np.isin(types, [3, 6]), shapely.boundary(geoms), geoms) if n else geoms
            parts, owner = shapely.get_parts(geoms, return_index=True)
        else:
            parts, owner = shapely.get_parts(geoms, return_index=True)
            keep = shapely.get_type_id(parts) == 3
            parts, owner = shapely.orient_polygons(parts[keep]), owner[keep]
            parts, ring_owner = shapely.get_rings(parts, return_index=True)
            owner = owner[ring_owner]
        xy, vidx = shapely.get_coordinates(parts, return_index=True)
        per = np.bincount(vidx, minlength=len(parts)) if len(parts) else np.zeros(0, dtype=np.int64)
        if not lines and len(per):
            per = per - 1  # a ring's closing vertex repeats its first: CLOSE_PATH draws that edge
            first = _starts(per + 1)
            keep_v = np.ones(len(xy), dtype=bool)
            keep_v[first + per] = False
            xy = xy[keep_v]
        closing = 0 if lines else 1
        rows = 2 * per + closing  # a header and a point per vertex, a CLOSE_PATH per ring
        data = np.zeros((int(rows.sum()), 2), dtype=np.float64)
        head = data.view(np.int32).reshape(-1, 4)
        ring_start = _starts(rows)
        vert_ring = np.repeat(np.arange(len(per)), per)
        vert_pos = np.arange(len(xy)) - np.repeat(_starts(per), per)
        hrow = ring_start[vert_ring] + 2 * vert_pos
        head[hrow, 0] = np.where(vert_pos == 0, _MOVE_TO, _LINE_TO)
        head[hrow, 1] = 2
        data[hrow + 1] = xy
        if not lines and len(per):
            crow = ring_start + rows - 1
            head[crow, 0] = _CLOSE_PATH
            head[crow, 1] = 1
        self.is_point = np.zeros(len(data), dtype=bool)
        self.is_point[hrow + 1] = True
        self.data = data
        # rings of a feature are consecutive: a feature is one slice
        feat_rows = np.bincount(owner, weights=rows, minlength=n).astype(np.int64) if n else np.zeros(0, dtype=np.int64)
        self.count = feat_rows
        self.start = _starts(feat_rows)
        self.n = n

    def on_page(self, idx: np.ndarray, frame: GroundFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Features ``idx`` placed on the page (mm): their path rows, and each one's start and count in them."""
        idx = np.asarray(idx, dtype=np.int64)
        counts = self.count[idx]
        starts = _starts(counts)
        rows = np.repeat(self.start[idx] - starts, counts) + np.arange(int(counts.sum()))
        data = self.data[rows]
        pts = self.is_point[rows]
        data[pts] = frame.to_mm(data[pts])
        return data, starts, counts


@dataclass(frozen=True)
class GroundFrame:
    """Ground coordinates (m) placed on a page: the point ``centre`` at ``at_mm``, at 1:``scale``, the
    ground turned by ``angle_deg`` counter-clockwise (the page's x axis points that way on the ground)."""

    centre: tuple[float, float]
    at_mm: tuple[float, float]
    scale: float
    angle_deg: float = 0.0

    def to_mm(self, xy: np.ndarray) -> np.ndarray:
        """Ground (m) → page (mm, y down)."""
        a = math.radians(self.angle_deg)
        c, s = math.cos(a), math.sin(a)
        d = np.asarray(xy, dtype=float) - np.asarray(self.centre)
        k = 1000.0 / self.scale
        u = c * d[:, 0] + s * d[:, 1]
        v = -s * d[:, 0] + c * d[:, 1]
        return np.column_stack([self.at_mm[0] + k * u, self.at_mm[1] - k * v])


class Pen:
    """Draws on a cairo context whose user units are millimetres from the page's top-left corner."""

    def __init__(self, ctx: Any) -> None:
        import cairocffi

        self.ctx = ctx
        self.lib = cairocffi.cairo
        self.ffi = cairocffi.ffi
        self.ptr = ctx._pointer
        self._path = self.ffi.new("cairo_path_t *")
        self.regular, self.bold = _faces()
        ctx.set_font_options(_unhinted())  # glyph advances as the font has them, on paper and on screen alike
        self._extents: dict[tuple[str, float, bool], float] = {}

    def replay(self, recording: Recording) -> None:
        """Put a :class:`Recording` on this pen's surface, its mm on this pen's mm."""
        self.ctx.save()
        self.ctx.set_source_surface(recording.surface, 0, 0)
        self.ctx.paint()
        self.ctx.restore()

    # --- shapes -----------------------------------------------------------------------------------------

    def _base(self, data: np.ndarray) -> Any:
        """A pointer to path rows (``data`` must stay alive while it is used)."""
        return self.ffi.cast("cairo_path_data_t *", self.ffi.from_buffer(data))

    def _append(self, base: Any, start: int, count: int) -> None:
        p = self._path
        p.status = 0
        p.data = base + int(start)
        p.num_data = int(count)
        self.lib.cairo_append_path(self.ptr, p)

    def _dash(self, dash_pt: Sequence[float] | None) -> None:
        if dash_pt:
            self.ctx.set_dash([d * MM_PER_PT for d in dash_pt])
        else:
            self.ctx.set_dash([])

    def features(self, shapes: Shapes, idx: np.ndarray, frame: GroundFrame, *, fill: Color | np.ndarray | None = None,
                 edge: Color | None = None, lw_pt: float = 0.5, dash_pt: Sequence[float] | None = None) -> None:
        """Draw features ``idx`` of ``shapes``: filled (one colour, or a row of ``fill`` per feature), then
        all outlined.

        The features of one fill colour are filled as one path (the non-zero rule: a feature's holes stay
        open), so a page costs a few cairo calls per colour rather than several per feature; then their
        outlines are stroked as one path, above every fill. Features of a layer do not overlap (parcels,
        pieces, remnants), so this draws what filling and stroking each in turn would.
        """
        if not len(idx):
            return
        idx = np.asarray(idx, dtype=np.int64)
        groups: list[tuple[Any, int, int]] = []  # (colour, first feature, end) over the features in drawing order
        if isinstance(fill, np.ndarray):
            colours, which = np.unique(np.asarray(fill, dtype=float).reshape(len(idx), -1), axis=0, return_inverse=True)
            order = np.argsort(which.reshape(-1), kind="stable")
            idx, which = idx[order], which.reshape(-1)[order]
            cuts = np.flatnonzero(np.diff(which)) + 1
            bounds = np.r_[0, cuts, len(idx)]
            groups = [(colours[which[a]], int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        elif fill is not None:
            groups = [(fill, 0, len(idx))]
        data, starts, counts = shapes.on_page(idx, frame)
        base = self._base(data)
        lib, ptr = self.lib, self.ptr
        for colour, a, b in groups:
            end = int(starts[b - 1] + counts[b - 1])
            lib.cairo_new_path(ptr)
            self._append(base, int(starts[a]), end - int(starts[a]))
            lib.cairo_set_source_rgba(ptr, float(colour[0]), float(colour[1]), float(colour[2]), float(colour[3]))
            lib.cairo_fill(ptr)
        if edge is not None:
            self.ctx.set_line_width(lw_pt * MM_PER_PT)
            self._dash(dash_pt)
            lib.cairo_new_path(ptr)
            self._append(base, 0, len(data))
            lib.cairo_set_source_rgba(ptr, *edge)
            lib.cairo_stroke(ptr)
        lib.cairo_new_path(ptr)

    def polygon(self, pts_mm: np.ndarray | Sequence[Sequence[float]], *, fill: Color | None = None, edge: Color | None = None,
                lw_pt: float = 0.5, dash_pt: Sequence[float] | None = None, close: bool = True) -> None:
        """A polygon (or, ``close=False``, a polyline) through points in mm."""
        ctx = self.ctx
        ctx.new_path()
        pts = np.asarray(pts_mm, dtype=float)
        ctx.move_to(float(pts[0, 0]), float(pts[0, 1]))
        for x, y in pts[1:]:
            ctx.line_to(float(x), float(y))
        if close:
            ctx.close_path()
        self._paint(fill, edge, lw_pt, dash_pt)

    def rect(self, x: float, y: float, w: float, h: float, *, fill: Color | None = None, edge: Color | None = None,
             lw_pt: float = 0.5, dash_pt: Sequence[float] | None = None) -> None:
        """A rectangle: top-left (x, y), size (w, h), in mm."""
        self.ctx.new_path()
        self.ctx.rectangle(x, y, w, h)
        self._paint(fill, edge, lw_pt, dash_pt)

    def segments(self, segs: Sequence[tuple[tuple[float, float], tuple[float, float]]], *, edge: Color, lw_pt: float) -> None:
        """Straight strokes between pairs of points (mm)."""
        ctx = self.ctx
        ctx.new_path()
        for (x0, y0), (x1, y1) in segs:
            ctx.move_to(x0, y0)
            ctx.line_to(x1, y1)
        self._paint(None, edge, lw_pt, None)

    def _paint(self, fill: Color | None, edge: Color | None, lw_pt: float, dash_pt: Sequence[float] | None) -> None:
        ctx = self.ctx
        if fill is not None:
            ctx.set_source_rgba(*fill)
            if edge is not None:
                ctx.fill_preserve()
            else:
                ctx.fill()
        if edge is not None:
            ctx.set_line_width(lw_pt * MM_PER_PT)
            self._dash(dash_pt)
            ctx.set_source_rgba(*edge)
            ctx.stroke()
        ctx.new_path()

    def clip(self, x: float, y: float, w: float, h: float) -> None:
        """Clip what follows to a rectangle (mm) until :meth:`unclip`."""
        self.ctx.save()
        self.ctx.new_path()
        self.ctx.rectangle(x, y, w, h)
        self.ctx.clip()

    def unclip(self) -> None:
        """End the clip of :meth:`clip`."""
        self.ctx.restore()

    # --- text ---------------------------------------------------------------------------------------------

    def _font(self, size_pt: float, bold: bool) -> None:
        self.ctx.set_font_face(self.bold if bold else self.regular)
        self.ctx.set_font_size(size_pt * MM_PER_PT)

    def width(self, text: str, size_pt: float, *, bold: bool = False) -> float:
        """The advance width of one line of ``text`` at ``size_pt`` (mm)."""
        key = (text, size_pt, bold)
        w = self._extents.get(key)
        if w is None:
            self._font(size_pt, bold)
            w = self._extents[key] = float(self.ctx.text_extents(text)[4])
        return w

    def wrap(self, text: str, width_mm: float, size_pt: float, *, bold: bool = False) -> str:
        """Break ``text`` at spaces into lines none wider than ``width_mm`` (the font's own advances); a
        word wider than the width stays on its own line."""
        out: list[str] = []
        space = self.width(" ", size_pt, bold=bold)
        for para in text.split("\n"):
            line, line_w = "", 0.0
            for word in para.split():
                ww = self.width(word, size_pt, bold=bold)
                if line and line_w + space + ww > width_mm:
                    out.append(line)
                    line, line_w = word, ww
                else:
                    line, line_w = (f"{line} {word}", line_w + space + ww) if line else (word, ww)
            out.append(line)
        return "\n".join(out)

    def text(self, x: float, y: float, text: str, *, size_pt: float, bold: bool = False, color: Color | None = None,
             ha: str = "left", va: str = "baseline", rotation_deg: float = 0.0) -> None:
        """Text at (x, y) mm, aligned by ``ha`` (left, center, right) and ``va`` (top, center, bottom,
        baseline; of the whole block for several lines), turned ``rotation_deg`` counter-clockwise about
        the anchor."""
        ctx = self.ctx
        self._font(size_pt, bold)
        asc, desc = ctx.font_extents()[:2]
        step = LINE_SPACING * size_pt * MM_PER_PT
        lines = text.split("\n")
        block = (len(lines) - 1) * step
        first = {"top": asc, "bottom": -desc - block, "center": (asc - desc) / 2 - block / 2, "baseline": 0.0}[va]
        ctx.save()
        ctx.translate(x, y)
        if rotation_deg:
            ctx.rotate(-math.radians(rotation_deg))
        ctx.set_source_rgba(*(color or (0.0, 0.0, 0.0, 1.0)))
        for k, line in enumerate(lines):
            w = self.width(line, size_pt, bold=bold) if ha != "left" else 0.0
            dx = {"left": 0.0, "center": -w / 2, "right": -w}[ha]
            self._font(size_pt, bold)
            ctx.move_to(dx, first + k * step)
            ctx.show_text(line)
        ctx.restore()
        ctx.new_path()

    def labels(self, xy_mm: np.ndarray, texts: Sequence[str], *, size_pt: float, bold: bool = False,
               color: Color | None = None, ha: str = "left", va: str = "baseline") -> None:
        """One-line texts at points (mm, a row each), in one font, colour and alignment: what :meth:`text`
        draws for each (the same cairo operations on the same numbers), with the font, its extents and
        the colour set once for all, and cairo called directly rather than through cairocffi's checks."""
        if not len(texts):
            return
        ctx, lib, ptr = self.ctx, self.lib, self.ptr
        ctx.save()
        self._font(size_pt, bold)
        asc, desc = ctx.font_extents()[:2]
        first = {"top": asc, "bottom": -desc, "center": (asc - desc) / 2, "baseline": 0.0}[va]
        ctx.set_source_rgba(*(color or (0.0, 0.0, 0.0, 1.0)))
        shift = {"left": 0.0, "center": -0.5, "right": -1.0}[ha]
        for (x, y), text in zip(np.asarray(xy_mm, dtype=float).tolist(), texts):
            dx = shift * self.width(text, size_pt, bold=bold) if shift else 0.0
            lib.cairo_save(ptr)
            lib.cairo_translate(ptr, x, y)
            lib.cairo_move_to(ptr, dx, first)
            lib.cairo_show_text(ptr, text.encode("utf-8"))
            lib.cairo_restore(ptr)
        ctx.restore()
        ctx.new_path()


# --- surfaces ---------------------------------------------------------------------------------------------


class Recording:
    """A drawing in mm (:attr:`pen`) kept as cairo's record of it, to be put on several pages
    (:meth:`Pen.replay`) without drawing it again: on a PDF, cairo writes it once, as a form every
    page that shows it refers to."""

    def __init__(self, width_mm: float, height_mm: float) -> None:
        import cairocffi

        self.surface = cairocffi.RecordingSurface(cairocffi.CONTENT_COLOR_ALPHA, (0, 0, width_mm, height_mm))
        self.ctx = cairocffi.Context(self.surface)
        self.pen = Pen(self.ctx)


class PdfDocument:
    """A multi-page PDF (A-series page in mm); :meth:`page` gives a :class:`Pen` for each new page."""

    def __init__(self, path: Path, width_mm: float, height_mm: float, *, title: str) -> None:
        import cairocffi

        pt = 1 / MM_PER_PT
        self.surface = cairocffi.PDFSurface(str(path), width_mm * pt, height_mm * pt)
        for key, value in ((cairocffi.PDF_METADATA_TITLE, title), (cairocffi.PDF_METADATA_CREATOR, "landplan"),
                           (cairocffi.PDF_METADATA_CREATE_DATE, "")):  # no date: the same results give the same file
            self.surface.set_metadata(key, value)
        self.ctx = cairocffi.Context(self.surface)
        self.ctx.scale(pt, pt)
        self.pen = Pen(self.ctx)
        self.pages = 0

    def page(self) -> Pen:
        """The pen of the next page (the previous one, if any, is finished)."""
        if self.pages:
            self.ctx.show_page()
        self.pages += 1
        return self.pen

    def close(self) -> None:
        """Finish the last page and the file."""
        if self.pages:
            self.ctx.show_page()
        self.surface.finish()


class Raster:
    """An opaque white RGB image of a page at ``dpi``; :attr:`pen` draws on it in mm. On ``canvas`` (a
    :class:`Canvas` the caller keeps, valid until the canvas gives another image) when given."""

    def __init__(self, width_mm: float, height_mm: float, dpi: float, *, canvas: Canvas | None = None) -> None:
        import cairocffi

        k = dpi / printing.MM_PER_INCH
        self.dpi = dpi
        self.size = (round(width_mm * k), round(height_mm * k))
        self.surface = canvas.image(*self.size) if canvas is not None else cairocffi.ImageSurface(cairocffi.FORMAT_RGB24, *self.size)
        self.ctx = cairocffi.Context(self.surface)
        self.ctx.scale(k, k)
        self.pen = Pen(self.ctx)
        self.clear()

    def clear(self) -> None:
        """Paint the page white."""
        self.ctx.save()
        self.ctx.set_source_rgb(1, 1, 1)
        self.ctx.paint()
        self.ctx.restore()

    def paste(self, other: Raster) -> None:
        """Replace this page's pixels with ``other``'s (same size): a background drawn once."""
        self.surface.flush()
        np.copyto(self._buffer(), other._buffer())
        self.surface.mark_dirty()

    def _buffer(self) -> np.ndarray:
        h = self.size[1]
        stride = self.surface.get_stride()
        return np.ndarray((h, stride // 4, 4), dtype=np.uint8, buffer=self.surface.get_data())

    def pixels(self) -> np.ndarray:
        """The image as rows × columns × RGB (uint8)."""
        self.surface.flush()
        w, _ = self.size
        return self._buffer()[:, :w, 2::-1]  # cairo's RGB24 is B, G, R, unused in memory (little-endian)

    def write_png(self, path: Path) -> None:
        """Write the image as a PNG (:func:`landplan.printing.write_png`)."""
        printing.write_png(self.pixels(), path, dpi=self.dpi)


# --- matplotlib figures, drawn once and written in every format -------------------------------------------


def record_figure(fig: Any) -> tuple[Any, float, float, bool]:
    """Draw a matplotlib figure once onto a cairo recording surface (matplotlib's own cairo renderer,
    in points); return the surface, the page size (pt) and whether the figure's own background is
    opaque (it then covers the whole page). :func:`write_recording` then writes it as PDF, SVG or PNG
    without drawing the figure again."""
    import cairocffi

    font_family()  # landplan's font known to fontconfig, so cairo sets text in it
    w_pt, h_pt = (float(v) * printing.PT_PER_INCH for v in fig.get_size_inches())
    surface = cairocffi.RecordingSurface(cairocffi.CONTENT_COLOR_ALPHA, (0, 0, w_pt, h_pt))
    renderer = _figure_renderer()
    renderer.gc.ctx = cairocffi.Context(surface)  # what RendererCairo.set_context does for a surface of known size
    renderer.width, renderer.height = w_pt, h_pt
    dpi = fig.dpi
    fig.dpi = printing.PT_PER_INCH
    try:
        fig.draw(renderer)
    finally:
        fig.dpi = dpi
    patch = fig.patch
    opaque = bool(patch.get_visible() and patch.get_facecolor()[3] >= 1.0 and (patch.get_alpha() is None or patch.get_alpha() >= 1.0))
    return surface, w_pt, h_pt, opaque


class Canvas:
    """Pixels to render recorded drawings on, kept from one PNG to the next.

    A new image of a 300 dpi A3 page costs more than drawing a map on it: the system hands its 70 MB
    over page by page, each zeroed on first touch. A canvas keeps one buffer (grown when a larger image
    is asked for) and clears it for each image with cairo's ``CLEAR`` operator, after which cairo knows
    the image is blank and composites onto it as onto a new one: the same pixels, in about half the
    time (a 300 dpi A3 print map: 32 → 16 ms). Meant for a run's worker process, which writes many
    figures; drop it to give the memory back.
    """

    def __init__(self) -> None:
        self._buf = np.zeros(0, dtype=np.uint8)

    def image(self, width: int, height: int) -> Any:
        """A blank RGB image surface of ``width`` × ``height`` pixels on this canvas's buffer (valid until
        the next call)."""
        import cairocffi

        stride = cairocffi.ImageSurface.format_stride_for_width(cairocffi.FORMAT_RGB24, width)
        if len(self._buf) < stride * height:
            self._buf = np.empty(stride * height, dtype=np.uint8)
        image = cairocffi.ImageSurface(cairocffi.FORMAT_RGB24, width, height, data=self._buf[:stride * height], stride=stride)
        ctx = cairocffi.Context(image)
        ctx.set_operator(cairocffi.OPERATOR_CLEAR)
        ctx.paint()
        return image


def write_recording(recording: tuple[Any, float, float, bool], path: Path, fmt: str, *, dpi: float = 300, title: str = "",
                    canvas: Canvas | None = None) -> Path:
    """Write a recorded drawing (:func:`record_figure`) as ``fmt``: ``pdf`` (fonts embedded as subsets,
    text searchable), ``svg`` (text as glyph outlines, so it renders without the font) or ``png`` (RGB
    at ``dpi``, :func:`landplan.printing.write_png`; rendered on ``canvas`` when given, else on a new image)."""
    import cairocffi

    surface, w_pt, h_pt, opaque = recording
    if fmt == "png":
        k = dpi / printing.PT_PER_INCH
        size = (round(w_pt * k), round(h_pt * k))
        image = canvas.image(*size) if canvas is not None else cairocffi.ImageSurface(cairocffi.FORMAT_RGB24, *size)
        ctx = cairocffi.Context(image)
        if not opaque:  # a figure whose own background does not cover the page is put on white paper
            ctx.set_source_rgb(1, 1, 1)
            ctx.paint()
        ctx.scale(k, k)
        ctx.set_source_surface(surface)
        ctx.paint()
        image.flush()
        px = np.ndarray((image.get_height(), image.get_stride() // 4, 4), dtype=np.uint8, buffer=image.get_data())
        printing.write_png(px[:, :image.get_width(), 2::-1], path, dpi=dpi)
        return path
    if fmt == "pdf":
        out = cairocffi.PDFSurface(str(path), w_pt, h_pt)
        for key, value in ((cairocffi.PDF_METADATA_TITLE, title), (cairocffi.PDF_METADATA_CREATOR, "landplan"),
                           (cairocffi.PDF_METADATA_CREATE_DATE, "")):  # no date: the same results give the same file
            out.set_metadata(key, value)
    elif fmt == "svg":
        out = cairocffi.SVGSurface(str(path), w_pt, h_pt)
    else:
        raise ValueError(f"format must be png, svg or pdf, got {fmt!r}")
    ctx = cairocffi.Context(out)
    ctx.set_source_surface(surface)
    ctx.paint()
    ctx.show_page()
    out.finish()
    return path


@cache
def _figure_renderer() -> Any:
    """The renderer :func:`record_figure` draws with, one per process: matplotlib keeps the text metrics
    it measured per renderer, so the labels, legends and notes every figure repeats are measured once,
    not once per figure (the renderer's settings are the same for all: points, landplan's font options)."""
    return _renderer_class()(printing.PT_PER_INCH)


@cache
def _renderer_class() -> type:
    """matplotlib's cairo renderer, drawing a collection of plain polygons or lines (no per-path
    transforms or offsets, no hatch, no curves: what landplan's maps hold) in one vectorised pass:
    every path's vertices transformed at once and handed to cairo as path data, then each path filled
    and stroked in order, as the base renderer does path by path. Anything else goes to the base."""
    from matplotlib.backends.backend_cairo import RendererCairo
    from matplotlib.path import Path as MplPath
    from matplotlib.transforms import Affine2D

    class Renderer(RendererCairo):
        def __init__(self, dpi: float) -> None:
            super().__init__(dpi)
            self.text_ctx.set_font_options(_unhinted())  # measured as drawn
            self._faces: dict[tuple[Any, ...], tuple[Any, ...]] = {}

        def _face(self, prop: Any) -> tuple[Any, ...]:
            """cairo's face arguments for a font property, found once per font (matplotlib looks the font
            file up again for every text it measures and draws)."""
            from matplotlib.backends.backend_cairo import _cairo_font_args_from_font_prop

            key = (tuple(prop.get_family()), prop.get_style(), prop.get_variant(), prop.get_weight(), prop.get_stretch(),
                   prop.get_size(), prop.get_file(), prop.get_math_fontfamily())
            face = self._faces.get(key)
            if face is None:
                face = self._faces[key] = tuple(_cairo_font_args_from_font_prop(prop))
            return face

        def get_text_width_height_descent(self, s: str, prop: Any, ismath: Any) -> tuple[float, float, float]:
            """matplotlib's cairo measure of a text (:meth:`_face` found once per font)."""
            if ismath:
                return super().get_text_width_height_descent(s, prop, ismath)
            ctx = self.text_ctx
            ctx.save()
            ctx.select_font_face(*self._face(prop))
            ctx.set_font_size(self.points_to_pixels(prop.get_size_in_points()))
            y_bearing, w, h = ctx.text_extents(s)[1:4]
            ctx.restore()
            return w, h, h + y_bearing

        def draw_text(self, gc: Any, x: float, y: float, s: str, prop: Any, angle: float, ismath: Any = False, mtext: Any = None) -> None:
            """matplotlib's cairo text, with glyph advances unrounded: a recording surface is in points, and
            cairo's default there rounds each advance to a whole point (uneven letter spacing)."""
            if ismath:
                super().draw_text(gc, x, y, s, prop, angle, ismath, mtext)
                return
            ctx = gc.ctx
            ctx.new_path()
            ctx.move_to(x, y)
            ctx.save()
            ctx.select_font_face(*self._face(prop))
            ctx.set_font_size(self.points_to_pixels(prop.get_size_in_points()))
            ctx.set_font_options(_unhinted())
            if angle:
                ctx.rotate(np.deg2rad(-angle))
            ctx.show_text(s)
            ctx.restore()

        def draw_path_collection(self, gc: Any, master_transform: Any, paths: Any, all_transforms: Any, offsets: Any,
                                 offset_trans: Any, facecolors: Any, edgecolors: Any, linewidths: Any, linestyles: Any,
                                 antialiaseds: Any, urls: Any, offset_position: Any, **kwargs: Any) -> None:
            offsets = np.asarray(offsets).reshape(-1, 2)
            plain = (len(paths) > 8 and not len(all_transforms) and not (offsets != 0).any() and gc.get_hatch() is None
                     and len(linestyles) <= 1 and len(linewidths) <= 1 and not any(u for u in urls if u))
            codes = [p.codes for p in paths] if plain else []
            if plain:
                given = [c for c in codes if c is not None]
                plain = not given or not np.isin(np.concatenate(given), (MplPath.CURVE3, MplPath.CURVE4)).any()
            if not plain:
                super().draw_path_collection(gc, master_transform, paths, all_transforms, offsets, offset_trans, facecolors,
                                             edgecolors, linewidths, linestyles, antialiaseds, urls, offset_position, **kwargs)
                return
            _draw_plain_collection(self, gc, master_transform + Affine2D().scale(1, -1).translate(0, float(self.height or 0.0)), paths, codes,
                                   np.asarray(facecolors).reshape(-1, 4), np.asarray(edgecolors).reshape(-1, 4),
                                   float(linewidths[0]) if len(linewidths) else 0.0, linestyles[0] if len(linestyles) else (0, None))

    return Renderer


def _draw_plain_collection(renderer: Any, gc: Any, transform: Any, paths: Any, codes: list[Any], faces: np.ndarray,
                           edges: np.ndarray, lw_pt: float, linestyle: Any) -> None:
    """Fill and stroke each of ``paths`` (after ``transform``, to the surface's points) on ``gc``'s context."""
    import cairocffi
    from matplotlib.path import Path as MplPath

    ctx = gc.ctx
    n = len(paths)
    counts = np.fromiter((len(p.vertices) for p in paths), dtype=np.int64, count=n)
    xy = transform.transform(np.concatenate([p.vertices for p in paths])) if counts.sum() else np.zeros((0, 2))
    code = np.concatenate([c if c is not None else _line_codes(len(p.vertices)) for p, c in zip(paths, codes)]).astype(np.int64)
    code[_starts(counts)] = MplPath.MOVETO  # every path starts afresh
    keep = code != MplPath.STOP
    closing = code == MplPath.CLOSEPOLY
    rows = np.where(keep, np.where(closing, 1, 2), 0)  # a CLOSE_PATH is one row, a point two
    data = np.zeros((int(rows.sum()), 2), dtype=np.float64)
    head = data.view(np.int32).reshape(-1, 4)
    at = _starts(rows)
    move = keep & (code == MplPath.MOVETO)
    line = keep & ~closing & ~move
    head[at[move], 0], head[at[line], 0], head[at[closing], 0] = _MOVE_TO, _LINE_TO, _CLOSE_PATH
    head[at[move | line], 1] = 2
    head[at[closing], 1] = 1
    data[at[move | line] + 1] = xy[move | line]
    path_rows = np.bincount(np.repeat(np.arange(n), counts), weights=rows, minlength=n).astype(np.int64)
    path_start = _starts(path_rows)
    lib, ffi = cairocffi.cairo, cairocffi.ffi
    ptr = ctx._pointer
    base = ffi.cast("cairo_path_data_t *", ffi.from_buffer(data))
    cpath = ffi.new("cairo_path_t *")
    forced = gc.get_forced_alpha()
    alpha = gc.get_alpha()
    lw = renderer.points_to_pixels(lw_pt)
    offset, dashes = linestyle
    ctx.set_line_width(lw)
    ctx.set_dash([] if dashes is None else list(renderer.points_to_pixels(np.asarray(dashes))), offset or 0)
    nf, ne = len(faces), len(edges)
    draw_face = nf > 0 and (faces[:, 3] > 0).any()
    draw_edge = ne > 0 and lw > 0 and (edges[:, 3] > 0).any()
    for i in range(n):
        if not path_rows[i]:
            continue
        lib.cairo_new_path(ptr)
        cpath.status, cpath.data, cpath.num_data = 0, base + int(path_start[i]), int(path_rows[i])
        lib.cairo_append_path(ptr, cpath)
        if draw_face:
            r, g, b, a = faces[i % nf]
            if a > 0:
                lib.cairo_set_source_rgba(ptr, r, g, b, alpha if forced else a)
                lib.cairo_fill_preserve(ptr)
        if draw_edge:
            r, g, b, a = edges[i % ne]
            if a > 0:
                lib.cairo_set_source_rgba(ptr, r, g, b, alpha if forced else a)
                lib.cairo_stroke_preserve(ptr)
    lib.cairo_new_path(ptr)


def _line_codes(n: int) -> np.ndarray:
    """Codes of a path given without them: a move, then lines."""
    from matplotlib.path import Path as MplPath

    c = np.full(n, MplPath.LINETO, dtype=np.int64)
    c[:1] = MplPath.MOVETO
    return c


@cache
def measurer() -> Pen:
    """A pen on a 1 × 1 image, to measure text (:meth:`Pen.width`) in the font pages are set in."""
    import cairocffi

    ctx = cairocffi.Context(cairocffi.ImageSurface(cairocffi.FORMAT_RGB24, 1, 1))
    return Pen(ctx)
