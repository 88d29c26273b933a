"""The Excel workbook: summary, totals, affected parcels and approvals, with Vietnamese headers and units."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import landuse

if TYPE_CHECKING:
    from .pipeline import Result

#: Characters that make a spreadsheet read a text cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

M2 = "#,##0.00"
HA = "#,##0.0000"
PCT = "0.00%"
INT = "#,##0"

# column → (Vietnamese header, English header, number format or None)
HEADERS: dict[str, tuple[str, str, str | None]] = {
    "project": ("Mã dự án", "Project id", None),
    "project_name": ("Dự án", "Project", None),
    "admin_layer": ("Cấp hành chính", "Administrative layer", None),
    "admin_unit": ("Đơn vị hành chính", "Administrative unit", None),
    "landuse": ("Mã loại đất", "Land-use code", None),
    "landuse_name": ("Loại đất", "Land use", None),
    "landuse_group": ("Nhóm đất", "Land-use group", None),
    "is_rice": ("Đất lúa", "Rice land", None),
    "area_m2": ("Diện tích (m²)", "Area (m²)", M2),
    "area_ha": ("Diện tích (ha)", "Area (ha)", HA),
    "sum_over_projects_m2": ("Cộng theo từng dự án (m²)", "Sum over projects (m²)", M2),
    "counted_once_saving_m2": ("Phần chồng lấn tính một lần (m²)", "Overlap counted once (m²)", M2),
    "parcel_id": ("Mã thửa", "Parcel id", None),
    "owner": ("Người sử dụng đất", "Land user", None),
    "parcel_area_m2": ("Diện tích thửa (m²)", "Parcel area (m²)", M2),
    "counted_area_m2": ("Diện tích tính (m²)", "Counted area (m²)", M2),
    "take_m2": ("Diện tích thu hồi (m²)", "Area taken (m²)", M2),
    "take_fraction": ("Tỷ lệ thu hồi", "Share taken", PCT),
    "remnant_m2": ("Diện tích còn lại (m²)", "Area remaining (m²)", M2),
    "remnant_pieces": ("Số mảnh còn lại", "Remaining pieces", INT),
    "remnant_small": ("Còn lại dưới diện tích tối thiểu", "Remnant below minimum area", None),
    "remnant_narrow": ("Còn lại dưới bề rộng tối thiểu", "Remnant below minimum width", None),
    "remnant_flag": ("Cảnh báo phần còn lại", "Remnant flag", None),
    "min_remnant_m2": ("Diện tích tối thiểu (m²)", "Minimum area (m²)", M2),
    "min_remnant_width_m": ("Bề rộng tối thiểu (m)", "Minimum width (m)", "0.00"),
    "footprint_m2": ("Diện tích dự án (m²)", "Footprint (m²)", M2),
    "not_in_parcels_m2": ("Không thuộc thửa nào (m²)", "In no parcel (m²)", M2),
    "parcels_affected": ("Số thửa bị ảnh hưởng", "Parcels affected", INT),
    "rice_luc_m2": ("Đất LUC (m²)", "LUC (m²)", M2),
    "rice_luk_m2": ("Đất LUK (m²)", "LUK (m²)", M2),
    "rice_lun_m2": ("Đất LUN (m²)", "LUN (m²)", M2),
    "rice_m2": ("Đất lúa (m²)", "Rice land (m²)", M2),
    "rice_ha": ("Đất lúa (ha)", "Rice land (ha)", HA),
    "declared_rice_ha": ("Đất lúa khai báo (ha)", "Declared rice land (ha)", HA),
    "rice_diff_ha": ("Chênh lệch (ha)", "Difference (ha)", HA),
    "rice_diff_pct": ("Chênh lệch (%)", "Difference (%)", "0.00"),
    "approval_band": ("Mức", "Band", INT),
    "approval_authority": ("Thẩm quyền chấp thuận", "Approval", None),
    "luc_obligation": ("Nghĩa vụ khi chuyển đất LUC", "LUC conversion obligation", None),
    "take_ellipsoidal_m2": ("Diện tích trên ellipsoid (m²)", "Ellipsoidal area (m²)", M2),
    "ellipsoidal_ratio": ("Tỷ số ellipsoid / phẳng", "Ellipsoidal / planar", "0.000000"),
    "hub": ("Trung tâm nông nghiệp", "Agricultural hub", None),
    "kind": ("Loại chồng lấn", "Overlap kind", None),
    "a": ("Đối tượng 1", "First", None),
    "b": ("Đối tượng 2", "Second", None),
    "overlap_m2": ("Diện tích chồng lấn (m²)", "Overlap (m²)", M2),
    "class_value": ("Giá trị lớp (raster)", "Raster class value", INT),
    "class_name": ("Lớp phủ", "Land-cover class", None),
    "raster_classified_m2": ("Raster phân loại (m²)", "Classified by the raster (m²)", M2),
    "raster_nodata_m2": ("Raster không có dữ liệu (m²)", "Raster nodata (m²)", M2),
    "raster_outside_m2": ("Ngoài phạm vi raster (m²)", "Outside the raster (m²)", M2),
    "parcels_rice_ha": ("Đất lúa theo thửa (ha)", "Rice by parcels (ha)", HA),
    "raster_rice_ha": ("Đất lúa theo raster (ha)", "Rice by raster (ha)", HA),
    "diff_ha": ("Chênh lệch raster − thửa (ha)", "Raster − parcels (ha)", HA),
    "diff_pct": ("Chênh lệch (%)", "Difference (%)", "0.00"),
    "raster_rice_m2": ("Raster: đất lúa trong phần thu hồi (m²)", "Raster rice in the take (m²)", M2),
    "raster_rice_share": ("Raster: tỷ lệ lúa trong phần thu hồi", "Raster rice share of the take", PCT),
}

SHEETS = {
    "summary": ("Tổng hợp", "Summary"),
    "totals": ("Tổng các dự án", "All projects"),
    "parcels": ("Thửa bị ảnh hưởng", "Affected parcels"),
    "approvals": ("Phê duyệt", "Approvals"),
    "overlaps": ("Chồng lấn", "Overlaps"),
    "landcover": ("Lớp phủ (raster)", "Land cover (raster)"),
    "landcover_compare": ("So sánh thửa – raster", "Parcels vs raster"),
}


def _frames(result: Result, lang: str) -> dict[str, pd.DataFrame]:
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    lu_name = {c: landuse.name(c, lang) for c in set(result.summary["landuse"]) | set(result.totals["landuse"]) | set(result.parcels["landuse"])}

    def with_names(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if "project" in df:
            df.insert(list(df.columns).index("project") + 1, "project_name", df["project"].map(names))
        if "landuse" in df:
            df.insert(list(df.columns).index("landuse") + 1, "landuse_name", df["landuse"].map(lambda c: lu_name.get(c, c)))
        return df

    approvals = result.approvals.drop(columns=["name", "name_en"]).copy()
    ov = pd.concat([
        result.project_overlaps.rename(columns={"project_a": "a", "project_b": "b"}).assign(kind="project"),
        result.parcel_overlaps.rename(columns={"overlaps_parcel_id": "a", "parcel_id": "b"}).assign(kind="parcel"),
    ], ignore_index=True)[["kind", "a", "b", "overlap_m2"]]
    frames = {
        "summary": with_names(result.summary),
        "totals": with_names(result.totals),
        "parcels": with_names(result.parcels),
        "approvals": with_names(approvals),
        "overlaps": ov,
    }
    if result.landcover is not None and result.landcover_compare is not None:
        frames["landcover"] = with_names(result.landcover)
        frames["landcover_compare"] = with_names(result.landcover_compare)
    return frames


def write_workbook(result: Result, path: Path, *, lang: str = "vi") -> Path:
    """Write the workbook: one sheet per table, Vietnamese (or English) headers with units, number
    formats in m² and ha, frozen header rows, autofilter, and columns wide enough for their content."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = "en" if lang == "en" else "vi"
    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DDEBF7")
    for key, df in _frames(result, lang).items():
        ws = wb.create_sheet(SHEETS[key][0 if lang == "vi" else 1])
        cols = list(df.columns)
        for j, col in enumerate(cols, start=1):
            vi, en, _ = HEADERS.get(col, (col, col, None))
            cell = ws.cell(row=1, column=j, value=vi if lang == "vi" else en)
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        widths = [len(str(ws.cell(row=1, column=j).value)) for j in range(1, len(cols) + 1)]
        for i, row in enumerate(df.itertuples(index=False, name=None), start=2):
            for j, (col, value) in enumerate(zip(cols, row), start=1):
                fmt = HEADERS.get(col, (col, col, None))[2]
                if isinstance(value, (float, np.floating)) and not np.isfinite(value):
                    value = None
                elif isinstance(value, np.generic):
                    value = value.item()
                cell = ws.cell(row=i, column=j)
                if isinstance(value, str) and value.startswith(FORMULA_START):
                    cell.value = value
                    cell.data_type = "s"  # text, never a formula
                else:
                    cell.value = value
                if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
                    cell.number_format = fmt
                shown = len(f"{value:,.2f}") if isinstance(value, float) else len(str(value)) if value is not None else 0
                widths[j - 1] = max(widths[j - 1], shown)
        for j, w in enumerate(widths, start=1):
            ws.column_dimensions[get_column_letter(j)].width = min(max(10, w + 2), 60)
        ws.row_dimensions[1].height = 30
        ws.freeze_panes = "A2"
        if len(df):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(df) + 1}"
    wb.properties.creator = "landplan"
    wb.save(path)
    return path
