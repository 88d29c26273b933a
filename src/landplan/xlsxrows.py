"""The long table sheets of a workbook written as XML text, a column at a time, into the saved file.

openpyxl builds an object per cell and writes it through lxml element by element (about 14 µs a cell):
the affected-parcels sheet of a 1,000,000-parcel run, 16,000 rows of 20 columns, took seconds. Here
openpyxl still writes every sheet's frame (column widths, frozen header, filter, print setup, the
header row), and the data rows of a table are made as text, column by column, in the form openpyxl
itself writes (inline strings, numbers with their style's number format), then put into that sheet
of the saved file.
"""

from __future__ import annotations

import math
import os
import re
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

#: Characters XML 1.0 does not allow (openpyxl refuses them in a cell too).
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def column_letter(j: int) -> str:
    """Spreadsheet column name of the 1-based column ``j``: 1 → A, 27 → AA."""
    out = ""
    while j:
        j, r = divmod(j - 1, 26)
        out = chr(65 + r) + out
    return out


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cells(letter: str, rows: range, values: Sequence[Any], style: int | None) -> list[str]:
    """One column's cells as XML, each as openpyxl writes it (an empty element for an empty cell)."""
    s = f' s="{style}"' if style is not None else ""
    out = []
    for r, v in zip(rows, values):
        if v is None or v is pd.NA or (isinstance(v, (float, np.floating)) and not math.isfinite(v)):
            out.append(f'<c r="{letter}{r}" t="n"/>')  # an empty cell, as openpyxl writes one
        elif isinstance(v, str) and not v:
            out.append(f'<c r="{letter}{r}" t="inlineStr"/>')
        elif isinstance(v, (bool, np.bool_)):
            out.append(f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>')
        elif isinstance(v, (int, np.integer)):
            out.append(f'<c r="{letter}{r}"{s} t="n"><v>{int(v)}</v></c>')
        elif isinstance(v, (float, np.floating)):
            out.append(f'<c r="{letter}{r}"{s} t="n"><v>{float(v):.16g}</v></c>')
        else:
            text = str(v)
            if _ILLEGAL.search(text):
                raise ValueError(f"cell {letter}{r} holds a character a workbook cannot: {text!r}")
            space = ' xml:space="preserve"' if text != text.strip() else ""
            out.append(f'<c r="{letter}{r}" t="inlineStr"><is><t{space}>{_escape(text)}</t></is></c>')
    return out


def _number_cells(letter: str, rows: range, values: np.ndarray, style: int | None) -> list[str]:
    """A column of plain numpy numbers (float, int or bool) as :func:`_cells` writes them, without asking
    each value its type."""
    s = f' s="{style}"' if style is not None else ""
    if values.dtype.kind == "b":
        return [f'<c r="{letter}{r}" t="b"><v>{int(v)}</v></c>' for r, v in zip(rows, values.tolist())]
    if values.dtype.kind in "iu":
        return [f'<c r="{letter}{r}"{s} t="n"><v>{v}</v></c>' for r, v in zip(rows, values.tolist())]
    finite = np.isfinite(values).tolist()
    return [f'<c r="{letter}{r}"{s} t="n"><v>{v:.16g}</v></c>' if ok else f'<c r="{letter}{r}" t="n"/>'
            for r, v, ok in zip(rows, values.tolist(), finite)]


def rows_xml(df: pd.DataFrame, styles: Sequence[int | None], *, first_row: int = 2) -> str:
    """The rows of ``df`` as a sheet's ``<row>`` elements from ``first_row``: text cells as inline
    strings (never formulas), numbers with ``styles[j]`` (the style index of column j's number format,
    or None), booleans as booleans, missing and non-finite values left empty."""
    rows = range(first_row, first_row + len(df))
    columns = []
    for j in range(df.shape[1]):
        col, letter = df.iloc[:, j], column_letter(j + 1)
        if isinstance(col.dtype, np.dtype) and col.dtype.kind in "biuf":
            columns.append(_number_cells(letter, rows, col.to_numpy(), styles[j]))
        else:
            columns.append(_cells(letter, rows, col.astype(object).tolist(), styles[j]))
    return "".join(f'<row r="{r}">{"".join(cells)}</row>' for r, cells in zip(rows, zip(*columns)))


def insert_rows(path: Path, sheets: dict[str, str]) -> None:
    """Put rows (``sheets``: a sheet's part name in the package, e.g. ``xl/worksheets/sheet5.xml`` →
    its ``<row>`` elements) at the end of each sheet's data in the workbook at ``path``, rewriting the
    file in place (through a temporary file beside it)."""
    if not sheets:
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
            for info in src.infolist():
                data = src.read(info.filename)
                rows = sheets.get(info.filename)
                if rows:
                    text = data.decode("utf-8")
                    if "</sheetData>" in text:
                        text = text.replace("</sheetData>", rows + "</sheetData>", 1)
                    else:
                        text = text.replace("<sheetData/>", f"<sheetData>{rows}</sheetData>", 1)
                    data = text.encode("utf-8")
                dst.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
