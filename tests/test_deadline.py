"""At a deadline: submits taken at once and graded apart, judged by their arrival time, never
taken twice, autosaves that cannot destroy a draft, sessions that expire, drafts submitted by
the server at the due time.
"""
import hashlib
import json
import time
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from grading import services
from grading.models import Assignment, Grading, Submission
from tests.factories import PASSWORD, SPEC_4_1, make_assignment, report_of, round1_values
from tests.webtools import client_for, login_request, page_token, post_answers

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def submit_page(client, assignment, values, token=None, **extra):
    """Post the page's form with action=submit, with the page's own submit token unless given."""
    url = reverse("grading:assignment", args=[assignment.pk])
    page = client.get(url).content.decode()
    csrf = page.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    own = page.split('name="submit_token" value="')[1].split('"')[0]
    return client.post(url, {"csrfmiddlewaretoken": csrf, "action": "submit",
                             "submit_token": token or own, **values}, **extra), own


def test_a_double_click_or_a_resent_post_makes_one_attempt(world):
    """The same page submitted twice (same token) leads to the same attempt and says so."""
    a, alice = world["assignment"], client_for(world["alice"])
    first, token = submit_page(alice, a, round1_values())
    again, _ = submit_page(alice, a, round1_values(), token=token)
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert Submission.objects.filter(state="submitted").count() == 1
    page = alice.get(again["Location"]).content.decode()
    assert "already submitted: attempt 1" in page
    # A new page has a new token: a deliberate second attempt is still possible.
    second, _ = submit_page(alice, a, round1_values())
    assert second["Location"] != first["Location"]
    assert Submission.objects.filter(state="submitted").count() == 2


def test_the_receipt_is_the_sha256_of_the_answers_as_submitted(world):
    """The receipt on the feedback page is SHA-256 of the canonical JSON of the stored answers."""
    response, _ = submit_page(client_for(world["alice"]), world["assignment"], {"r1.forward.s1": "0.46"})
    sub = Submission.objects.get(state="submitted")
    expected = hashlib.sha256(json.dumps(sub.answers, sort_keys=True, ensure_ascii=False,
                                         separators=(",", ":")).encode()).hexdigest()
    assert sub.receipt == expected
    assert expected in client_for(world["alice"]).get(response["Location"]).content.decode()


@override_settings(TRUST_X_REQUEST_START=True)
def test_the_due_time_is_judged_by_the_arrival_stamp_of_the_proxy(world):
    """A submit the proxy stamped before the due time is on time even when the server gets to it
    after the due time and its grace; a stamp the proxy did not set is not trusted."""
    now = timezone.now()
    a = make_assignment(course=world["course"], slug="busy", due_in=timedelta(seconds=-150))
    sent = (now - timedelta(seconds=155)).timestamp()  # 5 s before the due time
    response, _ = submit_page(client_for(world["alice"]), a, round1_values(),
                              HTTP_X_REQUEST_START=f"t={sent * 1000:.0f}")
    assert response.status_code == 302
    sub = Submission.objects.get(assignment=a, state="submitted")
    assert not sub.late and abs(sub.submitted_at.timestamp() - sent) < 0.01
    with override_settings(TRUST_X_REQUEST_START=False):
        refused, _ = submit_page(client_for(world["bob"]), a, round1_values(),
                                 HTTP_X_REQUEST_START=f"t={sent * 1000:.0f}")
    assert refused.status_code == 409 and "has passed" in refused.content.decode()


def test_a_stamp_from_the_future_or_far_past_is_ignored(world, settings):
    """Only a stamp within the last few minutes is a queue delay; anything else is the server's now."""
    from django.test import RequestFactory

    from grading.middleware import arrival

    settings.TRUST_X_REQUEST_START = True
    now = time.time()
    for header in (f"t={(now + 60) * 1000:.0f}", f"t={now - 3600:.3f}", "t=junk", ""):
        request = RequestFactory().get("/", HTTP_X_REQUEST_START=header)
        assert abs(arrival(request, now=now).timestamp() - now) < 1e-3, header
    request = RequestFactory().get("/", HTTP_X_REQUEST_START=f"t={now - 2.5:.3f}")
    assert abs(arrival(request, now=now).timestamp() - (now - 2.5)) < 1e-3


def test_within_the_grace_period_a_submit_is_on_time(world):
    """Arriving 60 s after the due time (grace 120 s) is accepted and not late; the page says so."""
    a = make_assignment(course=world["course"], slug="grace", due_in=timedelta(seconds=-60))
    alice = client_for(world["alice"])
    assert "2 minutes later still count as on time" in alice.get(
        reverse("grading:assignment", args=[a.pk])).content.decode()
    response, _ = submit_page(alice, a, round1_values())
    assert response.status_code == 302 and not Submission.objects.get(assignment=a, state="submitted").late


@override_settings(TASKS=DB_TASKS)
@pytest.mark.django_db(transaction=True)
def test_grading_runs_in_a_worker_and_the_page_says_grading_until_then(world):
    """With the database task backend the submit returns before any grading; the feedback page
    says "Grading…" and its status is not graded; a worker run grades it."""
    alice = client_for(world["alice"])
    response, _ = submit_page(alice, world["assignment"], round1_values())
    sub = Submission.objects.get(state="submitted")
    assert not Grading.objects.filter(submission=sub).exists()
    page = alice.get(response["Location"]).content.decode()
    assert "Grading…" in page and "safely received" in page
    status = reverse("grading:submission_status", args=[sub.pk])
    assert alice.get(status).json() == {"graded": False}
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    assert alice.get(status).json() == {"graded": True}
    assert report_of(sub).total == pytest.approx(35)
    assert "Grading…" not in alice.get(response["Location"]).content.decode()


def test_grading_a_graded_attempt_again_does_nothing(world):
    """A grading task that runs twice writes one record."""
    sub = services.submission_submit(assignment=world["assignment"], student=world["alice"], answers={})
    assert services.submission_grade(submission_id=sub.pk) is None
    assert Grading.objects.filter(submission=sub).count() == 1


# ------------------------------------------------------------------ autosave


@pytest.mark.parametrize("body, content_type", [
    (json.dumps({"rounds": 5}), "application/json"),
    ("", "application/x-www-form-urlencoded"),
    ("junk=1&action=save", "application/x-www-form-urlencoded"),
    ("\x00\x01garbage", "text/plain"),
])
def test_an_autosave_that_is_not_the_form_is_refused_and_the_draft_stays(world, body, content_type):
    """A body with none of the form's fields, or another content type, is a 400 with a message;
    the draft keeps every typed value."""
    a = world["assignment"]
    client = client_for(world["alice"])
    post_answers(client, a, {"r1.forward.s1": "0.4600", "r1.forward.f1": "0.6130"})
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    response = client.generic("POST", reverse("grading:save_draft", args=[a.pk]), body,
                              content_type=content_type, HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 400
    assert "Your draft is unchanged" in response.json()["error"]
    draft = Submission.objects.get(student=world["alice"])
    assert draft.answers["rounds"][0]["forward"] == {"s1": "0.4600", "f1": "0.6130"}


# ------------------------------------------------------------------ expired sessions


def test_a_submit_after_the_session_expired_says_so_at_login_and_at_the_top_of_the_page(world):
    """Nothing is submitted; the login page and then the top of the page say plainly that it was
    not submitted, and what the last submitted attempt is."""
    a = world["assignment"]
    client = client_for(world["alice"])
    services.submission_submit(assignment=a, student=world["alice"], answers={})
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    del client.cookies["sessionid"]  # the session expired; the CSRF cookie is still there
    response = client.post(reverse("grading:assignment", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, "action": "submit", **round1_values()})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert Submission.objects.filter(state="submitted").count() == 1
    login = client.get(response["Location"]).content.decode()
    assert "your answers were not submitted" in login and "kept in this browser" in login
    client.login(request=login_request(), username="alice", password=PASSWORD)
    page = client.get(reverse("grading:assignment", args=[a.pk]) + "?expired=submit").content.decode()
    top = page.split('id="expired-notice"')[1][:600]
    assert "Not submitted:" in top and "last submitted attempt is still #1" in top
    assert page.index('id="expired-notice"') < page.index('id="answer-form"')


# ------------------------------------------------------------------ auto-submit at the due time


def test_drafts_are_submitted_at_the_due_time_when_the_assignment_asks(world):
    """A student who never submitted has their draft submitted, received at their due time; a
    student who submitted, one whose draft changed after the deadline, and one with a later
    extension are left alone; running it again takes nothing twice."""
    a = make_assignment(course=world["course"], slug="auto")
    Assignment.objects.filter(pk=a.pk).update(auto_submit=True)
    a.refresh_from_db()
    from tests.factories import make_member

    carl, dora = (make_member(course=world["course"], username=n) for n in ("carl", "dora"))
    for student in (world["alice"], world["bob"], carl, dora):
        services.submission_save_draft(assignment=a, student=student, answers={
            "rounds": [{"round": 1, "forward": {"s1": "0.4600"}}]})
    services.submission_submit(assignment=a, student=world["bob"], answers={})
    services.extension_create(assignment=a, student=carl, by=world["teacher"], reason="ill",
                              due_at=a.due_at + timedelta(days=2))
    after = a.due_at + a.grace + timedelta(seconds=1)
    with time_machine.travel(after, tick=False):  # dora goes on typing after the deadline
        services.submission_save_draft(assignment=a, student=dora, answers={
            "rounds": [{"round": 1, "forward": {"s1": "0.4700"}}]}, now=after)
    assert Submission.objects.get(student=dora, state="draft").updated_at == after
    taken = services.submissions_auto_submit(assignment=a, now=after)
    assert [s.student.username for s in taken] == ["alice"]
    alice = Submission.objects.get(student=world["alice"], assignment=a)
    assert alice.auto_submitted and alice.submitted_at == a.due_at and not alice.late
    assert report_of(alice).cell("r1.forward.s1").status == "correct"
    assert services.submissions_auto_submit(assignment=a, now=after) == []
    later = services.submissions_auto_submit(assignment=a, now=a.due_at + timedelta(days=3))
    assert [s.student.username for s in later] == ["carl"]


@override_settings(TASKS=DB_TASKS)
def test_an_auto_submit_assignment_schedules_itself_for_its_due_time(world):
    """Created with auto-submit on, the assignment queues one task to run at due + grace."""
    from django_tasks_db.models import DBTaskResult

    due = timezone.now() + timedelta(days=3)
    a = services.assignment_create(course=world["course"], title="Auto", slug="auto2",
                                   spec=SPEC_4_1, due_at=due,
                                   auto_submit=True)
    [queued] = DBTaskResult.objects.all()
    assert queued.run_after == a.due_at + timedelta(seconds=120)
    assert queued.task_path.endswith("auto_submit") and queued.args_kwargs["args"] == [a.pk]
