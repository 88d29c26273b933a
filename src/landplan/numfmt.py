"""Numbers as a reader of the chosen language writes them: 3.823,4 in Vietnamese, 3,823.4 in English."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

#: Thousands and decimal separators per language.
SEPARATORS: dict[str, tuple[str, str]] = {"vi": (".", ","), "en": (",", ".")}


def format_number(value: float | None, decimals: int = 1, lang: str = "vi", *, sign: bool = False) -> str:
    """``value`` with ``decimals`` decimals and the language's separators; "" for ``None`` and NaN.

    Rounds half away from zero on the exact binary value, as JavaScript's ``toFixed`` does, so the
    map page (``landplan.js``, ``fmt``) writes every number exactly as this function does.
    ``sign`` writes "+" before positive numbers (differences).

    >>> format_number(3823.44, 1, "vi"), format_number(3823.44, 1, "en")
    ('3.823,4', '3,823.4')
    >>> format_number(0.125, 2, "en"), format_number(-1234567.0, 0, "vi")
    ('0.13', '-1.234.567')
    """
    if value is None or not math.isfinite(value):
        return ""
    thousands, point = SEPARATORS["en" if lang == "en" else "vi"]
    q = Decimal(abs(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    whole, _, frac = f"{q:f}".partition(".")
    groups = f"{int(whole):,}".replace(",", thousands)
    text = groups + (point + frac if decimals > 0 else "")
    if q == 0:
        return text
    return ("-" if value < 0 else "+" if sign else "") + text
