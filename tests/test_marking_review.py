"""Marking as a careful human marker would do it: findings of a review with realistic students.

Every student here is worked out through the engine's graph from their *own* values (what they
wrote down), so no expected number is hard-coded. Pure pytest, no database.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grading.engine import CellId, cell_name, single_layer_cell, answer_key, build_graph, parse_spec
from grading.formulas import grade_formulas
from grading.marking import CellMark, mark_tables

ROOT = Path(__file__).resolve().parent.parent
SPEC = parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))
KEY = answer_key(SPEC)

Override = Callable[[CellId, dict[CellId, float], float], "float | None"]


def student(write: Callable[[float], str] = lambda v: f"{v:.4f}", override: Override | None = None,
            blank: Callable[[CellId], bool] = lambda k: False) -> dict[str, Any]:
    """Answers of a student who works every cell from their own written values.

    ``override(cell, own values so far, right value)`` returns what they compute instead (or
    None); ``blank`` says which cells they leave empty (they still use the value themselves).
    """
    graph = build_graph(SPEC)
    vals: dict[CellId, float] = {}
    rounds: dict[int, dict[str, Any]] = {}
    for k, cell in graph.cells.items():
        if cell.given:
            vals[k] = cell.value  # type: ignore[assignment]
            continue
        v = cell.fn(*(vals[d] for d in cell.deps))  # type: ignore[misc]
        changed = override(k, vals, v) if override else None
        text = write(v if changed is None else changed)
        vals[k] = float(text)
        if cell.gradable and not blank(k):
            rounds.setdefault(k.round, {"round": k.round}).setdefault(k.column, {})[cell_name(k, 1)] = text
    return {"rounds": [rounds[r] for r in sorted(rounds)]}


def marks_of(answers: dict[str, Any]) -> dict[CellId, CellMark]:
    return {single_layer_cell(m.round, m.column, m.name): m for m in mark_tables(KEY, answers)}


# ------------------------------------------------------------------ rounding hints


@pytest.mark.parametrize("places", [2, 3])
def test_rounding_to_fewer_decimals_is_never_called_truncation(places: int) -> None:
    """A student who rounds every value to 2 (or 3) decimals and carries them is told 'fewer
    than 4 decimals', never 'looks truncated': each value is their own value correctly rounded."""
    marks = marks_of(student(write=lambda v: f"{v:.{places}f}"))
    wrong = [m for m in marks.values() if m.status == "incorrect"]
    assert wrong
    assert all("fewer than 4 decimals" in m.message for m in wrong)
    assert not [m for m in wrong if "truncated" in m.message]


def test_truncating_student_is_still_told_so() -> None:
    """The hint still names truncation when the value is no target's correct rounding."""
    from decimal import ROUND_DOWN, Decimal

    cut = lambda v: str(Decimal(repr(v)).quantize(Decimal("0.0001"), rounding=ROUND_DOWN))  # noqa: E731
    wrong = [m for m in marks_of(student(write=cut)).values() if m.status == "incorrect"]
    assert wrong and all("looks truncated" in m.message for m in wrong)


# ------------------------------------------------------------------ round 2+ parameters


def test_blank_parameters_of_later_rounds_fall_back_on_the_previous_update() -> None:
    """A student who leaves round 2-4's parameter cells blank (thinking them given) loses those
    cells only: the rest of the round follows through from their own previous updated values,
    and a carried message says where the value came from."""
    answers = student(blank=lambda k: k.round >= 2 and k.column == "parameters")
    marks = marks_of(answers)
    params = [m for k, m in marks.items() if k.round >= 2 and k.column == "parameters"]
    assert params and all(m.status == "blank" and m.credit == 0 for m in params)
    rest = [m for k, m in marks.items() if not (k.round >= 2 and k.column == "parameters")]
    assert all(m.status in ("correct", "carried") for m in rest), [
        (m.round, m.name, m.message) for m in rest if m.status not in ("correct", "carried")]
    carried = [m for m in rest if m.status == "carried" and m.round >= 2 and m.name == "s1"]
    assert carried and "from your round 1 update" in carried[0].message


def test_blank_parameter_without_an_update_gives_no_carried_credit() -> None:
    """The fallback needs the student's own updated value: both blank, nothing is carried."""
    answers = student(blank=lambda k: (k.round == 1 and k.column == "updated" and cell_name(k, 1) == "w11")
                      or (k.round == 2 and k.column == "parameters" and cell_name(k, 1) == "w11"),
                      override=lambda k, v, p: p + 0.01 if k == single_layer_cell(1, "updated", "w11") else None)
    s1 = marks_of(answers)[single_layer_cell(2, "forward", "s1")]
    assert s1.status == "incorrect" and "w11 is blank" in s1.message


def test_old_weights_in_round_2_name_the_update_to_carry() -> None:
    """Round 2 started from the initial weights: each parameter cell says round 2 starts from
    round 1's updated values and names the student's own updated value."""
    answers = student(override=lambda k, v, p: v[single_layer_cell(1, "parameters", cell_name(k, 1))]
                      if k.column == "parameters" and k.round == 2 else None)
    marks = marks_of(answers)
    w21 = marks[single_layer_cell(2, "parameters", "w21")]
    typed = marks[single_layer_cell(1, "updated", "w21")].given
    assert w21.status == "incorrect"
    assert f"round 2 starts from round 1's updated values: your updated w21 there is {typed}" in w21.message
    # everything after it is carried, as for any other slip
    assert marks[single_layer_cell(2, "forward", "s1")].status == "carried"


# ------------------------------------------------------------------ named mistakes


@pytest.mark.parametrize(("mistake", "cells", "override"), [
    ("not_updated", {"b1", "b2"},
     lambda k, v, p: v[single_layer_cell(k.round, "parameters", cell_name(k, 1))] if k.column == "updated" and cell_name(k, 1)[0] == "b" else None),
    ("bias_gradient_times_x", {"dL/db1", "dL/db2"},
     lambda k, v, p: v[single_layer_cell(k.round, "backward", f"dL/ds{cell_name(k, 1)[-1]}")] * v[single_layer_cell(k.round, "parameters", f"x{cell_name(k, 1)[-1]}")]
     if cell_name(k, 1).startswith("dL/db") else None),
    ("no_half", {"L"}, lambda k, v, p: 2 * p if cell_name(k, 1) == "L" else None),
])
def test_common_slips_are_named(mistake: str, cells: set[str], override: Override) -> None:
    """Forgetting to update b, writing dL/db = dL/ds × x, and L without the ½ are each named in
    every round, and the rest of the table follows through."""
    marks = marks_of(student(override=override))
    named = [m for m in marks.values() if m.mistake == mistake]
    assert {m.name for m in named} == cells and len(named) == 4 * len(cells)
    assert all(m.status in ("correct", "carried") for m in marks.values() if m.mistake is None)


def test_no_mistake_is_read_into_the_same_number_everywhere() -> None:
    """0.3000 typed in every cell equals some initial parameters; it is not 'not updated'."""
    answers = {"rounds": [{"round": r, **{c.key.column: {} for c in build_graph(SPEC).gradable()}}
                          for r in range(1, 5)]}
    for c in build_graph(SPEC).gradable():
        answers["rounds"][c.key.round - 1][c.key.column][c.name] = "0.3000"
    assert all(m.mistake is None and m.status != "carried" for m in marks_of(answers).values())


# ------------------------------------------------------------------ Q1 notation


def verdict(row: str, text: str) -> Any:
    return next(m for m in grade_formulas({row: text}) if m.row == row)


@pytest.mark.parametrize(("row", "text"), [
    ("s1", "w₁₁x₁ + w₂₁x₂ + b₁"),
    ("s1", "w_{11}*x_{1} + w_{21}*x_{2} + b_{1}"),
    ("f1", "f1 = 1/(1 + e^{-s1})"),
    ("L", "½((y1-f1)²+(y2-f2)²)"),
    ("dL/ds1", "dL/df1 * σ'(s1)"),
    ("dL/ds1", "dL/df1 * sigmoid'(s1)"),
    ("dL/ds1", "d L / d f1 * f1 * (1-f1)"),
    ("dL/ds1", "dl/df1*f1*(1-f1)"),
    ("dL/dw11", "dL/dw_{11} = dL/ds_{1} * x_{1}"),
    ("dL/dw11", "d L / d w11 = d L / d s1 * x1"),
    ("dL/dw11", "∂L/∂w₁₁ = ∂L/∂s₁ × x₁"),
])
def test_common_notations_are_read(row: str, text: str) -> None:
    """Subscript digits, LaTeX indices and braces, ½, σ', spaced and lower-case dL/d are read."""
    mark = verdict(row, text)
    assert mark.status == "correct", mark.message


def test_sigmoid_prime_is_chained_and_explained() -> None:
    """σ'(s1) is read as σ(s1)(1 − σ(s1)), and the message says so."""
    mark = verdict("dL/ds1", "dL/df1 * σ'(s1)")
    assert "sigmoid(s1)*(1 - sigmoid(s1))" in mark.understood
    assert "read σ'(a) as sigmoid(a)*(1 - sigmoid(a))" in mark.message


@pytest.mark.parametrize(("row", "text", "says"), [
    ("L", "Σ(y-f)^2/2", "write the sum out term by term"),
    ("s2", "W12*X1 + W22*X2 + B2", "lower case: w12"),
    ("dL/dw11", "dL/dW11 = dL/ds1*x1", "lower case: w11"),
    ("dL/ds1", "dL/df1 * df1/ds1", "df1/ds1 as f1*(1 - f1)"),
])
def test_unreadable_notations_say_how_to_write_them(row: str, text: str, says: str) -> None:
    """Notations we do not read get a message that says how to write them instead."""
    mark = verdict(row, text)
    assert mark.status == "invalid" and says in mark.message
