"""Assignments start unpublished on the authoring page: students see nothing of one (not listed,
no page, no draft, no submit) until an instructor publishes it; published, it opens at its time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.models import Assignment, Membership, Submission
from grading.selectors.people import Terms
from tests.authoring_help import homework_post
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    course = make_course()
    return {"course": course,
            "teacher": make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR),
            "ta": make_member(course=course, username="ta", role=Membership.Role.TA),
            "ann": make_member(course=course, username="ann")}


def _stamp(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _authored(people, opens_in=timedelta(days=-1)) -> Assignment:
    client = client_for(people["teacher"])
    url = reverse("grading:assignment_new", args=[people["course"].code])
    now = timezone.now()
    data = homework_post(opens_at=_stamp(now + opens_in), due_at=_stamp(now + timedelta(days=7)))
    response = client.post(url, {"csrfmiddlewaretoken": page_token(client, url), **data, "action": "save"})
    assert response.status_code == 302, response.content.decode()[:2000]
    return Assignment.objects.get(slug="hw41")


def _publish(user, assignment):
    client = client_for(user)
    token = page_token(client, reverse("grading:home"))
    return client.post(reverse("grading:assignment_publish", args=[assignment.pk]),
                       {"csrfmiddlewaretoken": token})


def _student_sees(ann, a) -> dict[str, int | bool]:
    client = client_for(ann)
    page = reverse("grading:assignment", args=[a.pk])
    token = page_token(client, reverse("grading:home"))
    return {"listed": a.title in client.get(reverse("grading:home")).content.decode(),
            "page": client.get(page).status_code,
            "draft": client.post(reverse("grading:save_draft", args=[a.pk]),
                                 {"csrfmiddlewaretoken": token, **round1_values()}).status_code,
            "submit": client.post(page, {"csrfmiddlewaretoken": token, "action": "submit",
                                         **round1_values()}).status_code}


def test_the_authoring_page_creates_an_unpublished_assignment_students_see_nothing_of(people):
    a = _authored(people)
    assert a.published is False
    assert _student_sees(people["ann"], a) == {"listed": False, "page": 404, "draft": 404, "submit": 404}
    assert not Submission.objects.exists()
    teacher = client_for(people["teacher"])
    edit = teacher.get(reverse("grading:assignment_edit", args=[a.pk])).content.decode()
    assert 'id="publish-button"' in edit
    home = teacher.get(reverse("grading:home")).content.decode()
    assert a.title in home and "unpublished" in home


def test_publishing_shows_it_to_students_from_its_opening_time(people):
    a = _authored(people)
    response = _publish(people["teacher"], a)
    assert response.status_code == 302
    a.refresh_from_db()
    assert a.published is True
    seen = _student_sees(people["ann"], a)
    assert seen["listed"] and seen["page"] == 200 and seen["draft"] == 200 and seen["submit"] == 302
    assert Submission.objects.filter(student=people["ann"], state=Submission.State.SUBMITTED).count() == 1
    edit = client_for(people["teacher"]).get(reverse("grading:assignment_edit", args=[a.pk])).content.decode()
    assert 'id="publish-button"' not in edit


def test_published_before_its_opening_time_it_is_listed_but_not_open(people):
    a = _authored(people, opens_in=timedelta(days=2))
    _publish(people["teacher"], a)
    client = client_for(people["ann"])
    assert "Not open yet" in client.get(reverse("grading:home")).content.decode()
    assert "This assignment opens at" in client.get(reverse("grading:assignment", args=[a.pk])).content.decode()


@pytest.mark.parametrize("who", ["ta", "ann"])
def test_only_instructors_publish(people, who):
    a = _authored(people)
    assert _publish(people[who], a).status_code == 404
    a.refresh_from_db()
    assert a.published is False
    assert client_for(people["teacher"]).get(
        reverse("grading:assignment_publish", args=[a.pk])).status_code == 405


def test_assignments_made_otherwise_and_saved_edits_keep_their_published_state(people):
    """Commands and the seed make published assignments (as before); saving an edit on the
    authoring page does not unpublish a published one."""
    a = make_assignment(course=people["course"], slug="made")
    assert a.published is True
    b = _authored(people)
    _publish(people["teacher"], b)
    client = client_for(people["teacher"])
    edit = reverse("grading:assignment_edit", args=[b.pk])
    now = timezone.now()
    data = homework_post(title="Renamed", opens_at=_stamp(now - timedelta(days=1)),
                         due_at=_stamp(now + timedelta(days=7)))
    assert client.post(edit, {"csrfmiddlewaretoken": page_token(client, edit), **data,
                              "action": "save"}).status_code == 302
    b.refresh_from_db()
    assert (b.title, b.published) == ("Renamed", True)


def test_unpublished_terms_never_open():
    now = timezone.now()
    terms = Terms(now - timedelta(days=1), now + timedelta(days=1), True, 3, published=False)
    assert not terms.has_opened(now) and not terms.is_open(now)
    assert Terms(now - timedelta(days=1), now + timedelta(days=1), True, 3).is_open(now)
