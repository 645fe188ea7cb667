"""Login throttling (django-axes): per username AND address, with a cool-off and a page that says what to do."""
from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD, make_course, make_member

pytestmark = pytest.mark.django_db

CLASSROOM = "203.0.113.10"   # one NAT address for a whole class
HOME = "198.51.100.7"


@pytest.fixture
def people():
    course = make_course()
    return {name: make_member(course=course, username=name) for name in ("alice", "bob")}


def log_in(username: str, password: str, ip: str, client: Client | None = None, **headers):
    client = client or Client()
    response = client.post(reverse("login"), {"username": username, "password": password},
                           REMOTE_ADDR=ip, **headers)
    return client, response


def logged_in_as(client: Client) -> str | None:
    response = client.get(reverse("grading:home"))
    return response.context["user"].username if response.status_code == 200 else None


def fail(username: str, ip: str, times: int, **headers) -> None:
    for _ in range(times):
        _, response = log_in(username, "wrong-password", ip, **headers)
        assert response.status_code in (200, 429)


def test_a_locked_out_student_is_refused_even_with_the_right_password_and_told_what_to_do(people, settings):
    """After the limit of wrong passwords, the right one is refused with a page saying to wait."""
    fail("alice", CLASSROOM, settings.AXES_FAILURE_LIMIT)
    client, response = log_in("alice", PASSWORD, CLASSROOM)
    assert response.status_code == 429
    assert logged_in_as(client) is None
    page = response.content.decode()
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    assert minutes >= 5
    assert f"Wait {minutes} minutes" in page and "ask your instructor" in page
    assert 'class="navbar-brand"' in page and f'href="{reverse("login")}"' in page  # the layout, a way on
    assert "<strong>alice</strong>" in page


def test_one_students_typos_never_lock_out_the_class_behind_the_same_address(people, settings):
    """Bob on the same NAT address logs in while Alice is locked out; so does Alice from home."""
    fail("alice", CLASSROOM, settings.AXES_FAILURE_LIMIT)
    assert log_in("alice", PASSWORD, CLASSROOM)[1].status_code == 429
    bob, response = log_in("bob", PASSWORD, CLASSROOM)
    assert response.status_code == 302 and logged_in_as(bob) == "bob"
    alice, response = log_in("alice", PASSWORD, HOME)
    assert response.status_code == 302 and logged_in_as(alice) == "alice"


def test_fewer_failures_than_the_limit_still_log_in_and_a_success_starts_the_count_again(people, settings):
    """Limit - 1 typos then the right password works, twice in a row (the count does not add up)."""
    for _ in range(2):
        fail("alice", CLASSROOM, settings.AXES_FAILURE_LIMIT - 1)
        client, response = log_in("alice", PASSWORD, CLASSROOM)
        assert response.status_code == 302 and logged_in_as(client) == "alice"


def test_the_lockout_ends_after_the_cool_off(people, settings):
    """Once the cool-off has passed since the failures, the right password logs in again."""
    fail("alice", CLASSROOM, settings.AXES_FAILURE_LIMIT)
    assert log_in("alice", PASSWORD, CLASSROOM)[1].status_code == 429
    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(minutes=1)
    assert AccessAttempt.objects.filter(username="alice").update(attempt_time=past) == 1
    client, response = log_in("alice", PASSWORD, CLASSROOM)
    assert response.status_code == 302 and logged_in_as(client) == "alice"


def test_trying_again_while_locked_out_does_not_restart_the_cool_off(people, settings):
    """"Wait 15 minutes" stays true: attempts during the lockout do not move its start."""
    fail("alice", CLASSROOM, settings.AXES_FAILURE_LIMIT)
    locked_at = AccessAttempt.objects.get(username="alice").attempt_time
    fail("alice", CLASSROOM, 3)
    assert AccessAttempt.objects.get(username="alice").attempt_time == locked_at


def test_x_forwarded_for_is_ignored_without_a_proxy(people, settings):
    """A client cannot escape the lockout by sending its own X-Forwarded-For."""
    settings.PROXY_COUNT = 0
    for k in range(settings.AXES_FAILURE_LIMIT):
        fail("alice", CLASSROOM, 1, HTTP_X_FORWARDED_FOR=f"10.0.0.{k}")
    _, response = log_in("alice", PASSWORD, CLASSROOM, HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_behind_one_proxy_the_address_the_proxy_saw_counts_and_a_forged_prefix_does_not(people, settings):
    """With PROXY_COUNT=1 the right-most X-Forwarded-For entry is the client; entries left of it are the client's word."""
    settings.PROXY_COUNT = 1
    proxy = "10.0.0.2"
    fail("alice", proxy, settings.AXES_FAILURE_LIMIT, HTTP_X_FORWARDED_FOR=CLASSROOM)
    forged = f"{HOME}, {CLASSROOM}"  # the client wrote HOME; the proxy appended what it saw
    assert log_in("alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=forged)[1].status_code == 429
    client, response = log_in("alice", PASSWORD, proxy, HTTP_X_FORWARDED_FOR=HOME)
    assert response.status_code == 302 and logged_in_as(client) == "alice"
