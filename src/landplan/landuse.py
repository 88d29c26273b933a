"""The Vietnamese land-use code table: names in Vietnamese and English, and groups."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Literal

import pandas as pd

Group = Literal["rice", "other_agriculture", "residential", "infrastructure", "water", "other"]

RICE_CODES: frozenset[str] = frozenset({"LUC", "LUK", "LUN"})


@dataclass(frozen=True)
class LandUse:
    """One land-use code with its names and group."""

    code: str
    name_vi: str
    name_en: str
    group: Group
    color: str


#: The code table (Circular 08/2024/TT-BTNMT codes in common use in Cần Thơ).
LANDUSE_TABLE: tuple[LandUse, ...] = (
    LandUse("LUC", "Đất chuyên trồng lúa", "Specialised rice land", "rice", "#f2d33b"),
    LandUse("LUK", "Đất trồng lúa còn lại", "Other rice land", "rice", "#f7e98e"),
    LandUse("LUN", "Đất trồng lúa nương", "Upland rice land", "rice", "#e8c468"),
    LandUse("HNK", "Đất trồng cây hằng năm khác", "Other annual crop land", "other_agriculture", "#f5c99b"),
    LandUse("CLN", "Đất trồng cây lâu năm", "Perennial crop land", "other_agriculture", "#9fd67a"),
    LandUse("NTS", "Đất nuôi trồng thủy sản", "Aquaculture land", "other_agriculture", "#7fc6d9"),
    LandUse("ONT", "Đất ở tại nông thôn", "Rural residential land", "residential", "#e6879b"),
    LandUse("ODT", "Đất ở tại đô thị", "Urban residential land", "residential", "#d64f6e"),
    LandUse("TMD", "Đất thương mại, dịch vụ", "Commercial and service land", "other", "#b07cc6"),
    LandUse("SKC", "Đất cơ sở sản xuất phi nông nghiệp", "Non-agricultural production land", "other", "#9a7fb5"),
    LandUse("SKK", "Đất khu công nghiệp", "Industrial park land", "other", "#7d6a9e"),
    LandUse("DGT", "Đất giao thông", "Transport land", "infrastructure", "#a8a8a8"),
    LandUse("DTL", "Đất thủy lợi", "Irrigation land", "infrastructure", "#6fa8c9"),
    LandUse("SON", "Đất sông, ngòi, kênh, rạch, suối", "Rivers and canals", "water", "#5b9bd5"),
    LandUse("MNC", "Đất có mặt nước chuyên dùng", "Special-use water surface", "water", "#3f7fb5"),
)

GROUP_NAMES: dict[str, tuple[str, str]] = {
    "rice": ("Đất trồng lúa", "Rice land"),
    "other_agriculture": ("Đất nông nghiệp khác", "Other agricultural land"),
    "residential": ("Đất ở", "Residential land"),
    "infrastructure": ("Đất hạ tầng", "Infrastructure land"),
    "water": ("Mặt nước", "Water"),
    "other": ("Đất khác", "Other land"),
}

_BY_CODE: dict[str, LandUse] = {lu.code: lu for lu in LANDUSE_TABLE}


def normalize_code(value: object) -> str:
    """Return a land-use code in canonical form: NFC, stripped, upper case (``" luc "`` → ``"LUC"``)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return unicodedata.normalize("NFC", str(value)).strip().upper()


def lookup(code: str) -> LandUse:
    """Return the table entry for a (normalised) code; raise ``KeyError`` when it is unknown."""
    return _BY_CODE[code]


#: Square metres in a hectare: every table reports both.
M2_PER_HA = 10_000.0


def group(code: str) -> str:
    """The group of a (normalised) code; "other" for codes not in the table."""
    lu = _BY_CODE.get(code)
    return lu.group if lu else "other"


def is_known(code: str) -> bool:
    """True when ``code`` is in the table."""
    return code in _BY_CODE


def name(code: str, lang: str = "vi") -> str:
    """The display name of ``code`` in ``lang`` ("vi" or "en"); the code itself when unknown."""
    lu = _BY_CODE.get(code)
    if lu is None:
        return code
    return lu.name_vi if lang == "vi" else lu.name_en


def color(code: str) -> str:
    """The map colour of ``code`` (grey for unknown codes)."""
    lu = _BY_CODE.get(code)
    return lu.color if lu else "#cccccc"


def table() -> pd.DataFrame:
    """The code table as a DataFrame (columns ``code, name_vi, name_en, group, color``)."""
    return pd.DataFrame([lu.__dict__ for lu in LANDUSE_TABLE])
