"""Reading small parameters of a request: never an exception, whatever is sent."""

from __future__ import annotations


def id_param(text: str | None, *, limit: int = 10**12) -> int:
    """A record's id (or a small count) from a query or form value: 0 unless it is a short run
    of ASCII digits below ``limit`` ("²" and 5,000 digits are 0, not an error)."""
    if not text or len(text) > 13 or not (text.isascii() and text.isdigit()):
        return 0
    number = int(text)
    return number if number < limit else 0
