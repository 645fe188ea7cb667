"""Marking's fast path gives exactly the report of the straightforward one.

The marker drafts only the cells that are not plainly correct (a value within the band of the
key is correct whatever the rest of the submission holds), builds its marks without the frozen
dataclass's slow ``__init__``, and the key reads the numpy trace through a gather plan shared by
problems of one shape. Each is compared here with the straightforward way: every cell drafted and
marked in turn (``shortcut=False``), ``CellMark(...)`` itself, and each cell read from the
trace's arrays one by one as written out below.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
import random
from pathlib import Path
from typing import Any

import pytest

from grading.engine import answer_key, parse_spec, train_one
from grading.engine.graph import build_graph, trace_values
from grading.engine.text import Text
from grading.marking import CellMark, MarkingRules
from grading.marking.tables import _Marker
from grading.mistakes import mistake_key
from tests.test_marking_training import KINDS, SLIPS, _spec, student

ROOT = Path(__file__).resolve().parent.parent


def _fields(x: Any) -> Any:
    """A mark or root as plain data, each message with its structure (template and parameters)."""
    if isinstance(x, Text):
        return ("text", str.__str__(x), json.dumps(x.to_data(), sort_keys=True, default=repr))
    if dataclasses.is_dataclass(x):
        return (type(x).__name__, *((f.name, _fields(getattr(x, f.name))) for f in dataclasses.fields(x)))
    if isinstance(x, dict):
        return sorted((k, _fields(v)) for k, v in x.items())
    if isinstance(x, (list, tuple)):
        return [_fields(v) for v in x]
    return x


def both(spec: Any, answers: Any, rules: MarkingRules) -> tuple[Any, Any]:
    key = answer_key(spec)
    fast = _Marker(key, answers, rules).marks()
    plain = _Marker(key, answers, rules, shortcut=False).marks()
    return _fields(fast), _fields(plain)


def _edit(answers: dict, rng: random.Random, how: str) -> dict:
    """``answers`` with some cells changed as a careless or gaming student would."""
    out = copy.deepcopy(answers)
    cells = [(table, column, name) for table in out["rounds"] for column in ("parameters", "forward", "backward",
                                                                             "updated")
             for name in table.get(column, {})]
    if how == "blank and junk":
        for table, column, name in rng.sample(cells, max(2, len(cells) // 8)):
            table[column][name] = rng.choice(["", "abc", "1,5", "0", "nan", "  "])
    elif how == "truncated":
        for table, column, name in rng.sample(cells, max(2, len(cells) // 6)):
            text = table[column][name]
            if "e" not in text:
                table[column][name] = text[:-1]
    elif how == "guesses":  # a mostly wrong round 1: no carried credit there
        for table, column, name in cells:
            if table["round"] == 1 and rng.random() < 0.7:
                table[column][name] = f"{rng.uniform(-1, 1):.4f}"
    elif how == "same everywhere":
        for table, column, name in cells:
            if table["round"] == 2 and column == "forward":
                table[column][name] = "0.5000"
    elif how == "blank round 2 parameters":  # filled from the student's own round 1 update
        for table in out["rounds"]:
            if table["round"] == 2:
                table["parameters"] = {}
    return out


RULES = [MarkingRules(), MarkingRules(carried_cap=0.2, unexplained_roots="none"),
         MarkingRules(decimals=3, detect_mistakes=False, unexplained_roots="carry")]


@pytest.mark.parametrize(("kind", "slip", "size"), SLIPS[::2], ids=lambda v: str(v))
def test_a_slipped_submission_gets_the_same_report_either_way(kind: tuple, slip: tuple, size: float) -> None:
    """One slip carried through (issue 20's kinds): every mark, message and root the same as
    marking every cell in turn, under three assignments' rules."""
    data = _spec(kind)
    answers = student(data, (slip, size))
    spec = parse_spec(data)
    for rules in RULES:
        fast, plain = both(spec, answers, rules)
        assert fast == plain
    statuses = {m.status for m in _Marker(answer_key(spec), answers, RULES[0]).marks()[0]}
    assert "carried" in statuses or "pending" in statuses, "the case must exercise follow-through"


@pytest.mark.parametrize("how", ["blank and junk", "truncated", "guesses", "same everywhere",
                                 "blank round 2 parameters"])
def test_careless_and_gaming_submissions_get_the_same_report_either_way(how: str) -> None:
    """Blank and unreadable cells, truncated values, a round of guesses, one number typed
    everywhere, blank copied parameters: the same report as marking every cell in turn."""
    rng = random.Random(how)
    kind = KINDS[1] if len(how) % 2 else KINDS[2]  # momentum, a batch of 2; or Adam
    data = _spec(kind)
    answers = _edit(student(data, SLIPS[0][1:] if kind == KINDS[1] else None), rng, how)
    spec = parse_spec(data)
    for rules in RULES[:2]:
        fast, plain = both(spec, answers, rules)
        assert fast == plain
    marks = _Marker(answer_key(spec), answers, RULES[0]).marks()[0]
    assert any(m.status != "correct" for m in marks)


def _homework() -> dict:
    return json.loads((ROOT / "grading/specs/homework-4.1.json").read_text())


@pytest.mark.parametrize(("source", "mistake"), [("homework-4.1", "no_sigmoid_derivative"),
                                                 ("momentum", "momentum_sign"), ("adam", "no_bias_correction")])
def test_a_named_mistake_gets_the_same_report_either_way(source: str, mistake: str) -> None:
    """The tables of a student with one named mistake (Homework 4.1's, momentum's, Adam's), each
    cell written to 4 places, and a slip in round 2: the same report as marking every cell in turn."""
    data = {"homework-4.1": _homework, "momentum": lambda: _spec(KINDS[0]), "adam": lambda: _spec(KINDS[2])}[source]()
    spec = parse_spec(data)
    key = answer_key(spec)
    values = mistake_key(spec, mistake)
    rounds: dict[int, dict[str, Any]] = {}
    for cell in key.graph.gradable():
        k = cell.key
        value = values[k] + (0.1 if (k.round, k.quantity, k.index) == (2, "s", (1,)) else 0.0)
        text = f"{value:.4e}" if k.quantity in ("v_w", "v_b", "vhat_w", "vhat_b") else f"{value:.4f}"
        rounds.setdefault(k.round, {"round": k.round}).setdefault(k.column, {})[cell.name] = text
    answers = {"rounds": [rounds[r] for r in sorted(rounds)]}
    for rules in RULES:
        fast, plain = both(spec, answers, rules)
        assert fast == plain
    assert mistake in {m.mistake for m in _Marker(key, answers, RULES[0]).marks()[0]}


def test_the_marks_are_frozen_cell_marks_equal_to_ones_made_by_their_constructor() -> None:
    """A mark made without CellMark's ``__init__`` is a CellMark: equal to one made by it, frozen,
    and it survives pickling (reports cross processes in a regrade)."""
    data = _spec(KINDS[2])
    spec = parse_spec(data)
    marks = _Marker(answer_key(spec), student(data), MarkingRules()).marks()[0]
    mark = marks[0]
    assert type(mark) is CellMark
    made = CellMark(**{f.name: getattr(mark, f.name) for f in dataclasses.fields(CellMark)})
    assert mark == made and hash(mark.index) == hash(made.index)
    with pytest.raises(dataclasses.FrozenInstanceError):
        mark.status = "incorrect"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(marks)) == marks
    assert dataclasses.replace(mark, status="incorrect").status == "incorrect"


def _cell_by_cell(graph: Any, trace: Any) -> dict:
    """Each cell read from the trace's arrays one at a time: the row of its round, or of its
    sample ((round − 1)·batch + sample), then its index."""
    batch = graph.spec.batch
    out = {}
    for key in graph.cells:
        array = trace.array(key.column, key.quantity, key.layer, reduced=key.sample == 0)[0]
        row = (key.round - 1) * batch + key.sample - 1 if key.sample else key.round - 1
        value = array[row]
        for k in key.index:
            value = value[k - 1]
        out[key] = float(value)
    return out


@pytest.mark.parametrize("kind", [KINDS[0], KINDS[3], KINDS[6]], ids=lambda v: f"{v[0]['kind']}-b{v[1]}-{v[3]}")
def test_the_key_reads_each_cell_as_a_cell_by_cell_read_of_the_trace(kind: tuple) -> None:
    """The key's values equal a cell-by-cell read of the numpy trace, for two problems of one
    shape read one after the other (they share the gather plan and the computed cells, not
    their numbers)."""
    first, second = _spec(kind, seed=3), _spec(kind, seed=3)
    second["samples"] = [{"x": [round(v + 0.25, 2) for v in s["x"]], "y": s["y"]} for s in second["samples"]]
    second["layers"][0]["biases"] = [b + 0.5 for b in second["layers"][0]["biases"]]
    for data in (first, second, first):
        spec = parse_spec(data)
        graph = build_graph(spec)
        trace = train_one(spec)
        assert trace_values(graph, trace) == _cell_by_cell(graph, trace)
        assert answer_key(spec).values == _cell_by_cell(graph, trace)
        x = [c for c in graph.cells.values() if c.key.quantity == "x"][0]
        assert x.value == data["samples"][0]["x"][x.key.index[0] - 1]
    a, b = answer_key(parse_spec(first)), answer_key(parse_spec(second))
    assert a.values != b.values


def test_the_fast_constructor_sets_every_field_of_a_cell_mark_in_order() -> None:
    """A field added to CellMark must be added to the marker's fast constructor too: same names,
    same order (otherwise a mark would lack it)."""
    import inspect

    from grading.marking.tables import _Unfrozen

    fields = [f.name for f in dataclasses.fields(CellMark)]
    assert list(inspect.signature(_Unfrozen.__init__).parameters)[1:] == fields
    assert _Unfrozen.__slots__ == CellMark.__slots__ == tuple(fields)
