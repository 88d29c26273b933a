"""Print exports and the workbook, checked as a reader would: sizes, text in the PDFs, scale, numbers."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
from PIL import Image
from pypdf import PdfReader
from shapely.geometry import box

from landplan import atlas, printing, run
from landplan.exports import PAPERS, map_figure, nice_length_m, report_figure
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
        for fmt in ("png", "svg", "pdf"):
            assert f"figure_{stem.replace('project_', '')}.{fmt}" in names  # report figures
    for p in sample_result.scenario.projects:
        assert f"sheet_{p.id}.pdf" in names
    pages = atlas.atlas_pages(sample_result)
    strips = {p.name for p in (sample_out / "exports" / "atlas").iterdir()}
    for pid, plist in pages.items():
        assert f"strip_{pid}.pdf" in strips and len(PdfReader(sample_out / "exports" / "atlas" / f"strip_{pid}.pdf").pages) == len(plist)
        assert {f"strip_{pid}_p{p.number:03d}.png" for p in plist} <= strips


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
    assert "Tỷ lệ 1:" in text and " km" in text  # the scale bar's ratio and label
    assert "EPSG:5897" in text and "can_tho_sample.gpkg" in text
    assert "Xã Giai Xuân" in text and "Phường Thới Long" in text  # labels of the current units (wards), not the abolished districts


def test_project_sheet_has_key_figures(sample_out: Path, sample_result):
    a = sample_result.approvals.set_index("project").loc["dt921"]
    text = _pdf_text(sample_out / "exports" / "sheet_dt921.pdf")
    assert "Đường tỉnh 921" in text and "Số liệu chính" in text
    assert printing.fmt_number(a["rice_ha"], 2) in text and printing.fmt_number(a["rice_luc_m2"] / 1e4, 2) in text
    assert printing.fmt_number(int(a["parcels_affected"]), 0) in text
    assert "22,38" in text  # declared, written the Vietnamese way
    assert "HĐND thành phố" in text
    # the budget lines of the cost estimate (the sample's tables are illustrative, and the sheet says so)
    b = sample_result.costs.budget("dt921")
    assert "Tổng chi phí ước tính (tỷ đồng)" in text and printing.fmt_number(b["total_vnd"] / 1e9, 2) in text
    assert printing.fmt_number(b["land_compensation_vnd"] / 1e9, 2) in text and "MINH HỌA" in text


def test_scale_ratio_is_the_printed_scale(sample_result):
    for make in (lambda: map_figure(sample_result, project="vanh_dai_tay", paper="A4"), lambda: report_figure(sample_result)):
        fig, facts = make()
        ax = fig.axes[0]
        assert printing.map_scale(ax) == pytest.approx(facts["scale"], rel=1e-9)  # metres on the ground per metre of paper
        assert facts["scale"] == printing.nice_scale(facts["scale"])  # a round ratio
        assert facts["ratio"] == f"Tỷ lệ {printing.fmt_scale(facts['scale'])}"
        xmin, _, xmax, _ = facts["extent"]
        assert facts["scale_m"] == nice_length_m(xmax - xmin) and facts["scale_m"] <= (xmax - xmin) / 5
        bars = [p for p in ax.patches if (p.get_gid() or "").startswith("scalebar-")]
        assert sum(p.get_width() for p in bars) == pytest.approx(facts["scale_m"])  # drawn in metres of the map


def test_inset_hides_no_data(sample_result):
    placed = 0
    for project in [None, *[p.id for p in sample_result.scenario.projects]]:
        for fig, facts in (map_figure(sample_result, project=project, paper="A4"), report_figure(sample_result, project=project)):
            ax = fig.axes[0]
            frames = [p for p in ax.patches if p.get_gid() == "inset"]
            if facts["inset_box"] is None:  # no free corner: the inset is beside the map
                assert not frames and any(a is not ax for a in fig.axes if a.get_xlim() != (0.0, 1.0))
                continue
            placed += 1
            assert not box(*facts["inset_box"]).intersects(facts["data"])
            fig.canvas.draw()
            (frame,) = frames
            bb = frame.get_window_extent()
            inv = ax.transData.inverted()
            (x0, y0), (x1, y1) = inv.transform([(bb.x0, bb.y0), (bb.x1, bb.y1)])
            assert not box(x0, y0, x1, y1).intersects(facts["data"])  # where it is actually drawn
            content = [c for c in ax.collections if 7 < c.get_zorder() < 8]  # the inset's units, drawn inside its frame
            assert content
            for c in content:
                xy = c.get_transform().transform(np.concatenate([p.vertices for p in c.get_paths()]))
                assert (xy[:, 0] >= bb.x0 - 0.5).all() and (xy[:, 0] <= bb.x1 + 0.5).all()
                assert (xy[:, 1] >= bb.y0 - 0.5).all() and (xy[:, 1] <= bb.y1 + 0.5).all()
    assert placed >= 5


def _long_title_world(tmp_path: Path) -> Path:
    name = "Dự án " + " ".join(["đường nối khu công nghiệp với cảng và trung tâm logistics vùng đồng bằng sông Cửu Long"] * 3)
    text = SCENARIO.replace('name = "Đường Đông – Tây"', f'name = "{name}"')
    return write_tiny(tmp_path, scenario=text)


def test_long_title_wraps_inside_the_page(tmp_path: Path):
    r = run(_long_title_world(tmp_path))
    for fig, facts in (map_figure(r, project="east_west", paper="A4"), report_figure(r, project="east_west")):
        fig.canvas.draw()
        title = facts["title"].get_window_extent()
        page = fig.bbox
        assert "\n" in facts["title"].get_text()
        assert page.x0 <= title.x0 and title.x1 <= page.x1 and title.y1 <= page.y1
        assert title.y0 >= fig.axes[0].get_window_extent().y1  # above the map, not on it


def test_report_figure_fits_a_text_column_with_legible_text(sample_result):
    from matplotlib.text import Text
    from matplotlib.transforms import Bbox

    fig, facts = report_figure(sample_result, project="vanh_dai_tay")
    assert fig.get_figwidth() * 25.4 == pytest.approx(160.0) and fig.get_figheight() > fig.get_figwidth() * 0.6
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    assert texts and min(t.get_fontsize() for t in texts) >= printing.MIN_FONT_PT
    legend = Bbox.union([a.get_window_extent(renderer) for a in facts["legend"]])
    assert len(facts["legend"]) == 1 + 2 * len(facts["handles"])  # the title, then a swatch and a label per entry
    assert legend.y1 <= fig.axes[0].get_window_extent().y0 + 1  # legend below the map
    assert fig.bbox.x0 <= legend.x0 and legend.x1 <= fig.bbox.x1 + 1 and legend.y0 >= 0
    note = next(t for t in fig.texts if "landplan" in t.get_text()).get_window_extent(renderer)
    assert legend.y0 >= note.y1 - 1  # the data note below the legend, not under it


def test_labels_follow_the_scenario_admin_layer(sample_scenario, tmp_path: Path):
    from landplan.scenario import load_scenario

    text = sample_scenario.read_text(encoding="utf-8") + '\n[outputs]\nadmin_labels = "district"\ngrid = true\n'
    path = sample_scenario.parent / "by_district.toml"
    path.write_text(text, encoding="utf-8")
    r = run(load_scenario(path))
    fig, facts = report_figure(r)
    fig.savefig(tmp_path / "f.pdf")
    pdf = PdfReader(tmp_path / "f.pdf").pages[0].extract_text()
    assert facts["label_layer"] == "district" and "Bình Thủy" in pdf and "Phường " not in pdf and "Xã " not in pdf
    assert "Lưới tọa độ VN-2000" in pdf  # the grid asked for in [outputs]
    bad = path.with_name("bad.toml")
    bad.write_text(sample_scenario.read_text(encoding="utf-8") + '\n[outputs]\nadmin_labels = "province"\nstrip_scale = 3000\n',
                   encoding="utf-8")
    from landplan.errors import ScenarioError

    with pytest.raises(ScenarioError, match=r"(?s)outputs.admin_labels: .*district, ward.*outputs.strip_scale"):
        load_scenario(bad)


def test_vietnamese_numbers():
    assert printing.fmt_number(1234567.891, 2) == "1.234.567,89" and printing.fmt_number(1234567.891, 2, "en") == "1,234,567.89"
    assert printing.fmt_scale(2000) == "1:2.000" and printing.nice_scale(1999.9) == 2000 and printing.nice_scale(2000.1) == 2500


def test_workbook_matches_summary_csv(sample_out: Path):
    summary = pd.read_csv(sample_out / "summary.csv", encoding="utf-8-sig")
    wb = openpyxl.load_workbook(sample_out / "landplan.xlsx")
    assert wb.sheetnames == ["Kịch bản", "Theo Quận, huyện", "Theo Phường, xã (từ 1-7-2025)", "Chi phí", "Tổng hợp", "Tổng các dự án",
                             "Thửa bị ảnh hưởng", "Phê duyệt", "Chồng lấn", "Lớp phủ (raster)", "So sánh thửa – raster", "Hộ gia đình"]
    ws = wb["Tổng hợp"]
    header = [c.value for c in ws[1]]
    assert header[:4] == ["Mã dự án", "Dự án", "Cấp hành chính", "Đơn vị hành chính"] and "Diện tích (m²)" in header
    col = header.index("Diện tích (m²)")
    values = [r[col] for r in ws.iter_rows(min_row=2, values_only=True)]
    # the same numbers (the CSV's rounded to 0.01 m² by the rounding rule)
    assert values == pytest.approx(summary["area_m2"].tolist(), rel=0, abs=0.005)
    assert ws.freeze_panes == "A2"
    assert ws.cell(row=2, column=col + 1).number_format == "[$-42A]#,##0.00"  # Vietnamese number format: 1.234,56
    assert ws.cell(row=2, column=header.index("Diện tích (ha)") + 1).number_format == "[$-42A]#,##0.0000"
    assert ws.column_dimensions["B"].width >= 20  # names fit


def _pivot(ws) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    return list(rows[1]), rows[2:]


def test_pivot_sheets_total_to_the_tables(sample_out: Path, sample_result):
    """Units as rows, land-use groups as columns, one sheet per admin layer; totals equal totals.csv and summary.csv."""
    from landplan.landuse import GROUP_NAMES
    from landplan.tables import GROUP_ORDER

    totals = pd.read_csv(sample_out / "totals.csv", encoding="utf-8-sig", keep_default_na=False).set_index("landuse")
    summary = pd.read_csv(sample_out / "summary.csv", encoding="utf-8-sig")
    wb = openpyxl.load_workbook(sample_out / "landplan.xlsx")
    names = {p.id: p.name("vi") for p in sample_result.scenario.projects}
    groups = [GROUP_NAMES[g][0] for g in GROUP_ORDER]
    for key, sheet in (("district", "Theo Quận, huyện"), ("ward", "Theo Phường, xã (từ 1-7-2025)")):
        ws = wb[sheet]
        header, rows = _pivot(ws)
        assert header == ["Dự án", "Đơn vị hành chính", *groups, "Tổng cộng"]
        units = set(sample_result.admin[key]["admin_unit"]) | {"(ngoài ranh giới hành chính)"}
        body = [r for r in rows if r[1] not in ("Cộng", None)]
        assert {r[1] for r in body} <= units  # this layer's units only, never the other layer's
        for r in rows:
            assert r[-1] == pytest.approx(sum(r[2:-1]), rel=1e-12)  # totals column
        mine = summary[summary["admin_layer"] == key]
        for pid, name in names.items():
            sub = next(r for r in rows if r[0] == name and r[1] == "Cộng")
            rows_of = mine[mine["project"] == pid]  # CSV rows are rounded to 0.01 m² each
            assert sub[-1] == pytest.approx(rows_of["area_m2"].sum() / 1e4, abs=0.005 * len(rows_of) / 1e4)
            unit_rows = [r for r in body if r[0] == name]
            assert sub[-1] == pytest.approx(sum(r[-1] for r in unit_rows), rel=1e-12)
        summed = next(r for r in rows if r[0] == "Cộng các dự án (mỗi dự án tính riêng)")
        once = next(r for r in rows if r[0] == "Tổng cộng các dự án (đất chồng lấn tính một lần)")
        cent = 0.005 / 1e4  # half of the CSVs' 0.01 m² rounding, in ha
        assert summed[-1] == pytest.approx(float(totals.loc["TOTAL", "sum_over_projects_m2"]) / 1e4, abs=cent)
        assert once[-1] == pytest.approx(float(totals.loc["TOTAL", "area_m2"]) / 1e4, abs=cent)
        assert once[2] == pytest.approx(float(totals.loc["RICE", "area_m2"]) / 1e4, abs=cent)  # rice column
        by_group = totals.drop(index=["RICE", "TOTAL"]).groupby("landuse_group")["area_m2"].sum() / 1e4
        assert list(once[2:-1]) == pytest.approx([by_group.get(g, 0.0) for g in GROUP_ORDER], abs=cent * len(totals))
        assert ws.print_title_rows == "$1:$2" and ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth == 1
        assert ws.page_setup.paperSize == 9 and ws.sheet_properties.pageSetUpPr.fitToPage


#: English words that must not appear in a Vietnamese workbook's values.
ENGLISH = {"true", "false", "yes", "no", "rice", "district", "ward", "total", "project", "parcel", "parcels", "other", "residential",
           "infrastructure", "water", "agriculture", "agricultural", "band", "level", "small", "narrow", "none", "nan", "land", "area",
           "approval", "hub", "overlap", "summary", "sum", "subtotal", "remnant", "unit", "group", "taken", "declared"}


def test_no_english_word_in_a_vietnamese_workbook(sample_out: Path, sample_result):
    import re

    sc = sample_result.scenario
    # the user's own identifiers (files, layers, columns, filters, ids) are quoted as they are
    own = {str(sc.path), *(str(p) for p in sc.input_files()), sc.parcels.id_column, sc.parcels.landuse_column}
    for ref in [sc.parcels.source, *(a.source for a in sc.admin), *(p.source for p in sc.projects)]:
        own |= {ref.label(), f"[{ref.where}]" if ref.where else ""}
    wb = openpyxl.load_workbook(sample_out / "landplan.xlsx")
    found = set()
    for ws in wb:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                assert not isinstance(v, bool), f"{ws.title}: a bare {v} instead of Có/Không"
                if isinstance(v, str):
                    for ident in sorted(own, key=len, reverse=True):
                        if ident:
                            v = v.replace(ident, " ")
                    found |= {w for w in re.findall(r"\b\w+\b", v) if w.lower() in ENGLISH}
    assert not found, f"English words in the Vietnamese workbook: {sorted(found)}"
    ws = wb["Phê duyệt"]
    header = [c.value for c in ws[1]]
    assert next(r[header.index("Mức")] for r in ws.iter_rows(min_row=2, values_only=True)) == "Mức 2: từ 10 ha đến dưới 500 ha đất lúa"
    assert {r[header.index("Trung tâm nông nghiệp")] for r in ws.iter_rows(min_row=2, values_only=True)} == {"Có", "Không"}
    scen = {r[0]: r[1] for r in wb["Kịch bản"].iter_rows(min_row=2, values_only=True)}
    assert "EPSG:5897" in scen["Hệ tọa độ làm việc"] and scen["Ngày lập"] and "Nghị định 112/2024/NĐ-CP" in " ".join(scen)
    assert scen["Bộ quy tắc phê duyệt"] == sc.rules.approval_ruleset


def test_workbook_in_english_and_formula_injection(tmp_path: Path):
    layers = tiny_layers()
    layers["parcels"]["chu"] = ["=HYPERLINK(\"http://x\")", "+1+1", "-2", "@SUM(A1)"]
    r = run(write_tiny(tmp_path, layers))
    out = r.write(tmp_path / "out", lang="en", exports=False)
    wb = openpyxl.load_workbook(out / "landplan.xlsx")
    assert wb.sheetnames[:3] == ["Scenario", "By district", "Summary"]
    assert wb["Summary"].cell(row=2, column=wb["Summary"].max_column).number_format == "#,##0.0000"  # no Vietnamese locale in English
    assert {r[-1] for r in wb["Summary"].iter_rows(min_row=2, max_col=8, values_only=True)} <= {"Yes", "No"}
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
    assert set(by_layer) == {"footprints", "remnants", "takes", "affected_parcels", "strip_pages"}
    assert all(r[1] == 1 for r in rows)
    takes_qml = ET.fromstring(by_layer["takes"][2])
    assert any(c.get("label") == "LUC – Đất chuyên trồng lúa" for c in takes_qml.iter("category"))
    project = (sample_out / "landplan.qgs").read_text(encoding="utf-8")
    assert "./landplan.gpkg|layername=takes" in project
