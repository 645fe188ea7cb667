"""Issue 18, items 3, 6 and 7: regrade of an ungraded attempt, overrides a dry run shows and staff
can withdraw, a reviewed diff applied exactly or refused, students told of a changed grade.

As in tests/test_regrade.py: at 4 decimals a value must be within 0.000051 of the key, at 3
within 0.00051, so a value 0.0003 off the key is wrong at 4 and right at 3.
"""
import pytest
from django.core import mail
from django.urls import reverse

from grading import engine, services, tasks
from grading.models import Assignment, Grading, Membership, RegradeJob
from tests.factories import SPEC_4_1, make_assignment, make_member, report_of
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db

KEY = engine.answer_key(engine.parse_spec(SPEC_4_1))


def round1(offset: float = 0.0, cell: str = "s1") -> dict:
    table = {"round": 1}
    for c in KEY.graph.gradable(1):
        value = KEY.values[c.key] + (offset if c.name == cell and c.key.column == "forward" else 0.0)
        table.setdefault(c.key.column, {})[c.name] = f"{value:.4f}"
    return {"rounds": [table]}


@pytest.fixture
def klass():
    assignment = make_assignment()
    teacher = make_member(course=assignment.course, username="prof", role=Membership.Role.INSTRUCTOR)
    ta = make_member(course=assignment.course, username="ta", role=Membership.Role.TA)
    students = {name: make_member(course=assignment.course, username=name) for name in ("ann", "ben")}
    for name, student in students.items():
        type(student).objects.filter(pk=student.pk).update(email=f"{name}@example.org")
    subs = {
        "ann": services.submission_submit(assignment=assignment, student=students["ann"], answers=round1()),
        "ben": services.submission_submit(assignment=assignment, student=students["ben"],
                                          answers=round1(offset=0.0003, cell="f1")),
    }
    return {"assignment": assignment, "teacher": teacher, "ta": ta, "students": students, "subs": subs}


def set_decimals(assignment: Assignment, decimals: int) -> None:
    Assignment.objects.filter(pk=assignment.pk).update(decimals=decimals)
    assignment.refresh_from_db()


def test_regrade_of_an_attempt_not_graded_yet_is_a_page_not_a_500(klass, monkeypatch):
    monkeypatch.setattr(tasks, "enqueue_grading", lambda pk: None)  # the worker is down
    cat = make_member(course=klass["assignment"].course, username="cat")
    waiting = services.submission_submit(assignment=klass["assignment"], student=cat, answers=round1())
    assert not waiting.gradings.exists()
    ta = client_for(klass["ta"])
    url = reverse("grading:regrade_attempt", args=[waiting.pk])
    page = ta.get(url)
    assert page.status_code == 409 and "no grade yet" in page.content.decode()
    posted = ta.post(url, {"csrfmiddlewaretoken": page_token(ta, klass["subs"]["ann"].get_absolute_url())})
    assert posted.status_code == 409 and not waiting.gradings.exists()
