"""Pages drawn with cairo: path data built right (holes open), placed at the stated scale, one
figure written as PDF (searchable text), SVG (text as outlines) and PNG (the stated dpi)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import LineString, Polygon

from landplan import cairodraw, printing


def test_polygon_with_a_hole_filled_at_scale():
    square = Polygon([(0, 0), (40, 0), (40, 40), (0, 40)], holes=[[(10, 10), (30, 10), (30, 30), (10, 30)]])
    shapes = cairodraw.Shapes([square])
    assert shapes.n == 1 and shapes.count[0] == 2 * (2 * 4 + 1)  # two rings of 4 vertices: a header and a point each, a close
    # 1:1000 on a 1 px/mm page: 40 m → 40 mm → 40 px; the square's lower-left corner at (5 mm, 45 mm from the top)
    raster = cairodraw.Raster(50, 50, cairodraw.printing.MM_PER_INCH)
    frame = cairodraw.GroundFrame(centre=(20, 20), at_mm=(25, 25), scale=1000)
    raster.pen.features(shapes, np.array([0]), frame, fill=(1.0, 0.0, 0.0, 1.0))
    px = np.asarray(raster.pixels())
    assert tuple(px[25, 25]) == (255, 255, 255)  # the hole stays open
    assert tuple(px[8, 25]) == (255, 0, 0) and tuple(px[25, 8]) == (255, 0, 0)  # the ring is filled
    assert tuple(px[2, 25]) == (255, 255, 255) and tuple(px[25, 47]) == (255, 255, 255)  # nothing outside 40 × 40 px
    assert frame.to_mm(np.array([[0.0, 0.0], [40.0, 40.0]])).tolist() == [[5.0, 45.0], [45.0, 5.0]]  # y up on the ground, down on paper


def test_turned_frame_puts_the_line_along_the_page():
    frame = cairodraw.GroundFrame(centre=(100, 100), at_mm=(0, 0), scale=2000, angle_deg=90)
    # a line running north on the ground runs left to right on a page turned by 90°
    mm = frame.to_mm(np.array([[100.0, 100.0], [100.0, 200.0]]))
    assert mm[1] - mm[0] == pytest.approx([50.0, 0.0])  # 100 m at 1:2,000 = 50 mm
    lines = cairodraw.Shapes([LineString([(0, 0), (10, 0), (10, 10)])], lines=True)
    assert lines.count[0] == 6  # three vertices, no close


def test_png_bytes_from_a_bgr_view(tmp_path: Path):
    rng = np.random.default_rng(1)
    bgrx = rng.integers(0, 255, size=(31, 17, 4), dtype=np.uint8)
    path = tmp_path / "x.png"
    printing.write_png(bgrx[..., 2::-1], path, dpi=150)
    with Image.open(path) as im:
        assert im.mode == "RGB" and im.size == (17, 31) and im.info["dpi"] == pytest.approx((150, 150), abs=0.02)  # pixels per metre, rounded
        assert (np.asarray(im) == bgrx[..., 2::-1]).all()


def test_figure_written_once_in_three_formats(tmp_path: Path):
    with printing.drawing():
        fig = printing.new_figure(100, 60)
        fig.text(0.1, 0.5, "Tỷ lệ 1:2.000 – Đất trồng lúa", fontsize=9)
        ax = fig.add_axes((0.1, 0.1, 0.5, 0.3))
        printing.polygons(ax, [Polygon([(0, 0), (1, 0), (1, 1)])] * 20, facecolor="#f2d33b", edgecolor="#333333")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        paths = printing.save(fig, tmp_path / "f", ("png", "svg", "pdf"), dpi=200)
    assert [p.suffix for p in paths] == [".png", ".svg", ".pdf"]
    assert "Tỷ lệ 1:2.000 – Đất trồng lúa" in PdfReader(paths[2]).pages[0].extract_text()
    svg = paths[1].read_text(encoding="utf-8")
    assert "<text" not in svg and "<path" in svg  # text as outlines: renders without the font
    with Image.open(paths[0]) as im:
        assert im.size == (round(100 / 25.4 * 200), round(60 / 25.4 * 200))
        px = np.asarray(im)
    assert ((px == (0xF2, 0xD3, 0x3B)).all(axis=2)).any()  # the polygons' fill drawn in the PNG


def _figure(width_mm: float, color: str, text: str):
    fig = printing.new_figure(width_mm, 40)
    fig.text(0.1, 0.7, text, fontsize=9)
    ax = fig.add_axes((0.1, 0.1, 0.6, 0.5))
    printing.polygons(ax, [Polygon([(0, 0), (1, 0), (1, 1)])] * 12, facecolor=color, edgecolor="#333333")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    return fig


def test_png_on_a_kept_canvas_is_the_png_on_a_new_image(tmp_path: Path):
    canvas = cairodraw.Canvas()
    with printing.drawing():
        # a wider figure first: the second image lies on the start of the same buffer, with another row stride
        big, small = _figure(120, "#1f78b4", "Lớn"), _figure(80, "#f2d33b", "Nhỏ – Đất lúa")
        printing.save(big, tmp_path / "big", ("png",), dpi=150, canvas=canvas)
        kept = printing.save(small, tmp_path / "kept", ("png",), dpi=150, canvas=canvas)[0]
        new = printing.save(small, tmp_path / "new", ("png",), dpi=150)[0]
    with Image.open(kept) as a, Image.open(new) as b:
        assert a.size == b.size == (round(80 / 25.4 * 150), round(40 / 25.4 * 150))
        assert (np.asarray(a) == np.asarray(b)).all()


@pytest.mark.parametrize("ha, va", [("center", "center"), ("left", "baseline"), ("right", "top"), ("center", "bottom")])
def test_labels_draw_what_text_draws_for_each(tmp_path: Path, ha: str, va: str):
    """Many one-line labels drawn at once are the labels drawn one by one: the same pixels, the same PDF."""
    rng = np.random.default_rng(7)
    xy = rng.uniform(5, 95, size=(40, 2))
    texts = [f"{k:04d}-Đất lúa ấp Thới Lợi {k}" if k % 3 else str(k) for k in range(40)]
    colour = cairodraw.rgba("#1f78b4")

    def one_by_one(pen: cairodraw.Pen) -> None:
        for (x, y), t in zip(xy, texts):
            pen.text(float(x), float(y), t, size_pt=7, ha=ha, va=va, color=colour)

    def together(pen: cairodraw.Pen) -> None:
        pen.labels(xy, texts, size_pt=7, ha=ha, va=va, color=colour)

    pixels = []
    for draw in (one_by_one, together):
        raster = cairodraw.Raster(100, 100, 200)
        draw(raster.pen)
        pixels.append(np.asarray(raster.pixels()).copy())
    assert (pixels[0] != 255).any() and np.array_equal(pixels[0], pixels[1])
    pdfs = []
    for draw in (one_by_one, together):
        path = tmp_path / f"{draw.__name__}.pdf"
        doc = cairodraw.PdfDocument(path, 100, 100, title="nhãn")
        draw(doc.page())
        doc.close()
        pdfs.append(path.read_bytes())
    assert pdfs[0] == pdfs[1]
