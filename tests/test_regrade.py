"""Regrades: a dry run that writes nothing, applying it, the command, the job, and races.

Which attempts a change of decimals affects is worked out here from the bands: at 4 decimals a
value must be within 0.000051 of the key, at 3 within 0.00051. A value 0.0003 off the key is
wrong at 4 and right at 3; the key rounded to 4 places is right at both.
"""
import io
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.urls import reverse

from grading import engine, selectors, services
from grading.models import Assignment, Grading, Membership, RegradeJob
from grading.services import regrade as regrade_module
from tests.factories import SPEC_4_1, make_assignment, make_member, report_of
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db

KEY = engine.answer_key(engine.parse_spec(SPEC_4_1))


def round1(offset: float = 0.0, cell: str = "s1") -> dict:
    """Round 1 typed to 4 places; ``cell`` (a forward cell) moved by ``offset``."""
    table = {"round": 1}
    for c in KEY.graph.gradable(1):
        value = KEY.values[c.key] + (offset if c.name == cell and c.key.column == "forward" else 0.0)
        table.setdefault(c.key.column, {})[c.name] = f"{value:.4f}"
    return {"rounds": [table]}


@pytest.fixture
def klass():
    """An assignment with three students: exact, 0.0003 off in f1, and blank."""
    assignment = make_assignment()
    teacher = make_member(course=assignment.course, username="prof", role=Membership.Role.INSTRUCTOR)
    ta = make_member(course=assignment.course, username="ta", role=Membership.Role.TA)
    students = {name: make_member(course=assignment.course, username=name) for name in ("ann", "ben", "cat")}
    subs = {
        "ann": services.submission_submit(assignment=assignment, student=students["ann"], answers=round1()),
        "ben": services.submission_submit(assignment=assignment, student=students["ben"],
                                          answers=round1(offset=0.0003, cell="f1")),
        "cat": services.submission_submit(assignment=assignment, student=students["cat"], answers={}),
    }
    return {"assignment": assignment, "teacher": teacher, "ta": ta, "students": students, "subs": subs}


def set_decimals(assignment: Assignment, decimals: int) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(decimals=decimals)
    assignment.refresh_from_db()


def test_dry_run_after_a_change_of_decimals_lists_exactly_the_changed_attempts_and_writes_nothing(klass):
    """At 3 decimals only ben's f1 changes (wrong -> right); nothing is written by the dry run."""
    a = klass["assignment"]
    assert report_of(klass["subs"]["ben"]).cell("r1.forward.f1").status == "incorrect"
    set_decimals(a, 3)
    before = Grading.objects.count()
    outcome = services.regrade_assignment(assignment=a, dry_run=True)
    assert Grading.objects.count() == before
    assert outcome.unchanged == 2
    [line] = [item.to_json() for item in outcome.changed]
    assert (line["student"], line["attempt"]) == ("ben", 1)
    assert {"id": "r1.forward.f1", "old": "incorrect", "new": "correct"} in line["cells"]
    # f1 was the only wrong typed value; the cells after it were typed from the key, so right.
    assert line["new"] == pytest.approx(35) and line["old"] == pytest.approx(35 * 24 / 25)
    assert line["questions"] == [{"id": "Q2", "old": pytest.approx(35 * 24 / 25), "new": pytest.approx(35)}]


def test_applying_writes_regrade_records_keeps_the_old_grade_and_leaves_nothing_to_do(klass):
    """Applied, ben gets a regrade record on top of his automatic one; a second dry run is empty."""
    a, ben = klass["assignment"], klass["subs"]["ben"]
    set_decimals(a, 3)
    outcome = services.regrade_assignment(assignment=a, dry_run=False, by=klass["teacher"],
                                          reason="decimals 4 -> 3")
    assert [item.submission.pk for item in outcome.changed] == [ben.pk]
    records = list(Grading.objects.filter(submission=ben).order_by("sequence"))
    assert [(g.sequence, g.kind) for g in records] == [(1, "auto"), (2, "regrade")]
    assert records[1].created_by == klass["teacher"] and records[1].reason == "decimals 4 -> 3"
    assert records[1].config["decimals"] == 3 and records[0].config["decimals"] == 4
    assert records[1].spec_hash != records[0].spec_hash
    assert report_of(ben).total == pytest.approx(35)
    old = selectors.report_of(selectors.grading_record(ben, 1))
    assert old.cell("r1.forward.f1").status == "incorrect"  # the earlier grade is still readable
    assert Grading.objects.filter(kind="regrade").count() == 1
    again = services.regrade_assignment(assignment=a, dry_run=True)
    assert again.changed == [] and again.unchanged == 3


def test_a_regrade_replays_staff_changes_made_before_and_during_it(klass):
    """An override made before the regrade, and one made while it ran, both survive it."""
    a, ann, ben = klass["assignment"], klass["subs"]["ann"], klass["subs"]["ben"]
    services.grading_override(submission=ben, changes=[services.Change("question", "Q3", points=10.0)],
                              by=klass["teacher"], reason="showed working for round 2 on paper")
    set_decimals(a, 3)
    [item] = regrade_module.regrade_compute([selectors_submission(ben)],
                                            services_pool(a))
    # Meanwhile another member of staff changes a cell of the same attempt.
    services.grading_override(submission=ben, changes=[services.Change("cell", "r1.forward.s1", "incorrect", 0.0)],
                              by=klass["ta"], reason="s1 copied from the board")
    committed = regrade_module.regrade_commit(item, by=klass["teacher"], reason="decimals")
    assert committed is not None
    report = report_of(ben)
    assert report.question("Q3").score == 10
    assert report.cell("r1.forward.s1").status == "incorrect"
    assert report.cell("r1.forward.f1").status == "correct"  # what the regrade changed
    kinds = list(Grading.objects.filter(submission=ben).order_by("sequence").values_list("kind", flat=True))
    assert kinds == ["auto", "override", "override", "regrade"]
    assert report_of(ann).total == pytest.approx(35)


def selectors_submission(submission):
    from grading.models import Submission

    return (Submission.objects.select_related("student").prefetch_related("gradings__created_by")
            .get(pk=submission.pk))


def services_pool(assignment):
    from grading.grade import grader

    return grader.GradingPool(assignment.parsed_spec, services.grading_config(assignment))


def test_two_staff_changing_one_grade_at_once_the_second_is_told(klass):
    """Both opened record 1; the first change lands, the second is refused with who and when."""
    ben = klass["subs"]["ben"]
    services.grading_override(submission=ben, changes=[services.Change("total", points=30.0)],
                              by=klass["teacher"], reason="first", based_on=1)
    with pytest.raises(services.GradeConflict, match="by prof"):
        services.grading_override(submission=ben, changes=[services.Change("total", points=20.0)],
                                  by=klass["ta"], reason="second", based_on=1)
    assert report_of(ben).total == 30
    assert Grading.objects.filter(submission=ben).count() == 2


def test_the_database_refuses_two_records_with_one_number():
    """The ledger's unique (attempt, sequence): a write that lost a race cannot slip in."""
    from django.db import IntegrityError, transaction

    a = make_assignment()
    s = services.submission_submit(assignment=a, student=make_member(course=a.course, username="x"),
                                   answers={})
    first = Grading.objects.get(submission=s)
    with pytest.raises(IntegrityError), transaction.atomic():
        Grading.objects.create(submission=s, sequence=1, kind="regrade", report=first.report,
                               score=0, max_score=100, grader_version="x", spec_hash="x")


def test_regrade_command_json_dry_run_then_apply(klass):
    """manage.py regrade COURSE/SLUG --dry-run --json prints the documented shape and writes
    nothing; without --dry-run it applies; then a dry run has nothing to change."""
    a = klass["assignment"]
    set_decimals(a, 3)
    out = io.StringIO()
    call_command("regrade", f"{a.course.code}/{a.slug}", "--dry-run", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["unchanged"] == 2 and Grading.objects.filter(kind="regrade").count() == 0
    [changed] = data["changed"]
    assert {k: changed[k] for k in ("student", "attempt")} == {"student": "ben", "attempt": 1}
    assert changed["old"] == pytest.approx(33.6) and changed["new"] == pytest.approx(35)
    assert {"id": "r1.forward.f1", "old": "incorrect", "new": "correct"} in changed["cells"]
    out = io.StringIO()
    call_command("regrade", f"{a.course.code}/{a.slug}", stdout=out)
    assert "1 attempt(s) changed, 2 unchanged" in out.getvalue()
    out = io.StringIO()
    call_command("regrade", f"{a.course.code}/{a.slug}", "--dry-run", "--json", stdout=out)
    assert json.loads(out.getvalue()) == {"changed": [], "unchanged": 3}


def test_regrade_command_refuses_an_unknown_assignment():
    """A wrong COURSE/SLUG is one clear line and exit code 2."""
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no assignment 'NOPE/x'") as info:
        call_command("regrade", "NOPE/x", "--dry-run")
    assert info.value.returncode == 2


def test_class_regrade_from_the_staff_page_runs_as_a_job_with_progress(klass):
    """A TA starts a dry run (a job, run by the task backend); its page shows ben's line; only
    the instructor may apply; a student gets 404 everywhere."""
    a = klass["assignment"]
    set_decimals(a, 3)
    url = reverse("grading:regrade", args=[a.pk])
    ta = client_for(klass["ta"])
    response = ta.post(url, {"csrfmiddlewaretoken": page_token(ta, url), "reason": "decimals", "apply": ""})
    job = RegradeJob.objects.get()
    assert response.status_code == 302 and response["Location"].endswith(f"/regrade/{job.pk}/")
    assert (job.status, job.dry_run, job.done, job.total, job.changed) == ("done", True, 3, 3, 1)
    page = ta.get(response["Location"]).content.decode()
    assert "round 1 f1" in page and "ben" in page and "Apply this regrade" not in page
    progress = ta.get(reverse("grading:regrade_job_progress", args=[a.pk, job.pk])).json()
    assert progress == {"status": "done", "status_text": "Done", "done": 3, "total": 3, "changed": 1,
                        "finished": True}
    # The page's poll writes the status in the reader's language (the catalogue's Thai), not "done".
    thai = ta.get(reverse("grading:regrade_job_progress", args=[a.pk, job.pk]), HTTP_ACCEPT_LANGUAGE="th").json()
    assert thai["status_text"] == "เสร็จแล้ว"
    refused = ta.post(url, {"csrfmiddlewaretoken": page_token(ta, url), "apply": "on"})
    assert refused.status_code == 404 and not Grading.objects.filter(kind="regrade").exists()
    teacher = client_for(klass["teacher"])
    teacher.post(url, {"csrfmiddlewaretoken": page_token(teacher, url), "reason": "decimals", "apply": "on"})
    assert Grading.objects.filter(kind="regrade").count() == 1
    student = client_for(klass["students"]["ann"])
    for path in (url, reverse("grading:regrade_job", args=[a.pk, job.pk]),
                 reverse("grading:regrade_job_progress", args=[a.pk, job.pk]),
                 reverse("grading:regrade_attempt", args=[klass["subs"]["ann"].pk])):
        assert student.get(path).status_code == 404, path


def test_one_attempt_regrade_shows_the_change_first_then_applies(klass):
    """From the attempt's page: the preview writes nothing, the POST writes one regrade record."""
    a, ben = klass["assignment"], klass["subs"]["ben"]
    set_decimals(a, 3)
    url = reverse("grading:regrade_attempt", args=[ben.pk])
    ta = client_for(klass["ta"])
    preview = ta.get(url).content.decode()
    assert "round 1 f1 incorrect → correct" in preview
    assert not Grading.objects.filter(kind="regrade").exists()
    response = ta.post(url, {"csrfmiddlewaretoken": page_token(ta, url), "reason": "asked by ben"})
    assert response.status_code == 302
    record = Grading.objects.get(kind="regrade")
    assert record.submission == ben and record.reason == "asked by ben" and record.created_by == klass["ta"]
    history = ta.get(ben.get_absolute_url()).content.decode()
    assert "Regrade" in history and "asked by ben" in history and "?record=1" in history
    old = ta.get(ben.get_absolute_url() + "?record=1").content.decode()
    assert "not the current grade" in old


def test_a_job_taken_twice_runs_once(klass):
    """Two workers picking up the same job: the second finds it already running or done."""
    a = klass["assignment"]
    job = RegradeJob.objects.create(assignment=a, requested_by=klass["teacher"], dry_run=True, total=3)
    services.regrade_job_run(job_id=job.pk)
    services.regrade_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "done" and job.done == 3


def test_later_due_time_does_not_matter_to_a_regrade(klass):
    """A regrade grades what was handed in; the due time and attempts left play no part."""
    a = klass["assignment"]
    Assignment.objects.filter(pk=a.pk).update(due_at=a.opens_at + timedelta(seconds=1), decimals=3)
    a.refresh_from_db()
    assert len(services.regrade_assignment(assignment=a, dry_run=True).changed) == 1
