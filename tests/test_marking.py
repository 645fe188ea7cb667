"""Reading typed numbers, the tolerance band, hints, and the typed text kept as typed."""

from __future__ import annotations

import math
import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grading.engine import answer_key, parse_spec, single_layer_cell
from grading.marking import (MAX_LENGTH, CellMark, MarkingRules, band, band_text, mark_tables,
                             parse_number, round_score)


def make_key(*, w: float = 0.5, x: float = 0.5, b: float = 0.21):
    """A 1×1, one-round key whose s1 = w·x + b (0.46 by default)."""
    return answer_key(parse_spec({"weights": [[w]], "biases": [b], "learning_rate": 1,
                                  "samples": [{"x": [x], "y": [1]}]}))


def mark_s1(text: object, *, decimals: int = 4, **key_args: float) -> CellMark:
    key = make_key(**key_args)
    marks = mark_tables(key, {"rounds": [{"round": 1, "forward": {"s1": text}}]},
                        MarkingRules(decimals=decimals))
    return next(m for m in marks if m.name == "s1")


@pytest.mark.parametrize(("text", "value", "decimals"), [
    ("0.4600", 0.46, 4), ("-.0367", -0.0367, 4), ("4.6e-1", 0.46, 2), (" 0.46 ", 0.46, 2),
    ("+0.46", 0.46, 2), ("1", 1.0, 0), ("5.", 5.0, 0), ("-0", 0.0, 0), ("1E-4", 0.0001, 4),
    ("\t0.5\n", 0.5, 1), ("\u22120.25", -0.25, 2), ("0.00012", 0.00012, 5), ("12e2", 1200.0, 0),
])
def test_numbers(text: str, value: float, decimals: int) -> None:
    """Every way a student writes a number is read, with the decimal places as written."""
    parsed = parse_number(text)
    assert parsed.status == "number"
    assert parsed.value == pytest.approx(value, abs=1e-15)
    assert parsed.decimals == decimals
    assert parsed.message == ""


@pytest.mark.parametrize("text", ["", "   ", "\t\n", None])
def test_blank(text: str | None) -> None:
    """Empty or whitespace-only is blank, not invalid."""
    assert parse_number(text).status == "blank"


@pytest.mark.parametrize(("text", "says"), [
    ("abc", "not a number"), ("nan", "NaN"), ("NaN", "NaN"), ("inf", "infinity"),
    ("-Infinity", "infinity"), ("1,5", "use a point for decimals, not a comma"),
    ("0.4.6", "more than one decimal point"), ("1e999", "too large"), ("1e-999", "exponent"),
    ("0. 46", "space"), ("1/2", "fraction"), ("46%", "%"), ("--1", "sign"), ("1-2", "sign"),
    ("1e", "exponent"), (".", "not a number"), ("-", "not a number"), ("١٢", "digits 0-9"), ("๐,๔๖", "not a comma"),
    ("0x1A", "not a number"), ("1_000", "not a number"), ("x" * (MAX_LENGTH + 1), "too long"),
    ("\x00", "not a number"),
])
def test_invalid_says_what_is_wrong(text: str, says: str) -> None:
    """Each kind of bad input is invalid with a message that names the problem."""
    parsed = parse_number(text)
    assert parsed.status == "invalid" and parsed.value is None
    assert says in parsed.message


@pytest.mark.parametrize(("text", "value", "places"), [
    ("๐.๔๖๐๐", 0.46, 4), ("-๐.๐๓๖๗", -0.0367, 4), ("０．４６００", 0.46, 4), ("－０．０３６７", -0.0367, 4),
    ("４．６ｅ－１", 0.46, 2), ("๑", 1.0, 0), ("0.๔6", 0.46, 2),
])
def test_thai_and_full_width_digits_are_numbers(text: str, value: float, places: int) -> None:
    """Thai digits and full-width digits are read as the numbers they are, with their decimals."""
    parsed = parse_number(text)
    assert (parsed.status, parsed.value, parsed.decimals) == ("number", value, places)


def test_thai_digits_are_marked_and_shown_back_as_typed() -> None:
    """A cell typed in Thai digits is marked by its value; the mark keeps the text as typed."""
    mark = mark_s1("๐.๔๖๐๐")
    assert mark.status == "correct" and mark.given == "๐.๔๖๐๐"


def test_length_bound_edge() -> None:
    """A number of exactly MAX_LENGTH characters is read; one more is refused."""
    text = "0." + "1" * (MAX_LENGTH - 2)
    assert parse_number(text).status == "number"
    assert parse_number(text + "1").status == "invalid"


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=60), st.from_regex(r"\s*[+-]?[0-9]{0,5}\.?[0-9]{0,8}([eE][+-]?[0-9]{1,4})?\s*", fullmatch=True)))
def test_parse_never_raises(text: str) -> None:
    """Any text gives a ParsedNumber; a number is finite and is what float() reads."""
    parsed = parse_number(text)
    assert parsed.status in ("number", "blank", "invalid")
    if parsed.status == "number":
        assert math.isfinite(parsed.value)
        # NFKC reads full-width forms as ASCII; float() itself reads Thai digits.
        assert parsed.value == float(unicodedata.normalize("NFKC", text.strip()).replace("\u2212", "-"))
    else:
        assert parsed.value is None


def test_band() -> None:
    """The band is 0.51 × 10^-d, shown with its digits."""
    assert band(4) == pytest.approx(5.1e-5)
    assert band(2) == pytest.approx(5.1e-3)
    assert band_text(4) == "±0.000051"
    assert band_text(2) == "±0.0051"


@pytest.mark.parametrize(("decimals", "inside", "outside"), [
    (4, ["0.46005", "0.45995", "0.460050", "0.4600"], ["0.460052", "0.459948", "0.4601", "0.4599"]),
    (2, ["0.465", "0.455", "0.46", "0.4650"], ["0.4652", "0.4548", "0.47", "0.45"]),
])
def test_band_edges(decimals: int, inside: list[str], outside: list[str]) -> None:
    """Just inside the band is correct, just outside is incorrect, on both sides of 0.46."""
    for text in inside:
        assert mark_s1(text, decimals=decimals).status == "correct", text
    for text in outside:
        mark = mark_s1(text, decimals=decimals)
        assert mark.status == "incorrect", text
        assert band_text(decimals) in mark.message


def test_truncation_hint() -> None:
    """A value cut off instead of rounded (s1 = 0.45678 typed 0.4567) says it looks truncated."""
    truncated = mark_s1("0.4567", b=0.20678)
    assert truncated.status == "incorrect"
    assert "truncated" in truncated.hint and truncated.hint in truncated.message
    assert mark_s1("0.4568", b=0.20678).status == "correct"
    other = mark_s1("0.4566", b=0.20678)
    assert other.status == "incorrect" and other.hint == ""


def test_negative_truncation_hint() -> None:
    """Truncating a negative value (toward zero) is recognised too."""
    mark = mark_s1("-0.4567", b=-0.70678)  # s1 = -0.45678
    assert mark.status == "incorrect" and "truncated" in mark.hint


def test_fewer_decimals_hint() -> None:
    """A wrong answer with fewer than d decimals says so; a right one with fewer does not."""
    short = mark_s1("0.46", b=0.20678)
    assert short.status == "incorrect"
    assert "fewer than 4 decimals" in short.hint
    exact = mark_s1("0.46")
    assert exact.status == "correct" and exact.hint == ""


@pytest.mark.parametrize("text", [" 0.46 ", "0.4600", "+.46", "1,5", "abc", "  ", "4.6e-1"])
def test_given_is_kept_exactly(text: str) -> None:
    """What the student typed is echoed back exactly, spaces and all."""
    assert mark_s1(text).given == text


def test_statuses_and_credit() -> None:
    """Blank and invalid cells get no credit and say why; the expected value is the key's."""
    blank, invalid = mark_s1(""), mark_s1("1,5")
    assert (blank.status, blank.credit) == ("blank", 0.0)
    assert (invalid.status, invalid.credit) == ("invalid", 0.0)
    assert "comma" in invalid.message
    key = make_key()
    assert blank.expected == key.values[single_layer_cell(1, "forward", "s1")]


def test_round_score_splits_points_evenly() -> None:
    """A round's points are split evenly over its cells, times each cell's credit."""
    key = make_key()
    answers = {"rounds": [{"round": 1, "forward": {"s1": "0.4600", "f1": "0.6130"}}]}
    marks = mark_tables(key, answers)
    n = len([m for m in marks if m.round == 1])
    correct = sum(m.status == "correct" for m in marks)
    assert correct == 2
    assert round_score(marks, 1, 35) == pytest.approx(35 * correct / n)
    assert round_score(marks, 2, 35) == 0.0
