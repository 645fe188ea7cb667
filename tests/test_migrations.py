"""The ledger's migration moves today's grades into records and loses nothing.

The attempt is stored as the earlier code stored it (schema 0 report on the Submission row, a
FormulaReview beside it), from a report that the earlier grader really wrote
(tests/data/report_schema0.json), then migrated forwards.
"""
import json
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from tests.factories import SPEC_4_1

BEFORE = [("grading", "0001_initial")]
AFTER = [("grading", "0004_drop_old_grade_columns")]
STORED = json.loads((Path(__file__).parent / "data" / "report_schema0.json").read_text())


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Leave the test database at the newest migration, whatever this test migrated to."""
    yield
    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_graded_attempts_and_formula_reviews_become_ledger_records():
    """Each graded attempt becomes an automatic record with its score, report and grader
    version as stored; each formula review becomes a review record on top, by its reviewer."""
    old = migrate(BEFORE)
    User = old.get_model("auth", "User")
    student = User.objects.create(username="somchai")
    prof = User.objects.create(username="prof")
    course = old.get_model("grading", "Course").objects.create(code="FRA501", title="PR")
    now = timezone.now()
    assignment = old.get_model("grading", "Assignment").objects.create(
        course=course, title="HW 4.1", slug="hw", spec=SPEC_4_1, due_at=now + timedelta(days=1),
        opens_at=now - timedelta(days=1))
    Question = old.get_model("grading", "Question")
    for number, kind, points, round_no, extra in [(1, "formulas", 30, None, False), (2, "round", 35, 1, False),
                                                  (3, "round", 35, 2, False), (4, "round", 35, 3, True),
                                                  (5, "round", 35, 4, True), (6, "plot", 5, None, True)]:
        Question.objects.create(assignment=assignment, number=number, kind=kind, points=points,
                                round=round_no, extra_credit=extra)
    report = json.loads(json.dumps(STORED["report"]))
    # As a timeout left it: row f1 undecided (it had been correct, 2 of Q1's 30 points).
    row = next(f for f in report["formulas"] if f["row"] == "f1")
    row.update(status="undecided", credit=0.0, points=0.0, message="could not decide in time")
    q1 = next(q for q in report["questions"] if q["id"] == "Q1")
    q1["score"] -= 2.0
    report["total"] = round(report["total"] - 2.0, 4)
    Submission = old.get_model("grading", "Submission")
    submitted_at = now - timedelta(hours=2)
    graded = Submission.objects.create(
        assignment=assignment, student=student, attempt=1, answers=STORED["answers"],
        state="submitted", submitted_at=submitted_at, score=report["total"], max_score=100,
        report=report, grader_version=report["grader_version"])
    draft = Submission.objects.create(assignment=assignment, student=student, attempt=2,
                                      answers={"formulas": {"s1": "x1"}})
    review_at = now - timedelta(hours=1)
    FormulaReview = old.get_model("grading", "FormulaReview")
    FormulaReview.objects.create(submission=graded, row="f1", accepted=True, reviewer=prof,
                                 note="fine: sigma is sigmoid")
    FormulaReview.objects.filter(submission=graded).update(created_at=review_at)

    new = migrate(AFTER)
    Grading = new.get_model("grading", "Grading")
    records = list(Grading.objects.filter(submission_id=graded.pk).order_by("sequence"))
    assert [(g.sequence, g.kind) for g in records] == [(1, "auto"), (2, "review")]
    auto, review = records
    # Nothing lost: the automatic record is the stored grade as it was.
    assert auto.score == report["total"] and auto.max_score == 100
    assert auto.grader_version == report["grader_version"] and auto.created_at == submitted_at
    assert auto.needs_review and auto.created_by_id is None
    assert [c["given"] for c in auto.report["cells"]] == [c["given"] for c in report["cells"]]
    assert [c["status"] for c in auto.report["cells"]] == [c["status"] for c in report["cells"]]
    assert [c["id"] for c in auto.report["cells"]][0] == "r1.forward.s1"
    assert {q["id"]: q["score"] for q in auto.report["questions"]} == {
        q["id"]: q["score"] for q in report["questions"]}
    assert auto.scores == {q["id"]: q["score"] for q in report["questions"]}
    assert len(auto.spec_hash) == 64 and auto.config["decimals"] == 4
    # The review is a record on top: by the reviewer, when it was made, with the note.
    assert review.based_on_id == auto.pk and review.created_by_id == prof.pk
    assert review.created_at == review_at and review.note == "fine: sigma is sigmoid"
    assert review.score == pytest.approx(report["total"] + 2.0) and not review.needs_review
    assert review.changes == [{"kind": "formula", "target": "f1", "status": "correct", "credit": 1.0,
                               "points": None}]
    # The attempt keeps its answers and times; the draft stays a draft with no grade.
    migrated = new.get_model("grading", "Submission").objects.get(pk=graded.pk)
    assert migrated.answers == STORED["answers"] and migrated.submitted_at == submitted_at
    assert not Grading.objects.filter(submission_id=draft.pk).exists()
    assert Grading.objects.count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_existing_assignments_get_a_seed_each_and_keep_their_attempts():
    """Migrating to per-student variants gives every existing assignment its own seed (not one
    seed for all), leaves practice off and every attempt on the shared spec."""
    old = migrate([("grading", "0005_submit_receipts_and_grace")])
    course = old.get_model("grading", "Course").objects.create(code="FRA501", title="PR")
    now = timezone.now()
    Assignment = old.get_model("grading", "Assignment")
    made = [Assignment.objects.create(course=course, title=f"HW {k}", slug=f"hw-{k}", spec=SPEC_4_1,
                                      due_at=now + timedelta(days=1), opens_at=now) for k in range(3)]
    student = old.get_model("auth", "User").objects.create(username="somchai")
    old.get_model("grading", "Submission").objects.create(assignment=made[0], student=student, attempt=1)
    new = migrate([("grading", "0006_variants_and_practice")])
    rows = new.get_model("grading", "Assignment").objects.order_by("pk")
    seeds = [a.seed for a in rows]
    assert len(set(seeds)) == 3 and all(0 < s < 2 ** 63 for s in seeds)
    assert not any(a.practice for a in rows)
    assert new.get_model("grading", "Submission").objects.get().variant_id is None


def append_only_triggers() -> int:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return sum("append_only" in name for (name,) in cursor.fetchall())


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_the_append_only_triggers_go_back_and_come_again():
    """Migration 0008 is reversible: backwards drops every trigger, forwards makes them again
    (0010's draft versions, 0016's LTI score sends and 0017's assignment history add theirs, which
    go back with them)."""
    assert append_only_triggers() == (17 if connection.vendor == "sqlite" else 9)
    migrate([("grading", "0009_unexplained_roots")])
    assert append_only_triggers() == (12 if connection.vendor == "sqlite" else 6)
    migrate([("grading", "0007_append_only_on_delete")])
    assert append_only_triggers() == 0
    migrate([("grading", "0008_append_only_triggers")])
    assert append_only_triggers() == (12 if connection.vendor == "sqlite" else 6)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("back_to_latest")
def test_existing_assignments_keep_carrying_every_root_and_new_ones_ask_for_review():
    """The policy for unexplained roots: an assignment made before it keeps the carrying it had
    (a regrade changes no grade behind anyone's back); one made after defaults to review."""
    old = migrate([("grading", "0008_append_only_triggers")])
    course = old.get_model("grading", "Course").objects.create(code="FRA501", title="PR")
    now = timezone.now()
    old.get_model("grading", "Assignment").objects.create(
        course=course, title="HW", slug="hw", spec=SPEC_4_1, due_at=now + timedelta(days=1), opens_at=now)
    new = migrate([("grading", "0009_unexplained_roots")])
    Assignment = new.get_model("grading", "Assignment")
    assert Assignment.objects.get(slug="hw").unexplained_roots == "carry"
    made = Assignment.objects.create(course=Assignment.objects.get().course, title="HW 2", slug="hw-2",
                                     spec=SPEC_4_1, due_at=now + timedelta(days=1), opens_at=now)
    assert Assignment.objects.get(pk=made.pk).unexplained_roots == "review"
