"""Legacy Vietnamese encodings are detected per column and converted; Unicode and other text are left alone."""

from __future__ import annotations

import pandas as pd
import pytest

from landplan import textenc
from tests.legacy_text import to_charmap, to_cp1258_as_latin1

NAMES = ["Nguyễn Văn Đức", "Trần Thị Hạnh", "Lê Thị Thủy", "Phạm Quốc Hùng", "Huỳnh Ngọc Ánh", "Võ Thanh Tâm",
         "Phường Long Tuyền", "Xã Giai Xuân", "Quận Bình Thủy", "Huyện Phong Điền"]


@pytest.mark.parametrize("enc", ["tcvn3", "vni"])
def test_font_encodings_detected_and_converted(enc: str):
    col = pd.Series([to_charmap(n, enc) for n in NAMES])
    assert col.iloc[0] != NAMES[0]
    fixed, found = textenc.repair(col)
    assert found == enc
    assert fixed.tolist() == NAMES


def test_windows_1258_read_as_latin1():
    col = pd.Series([to_cp1258_as_latin1(n) for n in NAMES])
    fixed, found = textenc.repair(col)
    assert found == "cp1258"
    assert fixed.tolist() == NAMES


@pytest.mark.parametrize("values", [NAMES, ["Müller", "José", "Ærø", "Smith"], ["P1", "P2"], []])
def test_unicode_and_other_text_left_alone(values: list[str]):
    col = pd.Series(values, dtype=object)
    fixed, found = textenc.repair(col)
    assert found is None and fixed.tolist() == values
