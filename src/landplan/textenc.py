"""Vietnamese text as it really arrives: legacy encodings (TCVN3/ABC, VNI, Windows-1258) turned into Unicode.

Older provincial GIS data often holds names typed with TCVN3 (".VnTime" fonts) or VNI fonts, or a
Windows-1258 DBF read without its code page; on screen they look like ``NguyÔn V¨n §øc``. A text
column is checked as a whole (one encoding per column, as one program wrote it); TCVN3 and VNI are
converted with ``viparse``'s tables; Windows-1258 read as Latin-1 is re-read with Python's codec. A
conversion is chosen only when it makes the column clearly Vietnamese (many more Vietnamese-only
letters, and words without f, j, w or z), so Unicode text and other languages are left alone. Every conversion is reported.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

#: Letters that only Vietnamese uses among Latin scripts; their share tells Vietnamese text apart.
_VIET = set("ăâđêôơưĂÂĐÊÔƠƯ") | set("ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ")
_VIET |= {c.upper() for c in _VIET}
_SAMPLE = 4000
#: How much more of the text must be Vietnamese-only letters after a conversion for it to be chosen.
_MIN_GAIN = 0.12
_WORD = re.compile(r"[^\W\d_]+")
#: Unicode's combining diacritical marks (as a regular expression's class).
_MARKS = "[\u0300-\u036f]"
#: Bytes scanned at a time for them (small enough to reuse the same memory block after block).
_BLOCK = 1 << 16


def _reads_as_vietnamese(text: str) -> bool:
    """Vietnamese has no f, j, w or z: a conversion whose words often hold them is not Vietnamese."""
    words = [w for w in _WORD.findall(text) if len(w) > 1]
    if not words:
        return False
    alien = sum(1 for w in words if set(w.lower()) & set("fjwz")) / len(words)
    return alien <= 0.05


def _viet_share(text: str) -> float:
    letters = [c for c in unicodedata.normalize("NFC", text) if c.isalpha()]
    return sum(c in _VIET for c in letters) / len(letters) if letters else 0.0


def _cp1258(text: str) -> str | None:
    """``text`` re-read as Windows-1258 (it was decoded as Latin-1), or None when that is impossible."""
    try:
        return unicodedata.normalize("NFC", text.encode("latin-1").decode("cp1258"))
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def _sample(values: Iterable[object]) -> str:
    """The text :func:`detect` tries its conversions on: the column's distinct non-ASCII values (missing
    ones left out), one a line, in the order first seen, cut at :data:`_SAMPLE` characters. The values
    are read only until the sample is full."""
    seen: dict[str, None] = {}
    size = -1  # the length of the values joined by newlines
    for v in values:
        if not isinstance(v, str):
            if pd.isna(v):  # type: ignore[call-overload]
                continue
            v = str(v)
        if v.isascii() or v in seen:
            continue
        seen[v] = None
        size += len(v) + 1
        if size >= _SAMPLE:
            break
    return "\n".join(seen)[:_SAMPLE]


def combining_marks(text: Any) -> np.ndarray:
    """Whether each value of a pyarrow ``string`` array holds a combining diacritical mark (U+0300–U+036F),
    as Vietnamese saved in NFD does. In UTF-8 every such mark starts with the byte 0xCC or 0xCD, which
    nothing else starts with: one pass over the array's bytes finds the values that may hold one, and
    only those are matched against the marks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(text)
    out = np.zeros(n, dtype=bool)
    if n == 0:
        return out
    if not pa.types.is_string(text.type):  # other layouts: every value matched
        return np.asarray(pc.match_substring_regex(text, _MARKS).to_numpy(zero_copy_only=False), dtype=bool)
    buffers = text.buffers()
    if buffers[2] is None:  # no bytes at all: every value empty
        return out
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[text.offset:text.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8)[offsets[0]:offsets[-1]]
    # block by block: a temporary the size of a million values' bytes costs more in fresh memory than the scan
    blocks = [np.flatnonzero((data[a:a + _BLOCK] & 0xFE) == 0xCC) + (a + offsets[0]) for a in range(0, len(data), _BLOCK)]
    lead = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.int64)
    if len(lead) == 0:
        return out
    rows = np.unique(np.searchsorted(offsets, lead, side="right") - 1)
    found = pc.match_substring_regex(text.take(pa.array(rows)), _MARKS).to_numpy(zero_copy_only=False)
    out[rows] = np.asarray(found, dtype=bool)
    return out


def detect(values: Iterable[object]) -> str | None:
    """The legacy encoding of a text column ("tcvn3", "vni", "cp1258"), or None when it is Unicode.

    Each candidate conversion is tried on a sample of the column; one is chosen only when it makes
    the text clearly more Vietnamese (a share of Vietnamese-only letters at least
    :data:`_MIN_GAIN` higher than as read), so Unicode text and other languages are left alone.
    """
    import viparse

    sample = _sample(values)
    if not sample:
        return None
    base = _viet_share(sample)
    tried = {"tcvn3": viparse.fix(sample, encoding="tcvn3"), "vni": viparse.fix(sample, encoding="vni"),
             "cp1258": _cp1258(sample)}
    gains = {enc: _viet_share(text) - base for enc, text in tried.items() if text is not None}
    best = max(gains, key=lambda k: gains[k])
    if gains[best] < _MIN_GAIN or not _reads_as_vietnamese(tried[best] or ""):
        return None
    return best


def convert(values: pd.Series, encoding: str) -> pd.Series:
    """Convert a column from ``encoding`` (as returned by :func:`detect`) to Unicode NFC."""
    if encoding == "cp1258":
        return values.map(lambda v: (_cp1258(v) or v) if isinstance(v, str) else v)
    import viparse

    return values.map(lambda v: viparse.fix(v, encoding=encoding) if isinstance(v, str) and not v.isascii() else v)


def repair(values: pd.Series) -> tuple[pd.Series, str | None]:
    """Detect and convert a column; return it (unchanged when Unicode) and the encoding found."""
    enc = detect(values)
    return (convert(values, enc), enc) if enc else (values, None)


NAMES = {"tcvn3": "TCVN3 (ABC)", "vni": "VNI", "cp1258": "Windows-1258"}
