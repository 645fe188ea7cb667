"""Helpers for tests that go through Django's client as a browser would (CSRF enforced)."""
from __future__ import annotations

import re

from django.http import HttpRequest
from django.test import Client
from django.urls import reverse

from grading.models import Submission
from tests.factories import PASSWORD

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def login_request(ip: str = "127.0.0.1") -> HttpRequest:
    """The request django-axes needs to see a log in (it refuses one without): from ``ip``."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = ip
    return request


def client_for(user=None) -> Client:
    """A client that enforces CSRF, logged in as ``user`` when one is given."""
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        assert client.login(request=login_request(), username=user.username, password=PASSWORD)
    return client


def page_token(client: Client, url: str) -> str:
    """The CSRF token from the rendered page, as a browser would post it."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    match = TOKEN.search(response.content.decode())
    assert match, "no CSRF token in the page"
    return match.group(1)


def token_from(client: Client, assignment) -> str:
    """The CSRF cookie set by visiting the assignment page (also for pages that 404)."""
    client.get(reverse("grading:assignment", args=[assignment.pk]))
    return client.cookies["csrftoken"].value


def post_answers(client: Client, assignment, values: dict[str, str], action: str = "save"):
    """Post the assignment page's form (Save or Submit) with the page's own token."""
    url = reverse("grading:assignment", args=[assignment.pk])
    token = page_token(client, url)
    return client.post(url, {"csrfmiddlewaretoken": token, "action": action, **values})


def submit(client: Client, assignment, values: dict[str, str]) -> Submission:
    """Submit through the page and return the graded attempt it redirected to."""
    response = post_answers(client, assignment, values, action="submit")
    assert response.status_code == 302, response.content[:500]
    return Submission.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
