"""Every plausibility and anti-gaming rule, each with its own test: a value it must refuse and a
near value it must let through (a rule switched off, or drawn too wide, fails its own test).

The key is Homework 4.1's round 1 as printed (s1 = 0.46, f1 = 0.613014, y = (1, 0), ...); the
values tried are chosen from the rules' own statements (grading/marking/plausible.py's docstring),
not from the code.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading.engine import CellId, answer_key, build_graph, parse_spec
from grading.marking import MarkingRules, mark_tables

ROOT = Path(__file__).resolve().parent.parent
SPEC = parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))
GRAPH = build_graph(SPEC)
KEY = answer_key(SPEC)
TOL = 0.51e-4
PRINTED = {"s1": 0.46, "s2": 0.92, "f1": 0.613014, "f2": 0.715042, "y1-f1": 0.386986,
           "y2-f2": -0.715042, "(y1-f1)^2": 0.149758, "(y2-f2)^2": 0.511285, "L": 0.330522,
           "dL/df1": -0.386986, "dL/df2": 0.715042, "dL/ds1": -0.091804, "dL/ds2": 0.145695}


def cell(name: str) -> CellId:
    column = "backward" if name.startswith("dL/") else "forward"
    return GRAPH.find(1, column, name)


def test_the_key_is_the_printed_round_one() -> None:
    """The rules below are read against Homework 4.1's printed round 1 (to its 6 places)."""
    assert {n: round(KEY.values[cell(n)], 6) for n in PRINTED} == PRINTED


def reason(name: str, value: float, student: dict[str, float] | None = None,
           repeated: set[float] | None = None) -> str | None:
    from grading.marking.plausible import implausible

    typed = {cell(n): v for n, v in (student or {}).items()}
    found = implausible(cell(name), value, typed, KEY.values, TOL, repeated or set(), GRAPH)
    return None if found is None else str(found)


# Each rule: (cell, a value it refuses, words of its reason, a near value it lets through).
RULES = {
    "zero where the key is not": ("s1", 0.0, "is 0", 0.0001 + 0.3),
    "far outside any value": ("s1", 101.0, "far outside", 99.0),
    "f outside the sigmoid's range": ("f1", 1.02, "not a sigmoid output", 0.98),
    "f below the sigmoid's range": ("f1", -0.3, "not a sigmoid output", 0.02),
    "f = sigma(0)": ("f1", 0.5, "σ(0) = 0.5", 0.51),
    "y - f larger than it can be": ("y1-f1", 1.05, "larger than y1 − f1 can be", 0.95),
    "(y - f)^2 negative": ("(y1-f1)^2", -0.1, "is not (y1 − f1)²", 0.9),
    "(y - f)^2 above the largest square": ("(y1-f1)^2", 1.2, "is not (y1 − f1)²", 0.99),
    "L negative": ("L", -0.2, "negative", 0.2),
    "output dL/df larger than f - y can be": ("dL/df1", -2.1, "larger than f1 − y1 can be", -1.9),
    "dL/ds against the sign of dL/df": ("dL/ds1", 0.09, "does not follow from your dL/df1", -0.09),
    "dL/ds larger than dL/df under a sigmoid": ("dL/ds1", -0.5, "does not follow from your dL/df1", -0.3),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_each_rule_refuses_its_value_and_passes_a_near_one(rule: str) -> None:
    name, refused, words, passed = RULES[rule]
    student = {"dL/df1": -0.386986} if name.startswith("dL/ds") else {}
    found = reason(name, refused, student)
    assert found is not None and words in found, (rule, found)
    assert reason(name, passed, student) is None, rule


def test_f_copied_from_the_target_is_refused_only_at_the_output() -> None:
    """f1 = y1 = 1 is outside the open range anyway; a tanh... here the copy of y2 = 0 in f2 is
    "0" first. The copy rule is seen with a target inside the range: a 2-2 network's y = 0.3."""
    spec = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())
    spec["samples"][0]["y"] = [0.3, 0.8]
    other = parse_spec(spec)
    graph, key = build_graph(other), answer_key(other)
    from grading.marking.plausible import implausible

    f1 = graph.find(1, "forward", "f1")
    found = implausible(f1, 0.3, {}, key.values, TOL, set(), graph)
    assert found is not None and "copy of the target y1" in str(found)
    assert implausible(f1, 0.32, {}, key.values, TOL, set(), graph) is None


def test_zero_is_plausible_where_the_key_is_zero_too() -> None:
    """A value within the key's band is always plausible, 0 included when the key is 0 there."""
    spec = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())
    spec["samples"][0]["x"] = [0.0, 0.0]
    spec["biases"] = [0.0, 0.5]
    other = parse_spec(spec)
    graph, key = build_graph(other), answer_key(other)
    from grading.marking.plausible import implausible

    s1 = graph.find(1, "forward", "s1")
    assert abs(key.values[s1]) < 1e-12
    assert implausible(s1, 0.0, {}, key.values, TOL, set(), graph) is None
    s2 = graph.find(1, "forward", "s2")
    assert implausible(s2, 0.0, {}, key.values, TOL, set(), graph) is not None


def test_a_value_typed_in_too_many_cells_is_refused_and_five_times_is_not() -> None:
    from grading.marking.plausible import repeated_values

    cells = [cell(n) for n in PRINTED]
    six = {k: (0.25 if i < 6 else KEY.values[k]) for i, k in enumerate(cells)}
    five = {k: (0.25 if i < 5 else KEY.values[k]) for i, k in enumerate(cells)}
    assert repeated_values(six, KEY.values, TOL, max_repeats=5) == {0.25}
    assert repeated_values(five, KEY.values, TOL, max_repeats=5) == set()
    assert "too many cells" in (reason("s2", 0.25, repeated={0.25}) or "")


# ---------------------------------------------------------------- the round's own limits


def typed_round_one(**changes: float) -> dict:
    """Round 1's cells as a student types them (the key to 4 places), with ``changes``."""
    values = {c.name: KEY.values[c.key] for c in GRAPH.gradable(1)}
    values.update(changes)
    table: dict = {"round": 1, "forward": {}, "backward": {}, "updated": {}}
    for c in GRAPH.gradable(1):
        table[c.key.column][c.name] = f"{values[c.name]:.4f}"
    return {"rounds": [table]}


def carried_after_a_slip(answers: dict, rules: MarkingRules) -> list[str]:
    marks = mark_tables(KEY, answers, rules)
    return [m.name for m in marks if m.status == "carried"]


def test_a_slip_in_s1_is_carried_through_f1() -> None:
    """The baseline for the two limits below: s1 = 0.4700 (a slip), f1 = σ(0.47) typed."""
    import math

    answers = typed_round_one(s1=0.47, f1=1 / (1 + math.exp(-0.47)))
    assert any("f1" in c for c in carried_after_a_slip(answers, MarkingRules()))


def test_no_carried_credit_in_a_round_with_more_than_half_wrong() -> None:
    import math

    wrong = {n: 0.1234 + i / 100 for i, n in enumerate(["y1-f1", "(y1-f1)^2", "dL/dw11", "dL/dw21",
                                                          "dL/dw12", "dL/dw22", "w11", "w12", "w21",
                                                          "w22", "b1", "b2", "dL/db1", "dL/db2"])}
    answers = typed_round_one(s1=0.47, f1=1 / (1 + math.exp(-0.47)), **wrong)
    assert carried_after_a_slip(answers, MarkingRules()) == []
    # (So many wrong cells are no honest slips: with the default policy the carried ones wait for review.)
    assert carried_after_a_slip(answers, MarkingRules(max_wrong_share=1.0, unexplained_roots="carry")) != []


def test_the_carried_cap_limits_a_round() -> None:
    import math

    answers = typed_round_one(s1=0.47, f1=1 / (1 + math.exp(-0.47)))
    assert carried_after_a_slip(answers, MarkingRules(carried_cap=0.0)) == []
    assert carried_after_a_slip(answers, MarkingRules(carried_cap=1.0)) != []
