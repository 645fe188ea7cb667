"""The ledger's pure rules: staff changes replayed on a report, and what differs between two.

Expected scores are worked out here by hand from the homework's layout (Q2 = 35 points over the
25 cells of round 1, Q1 = 30 points over 15 rows), not read from the grader.
"""
import json
from dataclasses import replace
from pathlib import Path

import pytest

from grading import engine

from grading.grade import grader, ledger
from grading.grade.report import Report

SPEC = engine.parse_spec(json.loads(
    (Path(__file__).resolve().parent.parent / "grading" / "specs" / "homework-4.1.json").read_text()))
CONFIG = grader.GradingConfig(questions=grader.default_questions(SPEC))


def round1(slip: str | None = None) -> dict:
    """Round 1 typed to 4 places from the engine's key; ``slip`` names one cell typed as 0.9999."""
    key = engine.answer_key(SPEC)
    table = {"round": 1}
    for cell in key.graph.gradable(1):
        text = "0.9999" if cell.name == slip and cell.key.column == "backward" else \
            f"{key.values[cell.key]:.4f}"
        table.setdefault(cell.key.column, {})[cell.name] = text
    return {"rounds": [table], "formulas": {"s1": "w11*x1 + w21*x2 + b1"}}


def applied(change: ledger.Change, record: int = 2, **kw) -> ledger.Applied:
    defaults = {"reason": "looked again", "note": "", "by": "prof", "at": "2026-11-28T12:00:00+07:00"}
    return ledger.Applied(change=change, record=record, **{**defaults, **kw})


@pytest.fixture(scope="module")
def slipped() -> Report:
    return grader.grade_submission(SPEC, round1(slip="dL/dw22"), CONFIG)


def test_a_cell_set_correct_earns_its_share_of_the_round(slipped):
    """dL/dw22 wrong, then set correct by staff: Q2 gains 35/25 and the total with it."""
    cell = slipped.cell("r1.backward.dL/dw22")
    assert cell.status == "incorrect" and slipped.question("Q2").score == pytest.approx(35 * 24 / 25)
    after = ledger.apply(slipped, [applied(ledger.Change("cell", "r1.backward.dL/dw22", "correct", 1.0),
                                           note="your working shows the right value")])
    assert after.question("Q2").score == pytest.approx(35)
    assert after.total == pytest.approx(slipped.total + 35 / 25)
    changed = after.cell("r1.backward.dL/dw22")
    assert changed.status == "correct" and changed.given == cell.given
    assert "your working shows the right value" in changed.message and cell.message in changed.message
    [adjustment] = after.adjustments
    assert (adjustment.kind, adjustment.target, adjustment.before, adjustment.after, adjustment.by) == (
        "cell", "r1.backward.dL/dw22", "incorrect (0)", "correct (1)", "prof")
    assert slipped.cell("r1.backward.dL/dw22").status == "incorrect"  # the report itself is unchanged


def test_question_and_total_points_win_over_the_marks(slipped):
    """A question's points set by staff stay put when a cell of it changes later; a total wins."""
    q2 = ledger.Change("question", "Q2", points=20.0)
    cell = ledger.Change("cell", "r1.backward.dL/dw22", "correct", 1.0)
    after = ledger.apply(slipped, [applied(q2), applied(cell, record=3)])
    assert after.question("Q2").score == 20
    assert after.total == pytest.approx(slipped.total - slipped.question("Q2").score + 20)
    total = ledger.apply(after, [applied(ledger.Change("total", points=50.0), record=4)])
    assert total.total == 50
    assert [a.before for a in total.adjustments] == [
        f"{slipped.question('Q2').score:g}", "incorrect (0)", f"{after.total:g}"]


def test_a_reviewed_formula_row_scores_and_drops_the_review_message(slipped):
    """An undecided row accepted on review earns its 30/15 points and no longer says it waits."""
    undecided = replace(slipped, formulas=tuple(
        replace(f, status="undecided", credit=0.0, points=0.0,
                message="could not decide; an instructor will review this row")
        if f.row == "f1" else f for f in slipped.formulas))
    assert undecided.undecided_rows == ("f1",)
    after = ledger.apply(undecided, [applied(ledger.Change("formula", "f1", "correct", 1.0), review=True)])
    assert after.formula("f1").points == pytest.approx(30 / 15)
    assert after.question("Q1").score == pytest.approx(undecided.question("Q1").score + 30 / 15)
    assert after.formula("f1").message == "reviewed by staff" and after.undecided_rows == ()


@pytest.mark.parametrize("change, message", [
    (ledger.Change("cell", "r9.forward.s1", "correct", 1.0), "no cell"),
    (ledger.Change("cell", "r1.forward.s1", "undecided", 1.0), "mark must be one of"),
    (ledger.Change("cell", "r1.forward.s1", "correct", 1.5), "credit must be between 0 and 1"),
    (ledger.Change("formula", "zz", "correct", 1.0), "no Q1 row"),
    (ledger.Change("question", "Q2", points=36.0), "between 0 and 35"),
    (ledger.Change("question", "Q9", points=1.0), "no question"),
    (ledger.Change("total", points=-1.0), "between 0 and 175"),
    (ledger.Change("bonus", "x"), "unknown kind"),
])
def test_changes_that_do_not_fit_the_report_are_refused(slipped, change, message):
    """A change to a cell that does not exist, or with points out of range, says what is wrong."""
    with pytest.raises(ledger.ChangeError, match=message):
        ledger.check(slipped, change)


def test_diff_lists_exactly_the_marks_that_change():
    """Graded at 4 and then at 2 decimals, the diff lists the cells whose status changes, and
    the question and total scores; the same report against itself has no difference."""
    answers = round1()
    answers["rounds"][0]["forward"]["s1"] = "0.46"  # right at 2 decimals, short at 4 -> still right
    answers["rounds"][0]["backward"]["dL/df1"] = "-0.39"  # 2 places of -0.386986: wrong at 4, right at 2
    at4 = grader.grade_submission(SPEC, answers, CONFIG)
    at2 = grader.grade_submission(SPEC, answers, grader.GradingConfig(questions=CONFIG.questions, decimals=2))
    d = ledger.diff(at4, at2)
    assert [(c.id, c.old, c.new) for c in d.cells] == [("r1.backward.dL/df1", "incorrect", "correct")]
    assert d.questions == (("Q2", at4.question("Q2").score, at2.question("Q2").score),)
    assert d.changed and (d.old_total, d.new_total) == (at4.total, at2.total)
    assert not ledger.diff(at4, at4).changed


def test_a_regrade_fingerprint_tells_apart_every_field_it_names_and_not_the_wording():
    """The fingerprint of what a regrade would write (``ledger.digest``) is the same for a report
    and its copy read back from storage, differs when any mark, score, root or staff change it
    names differs, and stays when only a message's wording does (the grader words it from them).
    """
    import math

    answers = round1()
    answers["rounds"][0]["forward"]["s1"] = "0.5600"  # a digit slip, f1 carried from it: a root
    answers["rounds"][0]["forward"]["f1"] = f"{1 / (1 + math.exp(-0.56)):.4f}"
    graded = grader.grade_submission(SPEC, answers, CONFIG)
    report = ledger.apply(graded, [applied(ledger.Change("question", "Q2", points=20.0))])
    [root] = report.roots
    assert report.adjustments and root.carried == ("r1.forward.f1",)
    read_back = Report.from_json(json.loads(json.dumps(report.to_json())))
    assert read_back == report and read_back is not report
    assert ledger.digest(read_back) == ledger.digest(report)

    cell, row, question, adjustment = report.cells[0], report.formulas[0], report.questions[1], report.adjustments[0]

    def with_cell(**kw):
        return replace(report, cells=(replace(cell, **kw),) + report.cells[1:])

    def with_row(**kw):
        return replace(report, formulas=(replace(row, **kw),) + report.formulas[1:])

    variants = {
        "total": replace(report, total=report.total + 1),
        "decimals": replace(report, decimals=3),
        "grader": replace(report, grader_version="another"),
        "question score": replace(report, questions=report.questions[:1] + (
            replace(question, score=question.score - 1),) + report.questions[2:]),
        "question points": replace(report, questions=report.questions[:1] + (
            replace(question, max=question.max + 5),) + report.questions[2:]),
        "cell status": with_cell(status="carried" if cell.status != "carried" else "correct"),
        "cell credit": with_cell(credit=0.5),
        "cell typed": with_cell(given="0.4601"),
        "cell expected": with_cell(expected=cell.expected + 1e-12),
        "cell mistake": with_cell(mistake="sign"),
        "row status": with_row(status="incorrect"),
        "row credit": with_row(credit=0.25),
        "row points": with_row(points=row.points + 1),
        "root state": replace(report, roots=(replace(root, state="declined"),)),
        "root copied": replace(report, roots=(replace(root, copied_from=("ben",)),)),
        "root carried": replace(report, roots=(replace(root, carried=()),)),
        "staff points": replace(report, adjustments=(replace(adjustment, points=21.0),)),
        "staff record": replace(report, adjustments=(replace(adjustment, record=3),)),
        "no staff change": replace(report, adjustments=()),
    }
    fingerprints = {name: ledger.digest(r) for name, r in variants.items()}
    assert [n for n, f in fingerprints.items() if f == ledger.digest(report)] == []
    assert len(set(fingerprints.values())) == len(variants)
    assert ledger.digest(with_cell(message="worded otherwise")) == ledger.digest(report)
    assert len(ledger.digest(report)) == 32 and int(ledger.digest(report), 16) >= 0
