"""Table rows written as text (xlsxrows) read back exactly as the same cells written by openpyxl."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
from openpyxl.cell import WriteOnlyCell

from landplan import xlsxrows

FRAME = pd.DataFrame({
    "text": ["Lúa", "=HYPERLINK(\"x\")", " padded ", "", None],
    "area_m2": [1234.5, float("nan"), -0.25, 1e-9, 12345678.125],
    "count": pd.Series([1, 2, 3, 4, 5], dtype="int64"),
    "flag": [True, False, True, False, True],
    "mixed": ["a", 1.5, None, np.float64(2.0), "<b>&</b>"],
})
FORMATS = [None, "#,##0.00", "#,##0", None, "0.00"]


def _by_openpyxl(path: Path) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("t")
    ws.append(list(FRAME.columns))
    for row in FRAME.itertuples(index=False, name=None):
        cells = []
        for v, f in zip(row, FORMATS):
            v = None if isinstance(v, float) and not np.isfinite(v) else v.item() if isinstance(v, np.generic) else v
            c = WriteOnlyCell(ws, value=v)
            if isinstance(v, str) and v.startswith("="):
                c.data_type = "s"
            if f and isinstance(v, (int, float)) and not isinstance(v, bool):
                c.number_format = f
            cells.append(c)
        ws.append(cells)
    wb.save(path)


def _by_xlsxrows(path: Path) -> None:
    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("t")
    ws.append(list(FRAME.columns))
    styles = []
    for f in FORMATS:
        if f:
            c = WriteOnlyCell(ws, value=0.0)
            c.number_format = f
            styles.append(c.style_id)
        else:
            styles.append(None)
    rows = xlsxrows.rows_xml(FRAME, styles)
    wb.save(path)
    xlsxrows.insert_rows(path, {ws.path.lstrip("/"): rows})


def test_rows_read_back_as_openpyxl_writes_them(tmp_path: Path):
    a, b = tmp_path / "a.xlsx", tmp_path / "b.xlsx"
    _by_openpyxl(a)
    _by_xlsxrows(b)
    wa, wb = openpyxl.load_workbook(a)["t"], openpyxl.load_workbook(b)["t"]
    assert (wa.max_row, wa.max_column) == (wb.max_row, wb.max_column) == (len(FRAME) + 1, FRAME.shape[1])
    for ra, rb in zip(wa.iter_rows(), wb.iter_rows()):
        for ca, cb in zip(ra, rb):
            assert (ca.value, ca.data_type, ca.number_format) == (cb.value, cb.data_type, cb.number_format), ca.coordinate
    assert wb["B2"].value == 1234.5 and wb["B2"].number_format == "#,##0.00"
    assert wb["A3"].value == '=HYPERLINK("x")' and wb["A3"].data_type == "s"  # text, never a formula
    assert wb["A4"].value == " padded " and wb["E6"].value == "<b>&</b>" and wb["B3"].value is None


def test_column_letters():
    assert [xlsxrows.column_letter(j) for j in (1, 26, 27, 52, 703)] == ["A", "Z", "AA", "AZ", "AAA"]
