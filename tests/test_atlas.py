"""Strip maps: pages along the centreline at the stated scale (measured in the PDF), chainage, coverage."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pypdf import PdfReader
from pypdf.generic import ContentStream
from shapely import affinity
from shapely.geometry import LineString, box

from landplan import atlas, run
from tests.conftest import X0, Y0, tiny_layers, write_tiny

MM_PER_PT = 25.4 / 72
LUC_RGB = (0xF2 / 255, 0xD3 / 255, 0x3B / 255)


def filled_paths(pdf: Path, page: int = 0) -> list[tuple[tuple[float, ...], list[tuple[float, float]]]]:
    """Every filled path on a PDF page: (fill colour, vertices in points on the page), the CTM applied."""
    reader = PdfReader(pdf)
    pg = reader.pages[page]
    ops = ContentStream(pg.get_contents(), reader).operations
    ctm = np.eye(3)
    stack: list[np.ndarray] = []
    fill: tuple[float, ...] = ()
    path: list[tuple[float, float]] = []
    out = []

    def at(x: float, y: float) -> tuple[float, float]:
        v = np.array([x, y, 1.0]) @ ctm
        return float(v[0]), float(v[1])

    for operands, op in ops:
        op = op.decode() if isinstance(op, bytes) else op
        vals = [float(v) for v in operands] if op in ("rg", "m", "l", "re", "cm", "c") else []
        if op == "q":
            stack.append(ctm.copy())
        elif op == "Q":
            ctm = stack.pop()
        elif op == "cm":
            a, b, c, d, e, f = vals
            ctm = np.array([[a, b, 0], [c, d, 0], [e, f, 1]]) @ ctm
        elif op == "rg":
            fill = tuple(vals)
        elif op in ("m", "l"):
            path.append(at(vals[0], vals[1]))
        elif op == "c":
            path.append(at(vals[4], vals[5]))
        elif op == "re":
            x, y, w, h = vals
            path += [at(x, y), at(x + w, y), at(x + w, y + h), at(x, y + h)]
        elif op in ("f", "f*", "B", "B*", "b", "b*"):
            out.append((fill, path))
            path = []
        elif op in ("S", "s", "n"):
            path = []
    return out


def edges_m(points: list[tuple[float, float]], scale: float) -> list[float]:
    """Lengths on the ground (m) of a path's edges drawn at 1:``scale``."""
    p = np.asarray(points)
    d = np.hypot(*(np.roll(p, -1, axis=0) - p).T)
    return sorted(float(v) * MM_PER_PT / 1000 * scale for v in d if v > 1e-6)


def _rotated_world(folder: Path, angle: float) -> Path:
    layers = {k: v.set_geometry(v.geometry.map(lambda g: affinity.rotate(g, angle, origin=(X0, Y0)))) for k, v in tiny_layers().items()}
    return write_tiny(folder, layers)


@pytest.mark.parametrize("angle", [0.0, 30.0, -115.0])
def test_strip_page_scale_measured_in_the_pdf(tmp_path: Path, angle: float):
    """The east-west road's piece of P1 is 100 m × 20 m; at 1:2,000 its edges are 50 mm and 10 mm in the PDF."""
    r = run(_rotated_world(tmp_path, angle))
    pages = atlas.atlas_pages(r)["east_west"]
    assert len(pages) == 1 and pages[0].scale == 2000
    assert math.isclose(math.cos(math.radians(pages[0].angle_deg - angle)), 1.0, abs_tol=1e-9)  # turned along the road
    pdf = atlas.render_project(r, "east_west", pages, tmp_path / "atlas", png=False)[0]
    pieces = [edges_m(pts, 2000) for fill, pts in filled_paths(pdf) if len(fill) == 3 and np.allclose(fill, LUC_RGB, atol=2e-3) and len(pts) >= 4]
    rect = [e for e in pieces if len(e) == 4 and math.isclose(e[0], 20.0, rel_tol=2e-3) and math.isclose(e[-1], 100.0, rel_tol=2e-3)]
    assert rect, f"no 100 m × 20 m LUC piece at 1:2,000 among {pieces}"
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Tỷ lệ 1:2.000" in text and "P1" in text and "Km0+100" in text and "Tờ 1/1" in text


def test_chainage_labels_and_ticks_along_the_centreline():
    assert [atlas.chainage_label(m) for m in (0, 99.6, 1520.4, 12_000)] == ["Km0+000", "Km0+100", "Km1+520", "Km12+000"]
    line = LineString([(0, 0), (250, 0), (250, 180)])  # an L, 430 m
    ticks = atlas.chainage_ticks(line, step_m=100)
    assert [t[0] for t in ticks] == [0, 100, 200, 300, 400]
    for ch, x, y, _ in ticks:
        assert line.project(shapely.Point(x, y)) == pytest.approx(ch, abs=1e-9)
    assert ticks[1][1:3] == pytest.approx((100, 0)) and ticks[3][1:3] == pytest.approx((250, 50))
    assert ticks[1][3] == pytest.approx(0.0) and ticks[3][3] == pytest.approx(90.0)
    # a second part continues the chainage: 430 m done, the next peg is at 500 m, 70 m along it
    more = atlas.chainage_ticks(LineString([(1000, 0), (1300, 0)]), step_m=100, start_m=430.0)
    assert [t[0] for t in more] == [500, 600, 700] and more[0][1] == pytest.approx(1070)


def test_centreline_parts_join_and_orient_features():
    a, b, c = LineString([(0, 0), (100, 0)]), LineString([(200, 0), (100, 0)]), LineString([(500, 0), (600, 0)])
    parts = atlas.centreline_parts([a, b, c])
    assert len(parts) == 2 and parts[0].length == pytest.approx(200) and list(parts[0].coords)[-1] == (200, 0)


def test_pages_follow_a_bent_corridor_and_cover_its_footprint():
    line = LineString([(0, 0), (3000, 0), (5000, 2500), (5200, 6000)])
    fp = line.buffer(40, cap_style="flat", join_style="mitre")
    pages = atlas.strip_pages([line], fp, project="p", scale=2000, half_width_m=40)
    w, h = 400 / 1000 * 2000, 212 / 1000 * 2000
    assert all(p.width_m == pytest.approx(w) and p.height_m == pytest.approx(h) for p in pages)
    union = shapely.union_all([p.window() for p in pages])
    assert shapely.difference(fp, union).area < 1e-6  # every square metre of the corridor is on a page
    assert [p.number for p in pages] == list(range(1, len(pages) + 1)) and all(p.total == len(pages) for p in pages)
    ch = [p.chainage_m for p in pages]
    assert ch[0][0] == 0 and ch[-1][1] == pytest.approx(line.length) and all(a[1] == pytest.approx(b[0]) for a, b in itertools.pairwise(ch))
    assert pages[0].angle_deg == pytest.approx(0.0) and pages[-1].angle_deg == pytest.approx(math.degrees(math.atan2(3500, 200)), abs=1)
    for p in pages:  # each page's stretch of centreline runs left to right inside its frame
        a, b = p.chainage_m
        sub = shapely.ops.substring(line, a, b)
        uv = p.to_page(shapely.get_coordinates(sub))
        assert (np.abs(uv[:, 0]) <= w / 2 + 1e-6).all() and (np.abs(uv[:, 1]) <= h / 2).all()
        assert uv[-1, 0] > uv[0, 0]


def test_polygon_sheet_at_the_largest_scale_that_fits():
    poly = affinity.rotate(box(0, 0, 1700, 1470), 38, origin=(0, 0))
    page = atlas.sheet_page(poly, project="hub")
    assert page.scale in atlas.SHEET_SCALES and page.window().contains(poly)

    def fits(scale: float, angle: float) -> bool:  # the polygon's extent along and across a page turned by angle
        a = math.radians(angle)
        xy = shapely.get_coordinates(poly)
        u = math.cos(a) * xy[:, 0] + math.sin(a) * xy[:, 1]
        v = -math.sin(a) * xy[:, 0] + math.cos(a) * xy[:, 1]
        return bool(np.ptp(u) <= 0.4 * scale and np.ptp(v) <= 0.212 * scale)

    assert fits(page.scale, page.angle_deg)
    larger = [s for s in atlas.SHEET_SCALES if s < page.scale][-1]
    assert not any(fits(larger, a) for a in np.arange(-90.0, 90.0, 0.5))  # no turn fits the next larger scale
    assert page.scale == 10_000 and page.angle_deg != 0.0  # north up would need 1:20,000; turned, 1:10,000 fits


def test_every_affected_parcel_on_a_page_with_its_id(sample_result, tmp_path: Path):
    pages = atlas.atlas_pages(sample_result)
    for p in sample_result.scenario.projects:
        view = sample_result.view(p.id)
        union = shapely.union_all([pg.window() for pg in pages[p.id]])
        assert shapely.difference(shapely.union_all(np.asarray(view.pieces.geometry.values)), union).area < 1e-3
    project = "dt921"
    pdf = atlas.render_project(sample_result, project, pages[project], tmp_path, png=False)[0]
    text = "\n".join(pg.extract_text() for pg in PdfReader(pdf).pages)
    ids = set(sample_result.view(project).affected["parcel_id"])
    missing = sorted(i for i in ids if i not in text)
    assert not missing, f"{len(missing)} affected parcels have no id on any page: {missing[:5]}"
    assert len(PdfReader(pdf).pages) == len(pages[project])


def test_pages_frame_for_the_qgis_atlas(sample_result):
    pages = atlas.atlas_pages(sample_result)
    gdf = atlas.pages_frame(pages, sample_result.scenario.crs)
    assert isinstance(gdf, gpd.GeoDataFrame) and len(gdf) == sum(len(v) for v in pages.values())
    assert set(gdf["project"]) == {p.id for p in sample_result.scenario.projects}
    assert gdf.loc[gdf["project"] == "dt921", "label"].iloc[0].startswith("Tờ 1/")


def test_pages_drawn_with_kept_layers_and_pixels_are_the_pages_drawn_afresh(sample_result, tmp_path: Path):
    pages = atlas.atlas_pages(sample_result)
    long_one = next(k for k, v in pages.items() if len(v) >= 4)
    other = next(k for k, v in pages.items() if k != long_one and v)
    kept: dict = {}
    atlas.render_project(sample_result, long_one, pages[long_one], tmp_path / "kept", pdf=False, numbers=[1, 2], kept=kept)
    atlas.render_project(sample_result, other, pages[other], tmp_path / "kept", pdf=False, numbers=[1], kept=kept)  # other pixels between
    again = atlas.render_project(sample_result, long_one, pages[long_one], tmp_path / "kept", pdf=False, numbers=[3, 4], kept=kept)
    fresh = atlas.render_project(sample_result, long_one, pages[long_one], tmp_path / "fresh", pdf=False, numbers=[3, 4])
    assert [p.name for p in again] == [p.name for p in fresh] == [f"strip_{long_one}_p003.png", f"strip_{long_one}_p004.png"]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(again, fresh))
