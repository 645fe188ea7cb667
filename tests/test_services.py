"""Services with the database: drafts, submissions, attempts, the server's clock, reviews."""
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from grading import engine, selectors, services
from grading.models import Assignment, Grading, Membership, Submission
from tests.factories import SPEC_4_1, make_assignment, make_member, report_of

pytestmark = pytest.mark.django_db


def key_answers(round_numbers=(1, 2), decimals: int = 4) -> dict:
    """A student's answers: the engine's values of the given rounds, rounded to ``decimals``."""
    key = engine.answer_key(engine.parse_spec(SPEC_4_1))
    rounds = []
    for table in key.to_json()["rounds"]:
        if table["round"] not in round_numbers:
            continue
        typed = {"round": table["round"]}
        for column in ("forward", "backward", "updated"):
            typed[column] = {n: f"{v:.{decimals}f}" for n, v in table[column].items()}
        if table["round"] > 1:
            typed["parameters"] = {n: f"{v:.{decimals}f}" for n, v in table["parameters"].items()
                                   if n[0] in "wb"}
        rounds.append(typed)
    return {"rounds": rounds}


def setup_student():
    assignment = make_assignment()
    student = make_member(course=assignment.course, username="somchai")
    return assignment, student


def test_assignment_create_makes_homework_questions():
    """A new assignment gets Q1..Q6 with the seed's points and extra-credit flags."""
    assignment = make_assignment()
    rows = list(assignment.questions.values_list("number", "kind", "round", "points", "extra_credit"))
    assert rows == [(1, "formulas", None, 30, False), (2, "round", 1, 35, False),
                    (3, "round", 2, 35, False), (4, "round", 3, 35, True),
                    (5, "round", 4, 35, True), (6, "plot", None, 5, True)]


def test_assignment_with_bad_spec_is_refused_with_the_engines_message():
    """An assignment's spec is validated with the engine's rules wherever it is entered."""
    with pytest.raises(ValidationError) as info:
        make_assignment(spec={"weights": [[1]], "biases": [0], "learning_rate": 1, "samples": []})
    assert "samples must be a non-empty list" in str(info.value)


def test_draft_then_submit_then_feedback_report():
    """Draft keeps answers as typed; submit grades them into a new, scored attempt."""
    assignment, student = setup_student()
    answers = key_answers()
    answers["rounds"][0]["forward"]["s1"] = " 0.4600 "
    draft = services.submission_save_draft(assignment=assignment, student=student, answers=answers)
    assert draft.is_draft and draft.attempt == 1
    assert draft.answers["rounds"][0]["forward"]["s1"] == " 0.4600 "
    submitted = services.submission_submit(assignment=assignment, student=student, answers=answers)
    assert submitted.pk == draft.pk and submitted.state == Submission.State.SUBMITTED
    report = report_of(submitted)
    assert report.question("Q2").score == pytest.approx(35) and report.question("Q3").score == pytest.approx(35)
    assert report.total == pytest.approx(70) and report.max == 100
    cell = report.cell("r1.forward.s1")
    assert cell.given == " 0.4600 " and cell.status == "correct"
    [record] = Grading.objects.filter(submission=submitted)
    assert (record.sequence, record.kind, record.score, record.created_by) == (1, "auto", pytest.approx(70), None)


def test_resubmission_keeps_earlier_attempts():
    """A second submit is attempt 2; attempt 1 keeps its answers and score."""
    assignment, student = setup_student()
    first = services.submission_submit(assignment=assignment, student=student, answers=key_answers((1,)))
    second = services.submission_submit(assignment=assignment, student=student, answers=key_answers((1, 2)))
    first.refresh_from_db()
    assert (first.attempt, second.attempt) == (1, 2)
    assert report_of(first).total == pytest.approx(35) and report_of(second).total == pytest.approx(70)
    assert first.answers == services.clean_answers(assignment.parsed_spec, key_answers((1,)))


def test_maximum_attempts_enforced():
    """After max_attempts submissions, the next is refused and the draft is kept."""
    assignment, student = setup_student()
    assignment.max_attempts = 1
    assignment.save()
    services.submission_submit(assignment=assignment, student=student, answers=key_answers((1,)))
    with pytest.raises(services.SubmissionError, match="used all 1 attempts"):
        services.submission_submit(assignment=assignment, student=student, answers=key_answers((1, 2)))
    draft = services.submission_draft(assignment=assignment, student=student)
    assert draft is not None and draft.answers["rounds"][1].get("forward")
    assert Submission.objects.filter(state="submitted").count() == 1


def test_due_time_enforced_by_server_clock():
    """A submit arriving after the due time and its 2-minute grace is refused (the draft is
    kept); before opening too; within the grace it is on time."""
    assignment, student = setup_student()
    assert assignment.grace_seconds == 120
    late = assignment.due_at + timedelta(seconds=121)
    with pytest.raises(services.SubmissionError, match="due time"):
        services.submission_submit(assignment=assignment, student=student, answers=key_answers(), now=late)
    assert services.submission_draft(assignment=assignment, student=student) is not None
    early = assignment.opens_at - timedelta(seconds=1)
    with pytest.raises(services.SubmissionError, match="opens at"):
        services.submission_submit(assignment=assignment, student=student, answers=key_answers(), now=early)
    on_time = assignment.due_at - timedelta(seconds=1)
    done = services.submission_submit(assignment=assignment, student=student, answers=key_answers(), now=on_time)
    assert not done.late
    in_grace = assignment.due_at + timedelta(seconds=119)
    done = services.submission_submit(assignment=assignment, student=student, answers=key_answers(), now=in_grace)
    assert not done.late and done.submitted_at == in_grace


def test_late_submission_flagged_when_accepted():
    """With accept_late, a submission after the due time is accepted and flagged late."""
    assignment = make_assignment(accept_late=True, due_in=timedelta(hours=-1))
    student = make_member(course=assignment.course, username="late")
    done = services.submission_submit(assignment=assignment, student=student, answers=key_answers())
    assert done.late


def test_over_long_answer_refused_with_message():
    """A field longer than the limit is refused with a message naming it."""
    assignment, student = setup_student()
    with pytest.raises(ValidationError, match="formula s1"):
        services.submission_save_draft(assignment=assignment, student=student,
                                       answers={"formulas": {"s1": "x1+" * 1000}})


def test_junk_answers_are_dropped_not_crashing():
    """Unknown keys and non-string values never reach the report."""
    assignment, student = setup_student()
    junk = {"rounds": [{"round": 1, "forward": {"s1": 3, "zz": "1"}}, "nope"], "evil": {"a": 1},
            "formulas": {"__class__": "x"}}
    draft = services.submission_save_draft(assignment=assignment, student=student, answers=junk)
    assert draft.answers == {"rounds": [{"round": r} for r in range(1, 5)], "formulas": {}}


def test_formula_review_rescores_an_undecided_row(settings):
    """Accepting an undecided Q1 row gives its points in a new review record; a decided row
    cannot be reviewed, and the automatic record stays as it was."""
    assignment, student = setup_student()
    instructor = make_member(course=assignment.course, username="prof", role=Membership.Role.INSTRUCTOR)
    decided = services.submission_submit(assignment=assignment, student=student,
                                         answers={"formulas": {"s1": "w11*x1 + w21*x2 + b1"}})
    assert report_of(decided).formula("s1").status == "correct"
    with pytest.raises(ValidationError, match="decided"):
        services.formula_review_create(submission=decided, row="s1", accepted=True, reviewer=instructor)
    # A time limit too short to decide anything: the typed row is left undecided, as on a timeout.
    settings.GRADING_FORMULA_TIME_LIMIT = 1e-6
    submission = services.submission_submit(assignment=assignment, student=student,
                                            answers={"formulas": {"f1": "sigmoid(s1)"}})
    before = report_of(submission)
    assert before.formula("f1").status == "undecided" and before.formula("f1").points == 0
    services.formula_review_create(submission=submission, row="f1", accepted=True, reviewer=instructor,
                                   note="right, in the homework's notation")
    after = report_of(submission)
    assert after.total == pytest.approx(before.total + 30 / 15)
    row = after.formula("f1")
    assert row.status == "correct" and "reviewed by staff: right, in the homework's notation" in row.message
    records = list(Grading.objects.filter(submission=submission).order_by("sequence"))
    assert [(g.sequence, g.kind) for g in records] == [(1, "auto"), (2, "review")]
    assert records[1].created_by == instructor and records[1].based_on == records[0]
    assert records[0].score == pytest.approx(before.total)  # the automatic grade is unchanged
    assert records[0].needs_review and not records[1].needs_review  # f1 was the only undecided row


def slipped_round1() -> dict:
    """Round 1 with a slip in s1 (0.4700) carried honestly into everything after it."""
    spec = engine.parse_spec(SPEC_4_1)
    spec_values = engine.answer_key(spec)
    graph = spec_values.graph
    values = dict(spec_values.values)
    s1 = engine.single_layer_cell(1, "forward", "s1")
    values[s1] = 0.47
    for key, cell in graph.cells.items():  # recompute downstream of s1 from the slipped value
        if key.round == 1 and key != s1 and not cell.given:
            values[key] = cell.compute(values[d] for d in cell.deps)
    typed = {"round": 1}
    for key, value in values.items():
        if key.round == 1 and graph[key].gradable:
            typed.setdefault(key.column, {})[graph[key].name] = f"{value:.4f}"
    return {"rounds": [typed]}


@pytest.mark.parametrize("carried_credit, carried_cap", [(1.0, 1.0), (0.5, 1.0), (1.0, 0.2)])
def test_carried_credit_and_cap_are_assignment_settings(carried_credit, carried_cap):
    """An instructor's carried credit and per-round cap decide what follow-through is worth."""
    assignment, student = setup_student()
    Assignment.objects.filter(pk=assignment.pk).update(carried_credit=carried_credit, carried_cap=carried_cap)
    assignment.refresh_from_db()
    done = services.submission_submit(assignment=assignment, student=student, answers=slipped_round1())
    report = report_of(done)
    cells = [c for c in report.cells if c.round == 1]
    statuses = [c.status for c in cells]
    carried = statuses.count("carried")
    correct = statuses.count("correct")
    assert statuses.count("incorrect") >= 1 and carried >= 1
    # At most floor(cap × cells) cells may carry; the rest of the would-be carried cells are wrong.
    assert carried <= int(carried_cap * len(cells) + 1e-9)
    q2 = report.question("Q2")
    assert q2.score == pytest.approx(35 / len(cells) * (correct + carried_credit * carried), abs=1e-3)
    assert q2.carried == pytest.approx(35 / len(cells) * carried_credit * carried, abs=1e-3)
