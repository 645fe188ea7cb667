"""LTI 1.3 against a platform simulated in the test (tests/lti_platform.py): its id_tokens are
signed with its own RSA key and its JWKS, token, AGS and NRPS endpoints answer over real HTTP."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from lti_tool.models import Key, LtiDeployment, LtiRegistration

from grading.models import (LtiIdentity, LtiLineItem, Membership, ScorePassback, Submission)
from tests import lti_platform as lp
from tests.factories import make_assignment, make_user, round1_values

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def platform(settings):
    settings.LTI_PASSBACK_BACKOFF_SECONDS = 0.01
    with lp.Running(lp.Platform()) as running:
        registration = LtiRegistration.objects.create(
            name="Test LMS", issuer=running.issuer, client_id=lp.CLIENT_ID,
            auth_url=running.url + "/auth", token_url=running.url + "/token",
            keyset_url=running.url + "/jwks")
        LtiDeployment.objects.create(registration=registration, deployment_id=lp.DEPLOYMENT_ID,
                                     is_active=True)
        running.tool_public_pem = Key.objects.generate().public_key
        yield running


def start(client: Client, platform: lp.Platform) -> tuple[str, str]:
    """The OIDC login initiation, as the LMS starts it: the state and nonce it sends us to."""
    response = client.get("/lti/login/", {"iss": platform.issuer, "login_hint": "hint",
                                          "target_link_uri": "http://testserver/lti/launch/",
                                          "client_id": lp.CLIENT_ID})
    assert response.status_code == 302
    query = parse_qs(urlsplit(response["Location"]).query)
    assert response["Location"].startswith(platform.url + "/auth?")
    assert query["client_id"] == [lp.CLIENT_ID] and query["response_type"] == ["id_token"]
    return query["state"][0], query["nonce"][0]


def launch(client: Client, platform: lp.Platform, *, sub: str, roles: list[str], sign=None,
           state: str | None = None, **claims):
    """A whole launch: login initiation, then the platform's form post of a signed id_token."""
    issued_state, nonce = start(client, platform)
    body = platform.claims(nonce=nonce, sub=sub, roles=roles, **claims)
    token = sign(body) if sign else platform.sign(body)
    return client.post("/lti/launch/", {"id_token": token, "state": state or issued_state})


def test_a_student_launch_signs_in_and_opens_the_assignment(platform):
    """The instructor's first launch makes the course; a student's launch (with the link's
    custom assignment) signs the student in, as a student of it, on the assignment's page."""
    teacher = Client()
    response = launch(teacher, platform, sub="t-1", roles=lp.INSTRUCTOR)
    assert response.status_code == 302 and response["Location"] == "/"
    identity = LtiIdentity.objects.get(issuer=platform.issuer, sub="t-1")
    membership = Membership.objects.get(user=identity.user)
    assert membership.role == Membership.Role.INSTRUCTOR
    assignment = make_assignment(course=membership.course)

    student = Client()
    response = launch(student, platform, sub="s-1", roles=lp.LEARNER,
                      custom={"assignment": str(assignment.pk)})
    assert response.status_code == 302
    assert response["Location"] == f"/assignments/{assignment.pk}/"
    page = student.get(response["Location"])
    assert page.status_code == 200 and "Homework 4.1" in page.content.decode()
    user = LtiIdentity.objects.get(sub="s-1").user
    assert not user.has_usable_password() and user.email == "s-1@uni.example"
    assert Membership.objects.get(user=user, course=membership.course).role == Membership.Role.STUDENT
    assert not user.is_staff and not user.is_superuser


def test_the_same_account_launching_again_is_the_same_user_and_email_is_not_the_key(platform):
    """Issuer + sub find the user; another account with the same e-mail is another user."""
    launch(Client(), platform, sub="s-1", roles=lp.LEARNER)
    launch(Client(), platform, sub="s-1", roles=lp.LEARNER)
    launch(Client(), platform, sub="s-2", roles=lp.LEARNER, extra={"email": "s-1@uni.example"})
    assert LtiIdentity.objects.filter(sub="s-1").count() == 1
    users = {i.sub: i.user_id for i in LtiIdentity.objects.all()}
    assert users["s-1"] != users["s-2"]


@pytest.mark.parametrize("locale, expected", [("th-TH", "th"), ("en-GB", "en")])
def test_the_launch_locale_sets_the_language_unless_the_user_chose(platform, locale, expected):
    """The launch's locale becomes the language cookie; a cookie already chosen stays."""
    client = Client()
    response = launch(client, platform, sub="s-1", roles=lp.LEARNER, locale=locale)
    assert response.cookies["django_language"].value == expected
    chose = Client()
    chose.cookies["django_language"] = "en"
    response = launch(chose, platform, sub="s-2", roles=lp.LEARNER, locale="th-TH")
    assert "django_language" not in response.cookies


def test_a_system_or_institution_role_never_makes_anyone_staff_of_the_course(platform):
    """Only a context role of the launch's own course counts: an institution's Instructor or a
    system Administrator who is a Learner in this course is a student here."""
    roles = ["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor",
             "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator", *lp.LEARNER]
    launch(Client(), platform, sub="s-9", roles=roles)
    user = LtiIdentity.objects.get(sub="s-9").user
    assert list(Membership.objects.filter(user=user).values_list("role", flat=True)) == ["student"]
    assert not user.is_staff and not user.is_superuser


def test_a_teaching_assistant_role_is_a_ta(platform):
    """The Instructor#TeachingAssistant sub-role is a TA, not an instructor."""
    launch(Client(), platform, sub="ta-1",
           roles=[lp.MEMBERSHIP + "Instructor#TeachingAssistant", lp.MEMBERSHIP + "Instructor"])
    user = LtiIdentity.objects.get(sub="ta-1").user
    assert Membership.objects.get(user=user).role == Membership.Role.TA


def test_an_assignment_of_another_course_is_not_opened(platform):
    """A link's custom assignment id outside the launch's course opens the course home instead."""
    elsewhere = make_assignment()
    response = launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                      custom={"assignment": str(elsewhere.pk)})
    assert response.status_code == 302 and response["Location"] == "/"


def test_password_login_still_works_beside_lti(platform):
    """A password account (an admin, a course without an LMS) logs in as before."""
    make_user(username="admin1")
    client = Client()
    response = client.post("/accounts/login/", {"username": "admin1", "password": "pw-for-tests-1"})
    assert response.status_code == 302


def test_the_jwks_lists_our_active_keys_and_rotation_adds_one(platform):
    """The JWKS endpoint publishes every active key; ``rotate_keys`` adds a new one."""
    from django.core.management import call_command
    assert len(Client().get("/lti/jwks/").json()["keys"]) == 1
    call_command("rotate_keys", verbosity=0)
    keys = Client().get("/lti/jwks/").json()["keys"]
    assert len(keys) == 2 and all(k["kty"] == "RSA" and "d" not in k for k in keys)


# ---------------------------------------------------------------- refusals


def refused(response, code: str) -> None:
    assert response.status_code == 403
    assert f'data-code="{code}"' in response.content.decode()


def test_a_replayed_id_token_is_refused(platform, caplog):
    """The same id_token posted twice (nonce and state reused): the second is refused."""
    client = Client()
    state, nonce = start(client, platform)
    token = platform.sign(platform.claims(nonce=nonce, sub="s-1", roles=lp.LEARNER))
    assert client.post("/lti/launch/", {"id_token": token, "state": state}).status_code == 302
    with caplog.at_level(logging.WARNING, logger="grading.lti"):
        refused(client.post("/lti/launch/", {"id_token": token, "state": state}), "nonce_replay")
    assert "nonce_replay" in caplog.text


def test_a_nonce_never_issued_is_refused(platform):
    client = Client()
    state, _nonce = start(client, platform)
    token = platform.sign(platform.claims(nonce="made-up", sub="s-1", roles=lp.LEARNER))
    refused(client.post("/lti/launch/", {"id_token": token, "state": state}), "nonce")


def test_an_expired_token_is_refused(platform, caplog):
    with caplog.at_level(logging.WARNING, logger="grading.lti"):
        refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER, now=time.time() - 3600), "expired")
    assert "refused (expired)" in caplog.text
    assert not LtiIdentity.objects.exists()


def test_a_token_from_the_future_is_refused(platform):
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER, now=time.time() + 3600), "future")
    assert not LtiIdentity.objects.exists()


def test_a_wrong_issuer_is_refused(platform):
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                   extra={"iss": "https://evil.example"}), "registration")


def test_a_wrong_audience_is_refused(platform):
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                   extra={"aud": "another-tool"}), "registration")


def test_an_unknown_deployment_is_refused(platform):
    """A deployment id the admin never activated is refused (django-lti records it, inactive)."""
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                   extra={lp.LTI + "deployment_id": "someone-else"}), "deployment_inactive")
    assert not LtiIdentity.objects.exists()
    assert LtiDeployment.objects.get(deployment_id="someone-else").is_active is False


def test_a_state_mismatch_is_refused(platform):
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER, state="state-forged"), "state")


def test_an_unknown_key_id_is_refused(platform):
    other = lp._new_key()
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                   sign=lambda body: platform.sign(body, key=other, kid="unknown-kid")), "key")


def test_a_tampered_signature_is_refused(platform):
    """Signed by another key under the platform's kid, or a claim changed after signing."""
    other = lp._new_key()
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                   sign=lambda body: platform.sign(body, key=other)), "signature")

    def altered(body):
        token = platform.sign(body)
        head, payload, sig = token.split(".")
        import base64
        import json
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        data[lp.LTI + "roles"] = lp.INSTRUCTOR
        forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
        return f"{head}.{forged}.{sig}"
    refused(launch(Client(), platform, sub="s-2", roles=lp.LEARNER, sign=altered), "signature")
    assert not Membership.objects.filter(role=Membership.Role.INSTRUCTOR).exists()


def test_a_launch_without_its_state_cookie_offers_a_new_window(platform):
    """Cookies blocked in the LMS's frame: the state was ours but its cookie did not come back;
    the page says so and links to the same login in a new window."""
    client = Client()
    state, nonce = start(client, platform)
    client.cookies.clear()
    token = platform.sign(platform.claims(nonce=nonce, sub="s-1", roles=lp.LEARNER))
    response = client.post("/lti/launch/", {"id_token": token, "state": state})
    page = response.content.decode()
    assert response.status_code == 200 and 'id="lti-new-window"' in page and 'target="_blank"' in page
    assert "/lti/login/?iss=" in page


# ---------------------------------------------------------------- grade passback (AGS)


def _graded_submission(assignment, student):
    return Submission.objects.filter(assignment=assignment, student=student).exclude(state="draft").get()


def test_a_graded_submission_s_score_arrives_at_the_platform(platform):
    """A student's submission, once graded, is sent to the line item's scores endpoint with the
    student's LMS id, the score and the maximum, FullyGraded; the same grade is not sent twice."""
    from grading import services
    launch(Client(), platform, sub="t-1", roles=lp.INSTRUCTOR)
    course = Membership.objects.get().course
    assignment = make_assignment(course=course)
    lineitem = platform.url + "/lineitems/9/lineitem"
    launch(Client(), platform, sub="s-1", roles=lp.LEARNER, custom={"assignment": str(assignment.pk)},
           lineitem=lineitem)
    student = LtiIdentity.objects.get(sub="s-1").user
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    grading = _graded_submission(assignment, student).gradings.get()
    assert len(platform.scores) == 1
    sent = platform.scores[0]
    assert platform.score_urls == ["/lineitems/9/lineitem/scores"]
    assert sent["userId"] == "s-1"
    assert sent["scoreGiven"] == pytest.approx(grading.score) and sent["scoreMaximum"] == pytest.approx(grading.max_score)
    assert sent["activityProgress"] == "Completed" and sent["gradingProgress"] == "FullyGraded"
    row = ScorePassback.objects.get()
    assert row.status == "sent" and row.grading_id == grading.pk
    from grading.services.lti import passback_send
    assert passback_send(line_item_id=row.line_item_id, student_id=student.pk) is None  # idempotent
    assert len(platform.scores) == 1


def _linked(platform, *, over_max="cap"):
    launch(Client(), platform, sub="t-1", roles=lp.INSTRUCTOR)
    course = Membership.objects.get().course
    assignment = make_assignment(course=course)
    launch(Client(), platform, sub="s-1", roles=lp.LEARNER, custom={"assignment": str(assignment.pk)},
           lineitem=platform.url + "/lineitems/9/lineitem")
    LtiLineItem.objects.filter(assignment=assignment).update(over_max=over_max)
    return assignment, LtiIdentity.objects.get(sub="s-1").user


def test_a_refused_send_is_tried_again_and_each_try_is_recorded(platform):
    """The platform answers 503 twice, then takes it: three rows, two failed and one sent, and
    the timestamps sent only go up."""
    from grading import services
    assignment, student = _linked(platform)
    platform.fail_scores = 2
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    rows = list(ScorePassback.objects.order_by("pk"))
    assert [r.status for r in rows] == ["failed", "failed", "sent"]
    assert rows[0].http_status == 503 and "503" in rows[0].error
    assert rows[0].timestamp < rows[1].timestamp < rows[2].timestamp
    assert len(platform.scores) == 1


def test_send_again_sends_with_a_later_timestamp_and_zero_is_sent_as_zero(platform):
    """An empty sheet grades 0: 0 is sent (not skipped); "send again" sends it again, later."""
    from grading import services
    from grading.services.lti import passback_send
    assignment, student = _linked(platform)
    services.submission_submit(assignment=assignment, student=student, answers={})
    assert platform.scores[-1]["scoreGiven"] == 0
    item = LtiLineItem.objects.get()
    passback_send(line_item_id=item.pk, student_id=student.pk, force=True)
    assert len(platform.scores) == 2
    assert platform.scores[0]["timestamp"] < platform.scores[1]["timestamp"]


def test_the_staff_page_lists_the_last_send_and_students_cannot_open_it(platform):
    from grading import services
    assignment, student = _linked(platform)
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    teacher = Client()
    teacher.force_login(LtiIdentity.objects.get(sub="t-1").user)
    page = teacher.get(f"/assignments/{assignment.pk}/lms/")
    assert page.status_code == 200
    assert f'data-student="{student.username}"' in page.content.decode()
    response = teacher.post(f"/assignments/{assignment.pk}/lms/",
                            {"line_item": LtiLineItem.objects.get().pk, "student": student.pk})
    assert response.status_code == 302 and len(platform.scores) == 2
    pupil = Client()
    pupil.force_login(student)
    assert pupil.get(f"/assignments/{assignment.pk}/lms/").status_code == 404


# ---------------------------------------------------------------- roster (NRPS), deep linking


def test_a_roster_sync_adds_and_drops_members_and_keeps_attempts(platform):
    """The LMS lists s-2 (new) and the teacher but no longer s-1: s-2 is added as a student,
    s-1 dropped from the course, and s-1's attempt stays."""
    from grading import services
    assignment, student = _linked(platform)
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    platform.members = [
        {"user_id": "t-1", "roles": ["Instructor"], "status": "Active"},
        {"user_id": "s-2", "roles": ["Learner"], "status": "Active", "email": "s2@uni.example",
         "given_name": "Sam", "family_name": "Two"},
    ]
    teacher = Client()
    teacher.force_login(LtiIdentity.objects.get(sub="t-1").user)
    response = teacher.post(f"/courses/{assignment.course.code}/lms-roster/")
    assert response.status_code == 302
    page = teacher.get(response["Location"]).content.decode()
    assert "Added: Sam Two s2@uni.example as Student" in page
    assert page.count('class="roster-dropped"') == 1 and "S-1 Tester" in page
    s2 = LtiIdentity.objects.get(sub="s-2").user
    assert Membership.objects.get(user=s2, course=assignment.course).role == Membership.Role.STUDENT
    assert not Membership.objects.filter(user=student, course=assignment.course).exists()
    assert Submission.objects.filter(student=student, assignment=assignment).count() == 1


def test_an_instructor_deep_links_an_assignment(platform):
    """A deep-linking launch by the instructor: they pick an assignment; the answer posted back
    to the LMS is signed with our key and names the assignment with a line item of its maximum."""
    import jwt as pyjwt
    teacher = Client()
    launch(teacher, platform, sub="t-1", roles=lp.INSTRUCTOR)
    assignment = make_assignment(course=Membership.objects.get().course)
    response = launch(teacher, platform, sub="t-1", roles=lp.INSTRUCTOR,
                      message_type="LtiDeepLinkingRequest")
    assert response["Location"] == "/lti/deep-link/"
    page = teacher.get("/lti/deep-link/")
    assert page.status_code == 200 and f'value="{assignment.pk}"' in page.content.decode()
    new = f'href="/courses/{assignment.course.code}/assignments/new/"'
    assert new in page.content.decode() and teacher.get(new[6:-1]).status_code == 200
    answer = teacher.post("/lti/deep-link/", {"assignment": assignment.pk})
    html = answer.content.decode()
    assert f'action="{platform.url}/deep-link-return"' in html
    token = html.split('name="JWT" value="')[1].split('"')[0]
    public = Key.objects.get().public_key
    claims = pyjwt.decode(token, public, algorithms=["RS256"], audience=platform.issuer)
    [item] = claims["https://purl.imsglobal.org/spec/lti-dl/claim/content_items"]
    assert item["type"] == "ltiResourceLink" and item["custom"] == {"assignment": str(assignment.pk)}
    expected_max = sum(q.points for q in assignment.questions.all() if not q.extra_credit)
    assert item["lineItem"]["scoreMaximum"] == pytest.approx(expected_max)


def test_a_student_cannot_deep_link(platform):
    student = Client()
    response = launch(student, platform, sub="s-1", roles=lp.LEARNER, message_type="LtiDeepLinkingRequest")
    refused(response, "deep_link_role")


def test_a_launch_without_a_line_item_creates_one_and_grades_go_there(platform):
    """The link came without a line item but the platform lets us manage them: a task creates
    one (label, maximum, the resource link) and the grade goes to it."""
    from grading import services
    launch(Client(), platform, sub="t-1", roles=lp.INSTRUCTOR)
    assignment = make_assignment(course=Membership.objects.get().course)
    launch(Client(), platform, sub="s-1", roles=lp.LEARNER, custom={"assignment": str(assignment.pk)})
    [created] = platform.lineitems_created
    expected_max = sum(q.points for q in assignment.questions.all() if not q.extra_credit)
    assert created["label"] == "Homework 4.1" and created["scoreMaximum"] == pytest.approx(expected_max)
    assert created["resourceLinkId"] == "link-1"
    assert LtiLineItem.objects.get().url == created["id"]
    student = LtiIdentity.objects.get(sub="s-1").user
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    assert platform.score_urls == ["/lineitems/1/lineitem/scores"]


def test_over_the_maximum_is_capped_unless_the_line_item_sends_raw(platform):
    """Extra credit takes the total past the maximum: capped at the maximum by default, the raw
    score once the line item says raw."""
    from grading import services
    from grading.grade import ledger
    from grading.models import Question
    from grading.selectors import current_report
    from grading.services.lti import passback_send
    assignment, student = _linked(platform)
    bonus = Question.objects.filter(assignment=assignment).order_by("-number").first()
    Question.objects.filter(pk=bonus.pk).update(extra_credit=True)
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    submission = _graded_submission(assignment, student)
    report = current_report(submission)
    assert report.max_with_extra > report.max
    teacher = LtiIdentity.objects.get(sub="t-1").user
    services.grading_override(submission=submission, by=teacher, reason="bonus", based_on=1,
                              changes=[ledger.Change(kind="total", points=report.max_with_extra)])
    assert platform.scores[-1]["scoreGiven"] == pytest.approx(report.max)
    assert platform.scores[-1]["scoreMaximum"] == pytest.approx(report.max)
    item = LtiLineItem.objects.get()
    LtiLineItem.objects.filter(pk=item.pk).update(over_max=LtiLineItem.OverMax.RAW)
    passback_send(line_item_id=item.pk, student_id=student.pk)
    assert platform.scores[-1]["scoreGiven"] == pytest.approx(report.max_with_extra)


def test_the_periodic_roster_sync_command_queues_each_linked_course(platform):
    from django.core.management import call_command
    from grading.models import LtiRosterSync
    launch(Client(), platform, sub="t-1", roles=lp.INSTRUCTOR)
    platform.members = [{"user_id": "t-1", "roles": ["Instructor"], "status": "Active"},
                        {"user_id": "s-5", "roles": ["Learner"], "status": "Active"}]
    call_command("lti_sync_rosters", verbosity=0)
    job = LtiRosterSync.objects.get()
    assert job.status == "done" and [m["after"] for m in job.result["added"]] == ["student"]
    assert LtiIdentity.objects.filter(sub="s-5").exists()


def test_a_launch_session_may_be_framed_by_its_platform_only(platform):
    """After a launch, pages allow frame-ancestors of the platform's origin; a password session's
    pages stay 'none' with X-Frame-Options DENY."""
    client = Client()
    launch(client, platform, sub="s-1", roles=lp.LEARNER)
    page = client.get("/")
    assert f"frame-ancestors 'self' {platform.url}" in page["Content-Security-Policy"]
    assert "X-Frame-Options" not in page
    other = Client()
    other.force_login(make_user(username="bob"))
    page = other.get("/")
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"] and page["X-Frame-Options"] == "DENY"


def test_a_framed_launch_offers_a_one_time_link_to_a_new_window(platform):
    """With Lax cookies an iframe keeps no session: the launch page links to a new window that
    signs the same person in, once."""
    client = Client()
    state, nonce = start(client, platform)
    body = platform.claims(nonce=nonce, sub="s-1", roles=lp.LEARNER)
    body[lp.LTI + "launch_presentation"]["document_target"] = "iframe"
    response = client.post("/lti/launch/", {"id_token": platform.sign(body), "state": state})
    html = response.content.decode()
    assert response.status_code == 200 and 'target="_blank"' in html
    link = html.split('id="lti-new-window" class="btn btn-primary" href="')[1].split('"')[0]
    assert "_auth_user_id" not in client.session
    window = Client()
    assert window.get(link).status_code == 302
    assert int(window.session["_auth_user_id"]) == LtiIdentity.objects.get(sub="s-1").user_id
    refused(Client().get(link), "continue")


# ---------------------------------------------------------------- dynamic registration


@pytest.fixture
def lms():
    with lp.Running(lp.Platform()) as running:
        yield running


def _registration_path() -> str:
    from io import StringIO
    from django.core.management import call_command
    out = StringIO()
    call_command("lti_registration_link", "http://testserver", stdout=out)
    link = out.getvalue().strip()
    assert link.startswith("http://testserver/lti/register/")
    return link[len("http://testserver"):]


def test_dynamic_registration_registers_with_the_platform_once(lms):
    """The LMS opens our one-time link with its configuration URL: we send our registration
    (login, launch and JWKS URLs, the AGS and NRPS scopes) and keep its registration and
    deployment, active; the same link cannot be used again."""
    path = _registration_path()
    query = {"openid_configuration": lms.url + "/.well-known/openid-configuration",
             "registration_token": "reg-token"}
    response = Client().get(path, query)
    assert response.status_code == 200 and 'id="lti-registered"' in response.content.decode()
    [sent] = lms.registrations
    assert sent["initiate_login_uri"] == "http://testserver/lti/login/"
    assert sent["redirect_uris"] == ["http://testserver/lti/launch/"]
    assert sent["jwks_uri"] == "http://testserver/lti/jwks/"
    assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in sent["scope"].split()
    registration = LtiRegistration.objects.get()
    assert (registration.issuer, registration.client_id, registration.keyset_url) == (
        lms.issuer, "dyn-client-1", lms.url + "/jwks")
    assert LtiDeployment.objects.get(registration=registration, deployment_id="dyn-deployment-1").is_active
    refused(Client().get(path, query), "registration_link")
    assert LtiRegistration.objects.count() == 1


def test_dynamic_registration_refuses_a_forged_link_and_a_foreign_issuer(lms):
    query = {"openid_configuration": lms.url + "/.well-known/openid-configuration",
             "registration_token": "reg-token"}
    refused(Client().get("/lti/register/not-a-signed-token/", query), "registration_link")
    lms.config_issuer = "https://moodle.university.example"  # a page elsewhere naming another LMS
    refused(Client().get(_registration_path(), query), "registration_config")
    assert not LtiRegistration.objects.exists() and lms.registrations == []


def test_odd_claims_get_a_page_not_a_500(platform):
    """A malformed e-mail is dropped; a context title too long for the course is refused with a
    page; a sub too long is refused."""
    launch(Client(), platform, sub="s-1", roles=lp.LEARNER, extra={"email": "not an address"})
    assert LtiIdentity.objects.get(sub="s-1").email == ""
    # A sub too long for the records: SQLite reaches our own check, PostgreSQL's column refuses first.
    long_sub = launch(Client(), platform, sub="x" * 300, roles=lp.LEARNER)
    assert long_sub.status_code == 403 and ('data-code="no_sub"' in long_sub.content.decode()
                                            or 'data-code="invalid"' in long_sub.content.decode())
    long_context = {"id": "c-2", "label": "L" * 300, "title": "T" * 300}
    response = launch(Client(), platform, sub="s-3", roles=lp.LEARNER, extra={lp.LTI + "context": long_context})
    assert response.status_code in (302, 403)


def test_a_key_the_platform_adds_is_fetched_though_its_jwks_was_cached(platform):
    """The JWKS is kept a few minutes; a launch signed with a key the platform has just added
    (rotation) reads the JWKS again instead of being refused."""
    assert launch(Client(), platform, sub="s-1", roles=lp.LEARNER).status_code == 302  # cached now
    platform.key, platform.kid = lp._new_key(), "platform-key-rotated"
    assert launch(Client(), platform, sub="s-2", roles=lp.LEARNER).status_code == 302


def test_roles_count_only_in_the_launch_s_own_course_and_changes_are_recorded(platform):
    """An instructor of one LMS course who launches as a Learner in another is a student there
    and stays instructor of the first; when the LMS later says Learner in the first course too,
    the role changes and the change is recorded (who, before, after, by a launch)."""
    from grading.models import LtiRosterSync
    launch(Client(), platform, sub="p-1", roles=lp.INSTRUCTOR, context_id="course-7")
    launch(Client(), platform, sub="p-1", roles=lp.LEARNER, context_id="course-8")
    user = LtiIdentity.objects.get(sub="p-1").user
    roles = {m.course.lti_courses.get().context.id_on_platform: m.role
             for m in Membership.objects.filter(user=user)}
    assert roles == {"course-7": "instructor", "course-8": "student"}
    assert not LtiRosterSync.objects.exists()
    launch(Client(), platform, sub="p-1", roles=lp.LEARNER, context_id="course-7")
    record = LtiRosterSync.objects.get()
    assert record.result["by_launch"] is True
    assert [(c["username"], c["before"], c["after"]) for c in record.result["changed"]] == [
        (user.username, "instructor", "student")]


def test_login_initiation_by_registration_uuid(platform):
    """The login URL with the registration's UUID (for an LMS that sends no client id) works."""
    registration = LtiRegistration.objects.get()
    response = Client().get(f"/lti/login/{registration.uuid}/", {
        "iss": platform.issuer, "login_hint": "hint", "target_link_uri": "http://testserver/lti/launch/"})
    assert response.status_code == 302 and response["Location"].startswith(platform.url + "/auth?")
    refused(Client().get("/lti/login/", {"iss": "https://unknown.example", "login_hint": "h",
                                         "target_link_uri": "http://testserver/lti/launch/"}), "registration")


@pytest.mark.parametrize("extra", [
    {lp.LTI + "custom": "assignment=1"},
    {lp.LTI + "launch_presentation": "window"},
    {"https://purl.imsglobal.org/spec/lti-ags/claim/endpoint": ["not", "an", "object"]},
    {lp.LTI + "roles": "Learner"},
    {"email": ["a@b.example"]},
])
def test_a_registered_platform_s_misshapen_claims_are_refused_with_a_page(platform, extra):
    """A claim of a shape LTI does not allow is refused before anything is recorded, never a crash."""
    refused(launch(Client(), platform, sub="s-1", roles=lp.LEARNER, extra=extra), "claims")
    assert not LtiIdentity.objects.exists()


def test_a_null_optional_field_is_read_as_absent(platform):
    response = launch(Client(), platform, sub="s-1", roles=lp.LEARNER,
                      extra={lp.LTI + "resource_link": {"id": "link-1", "title": None}, "email": None})
    assert response.status_code == 302 and LtiIdentity.objects.get().email == ""


def test_garbage_posted_to_the_launch_is_refused_with_a_page(platform):
    client = Client()
    state, _nonce = start(client, platform)
    refused(client.post("/lti/launch/", {"id_token": "a.b.c", "state": state}), "invalid")
    refused(client.post("/lti/launch/", {"state": state}), "invalid")
    refused(Client().post("/lti/launch/", {}), "state")


def test_a_student_cannot_open_or_start_a_roster_sync(platform):
    from grading.models import LtiRosterSync
    launch(Client(), platform, sub="t-1", roles=lp.INSTRUCTOR)
    student = Client()
    launch(student, platform, sub="s-1", roles=lp.LEARNER)
    code = Membership.objects.get(user__lti_identities__sub="s-1").course.code
    assert student.get(f"/courses/{code}/lms-roster/").status_code == 404
    assert student.post(f"/courses/{code}/lms-roster/").status_code == 404
    assert not LtiRosterSync.objects.exists()


def test_a_launch_over_https_signs_in(platform):
    """Production serves HTTPS, where pylti1p3 keeps its launch data under a session cookie of
    its own: the launch works there too."""
    client = Client(secure=True)
    response = launch(client, platform, sub="s-1", roles=lp.LEARNER)
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == LtiIdentity.objects.get(sub="s-1").user_id


def test_a_framed_deep_linking_launch_goes_on_in_the_new_window(platform):
    """An instructor's deep-linking launch in the LMS's iframe: the new window's one-time link
    opens the assignment picker."""
    launch(Client(), platform, sub="t-1", roles=lp.INSTRUCTOR)
    make_assignment(course=Membership.objects.get().course)
    client = Client()
    state, nonce = start(client, platform)
    body = platform.claims(nonce=nonce, sub="t-1", roles=lp.INSTRUCTOR, message_type="LtiDeepLinkingRequest")
    body[lp.LTI + "launch_presentation"]["document_target"] = "iframe"
    html = client.post("/lti/launch/", {"id_token": platform.sign(body), "state": state}).content.decode()
    link = html.split('id="lti-new-window" class="btn btn-primary" href="')[1].split('"')[0]
    window = Client()
    response = window.get(link)
    assert response["Location"] == "/lti/deep-link/"
    assert 'id="deep-link-form"' in window.get("/lti/deep-link/").content.decode()


def test_a_launch_outside_any_course_signs_in_and_makes_no_course(platform):
    """No context claim: the person is signed in at home, no course or membership is made, and
    an instructor role there makes nobody staff of anything."""
    from grading.models import Course
    client = Client()
    without = lambda body: platform.sign({k: v for k, v in body.items() if k != lp.LTI + "context"})  # noqa: E731
    response = launch(client, platform, sub="s-1", roles=lp.INSTRUCTOR, sign=without)
    assert response.status_code == 302 and response["Location"] == "/"
    assert not Course.objects.exists() and not Membership.objects.exists()


def test_a_passback_record_is_append_only_in_the_model_and_the_database(platform):
    """A try to send a score is never changed or deleted: the model refuses, and so does the
    database for SQL that goes around it."""
    from django.db import IntegrityError, connection, transaction
    from grading import services
    from grading.models import AppendOnlyError
    assignment, student = _linked(platform)
    services.submission_submit(assignment=assignment, student=student, answers=round1_values())
    row = ScorePassback.objects.get()
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        ScorePassback.objects.all().delete()
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE grading_scorepassback SET score_given = 0 WHERE id = %s", [row.pk])
    assert ScorePassback.objects.get().score_given == row.score_given
