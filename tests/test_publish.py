"""Assignments start unpublished on the authoring page: students see nothing of one (not listed,
no page, no draft, no submit) until an instructor publishes it; published, it opens at its time."""
from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from grading.models import Assignment, AssignmentChange, Membership, Submission
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
                         due_at=_stamp(now + timedelta(days=7)), reason="a clearer title")
    assert client.post(edit, {"csrfmiddlewaretoken": page_token(client, edit), **data,
                              "action": "save"}).status_code == 302
    b.refresh_from_db()
    assert (b.title, b.published) == ("Renamed", True)


def history(a) -> list[tuple[str, str, str, dict]]:
    """The assignment's records, oldest first: (kind, who, why, changed fields before/after)."""
    return [(c.kind, c.created_by.username if c.created_by else "", c.reason, c.changes)
            for c in AssignmentChange.objects.filter(assignment=a).order_by("created_at", "pk")]


def test_every_staff_change_to_an_assignment_is_a_record_with_who_before_after_and_why(people):
    a = _authored(people)
    [(kind, who, why, changes)] = history(a)
    assert (kind, who, why) == ("create", "teacher", "") and changes["title"] == {"before": None, "after": a.title}
    client = client_for(people["teacher"])
    edit = reverse("grading:assignment_edit", args=[a.pk])
    now = timezone.now()
    old_due = _stamp(a.due_at)
    post = homework_post(opens_at=_stamp(now - timedelta(days=1)), due_at=_stamp(now + timedelta(days=9)),
                         decimals="3")
    assert client.post(edit, {"csrfmiddlewaretoken": page_token(client, edit), **post,
                              "action": "save"}).status_code == 302  # unpublished: no reason needed
    kind, who, why, changes = history(a)[-1]
    assert (kind, who) == ("edit", "teacher") and changes["decimals"] == {"before": 4, "after": 3}
    assert changes["due_at"]["before"][:16] != changes["due_at"]["after"][:16]
    assert old_due != _stamp(Assignment.objects.get(pk=a.pk).due_at)
    # Saving again with nothing changed records nothing.
    assert client.post(edit, {"csrfmiddlewaretoken": page_token(client, edit), **post,
                              "action": "save"}).status_code == 302
    assert len(history(a)) == 2
    _publish(people["teacher"], a)
    assert history(a)[-1][:2] == ("publish", "teacher")
    # Published: a change without a reason is refused, and nothing changes.
    renamed = homework_post(title="Homework 4.1 (revised)", opens_at=_stamp(now - timedelta(days=1)),
                            due_at=_stamp(now + timedelta(days=9)), decimals="3")
    refused = client.post(edit, {"csrfmiddlewaretoken": page_token(client, edit), **renamed, "action": "save"})
    assert refused.status_code == 400 and "Say why you change a published assignment" in refused.content.decode()
    assert Assignment.objects.get(pk=a.pk).title != "Homework 4.1 (revised)" and len(history(a)) == 3
    done = client.post(edit, {"csrfmiddlewaretoken": page_token(client, edit), **renamed,
                              "reason": "typo in the title", "action": "save"})
    assert done.status_code == 302
    kind, who, why, changes = history(a)[-1]
    assert (kind, why, changes["title"]["after"]) == ("edit", "typo in the title", "Homework 4.1 (revised)")
    page = client.get(edit).content.decode()
    assert 'id="assignment-history"' in page and "typo in the title" in page and "decimals: 4 → 3" in page


def test_unpublish_needs_a_reason_and_no_attempt_handed_in(people):
    a = _authored(people)
    _publish(people["teacher"], a)
    client = client_for(people["teacher"])
    url = reverse("grading:assignment_publish", args=[a.pk])
    token = page_token(client, reverse("grading:home"))
    client.post(url, {"csrfmiddlewaretoken": token, "action": "unpublish", "reason": ""})
    assert Assignment.objects.get(pk=a.pk).published is True
    client.post(url, {"csrfmiddlewaretoken": token, "action": "unpublish", "reason": "wrong week"})
    assert Assignment.objects.get(pk=a.pk).published is False
    assert history(a)[-1][:3] == ("unpublish", "teacher", "wrong week")
    assert _student_sees(people["ann"], a)["page"] == 404
    _publish(people["teacher"], a)
    assert _student_sees(people["ann"], a)["submit"] == 302  # ann hands in an attempt
    refused = client.post(url, {"csrfmiddlewaretoken": token, "action": "unpublish", "reason": "oops"}, follow=True)
    assert "Students have handed in attempts" in refused.content.decode()
    assert Assignment.objects.get(pk=a.pk).published is True
    assert [k for k, *_ in history(a)] == ["create", "publish", "unpublish", "publish"]


def test_unpublished_terms_never_open():
    now = timezone.now()
    terms = Terms(now - timedelta(days=1), now + timedelta(days=1), True, 3, published=False)
    assert not terms.has_opened(now) and not terms.is_open(now)
    assert Terms(now - timedelta(days=1), now + timedelta(days=1), True, 3).is_open(now)
