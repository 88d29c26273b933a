"""The Excel workbook: the scenario, report-ready pivots per administrative layer, and the tables, in Vietnamese."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import landuse, tables, xlsxrows
from .numfmt import format_number

if TYPE_CHECKING:
    from .pipeline import Result

#: Characters that make a spreadsheet read a text cell as a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

M2 = "#,##0.00"
HA = "#,##0.0000"
PCT = "0.00%"
INT = "#,##0"
#: Money: whole đồng with thousands separators.
VND = "#,##0"

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
    # the cost estimate
    "price_unit": ("Đơn vị áp giá", "Unit priced in", None),
    "position": ("Vị trí", "Position", INT),
    "road": ("Đường", "Road", None),
    "road_distance_m": ("Khoảng cách tới đường (m)", "Distance to the road (m)", "#,##0.0"),
    "price_per_m2_vnd": ("Giá trong bảng giá (đồng/m²)", "Table price (VND/m²)", VND),
    "price_line": ("Dòng bảng giá", "Price table line", None),
    "k": ("Hệ số K", "Coefficient K", "0.00"),
    "k_line": ("Dòng bảng hệ số K", "K table line", None),
    "unit_price_per_m2_vnd": ("Đơn giá bồi thường (đồng/m²)", "Unit price (VND/m²)", VND),
    "price_factor": ("Hệ số theo chiều sâu", "Depth factor", "0.000"),
    "register_area_m2": ("Diện tích theo sổ địa chính (m²)", "Register area (m²)", M2),
    "register_differs": ("Lệch sổ địa chính quá ngưỡng", "Differs from the register", None),
    "legal_take_m2": ("Diện tích thu hồi pháp lý (m²)", "Legal area taken (m²)", M2),
    "legal_area_m2": ("Diện tích pháp lý (m²)", "Legal area (m²)", M2),
    "land_compensation_vnd": ("Bồi thường về đất (đồng)", "Land compensation (VND)", VND),
    "job_support_vnd": ("Hỗ trợ đào tạo, chuyển đổi nghề (đồng)", "Job-change support (VND)", VND),
    "life_support_vnd": ("Hỗ trợ ổn định đời sống (đồng)", "Life-stabilisation support (VND)", VND),
    "support_vnd": ("Hỗ trợ (đồng)", "Support (VND)", VND),
    "conversion_vnd": ("Tiền bảo vệ, phát triển đất trồng lúa (đồng)", "Rice-land conversion payment (VND)", VND),
    "total_vnd": ("Tổng cộng (đồng)", "Total (VND)", VND),
    "remnant_candidate": ("Phần còn lại có thể thu hồi theo đề nghị", "Remnant acquisition candidate", None),
    "remnant_candidate_m2": ("Diện tích phần còn lại đó (m²)", "Its area (m²)", M2),
    "remnant_candidate_vnd": ("Giá trị phần còn lại đó (đồng, không cộng vào tổng)", "Its value (VND, not in the total)", VND),
    "remnant_candidates_m2": ("Phần còn lại có thể thu hồi (m²)", "Remnant candidates (m²)", M2),
    "remnant_candidates_vnd": ("Giá trị phần còn lại có thể thu hồi (đồng, không cộng vào tổng)", "Remnant candidates (VND, not in the total)", VND),
    "cost_note": ("Ghi chú áp giá", "Pricing note", None),
    "persons": ("Nhân khẩu", "Persons", INT),
    "farmland_m2": ("Đất nông nghiệp trong xã (m²)", "Farmland in the commune (m²)", M2),
    "farmland_taken_m2": ("Đất nông nghiệp bị thu hồi (m²)", "Farmland taken (m²)", M2),
    "farmland_taken_share": ("Tỷ lệ đất nông nghiệp bị thu hồi", "Share of farmland taken", PCT),
    "share_band": ("Nhóm tỷ lệ", "Share band", None),
    "residential_m2": ("Đất ở trong xã (m²)", "Residential land in the commune (m²)", M2),
    "residential_taken_m2": ("Đất ở bị thu hồi (m²)", "Residential land taken (m²)", M2),
    "residential_left_m2": ("Đất ở còn lại sử dụng được (m²)", "Usable residential land left (m²)", M2),
    "resettle": ("Phải tái định cư", "Must resettle", None),
    "plots": ("Số suất tái định cư", "Resettlement plots", "0.##"),
    "life_months": ("Số tháng hỗ trợ ổn định đời sống", "Months of life support", "0.##"),
    "households": ("Số hộ bị ảnh hưởng", "Households affected", INT),
    "households_resettled": ("Số hộ phải tái định cư", "Households resettled", INT),
    "plots_needed": ("Số suất tái định cư", "Plots needed", "0.##"),
    "plots_m2": ("Diện tích đất tái định cư (m²)", "Resettlement land (m²)", M2),
}

SHEETS = {
    "scenario": ("Kịch bản", "Scenario"),
    "summary": ("Tổng hợp", "Summary"),
    "totals": ("Tổng các dự án", "All projects"),
    "parcels": ("Thửa bị ảnh hưởng", "Affected parcels"),
    "approvals": ("Phê duyệt", "Approvals"),
    "overlaps": ("Chồng lấn", "Overlaps"),
    "landcover": ("Lớp phủ (raster)", "Land cover (raster)"),
    "landcover_compare": ("So sánh thửa – raster", "Parcels vs raster"),
    "costs": ("Chi phí", "Costs"),
    "households": ("Hộ gia đình", "Households"),
}

#: Values written in words: booleans, totals rows, land-use groups, overlap kinds.
WORDS: dict[str, dict[str, str]] = {
    "vi": {"yes": "Có", "no": "Không", "RICE": "Đất lúa (LUC, LUK, LUN)", "TOTAL": "Tổng cộng", "project": "Dự án",
           "parcel": "Thửa đất", "sum": "Cộng", "all_sum": "Cộng các dự án (mỗi dự án tính riêng)",
           "all_once": "Tổng cộng các dự án (đất chồng lấn tính một lần)", "unit": "Đơn vị hành chính",
           "pivot_title": "Diện tích đất thu hồi theo {layer} và nhóm đất (ha)", "pivot_sheet": "Theo {layer}",
           "band_below": "dưới {b} ha đất lúa", "band_between": "từ {a} ha đến dưới {b} ha đất lúa", "band_above": "từ {a} ha đất lúa trở lên",
           "band": "Mức {n}: {range}"},
    "en": {"yes": "Yes", "no": "No", "RICE": "Rice land (LUC, LUK, LUN)", "TOTAL": "Total", "project": "Project",
           "parcel": "Parcel", "sum": "Subtotal", "all_sum": "All projects (each counted on its own)",
           "all_once": "All projects (overlapping land counted once)", "unit": "Administrative unit",
           "pivot_title": "Land taken by {layer} and land-use group (ha)", "pivot_sheet": "By {layer}",
           "band_below": "under {b} ha of rice land", "band_between": "{a} ha to under {b} ha of rice land",
           "band_above": "{a} ha of rice land or more", "band": "Band {n}: {range}"},
}
#: Number formats in Vietnamese mode carry the Vietnamese locale (LCID 042A): 1.234,56.
VI_LOCALE = "[$-42A]"
#: Columns holding true/false, written as Có/Không (Yes/No).
BOOL_COLUMNS = ("is_rice", "remnant_small", "remnant_narrow", "hub", "luc_obligation", "register_differs", "remnant_candidate", "resettle")


def band_name(band: int, thresholds: tuple[float, ...] | list[float], lang: str = "vi") -> str:
    """The approval band in words: ``Mức 2: từ 10 ha đến dưới 500 ha đất lúa`` (band 1 of thresholds 10, 500)."""
    w = WORDS["en" if lang == "en" else "vi"]
    th = list(thresholds)

    def ha(x: float) -> str:
        return f"{x:g}"

    if band <= 0:
        rng = w["band_below"].format(b=ha(th[0])) if th else ""
    elif band >= len(th):
        rng = w["band_above"].format(a=ha(th[-1]))
    else:
        rng = w["band_between"].format(a=ha(th[band - 1]), b=ha(th[band]))
    return w["band"].format(n=band + 1, range=rng)


def _admin_titles(result: Result) -> dict[str, str]:
    return {a.key: a.label() for a in result.scenario.admin}


def _frames(result: Result, lang: str) -> dict[str, pd.DataFrame]:
    """The tables as the CSVs hold them (areas by the one rounding rule), made readable for ``lang``."""
    from .outputs import rounded_table

    tol = result.scenario.tolerance
    w = WORDS[lang]
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    lu_name = {c: landuse.name(c, lang) for c in set(result.summary["landuse"]) | set(result.totals["landuse"]) | set(result.parcels["landuse"])}
    groups = {g: v[0 if lang == "vi" else 1] for g, v in landuse.GROUP_NAMES.items()}
    # rows that are not a land-use code: the totals' RICE and TOTAL rows, a raster class given by its group
    pseudo = {"RICE": w["RICE"], "TOTAL": w["TOTAL"], **{g.upper(): name for g, name in groups.items()}}
    lu_name.update(pseudo)
    titles = _admin_titles(result)

    def readable(df: pd.DataFrame) -> pd.DataFrame:
        df = df.copy()
        if "project" in df:
            df.insert(list(df.columns).index("project") + 1, "project_name", df["project"].map(names))
        if "landuse" in df:
            df.insert(list(df.columns).index("landuse") + 1, "landuse_name", df["landuse"].map(lambda c: lu_name.get(c, c)))
            df["landuse"] = df["landuse"].map(lambda c: "" if c in pseudo and not landuse.is_known(c) else c)
        if "landuse_group" in df:
            df["landuse_group"] = df["landuse_group"].map(lambda g: groups.get(g, g))
        if "admin_layer" in df:
            df["admin_layer"] = df["admin_layer"].map(lambda k: titles.get(k, k))
        for col in BOOL_COLUMNS:
            if col in df:
                df[col] = [w["yes"] if bool(v) else w["no"] for v in df[col]]
        return df

    approvals = result.approvals.drop(columns=["name", "name_en"]).copy()
    approvals["approval_band"] = [band_name(int(b), result.scenario.rules.approval_thresholds_ha, lang) for b in approvals["approval_band"]]
    ov = pd.concat([
        result.project_overlaps.rename(columns={"project_a": "a", "project_b": "b"}).assign(kind=w["project"]),
        result.parcel_overlaps.rename(columns={"overlaps_parcel_id": "a", "parcel_id": "b"}).assign(kind=w["parcel"]),
    ], ignore_index=True)[["kind", "a", "b", "overlap_m2"]]
    totals = result.totals.copy()
    totals.loc[totals["landuse"].isin(["RICE", "TOTAL"]), "landuse_group"] = ""
    frames = {
        "summary": readable(rounded_table(result.summary, tol)),
        "totals": readable(rounded_table(totals, tol)),
        "parcels": readable(rounded_table(result.parcels, tol)),
        "approvals": readable(rounded_table(approvals, tol)),
        "overlaps": rounded_table(ov, tol),
    }
    if result.landcover is not None and result.landcover_compare is not None:
        frames["landcover"] = readable(rounded_table(result.landcover, tol))
        frames["landcover_compare"] = readable(rounded_table(result.landcover_compare, tol))
    if result.costs is not None:
        from .rules.compensation import ALL

        names[ALL] = w["all_once"]
        frames["households"] = readable(rounded_table(result.costs.households, tol))
    return frames


def scenario_rows(result: Result, lang: str = "vi") -> list[tuple[str, str]]:
    """What the scenario sheet lists: inputs, date, CRS, area method, projects, rules and legal instruments."""
    from datetime import date

    from . import __version__

    vi = lang != "en"
    sc = result.scenario
    r = sc.rules
    rows: list[tuple[str, str]] = [
        ("Kịch bản" if vi else "Scenario", sc.name),
        ("Tệp kịch bản" if vi else "Scenario file", str(sc.path)),
        ("Ngày lập" if vi else "Date", date.today().isoformat()),
        ("Phiên bản landplan" if vi else "landplan version", __version__),
        ("Hệ tọa độ làm việc" if vi else "Working CRS", f"{sc.crs.name} ({sc.crs.to_string()})"),
        ("Cách tính diện tích" if vi else "Area method",
         "Diện tích phẳng trong hệ tọa độ làm việc (m², số thực 64 bit); diện tích trên ellipsoid để kiểm tra"
         if vi else "Planar area in the working CRS (float64 m²); ellipsoidal area as a check"),
        ("Lớp thửa đất" if vi else "Parcel layer",
         f"{sc.parcels.label()} (mã thửa: {sc.parcels.id_column}, loại đất: {sc.parcels.landuse_column})" if vi else
         f"{sc.parcels.label()} (id: {sc.parcels.id_column}, land use: {sc.parcels.landuse_column})"),
    ]
    for part in sc.parcels.partitions:  # a parcel layer of several sources: each measured in its own CRS
        crs = part.describe()["crs"]
        rows.append((f"{'Nguồn thửa đất' if vi else 'Parcel source'}: {part.name}",
                     f"{part.source.label()} ({'diện tích đo trong' if vi else 'areas measured in'} {crs})"))
    for a in sc.admin:
        rows.append((f"{'Lớp hành chính' if vi else 'Admin layer'}: {a.label()}", a.source.label()))
    if sc.landcover is not None:
        rows.append(("Raster lớp phủ" if vi else "Land-cover raster", str(sc.landcover.path)))
    for p in sc.projects:
        kind = ("tim tuyến" if vi else "centreline") if p.kind == "centreline" else ("ranh giới thu hồi" if vi else "acquisition polygon")
        width = (f", {'lộ giới' if vi else 'right-of-way'} {p.width_m:g} m" if p.width_m else
                 f", {'lộ giới theo cột' if vi else 'width from column'} {p.width_column}" if p.width_column else "")
        declared = f", {'đất lúa khai báo' if vi else 'declared rice'} {p.declared_rice_ha:g} ha" if p.declared_rice_ha is not None else ""
        where = f" [{p.source.where}]" if p.source.where else ""
        rows.append((f"{'Dự án' if vi else 'Project'}: {p.name(lang)}", f"{kind}{width}{declared}; {p.source.label()}{where}"))
    rows.append(("Bộ quy tắc phê duyệt" if vi else "Approval rule set", r.approval_ruleset))
    for band, authority in enumerate(r.approval_authorities):
        rows.append((band_name(band, r.approval_thresholds_ha, lang), authority))
    groups = {g: v[0 if vi else 1] for g, v in landuse.GROUP_NAMES.items()}
    mins = "; ".join(f"{groups.get(g, g)}: {r.min_remnant_m2[g]:g} m², {r.min_remnant_width_m.get(g, 0):g} m" for g in r.min_remnant_m2)
    rows.append(("Phần còn lại tối thiểu (diện tích, bề rộng)" if vi else "Minimum remnant (area, width)", mins))
    rows.append(("Thửa chồng lấn" if vi else "Overlapping parcels",
                 "đất thuộc hai thửa tính cho thửa có mã xếp trước" if vi else "land in two parcels counted in the parcel whose id sorts first"))
    instruments = [
        ("Luật Đất đai 2024, Điều 122 khoản 1" if vi else "Land Law 2024, Art. 122(1)",
         "chuyển mục đích đất trồng lúa cần nghị quyết của HĐND cấp tỉnh" if vi else "converting rice land needs a provincial People's Council resolution"),
        ("Nghị quyết 45/2022/QH15" if vi else "Resolution 45/2022/QH15",
         "cơ chế thí điểm của Cần Thơ (ngưỡng là thiết lập, cần đối chiếu văn bản)" if vi else
         "Cần Thơ's pilot mechanisms (thresholds are settings, to be confirmed)"),
        ("Nghị định 112/2024/NĐ-CP" if vi else "Decree 112/2024/ND-CP",
         "chuyển đất LUC: phương án bóc tầng đất mặt và nộp tiền bảo vệ, phát triển đất trồng lúa" if vi else
         "converting LUC: topsoil reuse plan and payment for the lost rice land"),
    ]
    rows += [(f"{'Văn bản' if vi else 'Instrument'}: {k}", v) for k, v in instruments]
    if result.costs is not None:
        rows += [(f"{'Dự toán chi phí' if vi else 'Cost estimate'}: {k}", v) for k, v in cost_rows(result, lang)]
    return rows


#: The cost sheet's words.
COST_WORDS: dict[str, dict[str, str]] = {
    "vi": {"title": "Dự toán kinh phí bồi thường, hỗ trợ, tái định cư (ước tính sơ bộ)",
           "illustrative": "MINH HỌA: bảng giá, hệ số K và các mức hỗ trợ là giả định, không phải của tỉnh, thành phố; "
                           "số liệu chỉ cho thấy cách tính",
           "prices": "Bảng giá đất", "coefficients": "Bảng hệ số K", "valid": "hiệu lực {a} đến {b}", "date": "Ngày định giá",
           "basis": "căn cứ", "sum_unit": "Cộng", "sum_project": "Cộng dự án", "candidates": "Phần còn lại có thể thu hồi theo đề nghị "
           "(đồng, không cộng vào tổng)", "note": "Đơn vị tiền: đồng. Diện tích pháp lý: theo sổ địa chính khi có. "
           "Tổng cộng các dự án tính đất chồng lấn một lần."},
    "en": {"title": "Indicative cost estimate: compensation, support and resettlement",
           "illustrative": "ILLUSTRATIVE: the price table, K and the support settings are invented, not a province's; the figures "
                           "only show how the estimate works",
           "prices": "Price table", "coefficients": "Coefficient table (K)", "valid": "in force {a} to {b}", "date": "Valuation date",
           "basis": "basis", "sum_unit": "Subtotal", "sum_project": "Project total", "candidates": "Remnants that may be acquired on "
           "request (VND, not in the total)", "note": "Amounts in VND. Legal area: the register area where there is one. "
           "All projects together count overlapping land once."},
}
#: Columns of the cost sheet (from ``costs.csv``), in order.
COST_SHEET_COLUMNS = ["area_m2", "legal_area_m2", "land_compensation_vnd", "job_support_vnd", "life_support_vnd", "conversion_vnd",
                      "total_vnd", "households", "households_resettled", "plots_needed", "remnant_candidates_vnd"]


def cost_rows(result: Result, lang: str = "vi") -> list[tuple[str, str]]:
    """What the scenario and cost sheets say of the estimate: each table's instrument, validity and
    basis, the valuation date, and each rule with its legal basis."""
    cs = result.costs.settings
    vi = lang != "en"
    cw = COST_WORDS["vi" if vi else "en"]
    rows = [(cw["date"], cs.date.isoformat())]
    for key, spec in (("prices", cs.prices), ("coefficients", cs.coefficients)):
        rows.append((cw[key], f"{spec.instrument}; {cw['valid'].format(a=spec.valid_from.isoformat(), b=spec.valid_to.isoformat())}; "
                              f"{cw['basis']}: {spec.legal_basis}; {spec.path.name}"))
    p, sup, c, r = cs.positions, cs.support, cs.conversion, cs.resettlement

    def n(v: float) -> str:  # a setting as the language writes numbers: 0,8 and 30.000 in Vietnamese
        return format_number(v, 0 if v == round(v) else 1 if v * 10 == round(v * 10) else 2, lang)

    bands = ", ".join(f"{n(b)} m" for b in p.bands_m)
    if vi:
        rows += [
            ("Vị trí", f"theo khoảng cách tới đường ({p.roads.label()}): {bands}"
                       + (f"; đất {', '.join(p.depth_codes)} vị trí 1 sâu quá {n(p.depth_m)} m tính {n(p.depth_factor)} × giá" if p.depth_m else "")
                       + f"; căn cứ: {p.legal_basis}"),
            ("Bồi thường về đất", "diện tích pháp lý × giá trong bảng giá × K" + ("; giá thấp hơn bảng giá lấy bằng bảng giá" if cs.floor_at_table_price
                                                                               else "") + f"; căn cứ: {cs.prices.legal_basis}"),
            ("Không bồi thường về đất", f"{', '.join(cs.not_compensated)}: {cs.not_compensated_basis}"),
            ("Hỗ trợ đào tạo, chuyển đổi nghề", f"{n(sup.job_multiple)} × giá đất nông nghiệp × diện tích thu hồi, tối đa {n(sup.job_cap_m2)} m²/hộ"
                                                 f"; căn cứ: {sup.job_legal_basis}"),
            ("Hỗ trợ ổn định đời sống", f"thu hồi {sup.life_share_bands[0]:.0%}–{sup.life_share_bands[1]:.0%} đất nông nghiệp trong xã: "
                                        f"{sup.life_months_stay[0]:g} tháng ({sup.life_months_move[0]:g} nếu phải di chuyển); trên "
                                        f"{sup.life_share_bands[1]:.0%}: {sup.life_months_stay[1]:g} ({sup.life_months_move[1]:g}); "
                                        f"{n(sup.rice_kg_per_person_month)} kg gạo/người/tháng × {n(sup.rice_price_vnd_kg)} đồng/kg"
                                        f"; căn cứ: {sup.life_legal_basis}"),
            ("Tiền bảo vệ, phát triển đất trồng lúa", f"{', '.join(c.codes)}: {c.share:.0%} × giá đất lúa × diện tích"
                                                       + (f"; miễn: {', '.join(c.exempt_projects)}" if c.exempt_projects else "")
                                                       + f"; căn cứ: {c.legal_basis}"),
            ("Tái định cư", f"đất {', '.join(r.codes)} bị thu hồi hết hoặc còn lại dưới mức tối thiểu: {r.plots_per_household:g} suất "
                            f"{r.plot_m2:g} m²/hộ; căn cứ: {r.legal_basis}"),
            ("Phần còn lại dưới mức tối thiểu", "liệt kê kèm giá trị, có thể thu hồi nếu người sử dụng đất đề nghị; không cộng vào tổng"
             if cs.remnants == "list" else "không liệt kê"),
        ]
    else:
        rows += [
            ("Positions", f"by distance to the roads ({p.roads.label()}): {bands}"
                          + (f"; {', '.join(p.depth_codes)} in position 1 deeper than {n(p.depth_m)} m at {n(p.depth_factor)} × the price"
                             if p.depth_m else "") + f"; basis: {p.legal_basis}"),
            ("Land compensation", "legal area × table price × K" + ("; never below the table price" if cs.floor_at_table_price else "")
             + f"; basis: {cs.prices.legal_basis}"),
            ("Not compensated", f"{', '.join(cs.not_compensated)}: {cs.not_compensated_basis}"),
            ("Job-change support", f"{n(sup.job_multiple)} × farmland price × area taken, at most {n(sup.job_cap_m2)} m² a household; "
                                   f"basis: {sup.job_legal_basis}"),
            ("Life-stabilisation support", f"{sup.life_share_bands[0]:.0%}–{sup.life_share_bands[1]:.0%} of the farmland in the commune taken: "
                                           f"{sup.life_months_stay[0]:g} months ({sup.life_months_move[0]:g} if moving); over "
                                           f"{sup.life_share_bands[1]:.0%}: {sup.life_months_stay[1]:g} ({sup.life_months_move[1]:g}); "
                                           f"{n(sup.rice_kg_per_person_month)} kg of rice a person a month × {n(sup.rice_price_vnd_kg)} VND/kg; "
                                           f"basis: {sup.life_legal_basis}"),
            ("Rice-land conversion payment", f"{', '.join(c.codes)}: {c.share:.0%} × rice-land price × area"
                                             + (f"; exempt: {', '.join(c.exempt_projects)}" if c.exempt_projects else "") + f"; basis: {c.legal_basis}"),
            ("Resettlement", f"{', '.join(r.codes)} wholly taken or left below the minimum: {r.plots_per_household:g} plot(s) of "
                             f"{r.plot_m2:g} m² a household; basis: {r.legal_basis}"),
            ("Remnants below the minimum", "listed with their value, acquired on the owner's request; not in the totals"
             if cs.remnants == "list" else "not listed"),
        ]
    return rows


def _cost_sheet(wb: Any, result: Result, lang: str, *, head: Any, cell: Any, bold: Any, big: Any) -> None:
    """The cost sheet a report can paste: the tables' instruments, then per project each unit's land uses,
    the unit's subtotal, the project's total, and all projects together (overlapping land once)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from .outputs import rounded_table
    from .rules.compensation import ALL, TOTAL

    cw = COST_WORDS["en" if lang == "en" else "vi"]
    w = WORDS[lang]
    ws = wb.create_sheet(SHEETS["costs"][0 if lang == "vi" else 1])
    n_head = 0

    def line(values: list[Any]) -> None:
        nonlocal n_head
        ws.append(values)
        n_head += 1

    line([cell(ws, cw["title"], font=big)])
    if result.costs.settings.illustrative():
        line([cell(ws, cw["illustrative"], font=Font(bold=True, color="C00000"))])
    for k, v in cost_rows(result, lang)[:3]:
        line([cell(ws, k, font=bold), cell(ws, v)])
    line([cell(ws, cw["note"])])
    line([])
    cols = COST_SHEET_COLUMNS
    headers = [w["project"], w["unit"], HEADERS["landuse"][0 if lang == "vi" else 1]] + [
        cw["candidates"] if c == "remnant_candidates_vnd" else HEADERS[c][0 if lang == "vi" else 1] for c in cols]
    line([head(ws, h) for h in headers])
    ws.freeze_panes = f"D{n_head + 1}"
    _print_setup(ws, f"{n_head}:{n_head}")
    ws.column_dimensions["A"].width = 40
    ws.column_dimensions["B"].width = 26
    ws.column_dimensions["C"].width = 12
    for j in range(len(cols)):
        ws.column_dimensions[get_column_letter(4 + j)].width = 19
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    names[ALL] = w["all_once"]
    table = rounded_table(result.costs.table, result.scenario.tolerance)
    fmts = [HEADERS[c][2] for c in cols]
    for r in table.to_dict("records"):
        unit_total, project_total = r["landuse"] == TOTAL and r["admin_unit"] != TOTAL, r["admin_unit"] == TOTAL
        font = bold if unit_total or project_total else None
        unit = cw["sum_project"] if project_total else r["admin_unit"]
        code = cw["sum_unit"] if unit_total else "" if project_total else f"{r['landuse']} – {landuse.name(r['landuse'], lang)}"
        values = [None if (v is None or (isinstance(v, float) and v != v) or v is pd.NA) else v for v in (r[c] for c in cols)]
        ws.append([cell(ws, names.get(r["project"], r["project"]), font=font), cell(ws, unit, font=font), cell(ws, code, font=font),
                   *[cell(ws, v, f, font) for v, f in zip(values, fmts)]])


def _fmt(fmt: str | None, lang: str) -> str | None:
    return f"{VI_LOCALE}{fmt}" if fmt and lang == "vi" else fmt


def _sheet_name(text: str) -> str:
    """A valid sheet name: no ``[]:*?/\\``, at most 31 characters, a parenthesised remark dropped when too long."""
    if len(text) > 31 and "(" in text:
        text = text[:text.index("(")].rstrip()
    for ch in "[]:*?/\\":
        text = text.replace(ch, "-")
    return text[:31]


def _print_setup(ws: Any, header_rows: str, landscape: bool = True) -> None:
    """A4 landscape, header rows repeated on every page, fitted to the page width."""
    ws.page_setup.paperSize = "9"  # A4 (ECMA-376 paper size code)
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = header_rows
    ws.print_options.gridLines = False


def write_workbook(result: Result, path: Path, *, lang: str = "vi") -> Path:
    """Write the workbook.

    Sheets: the scenario (inputs, date, CRS, rules, legal instruments); one pivot per administrative
    layer as reports print it (units as rows, land-use groups as columns, in ha, with each project's
    subtotal, the sum over projects and the all-projects total with overlapping land counted once; two
    layers never mixed); then the tables (summary, all-projects totals, affected parcels, approvals,
    overlaps, land cover). Vietnamese (or English) headers with units, values in words (Có/Không,
    land-use groups, approval bands named), Vietnamese number formats in Vietnamese mode, frozen
    headers, autofilter, print setup (A4 landscape, header rows repeated, fitted to the width). Text
    that looks like a formula stays text. Written in openpyxl's streaming mode, the tables' rows as text
    (:mod:`landplan.xlsxrows`).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    lang = "en" if lang == "en" else "vi"
    w = WORDS[lang]
    wb = Workbook(write_only=True)
    bold = Font(bold=True)
    big = Font(bold=True, size=12)
    fill = PatternFill("solid", fgColor="DDEBF7")
    wrap = Alignment(wrap_text=True, vertical="top")

    def head(ws: Any, value: Any) -> Any:
        c = WriteOnlyCell(ws, value=value)
        c.font, c.fill, c.alignment = bold, fill, wrap
        return c

    def cell(ws: Any, value: Any, fmt: str | None = None, font: Any = None) -> Any:
        if isinstance(value, (float, np.floating)) and not np.isfinite(value):
            value = None
        elif isinstance(value, np.generic):
            value = value.item()
        c = WriteOnlyCell(ws, value=value)
        if isinstance(value, str) and value.startswith(FORMULA_START):
            c.data_type = "s"  # text, never a formula
        if fmt and isinstance(value, (int, float)) and not isinstance(value, bool):
            c.number_format = _fmt(fmt, lang)
        if font is not None:
            c.font = font
        return c

    # the scenario
    ws = wb.create_sheet(SHEETS["scenario"][0 if lang == "vi" else 1])
    ws.column_dimensions["A"].width = 48
    ws.column_dimensions["B"].width = 110
    _print_setup(ws, "1:1")
    ws.append([head(ws, "Mục" if lang == "vi" else "Item"), head(ws, "Giá trị" if lang == "vi" else "Value")])
    for k, v in scenario_rows(result, lang):
        ws.append([cell(ws, k, font=bold), cell(ws, v)])

    # one pivot per admin layer
    titles = _admin_titles(result)
    groups = [landuse.GROUP_NAMES[g][0 if lang == "vi" else 1] for g in tables.GROUP_ORDER]
    names = {p.id: p.name(lang) for p in result.scenario.projects}
    once = result.totals[~result.totals["landuse"].isin(["RICE", "TOTAL"])]
    once_by_group = once.groupby("landuse_group")["area_m2"].sum()
    for key in result.admin:
        piv = tables.admin_pivot(result.summary, key)
        ws = wb.create_sheet(_sheet_name(w["pivot_sheet"].format(layer=titles.get(key, key))))
        ws.column_dimensions["A"].width = 42
        ws.column_dimensions["B"].width = 34
        for j in range(len(groups) + 1):
            ws.column_dimensions[get_column_letter(3 + j)].width = 16
        ws.freeze_panes = "C3"
        _print_setup(ws, "1:2")
        ws.append([cell(ws, w["pivot_title"].format(layer=titles.get(key, key)), font=big)])
        ws.append([head(ws, w["project"]), head(ws, w["unit"]), *[head(ws, g) for g in groups], head(ws, w["TOTAL"])])
        cols = [*tables.GROUP_ORDER, "total_m2"]
        present = set(piv["project"])
        for pid in [p.id for p in result.scenario.projects if p.id in present]:
            block = piv[piv["project"] == pid]
            for r in block.itertuples(index=False):
                ws.append([cell(ws, names.get(pid, pid)), cell(ws, r.admin_unit),
                           *[cell(ws, getattr(r, c) / landuse.M2_PER_HA, HA) for c in cols]])
            sums = block[cols].sum()
            ws.append([cell(ws, names.get(pid, pid), font=bold), cell(ws, w["sum"], font=bold),
                       *[cell(ws, float(sums[c]) / landuse.M2_PER_HA, HA, bold) for c in cols]])
        sums = piv[cols].sum()
        ws.append([cell(ws, w["all_sum"], font=bold), cell(ws, ""), *[cell(ws, float(sums[c]) / landuse.M2_PER_HA, HA, bold) for c in cols]])
        once_vals = [float(once_by_group.get(g, 0.0)) for g in tables.GROUP_ORDER]
        ws.append([cell(ws, w["all_once"], font=bold), cell(ws, ""), *[cell(ws, v / landuse.M2_PER_HA, HA, bold) for v in once_vals],
                   cell(ws, sum(once_vals) / landuse.M2_PER_HA, HA, bold)])

    if result.costs is not None:
        _cost_sheet(wb, result, lang, head=head, cell=cell, bold=bold, big=big)

    # the tables
    rows: list[tuple[Any, str]] = []
    for key, df in _frames(result, lang).items():
        ws = wb.create_sheet(SHEETS[key][0 if lang == "vi" else 1])
        cols = list(df.columns)
        headers = [HEADERS.get(col, (col, col, None))[0 if lang == "vi" else 1] for col in cols]
        fmts = [HEADERS.get(col, (col, col, None))[2] for col in cols]
        for j, col in enumerate(cols, start=1):
            values = df[col]
            if values.dtype == object or str(values.dtype) in ("string", "str"):
                longest = int(values.astype(str).str.len().max()) if len(values) else 0
            else:
                longest = 14
            ws.column_dimensions[get_column_letter(j)].width = min(max(10, len(str(headers[j - 1])) // 2 + 2, longest + 2), 60)
        ws.freeze_panes = "A2"
        _print_setup(ws, "1:1")
        if len(df):
            ws.auto_filter.ref = f"A1:{get_column_letter(len(cols))}{len(df) + 1}"
        ws.append([head(ws, h) for h in headers])
        # the data rows are written as text into the saved file (xlsxrows: openpyxl's per-cell objects
        # cost seconds on a large run); each column's number format is the style openpyxl registers for it
        styles = [cell(ws, 0.0, f).style_id if f else None for f in fmts]
        rows.append((ws, xlsxrows.rows_xml(df, styles)))
    wb.properties.creator = "landplan"
    wb.properties.language = "vi-VN" if lang == "vi" else "en"
    wb.save(path)
    xlsxrows.insert_rows(path, {ws.path.lstrip("/"): text for ws, text in rows})  # a sheet's part is named when saved
    return path
