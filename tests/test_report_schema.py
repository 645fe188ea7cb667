"""The report's schema 2: every cell mark carries its structure, and reports stored under
schemas 0 and 1 (single-layer only, names alone) read back with the same structure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading import engine

from grading.grade import grader
from grading.grade.report import SCHEMA_VERSION, Report
from tests.test_marking_layers import HIDDEN, answers_of, work

ROOT = Path(__file__).resolve().parent.parent
HW = engine.parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))


def graded(spec: engine.Spec, answers: dict) -> Report:
    return grader.grade_submission(spec, answers, grader.GradingConfig(questions=grader.default_questions(spec)))


def slipped_hw_answers() -> dict:
    """Homework 4.1 typed from the key with round 1's dL/ds1 left out of the sigmoid derivative."""
    key = engine.answer_key(HW)
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        value = key.values[cell.key]
        if cell.id == "r1.backward.dL/ds1":
            value = key.value(1, "backward", "dL/df1")
        rounds.setdefault(cell.round, {"round": cell.round}).setdefault(cell.column, {})[cell.name] = f"{value:.4f}"
    return {"rounds": list(rounds.values())}


def test_a_layered_report_keeps_each_cells_structure_through_json() -> None:
    """A 2-2-2 report stored as JSON and read back is the same report; each mark's layer,
    quantity and index are its cell's in the engine's graph."""
    spec = engine.parse_spec(HIDDEN)
    report = graded(spec, answers_of(work(HIDDEN)))
    stored = json.loads(json.dumps(report.to_json()))
    assert stored["schema"] == 4 and Report.from_json(stored) == report
    graph = engine.answer_key(spec).graph
    by_id = {c.id: c.key for c in graph.gradable()}
    assert len(report.cells) == len(by_id)
    for mark in report.cells:
        key = by_id[mark.id]
        assert (mark.round, mark.column, mark.layer, mark.quantity, mark.index) == tuple(key)
    assert {m.quantity for m in report.cells if m.layer is None} == {"y-f", "(y-f)^2", "L"}


def test_a_schema_1_report_reads_with_the_structure_it_did_not_store() -> None:
    """A single-layer report stored before schema 2 (cells and a named mistake's cells with
    names only) reads back equal to today's: the structure comes from the engine's name table."""
    report = graded(HW, slipped_hw_answers())
    assert [m.id for m in report.mistakes] == ["no_sigmoid_derivative"]
    old = json.loads(json.dumps(report.to_json()))
    old["schema"] = 1
    for cell in old["cells"] + [c for m in old["mistakes"] for c in m["cells"]]:
        for field in ("layer", "quantity", "index"):
            del cell[field]
    assert Report.from_json(old) == report
    old["schema"] = 0
    for cell in old["cells"]:
        del cell["id"]
    assert Report.from_json(old) == report


def test_a_report_from_newer_code_is_refused() -> None:
    """A schema this code does not know is an error, not a silent misreading."""
    data = graded(HW, {}).to_json()
    data["schema"] = SCHEMA_VERSION + 1
    with pytest.raises(ValueError, match="newer than this code"):
        Report.from_json(data)
