"""The class index of numbers per cell (issue 17 items 3 and 6): a root equal to another
student's expected or wrong typed value is a copy signal, its carried cells wait for staff, the
analytics page lists the pair, and the student never sees the other's name."""
from __future__ import annotations

import math

import pytest
from django.urls import reverse

from grading import selectors, services
from grading.figures import analytics
from grading.grade.report import Report
from grading.marking.tables import Root
from grading.models import Membership
from tests import refnet
from tests.factories import make_assignment, make_course, make_member, report_of, round1_values
from tests.variant_help import FREE, expected_draw, round_answers, template
from tests.webtools import client_for, submit

pytestmark = pytest.mark.django_db

LOSS = (1, "forward", "L", None, ())
S1 = (1, "forward", "s", 1, (1,))


@pytest.fixture
def klass():
    course = make_course()
    people = {name: make_member(course=course, username=name)
              for name in ("student1", "student2", "student3", "student4")}
    people["teacher"] = make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    assignment = make_assignment(course=course, spec=template(), reveal="after_attempt")
    return {"course": course, "assignment": assignment, **people}


def draw_of(klass, name: str) -> dict:
    return expected_draw(template(), FREE, klass["assignment"].seed, str(klass[name].pk))


def classmate(klass, spec1: dict, cell: tuple = LOSS) -> str:
    """A classmate whose round-1 ``cell`` (the loss) differs from student1's at 4 places (three
    draws cannot all give it)."""
    return next(n for n in ("student2", "student3", "student4")
                if abs(refnet.trace(draw_of(klass, n))[cell] - refnet.trace(spec1)[cell]) > 1e-3)


def test_copying_another_students_numbers_is_flagged_and_waits_for_staff(klass):
    a = klass["assignment"]
    spec1 = draw_of(klass, "student1")
    rounds = tuple(range(1, len(spec1["samples"]) + 1))
    answers = round_answers(spec1, rounds)
    first = submit(client_for(klass["student1"]), a, answers)
    assert not report_of(first).roots  # right for student1
    name = classmate(klass, spec1)
    copier = client_for(klass[name])
    attempt = submit(copier, a, answers)
    report = report_of(attempt)
    assert report.roots, "student1's numbers are wrong for the classmate: there are roots"
    assert all(r.copied_from == ("student1",) for r in report.roots)
    assert all(r.state == "waiting" for r in report.roots)
    carried = [c for r in report.roots for c in r.carried]
    assert carried, "the cells after a root follow from it"
    assert {report.cell(c).status for c in carried} == {"pending"}  # type: ignore[union-attr]

    # A regrade sees the class's numbers too: the copy stays flagged, nothing changes.
    assert not services.regrade_attempt(submission=attempt, dry_run=True).diff.changed

    html = client_for(klass["teacher"]).get(reverse("grading:analytics", args=[a.pk])).content.decode()
    section = html.split('id="copied-roots"')[1].split("</section>")[0]
    assert f"{name}'s round 1" in section and "match student1's numbers" in section
    feedback = copier.get(reverse("grading:submission", args=[attempt.pk]))
    assert feedback.status_code == 200
    assert "student1" not in feedback.content.decode()


def test_the_index_holds_expected_and_wrong_typed_values_of_others_only(klass):
    a = klass["assignment"]
    spec1 = draw_of(klass, "student1")
    name = classmate(klass, spec1, S1)
    spec2 = draw_of(klass, name)
    right1 = round_answers(spec1)
    cell = key = "r1.forward.s1"
    # student1 types a wrong s1 (nothing honest explains it) and works f1 from it: a root with a
    # carried cell, which is what a copier would take.
    wrong = dict(right1, **{cell: "0.1234", "r1.forward.f1": f"{1 / (1 + math.exp(-0.1234)):.4f}"})
    submit(client_for(klass["student1"]), a, wrong)
    submit(client_for(klass[name]), a, round_answers(spec2))  # right for them: no typed entries
    s1_of = {n: f"{refnet.trace(s)[S1]:.4f}" for n, s in
             (("student1", spec1), (name, spec2))}

    mine = selectors.class_numbers(a, exclude_student=klass[name])
    assert mine[key]["0.1234"] == ("student1",)  # student1's wrong typed value
    assert mine[key][s1_of["student1"]] == ("student1",)  # student1's expected value
    assert s1_of[name] not in mine[key]  # the student's own expected value
    assert all(name not in users for values in mine.values() for users in values.values())

    theirs = selectors.class_numbers(a, exclude_student=klass["student1"])
    assert "0.1234" not in theirs[key]  # their own typed value
    assert theirs[key][s1_of[name]] == (name,)
    # the classmate's right typed values are no entry: only their expected values are there
    assert all(users == (name,) for values in theirs.values() for users in values.values())
    index = selectors.class_index(a)
    typed_only = {t for t, users in index.numbers[key].items() if t not in s1_of.values()}
    assert typed_only == {"0.1234"}


def _root(state: str, copied: tuple[str, ...] = (), r: int = 1, name: str = "s1") -> Root:
    return Root(id=f"r{r}.forward.{name}", round=r, column="forward", name=name, given="0.1", value=0.1,
                right=0.2, explanation=None, copied_from=copied, state=state, carried=())  # type: ignore[arg-type]


def _report(roots: tuple[Root, ...], total: float = 10.0, carried: float = 0.0) -> Report:
    from grading.grade.report import QuestionScore
    q = QuestionScore(id="Q2", number=2, kind="round", max=35, score=total, round=1, carried=carried)
    return Report(grader_version="t", decimals=4, band=5e-5, cells=(), formulas=(), questions=(q,),
                  total=total, max=35, max_with_extra=35, roots=roots)


def test_copied_roots_group_by_student_and_other():
    reports = [("s17", _report((_root("waiting", ("s04",)), _root("waiting", ("s04", "s09"), name="s2"),
                                _root("explained")))),
               ("s04", _report((_root("waiting", ()),)))]
    pairs = analytics.copied_roots(reports)
    assert [(p.student, p.other, p.count) for p in pairs] == [("s17", "s04", 2), ("s17", "s09", 1)]
    assert str(pairs[0].where) == "round 1 s1, s2"


def test_root_summary_counts_states_and_carried_share():
    reports = [_report((_root("explained"), _root("waiting"), _root("declined")), total=20.0, carried=5.0),
               _report((_root("accepted"), _root("waiting")), total=30.0, carried=0.0),
               _report((), total=0.0)]
    summary = analytics.root_summary(reports)
    assert (summary.explained, summary.waiting, summary.accepted, summary.declined) == (1, 2, 1, 1)
    assert summary.carried_share == pytest.approx(5.0 / 50.0)
    assert analytics.root_summary([_report((), total=0.0)]).carried_share is None


def test_the_index_failing_does_not_stop_grading(klass, monkeypatch, caplog):
    from grading.services import submissions

    def broken(*args, **kwargs):
        raise RuntimeError("index down")

    monkeypatch.setattr(submissions, "class_numbers", broken)
    attempt = submit(client_for(klass["student1"]), klass["assignment"], round1_values())
    assert report_of(attempt) is not None
    assert "without them" in caplog.text


def test_the_staff_pages_of_an_assignment_with_variants_name_cells_by_round_and_name(klass):
    """Per-student numbers have no shared spec, yet the cells are the same for every variant: the
    review queue, the analytics and a regrade job's page open (no 500) and name a cell
    "round 1 L", never by its raw id."""
    a = klass["assignment"]
    spec1 = draw_of(klass, "student1")
    answers = round_answers(spec1, tuple(range(1, len(spec1["samples"]) + 1)))
    submit(client_for(klass["student1"]), a, answers)
    name = classmate(klass, spec1)
    submit(client_for(klass[name]), a, answers)  # student1's numbers: wrong for the classmate
    teacher = client_for(klass["teacher"])
    analytics_page = teacher.get(reverse("grading:analytics", args=[a.pk]))
    queue = teacher.get(reverse("grading:queue", args=[a.pk]))
    assert analytics_page.status_code == 200 and queue.status_code == 200
    section = analytics_page.content.decode().split('id="copied-roots"')[1].split("</section>")[0]
    assert "round 1 " in section and "r1.forward" not in section
    job = services.regrade_job_create(assignment=a, by=klass["teacher"], dry_run=True, reason="check")
    assert teacher.get(reverse("grading:regrade_job", args=[a.pk, job.pk])).status_code == 200
