"""The web layer through Django's client, for every role, forbidden paths included.

Posts use Client(enforce_csrf_checks=True) with the token taken from the rendered page, as a
browser would.
"""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.urls import reverse

from grading.models import Grading, Membership, Submission
from tests.factories import report_of, PASSWORD, make_assignment, make_member, round1_values
from grading.templatetags.grading_tags import points
from tests.webtools import client_for, page_token, post_answers, submit

pytestmark = pytest.mark.django_db

STAFF_PAGES = ["grading:gradebook", "grading:gradebook_csv", "grading:key", "grading:key_loss_plot",
               "grading:analytics"]
PLOT_KINDS = ["heatmap", "mistakes", "scores"]
CORRECT_BADGE = '<span aria-hidden="true">✓</span> correct'
INCORRECT_BADGE = '<span aria-hidden="true">✗</span> incorrect'


# ------------------------------------------------------------------ anonymous


def test_anonymous_is_sent_to_login_from_every_page(world):
    """Every page asks an anonymous visitor to log in first, keeping where they wanted to go."""
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, round1_values())
    urls = [reverse("grading:home"), reverse("grading:assignment", args=[a.pk]),
            reverse("grading:submission", args=[sub.pk]),
            reverse("grading:submission_loss_plot", args=[sub.pk]),
            *[reverse(name, args=[a.pk]) for name in STAFF_PAGES],
            *[reverse("grading:analytics_plot", args=[a.pk, k]) for k in PLOT_KINDS]]
    anonymous = Client()
    for url in urls:
        response = anonymous.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_autosave_without_a_session_answers_401_json(world):
    """The autosave endpoint answers an expired session with JSON, not a login page."""
    response = Client().post(reverse("grading:save_draft", args=[world["assignment"].pk]), {})
    assert response.status_code == 401
    assert response.json()["ok"] is False
    assert "log in" in response.json()["error"]


def test_login_page_renders_and_logs_in(world):
    """The login page works with CSRF enforced and lands on the home page."""
    client = Client(enforce_csrf_checks=True)
    token = page_token(client, "/accounts/login/")
    response = client.post("/accounts/login/", {"csrfmiddlewaretoken": token, "username": "alice",
                                                "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("grading:home")


# ------------------------------------------------------------------ students: the main path


def test_assignment_page_shows_network_given_values_and_band(world):
    """The page draws the network, lists the given values and states the tolerance band."""
    response = client_for(world["alice"]).get(reverse("grading:assignment", args=[world["assignment"].pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<svg" in html and "w<tspan" in html and "σ" in html and "Σ" in html
    assert "±0.51×10⁻⁴, i.e. ±0.000051 for 4 decimals" in html
    assert 'name="r1.forward.s1"' in html and 'name="formulas.dL/ds1"' in html
    assert 'name="r2.parameters.w11"' in html
    assert 'name="r1.parameters.w11"' not in html  # round 1's parameters are given
    assert 'x<sub>1</sub></span> = <span class="num">0.4</span>' in html


def test_any_network_size_gets_its_own_drawing_and_cells(world):
    """A 3-input, 1-output assignment draws three inputs and asks for w31, dL/dw31 and its Q1 rows."""
    spec = {"weights": [[0.1], [0.2], [0.3]], "biases": [0.5], "learning_rate": 0.5,
            "samples": [{"x": [1, 2, 3], "y": [1]}, {"x": [0, 1, 0], "y": [0]}]}
    a = make_assignment(course=world["course"], slug="three-one", spec=spec)
    client = client_for(world["alice"])
    html = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert html.count('<circle cx="60"') == 3  # three input nodes
    assert 'name="r2.parameters.w31"' in html and 'name="r1.backward.dL/dw31"' in html
    assert 'name="formulas.dL/dw31"' in html and 'name="r1.forward.s2"' not in html
    sub = submit(client, a, {"r1.forward.s1": "1.9000", "formulas.s1": "w11*x1 + w21*x2 + w31*x3 + b1"})
    feedback = client.get(sub.get_absolute_url()).content.decode()
    assert "<math" in feedback
    assert feedback.count(CORRECT_BADGE) == 2  # the s1 cell and the s1 formula


def test_draft_save_then_submit_then_feedback(world):
    """Save keeps the draft, Submit grades it as attempt 1 and the feedback page shows the marks."""
    alice, a = world["alice"], world["assignment"]
    client = client_for(alice)
    values = {**round1_values(), "r1.forward.s2": "0.9300", "formulas.s1": "w11*x1 + w21*x2 + b1"}

    response = post_answers(client, a, values, action="save")
    assert response.status_code == 302
    draft = Submission.objects.get(assignment=a, student=alice)
    assert draft.is_draft and draft.answers["rounds"][0]["forward"]["s1"] == "0.4600"
    page = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert 'value="0.9300"' in page and "Draft saved" in page

    sub = submit(client, a, values)
    assert sub.pk == draft.pk and not sub.is_draft and sub.attempt == 1
    feedback = client.get(sub.get_absolute_url())
    html = feedback.content.decode()
    assert feedback.status_code == 200
    assert "Score:" in html
    assert html.count(CORRECT_BADGE) >= 20 and INCORRECT_BADGE in html
    assert "<code class=\"typed\">0.9300</code>" in html
    assert "±0.000051" in html
    assert reverse("grading:submission_loss_plot", args=[sub.pk]) in html
    assert "Q2 · Round 1 table" in html
    plot = client.get(reverse("grading:submission_loss_plot", args=[sub.pk]))
    assert plot.status_code == 200 and plot["Content-Type"] == "image/svg+xml"
    assert plot.content.lstrip().startswith(b"<?xml") and b"<svg" in plot.content


def test_autosave_endpoint_keeps_the_draft(world):
    """The autosave post stores the draft and answers with the version it saved."""
    alice, a = world["alice"], world["assignment"]
    client = client_for(alice)
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"})
    assert response.status_code == 200 and response.json()["ok"] is True
    draft = Submission.objects.get(assignment=a, student=alice)
    assert draft.answers["rounds"][0]["forward"] == {"s1": "0.46"}
    assert response.json()["version"] == int(draft.updated_at.timestamp() * 1000)


def test_cells_that_are_not_numbers_are_named_before_submitting(world):
    """Autosave answers which typed cells are not numbers, and the page marks them on reload."""
    alice, a = world["alice"], world["assignment"]
    client = client_for(alice)
    token = page_token(client, reverse("grading:assignment", args=[a.pk]))
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, "r1.forward.s1": "0,46", "r1.forward.s2": "0.92",
                            "r1.forward.f1": "nan", "formulas.s1": "w11*x1 +"})
    assert response.status_code == 200
    assert response.json()["problems"] == {
        "r1.forward.s1": "use a point for decimals, not a comma",
        "r1.forward.f1": "NaN is not a number: type a decimal value such as 0.4600"}
    html = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert 'value="0,46"' in html  # kept exactly as typed
    assert ('<div class="cell-problem invalid-feedback d-block small" id="problem-r1.forward.s1" '
            'data-problem-for="r1.forward.s1">use a point for decimals, not a comma</div>') in html
    assert 'data-problem-for="r1.forward.s2"></div>' in html
    # The invalid input is marked so and described by its message; a good one is not.
    s1 = re.search(r'<input [^>]*name="r1\.forward\.s1"[^>]*>', html).group(0)
    s2 = re.search(r'<input [^>]*name="r1\.forward\.s2"[^>]*>', html).group(0)
    assert 'aria-invalid="true"' in s1 and 'aria-describedby="problem-r1.forward.s1"' in s1
    assert "aria-invalid" not in s2 and "aria-describedby" not in s2


def test_autosave_without_csrf_token_is_refused(world):
    """A cross-site post to the autosave endpoint fails the CSRF check and saves nothing."""
    client = client_for(world["alice"])
    response = client.post(reverse("grading:save_draft", args=[world["assignment"].pk]),
                           {"r1.forward.s1": "0.46"})
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_values_are_kept_exactly_as_typed(world):
    """Spaces and signs survive: the draft and the page show the text as typed."""
    client = client_for(world["alice"])
    post_answers(client, world["assignment"], {"r1.forward.s1": " +0.46 "})
    draft = Submission.objects.get(student=world["alice"])
    assert draft.answers["rounds"][0]["forward"]["s1"] == " +0.46 "
    page = client.get(reverse("grading:assignment", args=[world["assignment"].pk])).content.decode()
    assert 'value=" +0.46 "' in page


def test_resubmission_keeps_earlier_attempts(world):
    """A second submit is attempt 2; attempt 1 keeps its answers, report and score."""
    alice, a = world["alice"], world["assignment"]
    client = client_for(alice)
    first = submit(client, a, {**round1_values(), "r1.forward.s1": "9.9"})
    first_report = report_of(first)
    second = submit(client, a, round1_values())
    assert (first.attempt, second.attempt) == (1, 2)
    first.refresh_from_db()
    assert first.answers["rounds"][0]["forward"]["s1"] == "9.9"
    assert report_of(first) == first_report
    assert report_of(second).total > first_report.total
    page = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert first.get_absolute_url() in page and second.get_absolute_url() in page
    home = client.get(reverse("grading:home")).content.decode()
    assert "Submitted 2 of 3" in home


def test_maximum_attempts_enforced_and_values_kept(world):
    """Past the last attempt, Submit is refused with a message; the typed values stay on the page."""
    a = world["assignment"]
    a.max_attempts = 1
    a.save()
    client = client_for(world["alice"])
    submit(client, a, round1_values())
    response = post_answers(client, a, {"r1.forward.s1": "0.1234"}, action="submit")
    html = response.content.decode()
    assert response.status_code == 409
    assert "used all 1 attempts" in html
    assert 'value="0.1234"' in html
    assert Submission.objects.filter(student=world["alice"], state="submitted").count() == 1


def test_submit_after_due_time_refused_and_draft_kept(world):
    """The server's clock decides: after the due time Submit is refused and the draft is kept."""
    late = make_assignment(course=world["course"], slug="late", due_in=timedelta(minutes=-5))
    client = client_for(world["alice"])
    response = post_answers(client, late, {"r1.forward.s1": "0.4600"}, action="submit")
    html = response.content.decode()
    assert response.status_code == 409
    assert "has passed" in html and 'value="0.4600"' in html
    draft = Submission.objects.get(assignment=late, student=world["alice"])
    assert draft.is_draft and draft.answers["rounds"][0]["forward"]["s1"] == "0.4600"
    home = client.get(reverse("grading:home")).content.decode()
    assert "Closed · draft never submitted" in home


def test_late_submission_accepted_when_allowed_and_flagged(world):
    """With late submissions accepted, a submit after the due time is graded and flagged late."""
    late = make_assignment(course=world["course"], slug="late-ok", due_in=timedelta(minutes=-5),
                           accept_late=True)
    sub = submit(client_for(world["alice"]), late, round1_values())
    assert sub.late is True
    page = client_for(world["teacher"]).get(reverse("grading:gradebook", args=[late.pk])).content.decode()
    assert "⏰ late" in page


def test_home_lists_status_and_best_score(world):
    """Home shows a student's status per assignment and their best score."""
    client = client_for(world["alice"])
    assert "Not started" in client.get("/").content.decode()
    sub = submit(client, world["assignment"], round1_values())
    html = client.get("/").content.decode()
    assert "Submitted 1 of 3" in html
    score = report_of(sub).total
    assert f'<td class="text-end">{points(score)}</td>' in html and points(score) == "35"


def test_staff_home_links_staff_pages(world):
    """Course staff see gradebook, key and analytics links on the home page."""
    html = client_for(world["ta"]).get("/").content.decode()
    assert reverse("grading:gradebook", args=[world["assignment"].pk]) in html
    assert reverse("grading:analytics", args=[world["assignment"].pk]) in html
    assert reverse("grading:gradebook", args=[world["other_assignment"].pk]) not in html


# ------------------------------------------------------------------ what students may not see


def test_student_gets_404_for_another_students_submission(world):
    """Bob cannot open Alice's feedback page or her loss plot."""
    sub = submit(client_for(world["alice"]), world["assignment"], round1_values())
    bob = client_for(world["bob"])
    assert bob.get(sub.get_absolute_url()).status_code == 404
    assert bob.get(reverse("grading:submission_loss_plot", args=[sub.pk])).status_code == 404


def test_student_gets_404_for_a_draft_even_their_own(world):
    """A draft has no feedback page: the URL of a draft is a 404."""
    client = client_for(world["alice"])
    post_answers(client, world["assignment"], {"r1.forward.s1": "1"})
    draft = Submission.objects.get(student=world["alice"])
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_student_gets_404_for_another_courses_assignment(world):
    """A course's assignment does not exist for a student of another course: view, save, submit."""
    other = world["other_assignment"]
    client = client_for(world["alice"])
    assert client.get(reverse("grading:assignment", args=[other.pk])).status_code == 404
    token = page_token(client, reverse("grading:assignment", args=[world["assignment"].pk]))
    for url in (reverse("grading:assignment", args=[other.pk]), reverse("grading:save_draft", args=[other.pk])):
        response = client.post(url, {"csrfmiddlewaretoken": token, "action": "submit",
                                     "r1.forward.s1": "1"})
        assert response.status_code == 404, url
    assert not Submission.objects.filter(assignment=other).exists()


@pytest.mark.parametrize("who", ["alice", "stranger", "stranger_teacher"])
def test_staff_pages_are_404_for_non_staff(world, who):
    """Students and other courses' instructors get 404 on every staff page and plot."""
    a = world["assignment"]
    client = client_for(world[who])
    urls = [reverse(name, args=[a.pk]) for name in STAFF_PAGES]
    urls += [reverse("grading:analytics_plot", args=[a.pk, k]) for k in PLOT_KINDS]
    for url in urls:
        assert client.get(url).status_code in (403, 404), url


def test_instructor_of_another_course_cannot_see_this_course(world):
    """Another course's instructor gets 404 for this course's assignment, submissions and plots."""
    sub = submit(client_for(world["alice"]), world["assignment"], round1_values())
    client = client_for(world["stranger_teacher"])
    assert client.get(reverse("grading:assignment", args=[world["assignment"].pk])).status_code == 404
    assert client.get(sub.get_absolute_url()).status_code == 404
    assert client.get(reverse("grading:submission_loss_plot", args=[sub.pk])).status_code == 404
    home = client.get("/").content.decode()
    assert reverse("grading:assignment", args=[world["assignment"].pk]) not in home
    assert reverse("grading:assignment", args=[world["other_assignment"].pk]) in home


def test_expected_values_follow_the_reveal_rule(world):
    """Before the due time a student sees no expected values; their instructor always does."""
    sub = submit(client_for(world["alice"]), world["assignment"], {"r1.forward.s1": "0.5"})
    student_html = client_for(world["alice"]).get(sub.get_absolute_url()).content.decode()
    staff_html = client_for(world["teacher"]).get(sub.get_absolute_url()).content.decode()
    assert "Expected 0.460000" not in student_html
    assert "Expected values are not shown yet" in student_html
    assert "Expected 0.460000" in staff_html


def test_after_attempt_reveal_waits_until_no_attempt_is_left(world):
    """"After each attempt" shows expected values only when they can no longer be copied into
    another attempt: not after attempt 1 of 2, but after attempt 2."""
    a = make_assignment(course=world["course"], slug="reveal", reveal="after_attempt", max_attempts=2)
    alice = client_for(world["alice"])
    first = submit(alice, a, {"r1.forward.s1": "0.5"})
    html = alice.get(first.get_absolute_url()).content.decode()
    assert "Expected 0.460000" not in html and "once you have no attempt left" in html
    submit(alice, a, {"r1.forward.s1": "0.5"})
    assert "Expected 0.460000" in alice.get(first.get_absolute_url()).content.decode()


def test_after_due_reveal_waits_while_late_work_is_accepted(world):
    """Past the due time with late work accepted, a student with attempts left sees no key."""
    a = make_assignment(course=world["course"], slug="late", accept_late=True,
                        due_in=timedelta(hours=-1), max_attempts=2)
    alice = client_for(world["alice"])
    sub = submit(alice, a, {"r1.forward.s1": "0.5"})
    assert sub.late
    assert "Expected 0.460000" not in alice.get(sub.get_absolute_url()).content.decode()
    submit(alice, a, {"r1.forward.s1": "0.5"})
    assert "Expected 0.460000" in alice.get(sub.get_absolute_url()).content.decode()


# ------------------------------------------------------------------ staff pages


@pytest.mark.parametrize("who", ["ta", "teacher"])
def test_course_staff_open_every_staff_page(world, who):
    """TAs and instructors open the gradebook, CSV, key, analytics and every plot."""
    a = world["assignment"]
    submit(client_for(world["alice"]), a, round1_values())
    client = client_for(world[who])
    for name in STAFF_PAGES:
        assert client.get(reverse(name, args=[a.pk])).status_code == 200, name
    for kind in PLOT_KINDS:
        response = client.get(reverse("grading:analytics_plot", args=[a.pk, kind]))
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml", kind
    assert client.get(reverse("grading:analytics_plot", args=[a.pk, "nope"])).status_code == 404


def test_staff_see_the_assignment_as_a_disabled_preview_and_cannot_post(world):
    """Staff see the students' page with disabled fields; a post from them is a 404."""
    a = world["assignment"]
    client = client_for(world["teacher"])
    html = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert "preview" in html and re.search(r'name="r1\.forward\.s1"[^>]*disabled>', html)
    assert 'data-autosave-url' not in html
    response = post_answers(client, a, {"r1.forward.s1": "1"}, action="submit")
    assert response.status_code == 404
    assert not Submission.objects.exists()


def test_gradebook_lists_students_best_attempt_and_links(world):
    """The gradebook counts each student's best attempt and links every attempt."""
    a = world["assignment"]
    client = client_for(world["alice"])
    worse = submit(client, a, {"r1.forward.s1": "0.46"})
    better = submit(client, a, round1_values())
    html = client_for(world["teacher"]).get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert worse.get_absolute_url() in html and better.get_absolute_url() in html
    assert "bob" in html  # a student without attempts still has a row
    assert report_of(better).total > report_of(worse).total
    assert f'<td class="text-end num fw-semibold">{round(report_of(better).total, 4):g}</td>' in html
    assert "ta" not in re.findall(r'<span class="small text-body-secondary">(\w+)</span>', html)


def test_csv_export_opens_with_header_and_rows(world):
    """The CSV is an attachment with a BOM, a header and one row per student."""
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, round1_values())
    response = client_for(world["teacher"]).get(reverse("grading:gradebook_csv", args=[a.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["username", "name", "email", "Q1 Formulas (30)", "Q2 Round 1 (35)",
                       "Q3 Round 2 (35)", "Q4 Round 3 (35, extra credit)",
                       "Q5 Round 4 (35, extra credit)", "Q6 Loss plot (5, extra credit)",
                       "Total (100 + 75 extra credit)", "attempts", "late", "submitted_at",
                       "needs_review"]
    by_user = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert set(by_user) == {"alice", "bob"}
    assert float(by_user["alice"]["Total (100 + 75 extra credit)"]) == pytest.approx(report_of(sub).total)
    assert float(by_user["alice"]["Q2 Round 1 (35)"]) == pytest.approx(35)
    assert by_user["alice"]["attempts"] == "1" and by_user["alice"]["late"] == "no"
    assert datetime.fromisoformat(by_user["alice"]["submitted_at"]) == sub.submitted_at
    assert by_user["bob"]["Total (100 + 75 extra credit)"] == "" and by_user["bob"]["attempts"] == "0"


def test_csv_export_defuses_spreadsheet_formulas(world):
    """A name that starts with = + - @ is written with a leading quote, so it is not run."""
    alice = world["alice"]
    alice.first_name, alice.last_name = "=HYPERLINK(\"http://x\")", "Evil"
    alice.save()
    make_member(course=world["course"], username="@mallory")
    response = client_for(world["teacher"]).get(reverse("grading:gradebook_csv", args=[world["assignment"].pk]))
    rows = {r[0]: r for r in csv.reader(io.StringIO(response.content.decode("utf-8-sig")))}
    assert rows["alice"][1] == "'=HYPERLINK(\"http://x\") Evil"
    assert "'@mallory" in rows


def test_answer_key_page_shows_tables_formulas_plot_and_mistakes(world):
    """The key page shows engine values, reference formulas as MathML and the named mistakes."""
    from grading.mistakes import MISTAKES

    a = world["assignment"]
    html = client_for(world["ta"]).get(reverse("grading:key", args=[a.pk])).content.decode()
    assert "0.460000" in html and "0.236722" in html  # round 1 s1, updated w11
    assert "<math" in html
    assert reverse("grading:key_loss_plot", args=[a.pk]) in html
    for mistake in MISTAKES:
        assert mistake.title.replace("'", "&#x27;") in html


def test_analytics_page_counts_students(world):
    """The analytics page summarises the counted attempts and links the three plots."""
    a = world["assignment"]
    submit(client_for(world["alice"]), a, round1_values())
    submit(client_for(world["bob"]), a, {"r1.forward.s1": "0.46"})
    html = client_for(world["teacher"]).get(reverse("grading:analytics", args=[a.pk])).content.decode()
    assert "<strong>2</strong> students" in html
    for kind in PLOT_KINDS:
        assert reverse("grading:analytics_plot", args=[a.pk, kind]) in html


def test_staff_review_of_an_undecided_formula_row(world, settings):
    """Staff accept an undecided Q1 row with a CSRF-protected post; a student's post is a 404."""
    a = world["assignment"]
    settings.GRADING_FORMULA_TIME_LIMIT = 1e-6  # nothing can be decided: the row waits for staff
    sub = submit(client_for(world["alice"]), a, {"formulas.s1": "w11*x1 + w21*x2 + b1"})
    assert report_of(sub).formula("s1").status == "undecided"
    url = reverse("grading:formula_review", args=[sub.pk])

    alice = client_for(world["alice"])
    token = page_token(alice, sub.get_absolute_url())
    assert alice.post(url, {"csrfmiddlewaretoken": token, "row": "s1", "decision": "accept"}).status_code == 404

    teacher = client_for(world["teacher"])
    page = teacher.get(sub.get_absolute_url()).content.decode()
    assert "✓ Accept" in page
    token = page_token(teacher, sub.get_absolute_url())
    assert teacher.post(url, {"row": "s1", "decision": "accept"}).status_code == 403  # no token
    response = teacher.post(url, {"csrfmiddlewaretoken": token, "row": "s1", "decision": "accept"})
    assert response.status_code == 302
    review = Grading.objects.get(submission=sub, kind="review")
    assert review.created_by == world["teacher"] and review.changes[0]["status"] == "correct"
    row = report_of(sub).formula("s1")
    assert row.status == "correct" and row.message == "reviewed by staff"
    assert "reviewed by staff" in teacher.get(sub.get_absolute_url()).content.decode()


# ------------------------------------------------------------------ hostile and bad input


HOSTILE = {
    "one megabyte": {"r1.forward.s1": "9" * 1_000_000},
    "NUL byte": {"r1.forward.s1": "0.46\x00"},
    "python in a formula": {"formulas.s1": "__import__('os').system('true')"},
    "attribute walk": {"formulas.f1": "().__class__.__base__"},
    "power tower": {"formulas.L": "9^9^9"},
    "junk field names": {"r99.forward.s1": "1", "__proto__": "x", "formulas.__class__": "1",
                         "r1.forward.s1.extra": "2", "x" * 500: "y"},
    "script tag": {"r1.forward.s1": "<script>alert(1)</script>"},
    "right-to-left override": {"r1.forward.s1": "\u202e0.46"},
}


@pytest.mark.parametrize("action", ["save", "submit"])
@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_input_never_gives_500(world, case, action):
    """Hostile posts through the page are refused with a message or graded; never a server error."""
    client = client_for(world["alice"])
    response = post_answers(client, world["assignment"], HOSTILE[case], action=action)
    assert response.status_code in (302, 400, 409), response.status_code
    if response.status_code == 302:
        follow = client.get(response["Location"])
        assert follow.status_code == 200
        assert b"<script>alert(1)</script>" not in follow.content
    else:
        assert b"were not" in response.content


@pytest.mark.parametrize("case", list(HOSTILE))
def test_hostile_input_to_autosave_never_gives_500(world, case):
    """The autosave endpoint answers hostile posts with JSON, 200 or 400."""
    client = client_for(world["alice"])
    token = page_token(client, reverse("grading:assignment", args=[world["assignment"].pk]))
    response = client.post(reverse("grading:save_draft", args=[world["assignment"].pk]),
                           {"csrfmiddlewaretoken": token, **HOSTILE[case]})
    assert response.status_code in (200, 400)
    assert "ok" in response.json()


def test_field_name_too_long_for_a_multipart_header_is_a_400(world):
    """Django itself refuses a part header over its limit: a 400, not a 500."""
    client = client_for(world["alice"])
    response = post_answers(client, world["assignment"], {"x" * 3000: "y"})
    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_over_long_answer_re_renders_with_message_and_every_value(world):
    """Too long a cell: the page comes back with the reason and every typed value, nothing saved."""
    client = client_for(world["alice"])
    values = {**round1_values(), "r1.forward.s2": "1" * 700, "formulas.f1": "sigmoid(s1)"}
    response = post_answers(client, world["assignment"], values, action="save")
    html = response.content.decode()
    assert response.status_code == 400
    assert "longer than 600 characters" in html and "round 1 s2" in html
    assert 'value="0.4600"' in html and 'value="sigmoid(s1)"' in html and "1" * 700 in html
    assert not Submission.objects.exists()


def test_nul_byte_is_refused_with_the_cell_named(world):
    """A NUL byte is refused (it cannot be stored) with a message naming the cell."""
    response = post_answers(client_for(world["alice"]), world["assignment"],
                            {"r1.backward.dL/df1": "1\x00", "r1.forward.s1": "0.46"})
    html = response.content.decode()
    assert response.status_code == 400
    assert "round 1 dL/df1" in html and 'value="0.46"' in html


def test_typed_markup_is_escaped_on_the_feedback_page(world):
    """What a student typed is shown as text: markup is escaped, never run."""
    client = client_for(world["alice"])
    sub = submit(client, world["assignment"], {"r1.forward.s1": "<b>0.46</b>",
                                               "formulas.s1": "<img src=x onerror=alert(1)>"})
    html = client_for(world["teacher"]).get(sub.get_absolute_url()).content.decode()
    assert "&lt;b&gt;0.46&lt;/b&gt;" in html and "<b>0.46</b>" not in html
    assert "<img src=x" not in html


def test_formula_preview_renders_mathml_or_says_why_not(world):
    """The live preview returns our MathML for a good formula and a message for a bad one."""
    client = client_for(world["alice"])
    url = reverse("grading:formula_preview")
    good = client.get(url, {"text": "dL/ds1 * x1", "n": 2, "m": 2}).json()
    assert good["mathml"].startswith("<math") and good["error"] == ""
    bad = client.get(url, {"text": "__import__('os')", "n": 2, "m": 2}).json()
    assert bad["mathml"] == "" and bad["error"]
    assert client.get(url, {"text": "x" * 5000}).json()["error"]


def test_assignment_not_yet_open_shows_when_it_opens_and_takes_no_draft(world):
    """Before opening, a student sees when it opens (no statement, no tables) and cannot save."""
    from django.utils import timezone

    from grading.models import Assignment

    a = world["assignment"]
    Assignment.objects.filter(pk=a.pk).update(opens_at=timezone.now() + timedelta(days=1),
                                              due_at=timezone.now() + timedelta(days=8))
    client = client_for(world["alice"])
    response = client.get(reverse("grading:assignment", args=[a.pk]))
    html = response.content.decode()
    assert response.status_code == 200 and "This assignment opens at" in html
    assert 'name="r1.forward.s1"' not in html
    token = client.cookies["csrftoken"].value
    saved = client.post(reverse("grading:save_draft", args=[a.pk]),
                        {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"})
    assert saved.status_code == 409 and "opens at" in saved.json()["error"]
    assert not Submission.objects.filter(assignment=a).exists()
    staff = client_for(world["teacher"]).get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert 'name="r1.forward.s1"' in staff  # staff preview the page before it opens


def test_staff_read_the_named_mistakes_on_the_assignment_page(world):
    """The catalogue of named mistakes is data an instructor reads on the assignment page."""
    from django.utils.html import escape

    from grading.mistakes import MISTAKES

    url = reverse("grading:assignment", args=[world["assignment"].pk])
    staff = client_for(world["teacher"]).get(url).content.decode()
    for mistake in MISTAKES:
        assert escape(mistake.title) in staff and escape(mistake.explanation) in staff
    student = client_for(world["alice"]).get(url).content.decode()
    assert 'id="named-mistakes"' not in student


def test_home_costs_the_same_queries_however_many_assignments_and_attempts(world):
    """Home reads courses, assignments, attempts and reviews in a fixed number of queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    alice = client_for(world["alice"])
    submit(alice, world["assignment"], {"r1.forward.s1": "0.46"})

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert alice.get("/").status_code == 200
        return len(queries)

    before = count()
    for k in range(3):
        extra = make_assignment(course=world["course"], slug=f"more-{k}")
        submit(alice, extra, {"r1.forward.s1": "0.46"})
        submit(alice, extra, {"r1.forward.s1": "0.47"})
    Membership.objects.create(course=world["other_assignment"].course, user=world["alice"])
    html = alice.get("/").content.decode()
    assert "Another course" in html and html.count("Submitted 2 of 3") == 3
    assert count() == before


def test_feedback_shows_the_values_a_named_mistake_used_and_carried_cells_say_theirs(world):
    """A named mistake shows the student's values it used; a carried cell names its upstream once."""
    import math

    values = round1_values()
    values["r1.forward.s1"] = "0.4700"
    values["r1.forward.f1"] = f"{1 / (1 + math.exp(-0.47)):.4f}"
    values["r1.backward.dL/df2"] = f"{2 * float(values['r1.forward.f2']):.4f}"  # y2 = 0
    alice = client_for(world["alice"])
    html = alice.get(submit(alice, world["assignment"], values).get_absolute_url()).content.decode()
    assert "Mistake: Loss without the ½" in html
    assert html.count("Uses your") == 1  # the mistake cell only, not the carried f1
    assert "correct given your s1 = 0.4700" in html
