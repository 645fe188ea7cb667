"""The grader end to end, without the database: totals, reviews, and junk that must not crash it."""
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grading import engine, grader

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
        table.setdefault(cell.key.column, {})[cell.key.name] = f"{key.values[cell.key]:.{decimals}f}"
    return {"rounds": list(rounds.values())}


def test_complete_rounded_submission_scores_every_question():
    """The key rounded to 4 places earns every table point and the plot (Q1 left blank)."""
    report = grader.grade_submission(SPEC, rounded_answers(), grader.GradingConfig(
        questions=grader.default_questions(SPEC)))
    scores = {q["id"]: q["score"] for q in report["questions"]}
    assert scores == {"Q1": 0, "Q2": 35, "Q3": 35, "Q4": 35, "Q5": 35, "Q6": 5}
    assert report["total"] == 145 and report["max"] == 100 and report["max_with_extra"] == 175
    assert all(c["status"] == "correct" for c in report["cells"])
    assert report["loss"]["student"] == [round(v, 4) for v in report["loss"]["key"]]


def test_plot_points_follow_the_weakest_loss_cell():
    """One wrong L cell takes Q6's points away; the other questions lose only that cell."""
    answers = rounded_answers()
    answers["rounds"][2]["forward"]["L"] = "0.9999"
    report = grader.grade_submission(SPEC, answers, TABLES_ONLY)
    scores = {q["id"]: q["score"] for q in report["questions"]}
    assert scores["Q6"] == 0
    assert scores["Q4"] == pytest.approx(35 * 30 / 31, abs=1e-3)


def test_rescore_applies_reviews_to_undecided_rows_only():
    """An accepted undecided row earns its points; a review of a decided row changes nothing."""
    report = {
        "questions": [{"id": "Q1", "kind": "formulas", "max": 30, "score": 0.0},
                      {"id": "Q2", "kind": "round", "max": 35, "score": 35.0}],
        "formulas": [{"row": "s1", "status": "undecided", "credit": 0.0},
                     {"row": "s2", "status": "incorrect", "credit": 0.0}],
        "total": 35.0,
    }
    rescored = grader.rescore(report, {"s1": True, "s2": True})
    assert rescored["total"] == pytest.approx(50)
    assert [r["points"] for r in rescored["formulas"]] == [15, 0]
    assert grader.rescore(report, {"s1": False})["total"] == pytest.approx(35)
    assert report["total"] == 35.0  # the stored report is not changed


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
    assert len(report["cells"]) == len(engine.answer_key(SPEC).graph.gradable())
    for q in report["questions"]:
        assert 0 <= q["score"] <= q["max"] + 1e-9
    assert {c["status"] for c in report["cells"]} <= {"correct", "carried", "incorrect", "blank", "invalid"}
    json.dumps(report)  # storable as JSON
