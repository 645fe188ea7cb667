"""Content-Security-Policy: a strict header on every HTML page, and pages that need nothing inline.

What the browser actually blocks is checked in tests/test_browser.py; here the header and the
markup are read from the responses.
"""
from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from tests.webtools import client_for, submit

pytestmark = pytest.mark.django_db

STRICT = {
    "default-src": {"'self'"}, "script-src": {"'self'"}, "style-src": {"'self'"},
    "img-src": {"'self'", "data:"}, "object-src": {"'none'"}, "base-uri": {"'none'"},
    "frame-ancestors": {"'none'"}, "form-action": {"'self'"},
}


def policy(response) -> dict[str, set[str]]:
    """The header as directive -> sources."""
    header = response["Content-Security-Policy"]
    parts = [p.split() for p in header.split(";") if p.strip()]
    return {p[0]: set(p[1:]) for p in parts}


class InlineFinder(HTMLParser):
    """Collects what a strict policy would block: inline scripts, <style>, style= and on*= attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "script" and "src" not in {name for name, _ in attrs}:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"{tag} {name}=javascript:")


def inline_code(html: str) -> list[str]:
    finder = InlineFinder()
    finder.feed(html)
    return finder.found


def main_pages(world) -> list[tuple[Client, str]]:
    """Every kind of HTML page: anonymous, student and staff."""
    a = world["assignment"]
    alice = client_for(world["alice"])
    sub = submit(alice, a, {"r1.forward.s1": "0.4600", "formulas.s1": "w11*x1 + w21*x2 + b1"})
    teacher = client_for(world["teacher"])
    return [
        (Client(), reverse("login")),
        (alice, reverse("grading:home")),
        (alice, reverse("grading:assignment", args=[a.pk])),
        (alice, sub.get_absolute_url()),
        (alice, "/no/such/page/"),
        (teacher, reverse("grading:home")),
        (teacher, reverse("grading:assignment", args=[a.pk])),
        (teacher, sub.get_absolute_url()),
        (teacher, reverse("grading:gradebook", args=[a.pk])),
        (teacher, reverse("grading:key", args=[a.pk])),
        (teacher, reverse("grading:analytics", args=[a.pk])),
    ]


def test_every_html_page_has_the_strict_policy_and_nothing_inline(world):
    """Login, home, assignment, feedback, 404 and the staff pages: strict header, no inline code."""
    for client, url in main_pages(world):
        response = client.get(url)
        assert response.status_code in (200, 404), url
        assert response["Content-Type"].startswith("text/html"), url
        assert policy(response) == STRICT, url
        assert inline_code(response.content.decode()) == [], url


def test_the_inline_finder_sees_what_the_policy_blocks():
    """The markup check is able to fail: each blocked form is reported."""
    html = ('<script>alert(1)</script><script src="/s.js"></script><style>p{}</style>'
            '<p style="color:red" onclick="x()"><a href="javascript:x()">x</a></p>')
    assert inline_code(html) == ["<script> without src", "<style>", "p style=", "p onclick=",
                                 "a href=javascript:"]


def test_plots_keep_their_own_policy(world):
    """An SVG plot keeps the stricter policy of svg_response (no script at all), not the page policy."""
    a = world["assignment"]
    response = client_for(world["teacher"]).get(reverse("grading:key_loss_plot", args=[a.pk]))
    assert response.status_code == 200
    assert policy(response) == {"default-src": {"'none'"}, "style-src": {"'unsafe-inline'"}}


def test_the_admin_allows_inline_styles_but_scripts_stay_same_origin(db):
    """Under /admin/ only style-src is relaxed (Django's change list writes a <style>)."""
    user = get_user_model().objects.create_superuser("root", "root@example.org", "pw-admin-1")
    client = Client()
    client.force_login(user)
    response = client.get("/admin/grading/submission/")
    assert response.status_code == 200
    admin = policy(response)
    assert admin["style-src"] == {"'self'", "'unsafe-inline'"}
    assert {k: v for k, v in admin.items() if k != "style-src"} == {
        k: v for k, v in STRICT.items() if k != "style-src"}
