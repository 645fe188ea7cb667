"""Q1 under hostile or repeated input: a slow row, numbers too large, a crashing check, the cache."""
from __future__ import annotations

import builtins
import os

import pytest

from grading.formulas import VERDICTS, VerdictCache, check, grade_formulas, parse_formula
from grading.formulas.cache import Verdict
from grading.formulas.numeric import compare
from grading.formulas.rows import q1_table

ROWS = ["s1", "s2", "f1", "f2", "L", "dL/df1", "dL/df2", "dL/ds1", "dL/ds2", "dL/db1", "dL/db2",
        "dL/dw11", "dL/dw21", "dL/dw12", "dL/dw22"]
# The homework's answer column, written here rather than read from the code under test.
GOOD = {
    "s1": "w11*x1 + w21*x2 + b1", "s2": "w12*x1 + w22*x2 + b2",
    "f1": "sigmoid(s1)", "f2": "1/(1 + exp(-s2))",
    "L": "(y1 - f1)^2/2 + (y2 - f2)^2/2",
    "dL/df1": "f1 - y1", "dL/df2": "f2 - y2",
    "dL/ds1": "dL/df1 * f1 * (1 - f1)", "dL/ds2": "dL/df2 * f2 * (1 - f2)",
    "dL/db1": "dL/ds1", "dL/db2": "dL/ds2",
    "dL/dw11": "dL/ds1 * x1", "dL/dw21": "dL/ds1 * x2", "dL/dw12": "dL/ds2 * x1",
    "dL/dw22": "dL/ds2 * x2",
}
# s1 plus an expanded zero that sympy needs far more than the time limit for; its values stay
# small enough for the numeric check to find it equal, so it is the first row checked.
B = "((w11 + x1 + w21 + x2 + b1 + b2 + y1 + y2 + w12 + w22)/16 + 2)"
SLOW_S1 = f"({B}^32 + 1)^2 - {B}^64 - 2*{B}^32 - 1 + w11*x1 + w21*x2 + b1"


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """Counts the processes forked by grading (each fork appends here, in this process)."""
    count: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        count.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    return count


def test_one_slow_row_costs_the_other_fourteen_nothing():
    """A row that sympy cannot finish in time leaves the fourteen others decided (correct)."""
    table = q1_table(2, 2)
    assert compare(parse_formula(SLOW_S1), table["s1"].expr, check._points(2, 2)).verdict == "equal"
    marks = {m.row: m for m in grade_formulas({**GOOD, "s1": SLOW_S1})}
    others = [row for row in ROWS if row != "s1"]
    assert [marks[row].status for row in others] == ["correct"] * 14, \
        [marks[row].message for row in others]
    assert marks["s1"].status in ("undecided", "correct")  # a much faster machine may decide it
    if marks["s1"].status == "undecided":
        assert "ran out of time" in marks["s1"].message


@pytest.mark.parametrize("text, culprit", [
    ("9^9^9", "9^9^9"),
    ("10^10^10", "10^10^10"),
    ("2^(3^40)", "2^3^40"),
    ("exp(exp(100))", "exp(100)"),
    ("w11*x1 + w21*x2 + b1 + 9^9^9^9", "9^9^9^9"),
    ("w11*x1 + w21*x2 + b1 + x1^(9^9)", "x1^9^9"),
    ("w11*x1 + w21*x2 + b1 + 10^41", "10^41"),
])
def test_numbers_too_large_are_refused_at_once(forks, text, culprit):
    """Such a row is invalid with a message naming the culprit, decided before any child runs."""
    mark = next(m for m in grade_formulas({"s1": text}) if m.row == "s1")
    assert mark.status == "invalid" and mark.credit == 0
    assert mark.message.startswith(f"number too large to check: {culprit} ")
    assert forks == []


def test_ordinary_powers_are_still_checked():
    """Squares, halves written 2^-1 and e^(-s) are read and checked as before."""
    answers = {"f1": "1/(1 + e^(-s1))", "L": "2^-1*(y1 - f1)^2 + (y2 - f2)^2*2^-1",
               "dL/ds1": "dL/df1*(f1 - f1^2)", "dL/df1": "(f1 - y1)^1"}
    marks = {m.row: m for m in grade_formulas(answers)}
    assert {row: marks[row].status for row in answers} == dict.fromkeys(answers, "correct")


def test_a_checker_that_raises_in_the_child_makes_the_row_undecided_saying_why(monkeypatch):
    """A symbolic check that calls a trapped eval in the forked child shows up in each row."""
    def trap(*args, **kwargs):
        raise AssertionError("eval called")

    def forbidden(answer, row, table):
        return eval(row)

    monkeypatch.setattr(builtins, "eval", trap)
    monkeypatch.setattr(check, "equivalent", forbidden)
    marks = {m.row: m for m in grade_formulas({"s1": GOOD["s1"], "f1": GOOD["f1"]})}
    for row in ("s1", "f1"):
        assert marks[row].status == "undecided"
        assert "the check failed: AssertionError" in marks[row].message


# ------------------------------------------------------------------ the verdict cache


def test_a_second_identical_submission_is_not_forked_and_gets_the_same_marks(forks):
    """With a cache, the second grading of the same formulas forks nothing and marks the same."""
    uncached = grade_formulas(GOOD)
    cache = VerdictCache()
    before = len(forks)
    first = grade_formulas(GOOD, cache=cache)
    assert len(forks) > before  # the first one was checked in a child
    before = len(forks)
    second = grade_formulas(GOOD, cache=cache)
    assert len(forks) == before
    assert second == first == uncached
    assert cache.hits == len(ROWS)


def test_the_cache_knows_a_formula_typed_differently(forks):
    """The key is the formula as understood: × and χ hit the entry of * and x, notes kept."""
    cache = VerdictCache()
    grade_formulas({"dL/dw11": "dL/ds1 * x1"}, cache=cache)
    before = len(forks)
    mark = next(m for m in grade_formulas({"dL/dw11": "dL/ds1 × χ1"}, cache=cache)
                if m.row == "dL/dw11")
    assert len(forks) == before
    assert (mark.status, mark.given, mark.credit) == ("correct", "dL/ds1 × χ1", 1.0)
    assert mark.message == "correct; read 'χ1' as x1"


def test_the_cache_keys_on_the_unchained_credit_and_the_network():
    """The same text under another credit or another network shape is checked again."""
    cache = VerdictCache()
    answer = {"dL/ds1": "(f1 - y1)*f1*(1 - f1)"}
    low = next(m for m in grade_formulas(answer, not_chained_credit=0.25, cache=cache)
               if m.row == "dL/ds1")
    high = next(m for m in grade_formulas(answer, not_chained_credit=0.75, cache=cache)
                if m.row == "dL/ds1")
    assert (low.status, low.credit, high.status, high.credit) == ("not_chained", 0.25,
                                                                 "not_chained", 0.75)
    wide = next(m for m in grade_formulas(answer, n_inputs=3, cache=cache) if m.row == "dL/ds1")
    assert wide.status == "not_chained" and cache.hits == 0


def test_undecided_rows_are_not_cached(monkeypatch):
    """A row undecided because its check could not run is checked again next time."""
    cache = VerdictCache()
    real_fork = os.fork

    def no_more_processes() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_more_processes)
    first = next(m for m in grade_formulas({"s1": GOOD["s1"]}, cache=cache) if m.row == "s1")
    assert first.status == "undecided" and len(cache) == 0
    monkeypatch.setattr(os, "fork", real_fork)
    again = next(m for m in grade_formulas({"s1": GOOD["s1"]}, cache=cache) if m.row == "s1")
    assert again.status == "correct" and len(cache) == 1


def test_the_cache_is_bounded_and_forgets_the_least_recently_used():
    """Past its size the cache drops the entry unused the longest; undecided never enters."""
    cache = VerdictCache(maxsize=2)
    keys = [(f"x{k}", "s1", 2, 2, 0.5) for k in range(3)]
    cache.put(keys[0], Verdict("correct", "correct", 1.0))
    cache.put(keys[1], Verdict("incorrect", "no"))
    assert cache.get(keys[0]) is not None  # now the most recently used
    cache.put(keys[2], Verdict("incorrect", "no"))
    assert cache.get(keys[1]) is None and cache.get(keys[0]) is not None and len(cache) == 2
    cache.put(("y", "s1", 2, 2, 0.5), Verdict("undecided", "later"))
    assert cache.get(("y", "s1", 2, 2, 0.5)) is None


def test_grading_uses_no_cache_unless_asked(forks):
    """Without ``cache=`` nothing is remembered: the shared VERDICTS stays as it was."""
    size = len(VERDICTS)
    grade_formulas(GOOD)
    before = len(forks)
    grade_formulas(GOOD)
    assert len(forks) > before and len(VERDICTS) == size


def test_blank_rows_stay_blank_when_the_time_is_up():
    """Out of time, a typed row waits for staff ("undecided"); a blank row is simply blank,
    so it never joins the review queue."""
    marks = {m.row: m.status for m in grade_formulas({"s1": "w11*x1 + w21*x2 + b1"},
                                                      time_limit=1e-6)}
    assert marks["s1"] == "undecided"
    assert {status for row, status in marks.items() if row != "s1"} == {"blank"}


def test_an_exact_repeat_of_a_typed_formula_is_not_even_parsed_again(monkeypatch):
    """A class types the same few texts: the second time the whole mark comes from the cache,
    without parsing; a text typed differently but meaning the same is parsed, then hits the
    verdict cache; both give the same status as the first."""
    cache = VerdictCache()
    first = {m.row: m for m in grade_formulas({"s1": "w11*x1 + w21*x2 + b1"}, cache=cache)}
    parses = []
    real = check.parse_with_notes
    monkeypatch.setattr(check, "parse_with_notes", lambda *a, **k: parses.append(a[0]) or real(*a, **k))
    again = {m.row: m for m in grade_formulas({"s1": "w11*x1 + w21*x2 + b1"}, cache=cache)}
    assert parses == [] and again["s1"] == first["s1"]
    other = {m.row: m for m in grade_formulas({"s1": "w11 * x1 + w21 * x2 + b1"}, cache=cache)}
    assert parses == ["w11 * x1 + w21 * x2 + b1"] and other["s1"].status == first["s1"].status == "correct"
