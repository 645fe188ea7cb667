"""A launch in Chromium as an LMS does it: the platform's page auto-posts to our login, we send
the browser to the platform's auth URL, and its page auto-posts the signed id_token to our
launch; the student lands on the assignment, signed in."""

from __future__ import annotations

import pytest
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from grading.models import LtiIdentity, Membership
from tests import lti_platform as lp
from tests.factories import make_assignment
from tests.test_browser import chromium_tab

pytestmark = pytest.mark.browser


@pytest.fixture
def chromium(live_server, transactional_db, settings, monkeypatch):
    """A Chromium page whose requests go to the live server or the simulated LMS, which runs on
    the same host on a port of its own."""
    host = live_server.url.split("//")[1].split(":")[0]
    with chromium_tab(live_server, settings, monkeypatch, also=(f"http://{host}:",), timeout=15_000) as tab:
        yield tab


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
