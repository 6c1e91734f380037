"""Whole numbers typed by people or sent by clients, read strictly.

`str.isdigit()` alone is not enough: it accepts "²" and other Unicode digits that int() refuses,
and a thousand digits that no column can hold.
"""

from __future__ import annotations

MAX_DIGITS = 18


def whole_number(text: str, *, low: int = 0, high: int = 10**MAX_DIGITS - 1) -> int | None:
    """The value of an ASCII decimal between low and high, else None."""
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        return None
    value = int(text)
    return value if low <= value <= high else None
