"""Practice mode: unlimited attempts, new numbers on every attempt, expected values at once, and
counted in no total (the gradebook says "practice"; no LMS import; the CSV's total is headed as
not counted)."""
from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from grading import services
from grading.models import Assignment, Membership, Submission, Variant
from tests import refnet
from tests.factories import make_assignment, make_course, make_member, report_of
from tests.variant_help import FREE, expected_draw, numbers_of, round_answers, shown_numbers, template
from tests.webtools import client_for, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def practice():
    course = make_course()
    ann = make_member(course=course, username="ann")
    teacher = make_member(course=course, username="teacher", role=Membership.Role.INSTRUCTOR)
    a = make_assignment(course=course, spec=template(), max_attempts=1, reveal="after_due")
    Assignment.objects.filter(pk=a.pk).update(practice=True)
    a.refresh_from_db()
    return {"course": course, "ann": ann, "teacher": teacher, "assignment": a}


def test_every_practice_attempt_has_new_numbers_and_is_graded_on_them(practice):
    """Attempt n's page shows the draw for attempt n (the documented scheme, attempt = n), the
    attempt is graded on it, and attempts go on past max_attempts."""
    a, ann = practice["assignment"], practice["ann"]
    client = client_for(ann)
    drawn = []
    for n in (1, 2, 3):  # max_attempts is 1: practice ignores it
        html = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
        expected = expected_draw(template(), FREE, a.seed, str(ann.pk), attempt=n)
        assert shown_numbers(html) == pytest.approx(numbers_of(expected))
        sub = submit(client, a, round_answers(expected))
        assert sub.attempt == n and sub.variant.attempt_no == n and sub.variant.spec == expected
        assert all(c.status == "correct" for c in report_of(sub).cells if c.round == 1)
        drawn.append(tuple(numbers_of(expected).values()))
    assert Variant.objects.filter(assignment=a, student=ann).count() == 3
    assert len(set(drawn)) > 1


def test_the_next_practice_page_starts_empty_and_in_its_own_browser_copy(practice):
    """After a submit, the next attempt's page does not bring back the last answers (they were for
    other numbers), and its local copy is kept under the attempt's own key."""
    a, ann = practice["assignment"], practice["ann"]
    client = client_for(ann)
    client.get(reverse("grading:assignment", args=[a.pk]))
    submit(client, a, {"r1.forward.s1": "0.1234"})
    html = client.get(reverse("grading:assignment", args=[a.pk])).content.decode()
    assert "0.1234" not in html
    assert f'data-storage-key="backprop:draft:{ann.pk}:{a.pk}:2"' in html


def test_practice_feedback_shows_expected_values_at_once(practice):
    """With reveal "after the due time", attempts left and the due time ahead, a practice
    attempt's feedback still shows the expected values (its own problem's)."""
    a, ann = practice["assignment"], practice["ann"]
    client = client_for(ann)
    client.get(reverse("grading:assignment", args=[a.pk]))
    expected = expected_draw(template(), FREE, a.seed, str(ann.pk), attempt=1)
    sub = submit(client, a, {"r1.forward.s1": "0.1"})
    html = client.get(sub.get_absolute_url()).content.decode()
    s1 = refnet.trace(expected)[(1, "forward", "s", 1, (1,))]
    assert f"{s1:.6f}" in html
    assert "Expected values are not shown" not in html


def test_a_shared_assignment_with_the_same_settings_hides_them(practice):
    """The same reveal setting without practice keeps the expected values hidden (the control)."""
    course = practice["course"]
    a = make_assignment(course=course, slug="not-practice", max_attempts=3, reveal="after_due")
    sub = submit(client_for(practice["ann"]), a, {"r1.forward.s1": "0.1"})
    html = client_for(practice["ann"]).get(sub.get_absolute_url()).content.decode()
    assert "Expected values are not shown" in html


def test_practice_is_counted_in_no_total(practice):
    """The gradebook marks the best practice score "practice"; the LMS imports are refused; the
    full CSV heads its total column as not counted."""
    a, ann = practice["assignment"], practice["ann"]
    client = client_for(ann)
    client.get(reverse("grading:assignment", args=[a.pk]))
    submit(client, a, round_answers(expected_draw(template(), FREE, a.seed, str(ann.pk), attempt=1)))
    staff = client_for(practice["teacher"])
    book = staff.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert 'id="practice-note"' in book and "?format=moodle" not in book
    for layout in ("moodle", "canvas"):
        assert staff.get(reverse("grading:gradebook_csv", args=[a.pk]) + f"?format={layout}").status_code == 404
    text = staff.get(reverse("grading:gradebook_csv", args=[a.pk])).content.decode("utf-8-sig")
    header = next(csv.reader(io.StringIO(text)))
    assert "Best practice score, not counted (100)" in header
    assert not any(h.startswith("Total") for h in header)


def test_the_home_page_says_practice(practice):
    """A student's home shows the practice badge and the attempts without a limit."""
    a, ann = practice["assignment"], practice["ann"]
    client = client_for(ann)
    client.get(reverse("grading:assignment", args=[a.pk]))
    submit(client, a, {"r1.forward.s1": "0.1"})
    html = client.get(reverse("grading:home")).content.decode()
    assert "Practice: 1 submitted" in html and "practice</span>" in html


def test_a_practice_submit_past_the_due_time_is_still_refused(practice):
    """Unlimited attempts, not unlimited time: after the due time a practice submit is refused."""
    from datetime import timedelta

    from django.utils import timezone

    a, ann = practice["assignment"], practice["ann"]
    Assignment.objects.filter(pk=a.pk).update(due_at=timezone.now() - timedelta(hours=1),
                                              opens_at=timezone.now() - timedelta(days=1))
    a.refresh_from_db()
    with pytest.raises(services.SubmissionError):
        services.submission_submit(assignment=a, student=ann, answers={})
    assert not Submission.objects.filter(state="submitted").exists()
