"""The grader end to end, without the database: totals, reviews, and junk that must not crash it."""
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading import engine

from grading.grade import grader
from grading.grade.report import Report

SPEC = engine.parse_spec(json.loads(
    (Path(__file__).resolve().parent.parent / "grading" / "specs" / "homework-4.1.json").read_text()))
TABLES_ONLY = grader.GradingConfig(
    questions=tuple(q for q in grader.default_questions(SPEC) if q.kind != "formulas"))
NAMES = engine.cell_names(2, 2)


def rounded_answers(decimals: int = 4) -> dict:
    """Every gradable cell of every round: the engine's value rounded to ``decimals``."""
    key = engine.answer_key(SPEC)
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        table = rounds.setdefault(cell.key.round, {"round": cell.key.round})
        table.setdefault(cell.key.column, {})[cell.name] = f"{key.values[cell.key]:.{decimals}f}"
    return {"rounds": list(rounds.values())}


def test_complete_rounded_submission_scores_every_question():
    """The key rounded to 4 places earns every table point and the plot (Q1 left blank)."""
    report = grader.grade_submission(SPEC, rounded_answers(), grader.GradingConfig(
        questions=grader.default_questions(SPEC)))
    assert report.scores() == {"Q1": 0, "Q2": 35, "Q3": 35, "Q4": 35, "Q5": 35, "Q6": 5}
    assert report.total == 145 and report.max == 100 and report.max_with_extra == 175
    assert all(c.status == "correct" for c in report.cells)
    assert list(report.loss.student) == [round(v, 4) for v in report.loss.key]


def test_plot_points_follow_the_weakest_loss_cell():
    """One wrong L cell takes Q6's points away; the other questions lose only that cell."""
    answers = rounded_answers()
    answers["rounds"][2]["forward"]["L"] = "0.9999"
    report = grader.grade_submission(SPEC, answers, TABLES_ONLY)
    scores = report.scores()
    assert scores["Q6"] == 0
    assert scores["Q4"] == pytest.approx(35 * 30 / 31, abs=1e-3)


def test_report_survives_storage_as_json_unchanged():
    """A report written to JSON and read back is the same typed report, with its schema."""
    answers = rounded_answers()
    answers["rounds"][0]["forward"]["s1"] = "0.4700"
    answers["formulas"] = {"s1": "w11*x1 + w21*x2 + b1", "f1": "s1"}
    report = grader.grade_submission(SPEC, answers, grader.GradingConfig(
        questions=grader.default_questions(SPEC)))
    stored = json.loads(json.dumps(report.to_json()))
    assert stored["schema"] == 4
    assert stored["cells"][0]["id"] == "r1.forward.s1"
    assert (stored["cells"][0]["layer"], stored["cells"][0]["quantity"], stored["cells"][0]["index"]) == (1, "s", [1])
    assert Report.from_json(stored) == report


def test_report_from_before_the_ledger_reads_with_ids_and_scores():
    """A report stored by the earlier grader (schema 0, no ids) reads back whole."""
    data = json.loads((Path(__file__).parent / "data" / "report_schema0.json").read_text())["report"]
    report = Report.from_json(data)
    assert report.total == data["total"] and report.max == data["max"]
    # 4 rounds of 9 forward, 10 backward and 6 updated cells, and rounds 2-4's 6 parameters.
    assert len(report.cells) == len(data["cells"]) == 4 * (9 + 10 + 6) + 3 * 6
    wrong = report.cell("r1.forward.s1")
    assert wrong.given == "0.4700" and wrong.status == "incorrect"
    assert report.formula("dL/df1").status == "incorrect"
    assert [m.id for m in report.mistakes] == [m["id"] for m in data["mistakes"]]
    assert report.mistakes[0].cells[0].id == "r{round}.{column}.{name}".format(**data["mistakes"][0]["cells"][0])
    # Schema 0 stored names only: the structure comes from the engine's single-layer table.
    assert (wrong.layer, wrong.quantity, wrong.index) == (1, "s", (1,))
    w21 = report.cell("r2.parameters.w21")
    assert (w21.layer, w21.quantity, w21.index) == (1, "w", (2, 1))
    assert {(c.quantity, c.layer) for c in report.cells if c.name == "L"} == {("L", None)}
    assert all(c.quantity for c in report.cells) and report.schema == 4


junk = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=20)
cell_text = st.one_of(st.text(max_size=40), st.sampled_from(["0.46", "nan", "1e999", "-.0", "\x00", "‮1"]))
shaped = st.fixed_dictionaries({"rounds": st.lists(st.fixed_dictionaries({
    "round": st.integers(min_value=-1, max_value=6),
    "forward": st.dictionaries(st.sampled_from(NAMES["forward"]), cell_text, max_size=9),
    "backward": st.dictionaries(st.sampled_from(NAMES["backward"]), cell_text, max_size=10),
    "updated": st.dictionaries(st.sampled_from(NAMES["updated"]), cell_text, max_size=6),
    "parameters": st.dictionaries(st.sampled_from(NAMES["parameters"]), junk, max_size=4),
}), max_size=5)})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.one_of(junk, shaped))
def test_any_answers_give_a_report_never_an_exception(answers):
    """Whatever arrives as answers, the grader returns a full report with sane scores."""
    report = grader.grade_submission(SPEC, answers, TABLES_ONLY)
    assert len(report.cells) == len(engine.answer_key(SPEC).graph.gradable())
    for q in report.questions:
        assert 0 <= q.score <= q.max + 1e-9
    assert {c.status for c in report.cells} <= {"correct", "carried", "incorrect", "blank", "invalid"}
    assert Report.from_json(json.loads(json.dumps(report.to_json()))) == report  # storable as JSON
