"""A launch in Chromium as an LMS does it: the platform's page auto-posts to our login, we send
the browser to the platform's auth URL, and its page auto-posts the signed id_token to our
launch; the student lands on the assignment, signed in."""

from __future__ import annotations

import os

import pytest
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from grading.models import LtiIdentity, Membership
from tests import lti_platform as lp
from tests.factories import make_assignment
from tests.test_browser import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium(live_server, transactional_db, settings, monkeypatch):
    binary = chromium_path()
    if binary is None:
        reason = "no Chromium binary found (install Debian's chromium: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(reason + "; in CI the browser tests must run")
        pytest.skip(reason)
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.SECURE_SSL_REDIRECT = False
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=binary, args=CHROMIUM_ARGS)
        context = browser.new_context()
        tab = context.new_page()
        tab.set_default_timeout(15_000)
        yield tab
        context.close()
        browser.close()


def test_a_launch_through_the_platform_s_auto_posting_pages_signs_the_student_in(chromium, live_server):
    host = live_server.url.split("//")[1].split(":")[0]
    with lp.Running(lp.Platform(), host=host) as platform:
        platform.tool_url = live_server.url
        registration = LtiRegistration.objects.create(
            name="Test LMS", issuer=platform.issuer, client_id=lp.CLIENT_ID,
            auth_url=platform.url + "/auth", token_url=platform.url + "/token",
            keyset_url=platform.url + "/jwks")
        LtiDeployment.objects.create(registration=registration, deployment_id=lp.DEPLOYMENT_ID, is_active=True)
        Key.objects.generate()
        # The instructor's launch makes the course; then the student's opens its assignment.
        platform.pending = {"sub": "t-1", "roles": lp.INSTRUCTOR}
        chromium.goto(platform.url + "/start")
        chromium.wait_for_url(live_server.url + "/")
        course = Membership.objects.get(user__lti_identities__sub="t-1").course
        assignment = make_assignment(course=course)
        chromium.context.clear_cookies()
        platform.pending = {"sub": "s-1", "roles": lp.LEARNER, "custom": {"assignment": str(assignment.pk)}}
        chromium.goto(platform.url + "/start")
        chromium.wait_for_url(f"{live_server.url}/assignments/{assignment.pk}/")
        assert "Homework 4.1" in chromium.content()
        student = LtiIdentity.objects.get(sub="s-1").user
        assert student.get_username() in chromium.locator("nav").inner_text()
