"""Print exports and the workbook, checked as a reader would: sizes, text in the PDFs, scale, numbers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import box

from landplan import run
from landplan.exports import PAPERS, map_figure, nice_length_m
from tests.conftest import CRS, SCENARIO, at, tiny_layers, write_tiny


@pytest.fixture(scope="module")
def sample_out(sample_result, tmp_path_factory) -> Path:
    return sample_result.write(tmp_path_factory.mktemp("exports") / "out")


def _pdf_text(path: Path) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(path).pages)


def test_every_export_written(sample_out: Path, sample_result):
    names = {p.name for p in (sample_out / "exports").iterdir()}
    stems = ["overview"] + [f"project_{p.id}" for p in sample_result.scenario.projects]
    for stem in stems:
        for paper in PAPERS:
            for fmt in ("png", "svg", "pdf"):
                assert f"{stem}_{paper}.{fmt}" in names
    for p in sample_result.scenario.projects:
        assert f"sheet_{p.id}.pdf" in names


@pytest.mark.parametrize(("paper", "size_px"), [("A4", (3507, 2480)), ("A3", (4960, 3507))])
def test_png_size_and_dpi(sample_out: Path, paper: str, size_px: tuple[int, int]):
    with Image.open(sample_out / "exports" / f"overview_{paper}.png") as im:
        w, h = im.size
        assert abs(w - size_px[0]) <= 1 and abs(h - size_px[1]) <= 1  # 300 dpi on the paper, landscape
        assert im.info["dpi"] == pytest.approx((300, 300), abs=0.01)


def test_pdf_text_has_title_legend_scale_and_note(sample_out: Path, sample_result):
    text = _pdf_text(sample_out / "exports" / "overview_A4.pdf")
    assert "Tổng quan đất thu hồi các dự án" in text
    for name in ("LUC – Đất chuyên trồng lúa", "LUK – Đất trồng lúa còn lại", "Đường Vành đai phía Tây", "Ranh giới hành chính"):
        assert name in text
    assert "2.5 km" in text  # the scale bar's label
    assert "EPSG:5897" in text and "can_tho_sample.gpkg" in text
    assert "Bình Thủy" in text  # administrative labels


def test_project_sheet_has_key_figures(sample_out: Path, sample_result):
    a = sample_result.approvals.set_index("project").loc["dt921"]
    text = _pdf_text(sample_out / "exports" / "sheet_dt921.pdf")
    assert "Đường tỉnh 921" in text and "Số liệu chính" in text
    assert f"{a['rice_ha']:,.2f}" in text and f"{a['rice_luc_m2'] / 1e4:,.2f}" in text
    assert f"{int(a['parcels_affected']):,}" in text
    assert "22.38" in text  # declared
    assert "HĐND thành phố" in text


def test_scale_bar_matches_map_coordinates(sample_result):
    fig, facts = map_figure(sample_result, project="vanh_dai_tay", paper="A4")
    fig.canvas.draw()
    info = facts["scalebar"].info
    metres = info.value * (1000 if info.units == "km" else 1)
    assert metres == facts["scale_m"]
    assert info.length_px == pytest.approx(metres, rel=1e-9)  # drawn in data units: metres of the working CRS
    xmin, _, xmax, _ = facts["extent"]
    assert facts["scale_m"] == nice_length_m(xmax - xmin) and facts["scale_m"] <= (xmax - xmin) / 5


def test_workbook_matches_summary_csv(sample_out: Path):
    summary = pd.read_csv(sample_out / "summary.csv", encoding="utf-8-sig")
    wb = openpyxl.load_workbook(sample_out / "landplan.xlsx")
    assert wb.sheetnames == ["Tổng hợp", "Tổng các dự án", "Thửa bị ảnh hưởng", "Phê duyệt", "Chồng lấn",
                             "Lớp phủ (raster)", "So sánh thửa – raster"]
    ws = wb["Tổng hợp"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Mã dự án", "Dự án", "Cấp hành chính", "Đơn vị hành chính"] and "Diện tích (m²)" in header
    col = header.index("Diện tích (m²)")
    values = [r[col] for r in ws.iter_rows(min_row=2, values_only=True)]
    # the same numbers (the CSV's rounded to 0.01 m² by the rounding rule)
    assert values == pytest.approx(summary["area_m2"].tolist(), rel=0, abs=0.005)
    assert ws.freeze_panes == "A2"
    assert ws.cell(row=2, column=col + 1).number_format == "#,##0.00"
    assert ws.cell(row=2, column=header.index("Diện tích (ha)") + 1).number_format == "#,##0.0000"
    assert ws.column_dimensions["B"].width >= 20  # names fit


def test_workbook_in_english_and_formula_injection(tmp_path: Path):
    layers = tiny_layers()
    layers["parcels"]["chu"] = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)"]
    r = run(write_tiny(tmp_path, layers))
    out = r.write(tmp_path / "out", lang="en", exports=False)
    wb = openpyxl.load_workbook(out / "landplan.xlsx")
    assert wb.sheetnames[0] == "Summary"
    ws = wb["Affected parcels"]
    header = [c.value for c in ws[1]]
    owners = [r[header.index("Land user")] for r in ws.iter_rows(min_row=2)]
    assert {c.value for c in owners} == {"=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)"}
    assert all(c.data_type == "s" for c in owners)  # text, not formulas


def test_exports_for_a_run_with_no_affected_parcel(tmp_path: Path):
    layers = tiny_layers()
    layers["hub"] = gpd.GeoDataFrame({"project": ["hub"]}, geometry=[at(box(120, 120, 130, 140))], crs=CRS)
    text = SCENARIO.split("[[projects]]")[0] + "[[projects]]" + SCENARIO.split("[[projects]]")[3]
    r = run(write_tiny(tmp_path, layers, scenario=text))
    assert r.pieces.empty and any("no parcel lies under" in w for w in r.report.warnings)
    out = r.write(tmp_path / "out", papers=("A4",))
    assert "Không có thửa đất nào bị ảnh hưởng" in _pdf_text(out / "exports" / "project_hub_A4.pdf")
    assert "Không có thửa đất nào bị ảnh hưởng" in _pdf_text(out / "exports" / "sheet_hub.pdf")
    assert "Không có thửa đất nào bị ảnh hưởng" in (out / "map.html").read_text(encoding="utf-8")
    assert pd.read_csv(out / "parcels.csv", encoding="utf-8-sig").empty


def test_geopackage_carries_qgis_styles_and_project(sample_out: Path):
    import sqlite3
    import xml.etree.ElementTree as ET

    with sqlite3.connect(sample_out / "landplan.gpkg") as con:
        rows = con.execute("SELECT f_table_name, useAsDefault, styleQML FROM layer_styles").fetchall()
    by_layer = {r[0]: r for r in rows}
    assert set(by_layer) == {"footprints", "remnants", "takes", "affected_parcels"}
    assert all(r[1] == 1 for r in rows)
    takes_qml = ET.fromstring(by_layer["takes"][2])
    assert any(c.get("label") == "LUC – Đất chuyên trồng lúa" for c in takes_qml.iter("category"))
    project = (sample_out / "landplan.qgs").read_text(encoding="utf-8")
    assert "./landplan.gpkg|layername=takes" in project
