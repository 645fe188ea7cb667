"""Our own error pages in the site's layout, the CSRF failure page, a fresh token, bodies too large."""
from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from grading import selectors
from grading.models import Submission
from tests.factories import PASSWORD, make_assignment
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db

JSON = {"HTTP_ACCEPT": "application/json", "HTTP_X_REQUESTED_WITH": "XMLHttpRequest"}


def assert_in_layout_with_a_way_home(response, status: int) -> str:
    html = response.content.decode()
    assert response.status_code == status
    assert 'class="navbar-brand"' in html and 'href="/static/bootstrap/css/bootstrap.min.css"' in html
    assert 'id="error-home" href="/"' in html
    return html


@pytest.fixture
def failing_urls(settings):
    settings.ROOT_URLCONF = "tests.error_urls"


def test_404_page_is_ours_with_a_way_home(world):
    """A missing page: our layout, the user still signed in, a link to their courses."""
    html = assert_in_layout_with_a_way_home(client_for(world["alice"]).get("/no/such/page/"), 404)
    assert "There is no such page here" in html and "Signed in as <strong>alice</strong>" in html


def test_403_page_is_ours_with_a_way_home(world, failing_urls):
    html = assert_in_layout_with_a_way_home(client_for(world["alice"]).get("/test-errors/403/"), 403)
    assert "You are not allowed to do that" in html


def test_400_page_is_ours_with_a_way_home(world, failing_urls):
    html = assert_in_layout_with_a_way_home(client_for(world["alice"]).get("/test-errors/400/"), 400)
    assert "could not read that request" in html


def test_500_page_is_ours_with_a_way_home_when_debug_is_off(world, failing_urls, settings):
    """An exception in a view gives our 500 page (rendered without a request context) in the layout."""
    assert settings.DEBUG is False
    client = client_for(world["alice"])
    client.raise_request_exception = False
    html = assert_in_layout_with_a_way_home(client.get("/test-errors/500/"), 500)
    assert "Something went wrong on the server" in html and "kept in this browser" in html
    assert "deliberate failure" not in html  # nothing of the exception reaches the page


def log_in_again(client: Client, user) -> None:
    """Log in through the login form, as a second tab would: Django rotates the CSRF token."""
    token = page_token(client, reverse("login"))
    response = client.post(reverse("login"), {"csrfmiddlewaretoken": token,
                                              "username": user.username, "password": PASSWORD})
    assert response.status_code == 302


def test_a_post_with_the_token_from_before_a_re_login_gets_our_csrf_page_and_saves_nothing(world):
    """The page says what happened and how to go on, in the layout, with the page to reload."""
    a = world["assignment"]
    client = client_for(world["alice"])
    url = reverse("grading:assignment", args=[a.pk])
    stale = page_token(client, url)
    log_in_again(client, world["alice"])
    response = client.post(url, {"csrfmiddlewaretoken": stale, "action": "submit",
                                 "r1.forward.s1": "0.4600"})
    html = assert_in_layout_with_a_way_home(response, 403)
    assert "You logged in again (or logged out) in another tab, so this page's security token expired." in html
    assert "Your answers are kept in this browser: reload the page and submit again." in html
    assert f'id="error-back" href="{url}"' in html
    assert not Submission.objects.exists()


def test_an_autosave_with_a_stale_token_gets_json_it_can_act_on(world):
    """The autosave script asks for JSON: a 403 with csrf=true, not an HTML page."""
    a = world["assignment"]
    client = client_for(world["alice"])
    stale = page_token(client, reverse("grading:assignment", args=[a.pk]))
    log_in_again(client, world["alice"])
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": stale, "r1.forward.s1": "0.46"}, **JSON)
    assert response.status_code == 403
    assert response.json()["ok"] is False and response.json()["csrf"] is True
    assert "kept in this browser" in response.json()["error"]
    assert not Submission.objects.exists()


def test_the_fresh_token_endpoint_gives_a_token_that_works_after_a_re_login(world):
    """GET /csrf/ after a re-login returns the session's current token; a post with it is accepted."""
    a = world["assignment"]
    client = client_for(world["alice"])
    log_in_again(client, world["alice"])
    response = client.get(reverse("grading:csrf_token"), **JSON)
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    token = response.json()["token"]
    saved = client.post(reverse("grading:save_draft", args=[a.pk]),
                        {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"}, **JSON)
    assert saved.status_code == 200 and saved.json()["ok"] is True
    assert Submission.objects.get().answers["rounds"][0]["forward"]["s1"] == "0.46"


def test_the_fresh_token_endpoint_needs_a_session_and_a_get(world):
    """Anonymous: 401 JSON (a script asked, not a person); a POST is not allowed."""
    response = Client().get(reverse("grading:csrf_token"), **JSON)
    assert response.status_code == 401 and response.json()["ok"] is False
    assert "token" not in response.json()
    assert client_for(world["alice"]).post(reverse("grading:csrf_token")).status_code in (403, 405)


def test_an_autosave_body_over_the_limit_gets_a_clear_413_json_and_nothing_is_stored(world, settings):
    """The script is told in words that the body is too large (and stops retrying it on 413)."""
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    a = world["assignment"]
    client = client_for(world["alice"])
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, "r1.forward.s1": "9" * 100_001}, **JSON)
    assert response.status_code == 413
    body = response.json()
    assert body["ok"] is False and body["too_large"] is True
    assert "larger than 0.0953674 MB" in body["error"] and "still in this browser" in body["error"]
    assert not Submission.objects.exists()


def test_a_form_post_over_the_limit_gets_a_page_in_the_layout(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    a = world["assignment"]
    client = client_for(world["alice"])
    url = reverse("grading:assignment", args=[a.pk])
    token = page_token(client, url)
    response = client.post(url, {"csrfmiddlewaretoken": token, "action": "submit",
                                 "r1.forward.s1": "9" * 100_001})
    html = assert_in_layout_with_a_way_home(response, 413)
    assert "Too large to save" in html and f'id="error-back" href="{url}"' in html
    assert not Submission.objects.exists()


def test_too_many_fields_is_a_400_json_that_says_so(world, settings):
    a = world["assignment"]
    client = client_for(world["alice"])
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    fields = {f"f{k}": "1" for k in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1)}
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, **fields}, **JSON)
    assert response.status_code == 400
    assert response.json()["too_large"] is False and "fields" in response.json()["error"]


def test_the_whole_form_of_a_big_network_fits_the_body_limits(world):
    """A 9x9 network over 4 samples has about 1,400 fields (Django's default allows 1,000): it saves."""
    from grading import services

    spec = {"weights": [[0.1 * ((i + j) % 5) for j in range(9)] for i in range(9)],
            "biases": [0.05 * j for j in range(9)], "learning_rate": 0.5,
            "samples": [{"x": [0.1 * ((k + i) % 7) for i in range(9)], "y": [float((k + j) % 2) for j in range(9)]}
                        for k in range(4)]}
    a = make_assignment(course=world["course"], spec=spec, slug="big")
    client = client_for(world["alice"])
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    parsed = a.parsed_spec
    fields = {cell.id: "-0.123456789" for cell in selectors.typed_cells(parsed)}
    fields.update({f"formulas.{row}": "w11*x1 + w21*x2 + b1" for row in selectors.formula_rows(parsed)})
    assert len(fields) > 1000
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, **fields}, **JSON)
    assert response.status_code == 200, response.content[:300]
    draft = Submission.objects.get(assignment=a)
    assert draft.answers["rounds"][3]["updated"]["b9"] == "-0.123456789"
