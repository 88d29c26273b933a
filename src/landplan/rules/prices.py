"""Land-price tables (bảng giá đất) and coefficient tables (hệ số K): read from CSV, checked, looked up.

A **price table** has one row per administrative unit × land-use code × position (vị trí), in đồng
per m²::

    unit,landuse,position,price_vnd_m2,source_ref
    Xã Giai Xuân,LUC,1,260000,"illustrative: not the city's table"

A **coefficient table** has one row per unit × land-use code (``unit = *`` for every unit that has
no row of its own)::

    unit,landuse,k,source_ref
    *,LUC,1.0,"illustrative"

Files are UTF-8 CSV (Excel's "CSV UTF-8"), separated by commas or semicolons. Every problem of a
table is reported at once, one message per kind (columns missing, a unit or position missing,
positions missing for a unit and land use, prices not whole numbers or not positive, duplicate
keys, unknown codes, rows without ``source_ref``), each naming the lines. Whether the table's units
are those of the administrative layer is checked once the layer is read (:func:`check_units`).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import landuse
from .settings import TableSpec

PRICE_COLUMNS = ("unit", "landuse", "position", "price_vnd_m2", "source_ref")
K_COLUMNS = ("unit", "landuse", "k", "source_ref")
#: ``unit`` of a coefficient row that applies to every unit without a row of its own.
ANY_UNIT = "*"
#: A price: a whole number of đồng, digits only (``150000``; ``150000.0`` as pandas writes it). Never
#: ``150.000``: a Vietnamese thousands separator, which a plain number reader takes for 150.
_WHOLE = re.compile(r"^\d+(\.0)?$")
#: A coefficient: a decimal number with a point or a comma (``1.15``, ``1,15``).
_DECIMAL = re.compile(r"^\d+([.,]\d+)?$")
#: How many lines a message names before "…".
_SHOWN = 8


@dataclass(frozen=True)
class PriceTable:
    """A checked price table: ``rows`` has :data:`PRICE_COLUMNS` and ``line`` (the CSV line)."""

    spec: TableSpec
    rows: pd.DataFrame
    sha256: str

    def lookup(self, unit: np.ndarray, code: np.ndarray, position: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each (unit, land-use code, position): the row's index into ``rows``, -1 where there is none,
        and the price (NaN where there is none)."""
        keys = pd.MultiIndex.from_arrays([self.rows["unit"], self.rows["landuse"], self.rows["position"]])
        unit, code, position = np.asarray(unit, dtype=object), np.asarray(code, dtype=object), np.asarray(position, dtype="int64")
        first, of = _distinct(unit, code, position)  # each distinct key looked up once
        idx = np.asarray(keys.get_indexer(pd.MultiIndex.from_arrays([unit[first], code[first], position[first]])), dtype="int64")[of]
        price = np.where(idx >= 0, self.rows["price_vnd_m2"].to_numpy(dtype="float64")[np.maximum(idx, 0)], np.nan)
        return idx, price

    def units(self) -> list[str]:
        """The units the table names."""
        return list(dict.fromkeys(self.rows["unit"]))


@dataclass(frozen=True)
class CoefficientTable:
    """A checked coefficient table: ``rows`` has :data:`K_COLUMNS` and ``line``."""

    spec: TableSpec
    rows: pd.DataFrame
    sha256: str

    def lookup(self, unit: np.ndarray, code: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each (unit, land-use code): the row's index into ``rows`` (the unit's own row, else the
        ``*`` row of the code), -1 where there is neither, and K (NaN where there is none)."""
        keys = pd.MultiIndex.from_arrays([self.rows["unit"], self.rows["landuse"]])
        unit, code = np.asarray(unit, dtype=object), np.asarray(code, dtype=object)
        first, of = _distinct(unit, code)  # each distinct key looked up once
        unit, code = unit[first], code[first]
        idx = np.asarray(keys.get_indexer(pd.MultiIndex.from_arrays([unit, code])), dtype="int64")
        miss = idx < 0
        if miss.any():
            any_unit = np.asarray(keys.get_indexer(pd.MultiIndex.from_arrays([np.full(int(miss.sum()), ANY_UNIT, dtype=object),
                                                                              code[miss]])), dtype="int64")
            idx[miss] = any_unit
        idx = idx[of]
        k = np.where(idx >= 0, self.rows["k"].to_numpy(dtype="float64")[np.maximum(idx, 0)], np.nan)
        return idx, k

    def units(self) -> list[str]:
        """The units the table names (without ``*``)."""
        return [u for u in dict.fromkeys(self.rows["unit"]) if u != ANY_UNIT]


def _distinct(*columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``columns``: the first row of each, and each row's number among them."""
    from .households import first_rows, keys

    of, n = keys(*columns)
    return first_rows(of, n), of


def sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _lines(lines: Any, n: int = _SHOWN) -> str:
    lines = [int(x) for x in lines]
    return ", ".join(map(str, lines[:n])) + (f" … ({len(lines)} in all)" if len(lines) > n else "")


def _read_csv(path: Path, columns: tuple[str, ...]) -> tuple[pd.DataFrame | None, list[str]]:
    """The CSV's cells as text (column names lower-cased and stripped, cells stripped and in NFC), with
    ``line`` (the line number in the file); or ``None`` and the problem."""
    name = path.name
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
    except OSError as exc:
        return None, [f"{name}: cannot be read ({exc.strerror})"]
    except UnicodeDecodeError:
        return None, [f"{name} is not UTF-8 text; save it as \"CSV UTF-8\" (Excel: File ▸ Save As ▸ CSV UTF-8)"]
    text = unicodedata.normalize("NFC", text)  # once for the whole file: no composition joins a cell to a delimiter
    first = text.splitlines()[0] if text.strip() else ""
    if not first:
        return None, [f"{name} is empty; its first line must name the columns {', '.join(columns)}"]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    rows = list(csv.reader(text.splitlines(), delimiter=delimiter))
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in columns if c not in header]
    if missing:
        return None, [f"{name} has no column(s) {', '.join(missing)}; its columns are {', '.join(h for h in header if h) or 'none'}; "
                      f"a table needs {', '.join(columns)}"]
    body = [(i + 2, r) for i, r in enumerate(rows[1:]) if any(c.strip() for c in r)]
    data = {c: [r[i].strip() if i < len(r) else "" for _, r in body] for c, i in ((c, header.index(c)) for c in columns)}
    df = pd.DataFrame(data, columns=list(columns))
    df["line"] = [i for i, _ in body]
    if df.empty:
        return None, [f"{name} has no rows; add one row per {', '.join(columns[:-1])}"]
    return df, []


def _common(df: pd.DataFrame, name: str, key_cols: list[str], what: str, problems: list[str]) -> pd.DataFrame:
    """Checks shared by both tables: empty key cells, unknown codes, rows without source_ref; codes normalised."""
    empty = [f"{c} on line(s) {_lines(df.loc[df[c] == '', 'line'])}" for c in key_cols if (df[c] == "").any()]
    if empty:
        problems.append(f"{name}: {what} missing: {'; '.join(empty)}; every row needs its {', '.join(key_cols)}")
    given = df["landuse"].to_numpy(dtype=object)
    normal = _normal_codes(given)
    df = df.assign(landuse=[normal[c] for c in given])
    known = {c: landuse.is_known(c) for c in normal.values()}
    unknown = df[(df["landuse"] != "") & ~df["landuse"].map(known)]
    if len(unknown):
        shown = "; ".join(f"{c!r} on line(s) {_lines(g['line'])}" for c, g in unknown.groupby("landuse", sort=True))
        problems.append(f"{name}: unknown land-use code(s): {shown}; codes are {', '.join(x.code for x in landuse.LANDUSE_TABLE)}")
    no_ref = df.loc[df["source_ref"] == "", "line"]
    if len(no_ref):
        problems.append(f"{name}: row(s) without source_ref on line(s) {_lines(no_ref)}; say where each figure comes from "
                        f"(the instrument and its article, or \"illustrative\")")
    return df


def _duplicates(df: pd.DataFrame, keys: list[str], name: str, problems: list[str]) -> None:
    dup = df[df.duplicated(keys, keep=False)]
    if len(dup):
        shown = "; ".join(f"{' · '.join(str(v) for v in k)} on lines {_lines(g['line'])}"
                          for k, g in list(dup.groupby(keys, sort=False))[:_SHOWN])
        n = dup.groupby(keys).ngroups
        problems.append(f"{name}: duplicate key(s) ({', '.join(keys)}), each must appear once: {shown}"
                        + (f" … ({n} keys in all)" if n > _SHOWN else ""))


def _normal_codes(given: Any) -> dict[str, str]:
    """Each distinct land-use code as written → landplan's code (each normalised once)."""
    return {c: landuse.normalize_code(c) for c in dict.fromkeys(given)}


def _known_codes(given: list[str]) -> list[str] | None:
    """The land-use codes normalised, or ``None`` when one is empty or unknown."""
    normal = _normal_codes(given)
    if not all(v and landuse.is_known(v) for v in normal.values()):
        return None
    return [normal[c] for c in given]


def _clean_prices(df: pd.DataFrame, n_positions: int) -> pd.DataFrame | None:
    """The checked rows of a price table without any problem (the usual case), as :func:`read_price_table`
    returns them; ``None`` when something may be wrong: the full checks then name each problem. In plain
    Python: a table is small, and pandas' overhead per operation is most of the time of checking it."""
    units, refs = df["unit"].tolist(), df["source_ref"].tolist()
    codes = _known_codes(df["landuse"].tolist())
    if codes is None or "" in units or "" in refs:
        return None
    positions, prices = [], []
    for p, v in zip(df["position"].tolist(), df["price_vnd_m2"].tolist()):
        if not (p.isascii() and p.isdigit() and 1 <= int(p) <= n_positions and v.isascii() and _WHOLE.match(v) and float(v) > 0):
            return None
        positions.append(int(p))
        prices.append(float(v))
    if len(set(zip(units, codes, positions))) != len(units):
        return None  # a duplicate key
    per_pair: dict[tuple[str, str], int] = {}
    for key in zip(units, codes):
        per_pair[key] = per_pair.get(key, 0) + 1
    if any(n != n_positions for n in per_pair.values()):
        return None  # distinct positions within 1 … n: every one is there when there are n of them
    rows = df.assign(landuse=codes, position=np.asarray(positions, dtype="int64"), price_vnd_m2=np.asarray(prices, dtype="float64"))
    return rows[[*PRICE_COLUMNS, "line"]].reset_index(drop=True)


def _clean_coefficients(df: pd.DataFrame) -> pd.DataFrame | None:
    """:func:`_clean_prices` for a coefficient table."""
    units, refs = df["unit"].tolist(), df["source_ref"].tolist()
    codes = _known_codes(df["landuse"].tolist())
    if codes is None or "" in units or "" in refs:
        return None
    ks = []
    for v in df["k"].tolist():
        if not (v.isascii() and _DECIMAL.match(v) and float(v.replace(",", ".")) > 0):
            return None
        ks.append(float(v.replace(",", ".")))
    if len(set(zip(units, codes))) != len(units):
        return None
    return df.assign(landuse=codes, k=np.asarray(ks, dtype="float64"))[[*K_COLUMNS, "line"]].reset_index(drop=True)


def read_price_table(spec: TableSpec, *, n_positions: int) -> tuple[PriceTable | None, list[str]]:
    """Read and check a price table; positions must run 1 … ``n_positions`` (the distance bands' count).

    Returns the table (``None`` when it has problems) and the problems, one message per kind.
    """
    df, problems = _read_csv(spec.path, PRICE_COLUMNS)
    if df is None:
        return None, problems
    clean = _clean_prices(df, n_positions)
    if clean is not None:
        return PriceTable(spec, clean, sha256(spec.path)), []
    name = spec.path.name
    df = _common(df, name, ["unit", "landuse", "position"], "a unit, land use or position (vị trí)", problems)
    pos = pd.to_numeric(df["position"], errors="coerce")
    bad_pos = (df["position"] != "") & ~(pos.notna() & (pos == pos.round()) & (pos >= 1))
    if bad_pos.any():
        shown = ", ".join(f"line {ln} {v!r}" for ln, v in zip(df.loc[bad_pos, "line"][:_SHOWN], df.loc[bad_pos, "position"]))
        problems.append(f"{name}: position(s) that are not whole numbers from 1: {shown}")
    beyond = pos.notna() & ~bad_pos & (pos > n_positions)
    if beyond.any():
        problems.append(f"{name}: position(s) beyond those the distance bands make (1–{n_positions}, from costs.positions.bands_m) "
                        f"on line(s) {_lines(df.loc[beyond, 'line'])}; add a band or remove the rows")
    raw = df["price_vnd_m2"]
    whole = raw.str.fullmatch(_WHOLE.pattern)
    negative = raw.str.match(r"^-\s*\d")
    not_number = ~whole & ~negative
    if not_number.any():
        shown = ", ".join(f"line {ln} {v!r}" for ln, v in list(zip(df.loc[not_number, "line"], raw[not_number]))[:_SHOWN])
        problems.append(f"{name}: price(s) that are not a whole number of đồng per m²: {shown}"
                        f"{' …' if int(not_number.sum()) > _SHOWN else ''}; write digits only, without thousands separators "
                        f"or units (150000, not 150.000 or 150,000 đ)")
    price = pd.to_numeric(raw.where(whole), errors="coerce")
    not_positive = negative | (whole & (price <= 0))
    if not_positive.any():
        shown = ", ".join(f"line {ln} {v!r}" for ln, v in list(zip(df.loc[not_positive, "line"], raw[not_positive]))[:_SHOWN])
        problems.append(f"{name}: negative or zero price(s): {shown}; a price is a positive number of đồng per m²")
    ok = (df["unit"] != "") & df["landuse"].map(landuse.is_known) & pos.notna() & ~bad_pos
    checked = df[ok].assign(position=pos[ok].astype("int64"))
    _duplicates(checked, ["unit", "landuse", "position"], name, problems)
    # every unit and land use priced must have every position the bands make (a missing zone)
    gaps = []
    unsure = set(zip(df.loc[~ok, "unit"], df.loc[~ok, "landuse"]))  # a row whose position is missing is reported already
    within = checked[(checked["position"] >= 1) & (checked["position"] <= n_positions)]
    count = within.groupby(["unit", "landuse"])["position"].nunique()
    complete = count.index[count.to_numpy() == n_positions]  # the usual case, found without a loop over the rows
    short = checked[~pd.MultiIndex.from_arrays([checked["unit"], checked["landuse"]]).isin(complete)]
    for (unit, code), g in short.groupby(["unit", "landuse"], sort=True):
        if (unit, code) in unsure:
            continue
        have = set(g["position"])
        lacking = [p for p in range(1, n_positions + 1) if p not in have]
        if lacking:
            gaps.append(f"{unit} · {code} has position(s) {', '.join(map(str, sorted(have)))} but not {', '.join(map(str, lacking))}")
    if gaps:
        problems.append(f"{name}: position(s) (vị trí) missing: {'; '.join(gaps[:_SHOWN])}{' …' if len(gaps) > _SHOWN else ''}; "
                        f"the distance bands make positions 1–{n_positions}: price each one")
    if problems:
        return None, problems
    rows = df.assign(position=pos.astype("int64"), price_vnd_m2=price.astype("float64"))
    return PriceTable(spec, rows[[*PRICE_COLUMNS, "line"]].reset_index(drop=True), sha256(spec.path)), []


def read_coefficient_table(spec: TableSpec) -> tuple[CoefficientTable | None, list[str]]:
    """Read and check a coefficient (K) table; returns the table (``None`` when it has problems) and the problems."""
    df, problems = _read_csv(spec.path, K_COLUMNS)
    if df is None:
        return None, problems
    clean = _clean_coefficients(df)
    if clean is not None:
        return CoefficientTable(spec, clean, sha256(spec.path)), []
    name = spec.path.name
    df = _common(df, name, ["unit", "landuse"], "a unit or land use", problems)
    raw = df["k"]
    number = raw.str.fullmatch(_DECIMAL.pattern)
    negative = raw.str.match(r"^-\s*\d")
    if (~number & ~negative).any():
        bad = ~number & ~negative
        shown = ", ".join(f"line {ln} {v!r}" for ln, v in list(zip(df.loc[bad, "line"], raw[bad]))[:_SHOWN])
        problems.append(f"{name}: coefficient(s) K that are not numbers: {shown}; write a decimal number such as 1.1")
    k = pd.to_numeric(raw.where(number).str.replace(",", ".", regex=False), errors="coerce")
    not_positive = negative | (number & (k <= 0))
    if not_positive.any():
        shown = ", ".join(f"line {ln} {v!r}" for ln, v in list(zip(df.loc[not_positive, "line"], raw[not_positive]))[:_SHOWN])
        problems.append(f"{name}: negative or zero coefficient(s) K: {shown}; K is a positive number")
    _duplicates(df[(df["unit"] != "") & (df["landuse"] != "")], ["unit", "landuse"], name, problems)
    if problems:
        return None, problems
    return CoefficientTable(spec, df.assign(k=k.astype("float64"))[[*K_COLUMNS, "line"]].reset_index(drop=True), sha256(spec.path)), []


def check_units(names: list[str], admin_units: list[str], *, table: str, admin: str) -> str | None:
    """A message when a table names units that the administrative layer does not hold, each with the
    nearest name the layer has; ``None`` when every name is a unit of the layer."""
    have = set(admin_units)
    unknown = [u for u in names if u != ANY_UNIT and u not in have]
    if not unknown:
        return None
    shown = []
    for u in unknown[:_SHOWN]:
        near = difflib.get_close_matches(u, sorted(have), n=1, cutoff=0.6)
        shown.append(f"{u!r}" + (f" (did you mean {near[0]!r}?)" if near else ""))
    return (f"{table} names unit(s) that are not in the administrative layer {admin!r}: {', '.join(shown)}"
            f"{' …' if len(unknown) > _SHOWN else ''}; the layer's units are {', '.join(sorted(have)[:12])}"
            f"{' …' if len(have) > 12 else ''}. Check the table refers to the same list of units as the layer (costs.admin_units)")
