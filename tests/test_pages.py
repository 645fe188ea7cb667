"""The student's pages cost the same however much work a student has: the assignment page lists a
bounded page of attempts, and older ones are reached a page at a time."""
from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from grading import services
from tests.factories import make_assignment, make_course, make_member
from tests.webtools import client_for

pytestmark = pytest.mark.django_db

PAGE = 10  # the page lists this many attempts (written here, not read from the code)


@pytest.fixture
def world(db):
    course = make_course()
    assignment = make_assignment(course=course, max_attempts=1000)
    return {"alice": make_member(course=course, username="alice"),
            "bob": make_member(course=course, username="bob"),
            "assignment": assignment}


def hand_in(assignment, student, times: int) -> None:
    for _ in range(times):
        services.submission_submit(assignment=assignment, student=student, answers={})


def listed(html: str) -> list[int]:
    """The attempt numbers in the page's table of attempts, top to bottom."""
    section = html[html.index('id="attempts"'):]
    return [int(n) for n in re.findall(r"<tr><td>#(\d+)</td>", section)]


def test_the_attempts_list_shows_the_latest_and_pages_back_to_the_first(world):
    """25 attempts: the page says 25 used and lists 16-25; "Earlier attempts" goes to 6-15, then
    1-5, which has no earlier link; every page keeps the next attempt's number at 26."""
    a, alice = world["assignment"], world["alice"]
    hand_in(a, alice, 25)
    client = client_for(alice)
    url = reverse("grading:assignment", args=[a.pk])
    html = client.get(url).content.decode()
    assert listed(html) == list(range(16, 26))
    assert "Attempts used: <strong>25 of 1000</strong>" in html
    assert "Submit attempt 26" in html
    assert "Attempts 16 to 25 of 25." in html
    assert 'href="?before=16#attempts"' in html
    older = client.get(url, {"before": "16"}).content.decode()
    assert listed(older) == list(range(6, 16))
    assert 'href="?before=6#attempts"' in older and "Submit attempt 26" in older
    first = client.get(url, {"before": "6"}).content.decode()
    assert listed(first) == [1, 2, 3, 4, 5]
    assert 'href="?before=' not in first and "Latest attempts" in first


def test_a_few_attempts_are_all_listed_without_page_links(world):
    a, alice = world["assignment"], world["alice"]
    hand_in(a, alice, 3)
    html = client_for(alice).get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert listed(html) == [1, 2, 3]
    assert 'href="?before=' not in html and 'id="attempt-range"' not in html and "Latest attempts" not in html


def test_the_page_reads_the_same_queries_and_rows_for_12_or_40_attempts(world):
    """Past one page, more attempts cost no more statements and no more table rows."""
    a, alice = world["assignment"], world["alice"]
    client = client_for(alice)
    url = reverse("grading:assignment", args=[a.pk])

    def read() -> tuple[int, int]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(url).content.decode()
        return len(queries), len(listed(html))

    hand_in(a, alice, 12)
    client.get(url)  # the variant and other first-visit work done
    at_12 = read()
    hand_in(a, alice, 28)
    assert read() == at_12
    assert at_12[1] == PAGE


def test_an_odd_before_shows_the_latest_and_never_another_students_attempts(world):
    """A page number that is no number, or out of range, is the latest page (never a 500); bob's
    attempts never appear on alice's pages."""
    a, alice, bob = world["assignment"], world["alice"], world["bob"]
    hand_in(a, alice, 2)
    hand_in(a, bob, 12)
    client = client_for(alice)
    url = reverse("grading:assignment", args=[a.pk])
    for odd in ["x", "-3", "²", "9" * 40, ""]:
        response = client.get(url, {"before": odd})
        assert response.status_code == 200, odd
        assert listed(response.content.decode()) == [1, 2], odd
        assert "Latest attempts" not in response.content.decode(), odd  # it is the latest page
    for before in ["2", "12", "1"]:
        html = client.get(url, {"before": before}).content.decode()
        assert listed(html) == [n for n in (1, 2) if n < int(before)], before
        assert "Attempts used: <strong>2 of 1000</strong>" in html


def test_a_changed_grade_is_announced_with_its_title_attempt_points_and_link(world, clock):
    """The notice on home and on the attempt's page names the assignment (in the reader's
    language), the attempt, the old and new points, the kind and the time, and links the attempt;
    a change that kept the points, another student's, or one older than 14 days is not shown."""
    from datetime import timedelta

    from grading.models import Assignment, Grading

    a, alice, bob = world["assignment"], world["alice"], world["bob"]
    Assignment.objects.filter(pk=a.pk).update(title_th="การบ้าน 4.1")
    services.submission_submit(assignment=a, student=alice, answers={})
    services.submission_submit(assignment=a, student=alice, answers={})
    first, second = a.submissions.filter(student=alice).order_by("attempt")
    before = Grading.objects.filter(submission=second).get().score
    teacher = make_member(course=a.course, username="teacher", role="instructor")
    services.grading_override(submission=second, by=teacher, reason="a kind hand",
                              changes=[services.Change(kind="total", points=before + 7.5)])
    services.grading_override(submission=first, by=teacher, reason="the same points",
                              changes=[services.Change(kind="total", points=Grading.objects.get(submission=first).score)])
    client = client_for(alice)
    html = client.get(reverse("grading:home")).content.decode()
    notices = html[html.index('id="grade-notices"'):html.index("</ul></div>")]
    old, new = f"{round(before, 2) + 0.0:g}", f"{round(before + 7.5, 2) + 0.0:g}"
    assert notices.count("<li>") == 1
    assert f"Your grade for Homework 4.1, attempt 2, changed from {old} to <strong>{new}</strong> (override," in notices
    assert f'href="/submissions/{second.pk}/"' in notices
    assert 'id="grade-notices"' in client.get(second.get_absolute_url()).content.decode()
    assert 'id="grade-notices"' not in client.get(first.get_absolute_url()).content.decode()
    thai = client.get(reverse("grading:home"), headers={"accept-language": "th"}).content.decode()
    assert "การบ้าน 4.1" in thai[thai.index('id="grade-notices"'):]
    assert 'id="grade-notices"' not in client_for(bob).get(reverse("grading:home")).content.decode()
    clock.shift(timedelta(days=15))
    assert 'id="grade-notices"' not in client.get(reverse("grading:home")).content.decode()


# ------------------------------------------------------------------ the site's kept header and footer


def nav_of(html: str) -> str:
    return html[html.index("<nav "):html.index("</nav>")]


def test_the_kept_header_names_each_reader_and_their_own_token(world):
    """Drawn once and filled per request: each student's name and id, never the one before; a
    name is escaped; each session's own CSRF token, which a post then accepts."""
    from django.test import Client

    a = world["assignment"]
    odd = make_member(course=a.course, username="a&b<c>")
    url = reverse("grading:assignment", args=[a.pk])
    for user, shown in [(world["alice"], "alice"), (world["bob"], "bob"), (odd, "a&amp;b&lt;c&gt;"),
                        (world["alice"], "alice")]:
        nav = nav_of(client_for(user).get(url).content.decode())
        assert f"Signed in as <strong>{shown}</strong>" in nav
        assert f'data-draft-prefix="backprop:draft:{user.pk}:"' in nav
        assert nav.count("Signed in as") == 1
    tokens = []
    for user in (world["alice"], world["bob"]):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        nav = nav_of(client.get(url).content.decode())
        found = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', nav)
        assert len(found) == 2 and found[0] == found[1]  # the log-out form's and the language switch's
        tokens.append(found[0])
        response = client.post(reverse("set_language"), {"csrfmiddlewaretoken": found[0], "language": "en",
                                                         "next": url})
        assert response.status_code == 302
    assert tokens[0] != tokens[1]


def test_the_kept_header_follows_the_page_the_language_and_the_sign_in(world):
    """The language switch sends each page back to itself (its address escaped); the buttons and
    the catalogue follow the language; signed out, no name, no log-out form and no token script."""
    a = world["assignment"]
    client = client_for(world["alice"])
    url = reverse("grading:assignment", args=[a.pk])
    html = client.get(url, {"before": '2"><b>'}).content.decode()
    assert f'name="next" value="{url}?before=2%22%3E%3Cb%3E"' in nav_of(html)
    assert 'name="next" value="/"' in nav_of(client.get("/").content.decode())
    thai = client.get(url, headers={"accept-language": "th"}).content.decode()
    assert 'value="th" lang="th" class="btn btn-sm btn-light" aria-current="true"' in nav_of(thai)
    assert "?l=th" in thai and "?l=en" not in thai
    english = client.get(url).content.decode()
    assert 'value="en" lang="en" class="btn btn-sm btn-light" aria-current="true"' in nav_of(english)
    assert "?l=en" in english and "?l=th" not in english
    signed_out = client_for(world["bob"])
    signed_out.logout()
    login = signed_out.get(reverse("login")).content.decode()
    assert "Signed in as" not in login and 'id="logout-form"' not in login and "csrf.js" not in login
    assert 'id="language-switch"' in nav_of(login) and 'name="next" value="/accounts/login/"' in nav_of(login)
    assert "Signed in as <strong>alice</strong>" in client.get(url).content.decode()


def test_the_role_read_with_the_page_keeps_who_sees_what(world):
    """The role comes with the assignment or the attempt in one query: a classmate gets 404 for
    another's attempt, a TA reads it as staff, a student who left the course still reads their
    own attempt (not the assignment), and an outsider gets 404 for both."""
    from grading.models import Membership

    a, alice, bob = world["assignment"], world["alice"], world["bob"]
    services.submission_submit(assignment=a, student=alice, answers={})
    attempt = a.submissions.get(student=alice)
    ta = make_member(course=a.course, username="ta", role="ta")
    outsider = make_member(course=make_course(code="X1"), username="outsider")
    assignment_url = reverse("grading:assignment", args=[a.pk])
    assert client_for(bob).get(attempt.get_absolute_url()).status_code == 404
    staff_view = client_for(ta).get(attempt.get_absolute_url())
    assert staff_view.status_code == 200 and 'id="override-form"' in staff_view.content.decode()
    assert client_for(outsider).get(attempt.get_absolute_url()).status_code == 404
    assert client_for(outsider).get(assignment_url).status_code == 404
    Membership.objects.filter(user=alice, course=a.course).delete()
    gone = client_for(alice)
    own = gone.get(attempt.get_absolute_url())
    assert own.status_code == 200 and 'id="override-form"' not in own.content.decode()
    assert gone.get(assignment_url).status_code == 404


def test_expected_values_wait_for_the_last_extension_of_the_class(world, clock):
    """After the due time, a student sees the expected values only once a classmate's extension
    has also passed (and until the assignment's own due time, never), with one attempt used of one."""
    from datetime import timedelta

    from grading.models import Assignment

    a, alice, bob = world["assignment"], world["alice"], world["bob"]
    Assignment.objects.filter(pk=a.pk).update(max_attempts=1)
    a.refresh_from_db()
    services.submission_submit(assignment=a, student=alice, answers={})
    attempt = a.submissions.get(student=alice)
    teacher = make_member(course=a.course, username="teacher", role="instructor")
    services.extension_create(assignment=a, student=bob, by=teacher, reason="ill", due_at=a.due_at + timedelta(days=2))
    client = client_for(alice)
    hidden = "Expected values are not shown yet: they appear after the due time"

    def shown() -> bool:
        html = client.get(attempt.get_absolute_url()).content.decode()
        return hidden not in html and "Expected values are not shown" not in html

    assert not shown()  # before the due time
    clock.shift(timedelta(days=8))  # past the assignment's due time, within bob's extension
    assert not shown()
    clock.shift(timedelta(days=2))  # past bob's too
    assert shown()


def test_home_reads_notices_only_when_a_staff_record_may_be_one_and_misses_none(world):
    """Home reads the notices only when the student has a recent staff record; a changed grade in
    a course the student has since left is still announced, and an attempt graded once is not."""
    from grading.models import Grading, Membership

    a, alice = world["assignment"], world["alice"]
    services.submission_submit(assignment=a, student=alice, answers={})
    attempt = a.submissions.get(student=alice)
    client = client_for(alice)

    def home() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as queries:
            html = client.get(reverse("grading:home")).content.decode()
        return len(queries), html

    quiet, html = home()
    assert 'id="grade-notices"' not in html
    teacher = make_member(course=a.course, username="teacher", role="instructor")
    score = Grading.objects.get(submission=attempt).score
    services.grading_override(submission=attempt, by=teacher, reason="a kind hand",
                              changes=[services.Change(kind="total", points=score + 2)])
    told, html = home()
    assert 'id="grade-notices"' in html and told == quiet + 1
    Membership.objects.filter(user=alice, course=a.course).delete()
    assert 'id="grade-notices"' in home()[1]


def test_an_attempt_row_says_late_grading_and_its_score(world, clock, settings):
    """A row gives the attempt's number, time, a late badge when late, its score or "grading…"
    while it waits, and its feedback link; in Thai in Thai."""
    from datetime import timedelta

    from grading.models import Assignment, Grading

    a, alice = world["assignment"], world["alice"]
    services.submission_submit(assignment=a, student=alice, answers={})
    Assignment.objects.filter(pk=a.pk).update(accept_late=True)
    a.refresh_from_db()
    clock.shift(timedelta(days=8))
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}  # queued, not graded
    services.submission_submit(assignment=a, student=alice, answers={})
    first, second = a.submissions.filter(student=alice).order_by("attempt")
    grade = Grading.objects.get(submission=first)
    client = client_for(alice)
    html = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    rows = re.findall(r"<tr><td>#\d+</td>.*?</tr>", html[html.index('id="attempts"'):], re.S)
    assert len(rows) == 2
    assert "late" not in rows[0] and f"{round(grade.score, 2) + 0.0:g} / {round(grade.max_score, 2) + 0.0:g}" in rows[0]
    assert f'href="/submissions/{first.pk}/"' in rows[0]
    assert '<span class="badge text-bg-warning">late</span>' in rows[1] and "grading…" in rows[1]
    thai = client.get(reverse("grading:assignment", args=[a.pk]), headers={"accept-language": "th"}).content.decode()
    assert "grading…" not in thai[thai.index('id="attempts"'):]
