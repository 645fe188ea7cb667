"""Q1's public API: rows, reference formulas from the engine, and whole-submission grading."""

from __future__ import annotations

import builtins
import json
import time
from pathlib import Path

import pytest

from grading.engine import answer_key, cell_names, parse_spec
from grading.formulas import (
    Q1_ROWS, FormulaMark, grade_formulas, parse_formula, reference_formulas, to_mathml,
)
from grading.formulas.numeric import evaluate, mpf

SPEC = Path(__file__).resolve().parents[1] / "grading" / "specs" / "homework-4.1.json"

# The seed's answer column, typed as a student would (with its χ for x).
SEED_ANSWERS = {
    "s1": "w11 × x1 + w21 × x2 + b1",
    "s2": "w12 × x1 + w22 × x2 + b2",
    "f1": "sigmoid(s1)",
    "f2": "sigmoid(s2)",
    "L": "(y1 − f1)²/2 + (y2 − f2)²/2",
    "dL/df1": "f1 − y1",
    "dL/df2": "f2 − y2",
    "dL/ds1": "dL/df1 × f1 × (1 − f1)",
    "dL/ds2": "dL/df2 × f2 × (1 − f2)",
    "dL/db1": "dL/ds1 × 1",
    "dL/db2": "dL/ds2 × 1",
    "dL/dw11": "dL/ds1 × χ1",
    "dL/dw21": "dL/ds1 × χ2",
    "dL/dw12": "dL/ds2 × χ1",
    "dL/dw22": "dL/ds2 × χ2",
}


def test_rows_are_the_seeds_in_its_order() -> None:
    """The 15 rows of the 2×2 homework, forward then backward, as the seed lists them."""
    assert Q1_ROWS(2, 2) == ["s1", "s2", "f1", "f2", "L", "dL/df1", "dL/df2", "dL/ds1", "dL/ds2",
                             "dL/db1", "dL/db2", "dL/dw11", "dL/dw21", "dL/dw12", "dL/dw22"]


@pytest.mark.parametrize(("n", "m"), [(1, 1), (2, 2), (3, 2), (2, 3), (9, 9)])
def test_rows_follow_the_engine_names(n: int, m: int) -> None:
    """For any size, the rows are the engine's s, f, L and backward cells."""
    names = cell_names(n, m)
    forward = [c for c in names["forward"] if c[0] in "sfL" and "-" not in c]
    assert Q1_ROWS(n, m) == forward + names["backward"]
    assert set(reference_formulas(n, m)) == set(Q1_ROWS(n, m))


def test_reference_formulas_are_the_engines() -> None:
    """The reference texts are the engine graph's formulas, L spelled out through y - f."""
    refs = reference_formulas(2, 2)
    assert refs["s1"] == "w11*x1 + w21*x2 + b1"
    assert refs["f1"] == "sigmoid(s1)"
    assert refs["L"] == "(y1 - f1)^2/2 + (y2 - f2)^2/2"
    assert refs["dL/ds1"] == "dL/df1 * f1 * (1 - f1)"
    assert refs["dL/dw21"] == "dL/ds1 * x2"


@pytest.mark.parametrize("round_no", [1, 2, 3, 4])
def test_every_reference_formula_reproduces_the_engine_value(round_no: int) -> None:
    """Each reference formula, evaluated at the round's values, equals the engine's cell."""
    key = answer_key(parse_spec(json.loads(SPEC.read_text())))
    env = {name: mpf(key.value(round_no, "parameters", name))
           for name in cell_names(2, 2)["parameters"]}
    for row, text in reference_formulas(2, 2).items():
        column = "backward" if row.startswith("dL/") else "forward"
        env[row] = mpf(key.value(round_no, column, row))
        got = evaluate(parse_formula(text), env)
        assert abs(float(got) - key.value(round_no, column, row)) < 1e-12, row


def test_the_seeds_answer_column_gets_full_marks() -> None:
    """The seed's own answers, typed with ×, −, ² and χ, are all correct."""
    marks = grade_formulas(SEED_ANSWERS)
    assert [m.row for m in marks] == Q1_ROWS(2, 2)
    assert all(isinstance(m, FormulaMark) for m in marks)
    assert [m.status for m in marks] == ["correct"] * 15, [m.message for m in marks]
    assert sum(m.credit for m in marks) == 15
    assert "read 'χ1' as x1" in marks[Q1_ROWS(2, 2).index("dL/dw11")].message


def test_understood_and_mathml_show_what_was_read() -> None:
    """Each mark carries the canonical text and its MathML, what was typed kept as typed."""
    mark = grade_formulas({"dL/dw11": "dL/ds1 × χ1"})[Q1_ROWS(2, 2).index("dL/dw11")]
    assert mark.given == "dL/ds1 × χ1"
    assert mark.understood == "dL/ds1 * x1"
    assert mark.mathml == to_mathml("dL/ds1 * x1")


def test_absent_rows_are_blank_and_unknown_keys_ignored() -> None:
    """Rows missing from the answers are blank; keys that are not rows change nothing."""
    marks = grade_formulas({"f1": "sigmoid(s1)", "(y1-f1)^2": "x1", "dL/dq": "1"})
    assert len(marks) == 15
    assert {m.row: m.status for m in marks}["f1"] == "correct"
    assert [m.status for m in marks].count("blank") == 14
    assert all(m.credit == 0 for m in marks if m.status == "blank")


def test_non_text_answers_are_invalid_not_errors() -> None:
    """A number or a list where text belongs is reported, not raised."""
    marks = {m.row: m for m in grade_formulas({"s1": 3, "s2": ["x1"]})}  # type: ignore[dict-item]
    assert marks["s1"].status == "invalid" and marks["s2"].status == "invalid"


def test_not_chained_credit_is_the_assignments() -> None:
    """An equivalent answer that skips the chain earns the given partial credit."""
    answers = {"dL/ds1": "(f1 - y1)*f1*(1 - f1)"}
    for credit in (0.5, 0.25, 0.0):
        mark = {m.row: m for m in grade_formulas(answers, not_chained_credit=credit)}["dL/ds1"]
        assert mark.status == "not_chained" and mark.credit == credit
        assert "dL/df1" in mark.message


@pytest.mark.parametrize(("n", "m"), [(3, 1), (1, 3)])
def test_other_sizes_grade_their_own_chain(n: int, m: int) -> None:
    """An n×m assignment grades its own rows: the engine's formulas there are all correct."""
    marks = grade_formulas(reference_formulas(n, m), n_inputs=n, n_outputs=m)
    assert [mk.status for mk in marks] == ["correct"] * len(Q1_ROWS(n, m))


def test_a_short_time_limit_gives_undecided_not_wrong() -> None:
    """When time runs out the rows still waiting are undecided, and the call returns (a hang
    guard with room for a busy machine, not a measure of speed)."""
    start = time.monotonic()
    marks = grade_formulas(SEED_ANSWERS, time_limit=0.05)
    assert time.monotonic() - start < 5
    assert {m.status for m in marks} <= {"correct", "undecided"}
    assert all(m.credit == 0 for m in marks if m.status == "undecided")


def test_student_text_never_reaches_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile answers are graded with eval and exec unusable, here and in the checker's child.

    Only the import system may still call exec (to run a library module that a first grading
    imports lazily); any other call raises. The rows decided in the forked child show a call
    there: the child's exception comes back as a failed check, so those rows would not be
    "correct".
    """
    import sys

    calls: list[object] = []

    def trapped(real):
        def trap(*args: object, **kwargs: object) -> object:
            if sys._getframe(1).f_code.co_filename.startswith("<frozen importlib"):
                return real(*args, **kwargs)
            calls.append(args)
            raise AssertionError("eval/exec called")
        return trap

    monkeypatch.setattr(builtins, "eval", trapped(builtins.eval))
    monkeypatch.setattr(builtins, "exec", trapped(builtins.exec))
    hostile = {"s1": "__import__('os').system('true')", "s2": "().__class__.__base__",
               "f1": "lambda: 1", "f2": "9^9^9", "L": "factorial(10**7)"}
    checked_in_child = {row: text for row, text in SEED_ANSWERS.items() if row not in hostile}
    marks = {m.row: m for m in grade_formulas({**checked_in_child, **hostile})}
    assert calls == []
    assert all(marks[row].status == "invalid" for row in hostile), [marks[r].message for r in hostile]
    assert [marks[row].status for row in checked_in_child] == ["correct"] * len(checked_in_child), \
        [marks[row].message for row in checked_in_child]


def test_concurrent_threads_grade_independently() -> None:
    """The web server is threaded: parallel gradings (each forking its own checker) all finish."""
    from concurrent.futures import ThreadPoolExecutor

    submissions = [SEED_ANSWERS, {"s1": "9^9^9", "f1": "sigmoid(s1)"}] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(grade_formulas, submissions))
    assert [m.status for m in results[0]] == ["correct"] * 15
    assert {m.row: m.status for m in results[1]}["s1"] == "invalid"
    assert {m.row: m.status for m in results[1]}["f1"] == "correct"


@pytest.mark.parametrize("row, text, mistake_id", [
    ("dL/df1", "2*(f1 - y1)", "no_half"),
    ("dL/df2", "y2 - f2", "sign_flipped"),
    ("dL/ds1", "dL/df1", "no_sigmoid_derivative"),
    ("dL/ds2", "dL/df2 * s2 * (1 - s2)", "derivative_from_s"),
    ("s1", "w11*x1 + w21*x2", "no_bias"),
    ("s2", "w21*x1 + w22*x2 + b2", "index_swapped"),
    ("dL/dw21", "dL/ds1 * x1", "wrong_input"),
    ("dL/db1", "dL/ds1 * x1", "bias_gradient_times_x"),
    ("L", "(y1 - f1)^2 + (y2 - f2)^2", "no_half"),
])
def test_a_wrong_formula_that_is_a_named_mistake_says_so(row, text, mistake_id):
    """Q1 names the same misconceptions as the tables, from the same data (grading.mistakes)."""
    from grading.mistakes import get_mistake

    mistake = get_mistake(mistake_id)
    mark = next(m for m in grade_formulas({row: text}) if m.row == row)
    assert mark.status == "incorrect" and mark.credit == 0
    assert mistake.title in mark.message and mistake.explanation in mark.message


def test_a_wrong_formula_that_is_no_named_mistake_names_none():
    """A wrong answer that none of the mistakes explains gets no mistake's explanation."""
    from grading.mistakes import MISTAKES

    mark = next(m for m in grade_formulas({"f1": "1/(1 + exp(s1))"}) if m.row == "f1")
    assert mark.status == "incorrect"
    assert not any(m.explanation in mark.message for m in MISTAKES)
