"""One app server serving both of the proxy's lanes (the other one down): a background request
(autosave, grading status) that has already waited in its queue is answered 503 + Retry-After
at once, touching nothing, so the submits behind it do not wait; a background server on its
own, a fresh request, an interactive one, or headers not from a trusted proxy are served as
always (grading/middleware.py, README "Production" item 4)."""
import time

import pytest
from django.test import override_settings
from django.urls import reverse

from grading import middleware
from grading.models import DraftVersion, Submission
from tests.factories import make_assignment, make_course, make_member, round1_values
from tests.webtools import client_for, page_token, submit

pytestmark = pytest.mark.django_db

PROXY = {"TRUST_X_REQUEST_START": True, "TRUSTED_PROXIES": ["127.0.0.1/32"], "LANE_DEFER_AFTER": 0.25,
         "LANE_BACKGROUND_MAX_WAIT": 1.0}


@pytest.fixture(autouse=True)
def _no_lane_memory():
    """Each test starts as a freshly started app server: no interactive request seen yet."""
    middleware.LANES.interactive_at = float("-inf")
    yield
    middleware.LANES.interactive_at = float("-inf")


@pytest.fixture
def world(db):
    course = make_course()
    alice = make_member(course=course, username="alice")
    assignment = make_assignment(course=course)
    client = client_for(alice)
    token = page_token(client, reverse("grading:assignment", args=[assignment.pk]))
    return {"alice": alice, "assignment": assignment, "client": client, "token": token}


def proxied(lane: str, waited: float, remote: str = "127.0.0.1") -> dict:
    """The headers nginx adds: the lane, and a stamp ``waited`` seconds before now."""
    return {"HTTP_X_LANE": lane, "HTTP_X_REQUEST_START": f"t={time.time() - waited:.3f}", "REMOTE_ADDR": remote}


def autosave(world, lane: str = "background", waited: float = 2.0, remote: str = "127.0.0.1", value: str = "0.1111"):
    return world["client"].post(reverse("grading:save_draft", args=[world["assignment"].pk]),
                                {"csrfmiddlewaretoken": world["token"], "r1.forward.s1": value},
                                **proxied(lane, waited, remote))


def page(world, waited: float = 0.0):
    """A page through the interactive lane: the server learns it serves that lane too."""
    response = world["client"].get(reverse("grading:assignment", args=[world["assignment"].pk]),
                                   **proxied("interactive", waited))
    assert response.status_code == 200
    return response


@override_settings(**PROXY)
def test_a_server_serving_both_lanes_defers_a_stale_autosave_and_writes_nothing(world):
    page(world)
    before = DraftVersion.objects.count()
    response = autosave(world, waited=2.0)
    assert response.status_code == 503
    assert response["Retry-After"] == str(middleware.RETRY_AFTER_SECONDS)
    assert response["Cache-Control"] == "no-store"
    assert response.json()["busy"] is True and response.json()["ok"] is False
    assert DraftVersion.objects.count() == before  # nothing saved, nothing half-saved
    # Sent again after Retry-After, no longer queued: saved, the value there.
    response = autosave(world, waited=0.01)
    assert response.status_code == 200 and response.json()["ok"]
    assert DraftVersion.objects.count() == before + 1


@override_settings(**PROXY)
def test_the_grading_status_is_deferred_too(world):
    attempt = submit(world["client"], world["assignment"], round1_values())
    url = reverse("grading:submission_status", args=[attempt.pk])
    page(world)
    assert world["client"].get(url, **proxied("background", 1.0)).status_code == 503
    assert world["client"].get(url, **proxied("background", 0.0)).status_code == 200


@override_settings(**PROXY)
def test_a_background_server_on_its_own_defers_only_past_its_longest_wait(world):
    """The lanes' normal state: the autosaves wait on their own server up to a bound, and are
    saved; past it the queue is cut short, so a failover never inherits seconds of autosaves."""
    response = autosave(world, waited=0.8)
    assert response.status_code == 200 and response.json()["ok"]
    assert autosave(world, waited=1.5).status_code == 503


@override_settings(**PROXY)
def test_an_interactive_request_seen_long_ago_does_not_count(world):
    page(world)
    middleware.LANES.interactive_at -= middleware.LANE_MEMORY_SECONDS + 1
    assert autosave(world, waited=0.5).status_code == 200  # on its own again: the longer bound


@override_settings(**PROXY)
def test_a_request_that_did_not_wait_is_served(world):
    page(world)
    assert autosave(world, waited=0.1).status_code == 200


@override_settings(**PROXY)
def test_interactive_requests_are_never_deferred_however_long_they_waited(world):
    page(world)
    url = reverse("grading:assignment", args=[world["assignment"].pk])
    response = world["client"].post(url, {"csrfmiddlewaretoken": world["token"], "action": "submit",
                                          **round1_values()}, **proxied("interactive", 30.0))
    assert response.status_code == 302, response.status_code
    assert Submission.objects.filter(student=world["alice"]).count() == 1


@override_settings(**{**PROXY, "TRUSTED_PROXIES": ["10.0.0.1/32"]})
def test_lane_headers_from_an_untrusted_address_are_ignored(world):
    """A client talking to the app server directly cannot make it refuse or prefer anything."""
    page(world)
    assert autosave(world, waited=30.0).status_code == 200


@override_settings(**{**PROXY, "TRUST_X_REQUEST_START": False})
def test_without_the_proxy_stamp_nothing_is_deferred(world):
    page(world)
    assert autosave(world, waited=30.0).status_code == 200


@override_settings(**{**PROXY, "LANE_DEFER_AFTER": 5.0, "LANE_BACKGROUND_MAX_WAIT": 20.0})
def test_the_thresholds_are_settings(world):
    assert autosave(world, waited=10.0).status_code == 200
    assert autosave(world, waited=21.0).status_code == 503
    page(world)
    assert autosave(world, waited=2.0).status_code == 200
    assert autosave(world, waited=6.0).status_code == 503
