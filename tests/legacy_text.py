"""Make Vietnamese text look as legacy software saved it (for tests): TCVN3, VNI, Windows-1258 read as Latin-1."""

from __future__ import annotations

import unicodedata

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # grave, acute, tilde, hook above, dot below


def to_charmap(text: str, name: str) -> str:
    """Unicode → the glyph string a TCVN3 or VNI font shows (viparse's tables, inverted)."""
    from viparse.normalize.tcvn3 import TCVN3
    from viparse.normalize.vni import VNI

    cm = {"tcvn3": TCVN3, "vni": VNI}[name]
    rev = sorted(((u, legacy) for legacy, u in cm.pairs), key=lambda p: -len(p[0]))
    text = unicodedata.normalize("NFC", text)
    out, i = [], 0
    while i < len(text):
        for u, legacy in rev:
            if text.startswith(u, i):
                out.append(legacy)
                i += len(u)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def to_cp1258_as_latin1(text: str) -> str:
    """Unicode → Windows-1258 bytes (tone marks combining, as that code page stores them) → read as Latin-1."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        out.append(base + tones)
    return "".join(out).encode("cp1258").decode("latin-1")
