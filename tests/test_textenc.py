"""Legacy Vietnamese encodings are detected per column and converted; Unicode and other text are left alone."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

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


def _marks_by_regex(arr: object) -> list[bool]:
    import pyarrow.compute as pc

    return [bool(v) for v in pc.match_substring_regex(arr, "[\u0300-\u036f]").fill_null(False).to_pylist()]


def test_combining_marks_found_as_the_regex_finds_them():
    import unicodedata

    import pyarrow as pa

    nfd = [unicodedata.normalize("NFD", n) for n in NAMES]
    values = [NAMES[0], nfd[1], None, "", "P1", nfd[3], "Ĉ", "\u0340", "x\u036f", "\u036f\u0370", "Ͱ", nfd[5]]
    arr = pa.array(values, type=pa.string())
    # sliced arrays (an offset into shared buffers), no bytes at all, other string layouts
    for a in (arr, arr.slice(1), arr.slice(3, 5), arr.fill_null(""), pa.array([], pa.string()), pa.array(["", None]),
              arr.cast(pa.large_string()), pa.array(NAMES, pa.string())):
        assert textenc.combining_marks(a).tolist() == _marks_by_regex(a)
    assert textenc.combining_marks(arr).tolist() == [False, True, False, False, False, True, False, True, True, True, False, True]


@given(st.lists(st.one_of(st.none(), st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x3ff), max_size=6)),
                max_size=30), st.integers(0, 30))
@settings(max_examples=200, deadline=None)
def test_combining_marks_property(values: list[str | None], start: int):
    import pyarrow as pa

    arr = pa.array(values, type=pa.string()).slice(min(start, len(values)))
    assert textenc.combining_marks(arr).tolist() == _marks_by_regex(arr)


def test_sample_reads_only_what_it_needs():
    """The sample is the distinct non-ASCII values joined by lines, cut at the sample size; values past a
    full sample are not read."""
    long = ["ễ" * 1500 + str(i) for i in range(3)]

    def values():
        yield from [None, float("nan"), "P1", "Đức", "Đức", 12, *long]
        raise AssertionError("read past a full sample")

    assert textenc._sample(values()) == "\n".join(["Đức", *long])[:textenc._SAMPLE]
    assert textenc._sample(pd.Series(["Đức", None, "Hạnh", "Đức"], dtype=object)) == "Đức\nHạnh"
    assert textenc._sample([]) == ""


def test_combining_marks_across_blocks(monkeypatch):
    """Bytes scanned a few at a time (the block made tiny): the same values found as the regex finds."""
    import unicodedata

    import pyarrow as pa

    monkeypatch.setattr(textenc, "_BLOCK", 3)
    for values in (["Hộ 1", "P2", "", None, "Nguyễn Văn Bé", "x"], ["a", unicodedata.normalize("NFD", "Đức"), "b", "ć"]):
        arr = pa.array(values * 3, type=pa.string())
        for a in (arr, arr.slice(2)):
            assert textenc.combining_marks(a).tolist() == _marks_by_regex(a)
