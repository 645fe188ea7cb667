"""Reading what a student typed into a cell, the tolerance band, and hints for near misses."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal, TypeAlias, Union

from grading.engine.text import Text, _

MAX_LENGTH = 40
MAX_EXPONENT = 99

# Matched on ASCII only, after Thai and full-width characters are read as theirs (below); any
# other script's digits are named in the message rather than guessed at.
_NUMBER = re.compile(r"[+-]?(?:(\d+)(?:\.(\d*))?|\.(\d+))(?:[eE]([+-]?\d+))?", re.ASCII)
# Thai digits ๐-๙ (a Thai keyboard types them) and the full-width forms of ASCII (an East Asian
# input method types ０．４６): same value, so read as 0-9, '.', '-', 'e'. The text is kept as typed.
_AS_ASCII = {**{0x0E50 + k: ord("0") + k for k in range(10)},
             **{0xFF01 + k: 0x21 + k for k in range(0x5E)},
             0x2212: ord("-"), 0x3000: ord(" ")}


def band(decimals: int) -> float:
    """Half-width of the tolerance band for ``decimals`` places: 0.51 × 10^-decimals."""
    return 0.51 * 10.0 ** -decimals


def band_text(decimals: int) -> str:
    """The band as students read it, e.g. '±0.000051' for 4 places."""
    return f"±{band(decimals):.{decimals + 2}f}"


# A cell's text read as a number is one of three kinds, told apart by ``status`` ("number",
# "blank" or "invalid"). Every kind has the same four attributes (value None and decimals 0 where
# there is no number, message "" where nothing is wrong), and checking the status narrows the
# type: after ``parsed.status == "number"``, ``parsed.value`` is a float.
@dataclass(frozen=True, slots=True)
class Number:
    """A number as typed: its value and its decimal places as written (4.6e-1 has 2)."""

    value: float
    decimals: int = 0
    status: Literal["number"] = field(default="number", init=False)
    message: Literal[""] = field(default="", init=False)


@dataclass(frozen=True, slots=True)
class Blank:
    """Nothing typed (or only spaces)."""

    status: Literal["blank"] = field(default="blank", init=False)
    value: None = field(default=None, init=False)
    message: Literal[""] = field(default="", init=False)
    decimals: Literal[0] = field(default=0, init=False)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Not a number: why, as a grading.engine.text.Text."""

    message: str
    status: Literal["invalid"] = field(default="invalid", init=False)
    value: None = field(default=None, init=False)
    decimals: Literal[0] = field(default=0, init=False)


ParsedNumber: TypeAlias = Union[Number, Blank, Unreadable]


def _invalid(message: Text) -> ParsedNumber:
    return Unreadable(message)


# What a number's text (or a near miss the messages below name) is made of; any other character is named.
_NUMBER_CHARS = frozenset("0123456789.+-eE,/%")


def _why_not(text: str) -> Text:
    low = text.lower()
    if "nan" in low:
        return _("NaN is not a number: type a decimal value such as 0.4600")
    if "inf" in low or "∞" in text:
        return _("infinity is not an answer: type a finite decimal value")
    stray = next((ch for ch in text if ch not in _NUMBER_CHARS and not ch.isspace() and not ch.isdigit()), None)
    if stray is not None:
        # Markup, letters, symbols: say which character, never guess at a comma or a fraction in <b>1</b>.
        shown = f"'{stray}'" if stray.isprintable() else f"U+{ord(stray):04X}"
        return _("not a number: %(character)s is not part of a number; type digits with one point, "
                 "e.g. -0.0367 or 4.6e-1", character=shown)
    if "," in text:
        return _("use a point for decimals, not a comma")
    if text.count(".") > 1:
        return _("more than one decimal point")
    if "/" in text:
        return _("type a decimal number, not a fraction")
    if any(ch.isspace() for ch in text):
        return _("remove the space inside the number")
    if "%" in text:
        # xgettext:no-python-format
        return _("leave out the % sign")
    if any(ch.isdigit() and not ch.isascii() for ch in text):
        return _("use the digits 0-9 (Thai digits ๐-๙ and full-width digits are read too)")
    if not any(ch.isdigit() for ch in text):
        return _("not a number: type digits, e.g. 0.4600")
    if re.search(r"[eE][+-]?$", text):
        return _("the exponent after e has no digits")
    if any(ch in "+-" and k > 0 and text[k - 1] not in "eE" for k, ch in enumerate(text)):
        return _("a sign may only stand at the start (or right after e)")
    return _("not a number: type digits with one point, e.g. -0.0367 or 4.6e-1")


def parse_number(text: object) -> ParsedNumber:
    """Read a typed cell; never raises. Blank for empty or whitespace, invalid with a reason."""
    if text is None:
        return Blank()
    if not isinstance(text, str):
        return _invalid(_("not a typed value"))
    if len(text) > MAX_LENGTH:
        return _invalid(_("too long: at most %(n)s characters", n=MAX_LENGTH))
    return _parse_text(text)


@lru_cache(maxsize=1 << 16)
def _parse_text(text: str) -> ParsedNumber:
    """``parse_number`` of a string of at most MAX_LENGTH characters: a pure function of the text
    (its results are frozen), kept for the texts a class types again and again (a regrade
    reads every attempt's cells twice)."""
    s = text.strip()
    if not s:
        return Blank()
    s = s.translate(_AS_ASCII)  # Thai and full-width digits; the Unicode minus sign pasted from a document
    match = _NUMBER.fullmatch(s)
    if match is None:
        return _invalid(_why_not(s))
    exponent = int(match.group(4) or 0)
    if exponent > MAX_EXPONENT:
        return _invalid(_("the number is too large"))
    if exponent < -MAX_EXPONENT:
        return _invalid(_("the exponent is out of range (at most e-%(max)s); write 0 if you mean zero",
                          max=MAX_EXPONENT))
    value = float(s)
    if not math.isfinite(value):  # pragma: no cover - excluded by the exponent bound
        return _invalid(_("the number is too large"))
    fraction = match.group(2) or match.group(3) or ""
    return Number(value + 0.0, max(0, len(fraction) - exponent))


def _quantize(value: float, places: int, rounding: str) -> Decimal | None:
    """``value`` at ``places`` decimals; None when that needs more digits than Decimal keeps
    (a target recomputed from a typed 1e20 squared is 1e40: no rounding hint for it)."""
    try:
        return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=rounding)
    except InvalidOperation:
        return None


def looks_truncated(value: float, places: int, target: float) -> bool:
    """True when ``value`` is ``target`` cut off (not rounded) at ``places`` decimals."""
    if places > 15 or not math.isfinite(target):
        return False
    cut = _quantize(target, places, ROUND_DOWN)
    return cut is not None and cut != _quantize(target, places, ROUND_HALF_UP) \
        and Decimal(repr(value)) == cut


def looks_rounded(value: float, places: int, target: float) -> bool:
    """True when ``value`` is ``target`` correctly rounded (half up) at ``places`` decimals."""
    if places > 15 or not math.isfinite(target):
        return False
    rounded = _quantize(target, places, ROUND_HALF_UP)
    return rounded is not None and Decimal(repr(value)) == rounded


def rounds_from_range(value: float, places: int, lo: float, hi: float) -> bool:
    """True when ``value`` is some number of [lo, hi] rounded at ``places`` decimals."""
    if places > 15:
        return lo <= value <= hi
    half = 0.5 * 10.0 ** -places
    # Inclusive and a hair wide: a rounding that may have been right is never called truncation.
    return lo - half * (1 + 1e-9) <= value <= hi + half * (1 + 1e-9)


def hints(parsed: ParsedNumber, decimals: int, targets: list[float],
          ranges: Sequence[tuple[float, float]] = ()) -> list[Text]:
    """Hints for a wrong number: truncated rather than rounded, or too few decimals.

    A value that is some target (such as the one recomputed from the student's own upstream
    cells) correctly rounded at its own decimals was rounded, not truncated: no such hint; nor
    when it is the rounding of some point of a range (the recomputed cell over what the
    student's typed upstream values stand for).
    """
    out = []
    value, places = parsed.value, parsed.decimals
    if (value is not None and any(looks_truncated(value, places, t) for t in targets)
            and not any(looks_rounded(value, places, t) for t in targets)
            and not any(rounds_from_range(value, places, lo, hi) for lo, hi in ranges)):
        out.append(_("looks truncated rather than rounded: round to %(decimals)s decimals",
                     decimals=decimals))
    if parsed.decimals < decimals:
        out.append(_("fewer than %(decimals)s decimals: you gave %(given)s", decimals=decimals,
                     given=parsed.decimals))
    return out
