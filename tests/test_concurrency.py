"""Races on one student's attempts, run for real: threads post at the same moment, each on its
own connection, to a database file (SQLite in WAL mode as in production, see conftest.py) or to
PostgreSQL when DATABASE_URL names one.

A barrier releases the threads together, so the submits and autosaves of one student meet
inside the short transactions of services.submission_accept and submission_save_draft (with the
immediate task backend, the grading runs inside the accepting transaction too): the
interleavings their locks exist for.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.urls import reverse

from grading import services
from grading.models import Submission
from tests.factories import make_assignment, make_course, make_member, report_of
from tests.webtools import client_for, token_from

pytestmark = pytest.mark.django_db(transaction=True)

SUBMITTERS = 4
AUTOSAVERS = 3
HANG_GUARD = 60.0  # seconds: turns a deadlock into a failure; never a measure of speed


def closing_connections(job: Callable[..., Any]) -> Callable[..., Any]:
    """``job`` for a thread of its own: the connections it opens there are closed after it
    (PostgreSQL cannot empty or drop a database still in use)."""
    def run(*args: Any) -> Any:
        try:
            return job(*args)
        finally:
            connections.close_all()
    return run


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Run each job in its own thread, all released at once; their results in order."""
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    @closing_connections
    def run(k: int, job: Callable[[], Any]) -> None:
        try:
            start.wait()
            results[k] = job()
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k, job), daemon=True) for k, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD)
    assert not any(thread.is_alive() for thread in threads), "the threads deadlocked"
    if errors:
        raise errors[0]
    return results


@pytest.fixture
def student_page():
    """alice, an assignment with ``max_attempts`` attempts, and clients ready to post to it."""
    course = make_course()
    alice = make_member(course=course, username="alice")

    def make(max_attempts: int, clients: int):
        assignment = make_assignment(course=course, max_attempts=max_attempts)
        ready = []
        for _ in range(clients):
            client = client_for(alice)
            client.raise_request_exception = False  # a crash must show as the 500 a browser gets
            ready.append((client, token_from(client, assignment)))
        return assignment, ready
    return make


def submit_job(assignment, client, token: str, value: str, page: str = "") -> Callable[[], Any]:
    """A submit of the page whose submit token is ``page`` ("" for one without: an older page)."""
    url = reverse("grading:assignment", args=[assignment.pk])
    return lambda: client.post(url, {"csrfmiddlewaretoken": token, "action": "submit",
                                     "submit_token": page, "r1.forward.s1": value})


def autosave_job(assignment, client, token: str, value: str) -> Callable[[], Any]:
    url = reverse("grading:save_draft", args=[assignment.pk])
    return lambda: client.post(url, {"csrfmiddlewaretoken": token, "r1.forward.s1": value})


def attempt_of(response) -> Submission:
    return Submission.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))


def graded_s1(submission: Submission) -> str:
    """What the stored report marked as round 1's s1 (the grader's own record of the answer)."""
    return report_of(submission).cell("r1.forward.s1").given


def stored_s1(submission: Submission) -> str:
    return submission.answers["rounds"][0]["forward"]["s1"]


def assert_attempts_consistent(assignment, expected: dict[int, str]) -> None:
    """Submitted attempts are exactly 1..k, each still holding the answer it was graded on;
    at most one draft, numbered k+1."""
    rows = list(Submission.objects.filter(assignment=assignment).order_by("attempt"))
    submitted = [s for s in rows if s.state == Submission.State.SUBMITTED]
    drafts = [s for s in rows if s.state == Submission.State.DRAFT]
    assert [s.attempt for s in submitted] == list(range(1, len(expected) + 1))
    assert {s.attempt: stored_s1(s) for s in submitted} == expected
    assert {s.attempt: graded_s1(s) for s in submitted} == expected
    assert len(drafts) <= 1
    assert [d.attempt for d in drafts] in ([], [len(expected) + 1])


def test_one_page_submitted_four_times_at_once_is_one_attempt(student_page):
    """The same page (one submit token) posted four times at once, round after round: every post
    lands on the same attempt (302 to it), never a second attempt and never an error; a new page
    each round makes attempts 1..max; then every submit is refused."""
    assignment, clients = student_page(max_attempts=3, clients=SUBMITTERS)
    expected: dict[int, str] = {}
    for round_no in range(1, assignment.max_attempts + 1):
        page = f"page-{round_no}"
        values = [f"0.{round_no}{k}" for k in range(SUBMITTERS)]
        responses = run_together([submit_job(assignment, client, token, value, page)
                                  for (client, token), value in zip(clients, values)])
        assert [r.status_code for r in responses] == [302] * SUBMITTERS, responses
        attempts = {attempt_of(r).pk for r in responses}
        assert len(attempts) == 1
        taken = Submission.objects.get(pk=attempts.pop())
        assert taken.attempt == round_no and taken.submit_token == page
        expected[round_no] = stored_s1(taken)
        assert expected[round_no] in values
        assert_attempts_consistent(assignment, expected)
    responses = run_together([submit_job(assignment, client, token, "0.99", "page-last")
                              for client, token in clients])
    assert [r.status_code for r in responses] == [409] * SUBMITTERS
    assert all(b"You have used all 3 attempts" in r.content for r in responses)
    assert_attempts_consistent(assignment, expected)


def test_different_pages_submitted_at_once_never_exceed_the_maximum(student_page):
    """Four different pages (four tokens) submitted at once with three attempts allowed: three
    attempts 1..3, each with its own answer and report, and one refusal (409), never a 500."""
    assignment, clients = student_page(max_attempts=3, clients=SUBMITTERS)
    values = [f"0.5{k}" for k in range(SUBMITTERS)]
    responses = run_together([submit_job(assignment, client, token, value, f"tab-{k}")
                              for k, ((client, token), value) in enumerate(zip(clients, values))])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [302, 302, 302, 409], statuses
    refused = next(r for r in responses if r.status_code == 409)
    assert b"You have used all 3 attempts" in refused.content
    taken = {attempt_of(r).attempt: stored_s1(attempt_of(r)) for r in responses if r.status_code == 302}
    assert sorted(taken) == [1, 2, 3]
    assert_attempts_consistent(assignment, taken)


def test_autosaves_landing_during_a_submit_never_reopen_or_change_the_graded_attempt(student_page):
    """Autosaves posted at the moment of a submit: the attempt stays submitted with the answer
    it was graded on, the autosaves answer 200 and at most one draft remains, holding one of
    the autosaved values when it was created after the submit."""
    assignment, clients = student_page(max_attempts=5, clients=1 + AUTOSAVERS)
    (submitter, submit_token), savers = clients[0], clients[1:]
    expected: dict[int, str] = {}
    for round_no in range(1, assignment.max_attempts + 1):
        value = f"0.{round_no}"
        saved = [f"9.{round_no}{k}" for k in range(AUTOSAVERS)]
        responses = run_together(
            [submit_job(assignment, submitter, submit_token, value, f"page-{round_no}")]
            + [autosave_job(assignment, client, token, text)
               for (client, token), text in zip(savers, saved)])
        assert [r.status_code for r in responses] == [302] + [200] * AUTOSAVERS, responses
        assert all(r.json()["ok"] for r in responses[1:])
        expected[round_no] = value
        assert_attempts_consistent(assignment, expected)
        draft = services.submission_draft(assignment=assignment, student=attempt_of(responses[0]).student)
        assert draft is None or stored_s1(draft) in saved


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite locks the whole database file, not rows")
def test_a_locked_draft_does_not_lock_the_assignment_other_students_insert_against(student_page):
    """While one student's save holds her draft locked, the assignment row stays free for the
    key-share lock every other student's new draft takes on it (its foreign key check).

    Locking the joined assignment row too serialized the whole class on it and deadlocked two
    first autosaves (each waiting on the other's draft and on the assignment row)."""
    assignment, _ = student_page(max_attempts=1, clients=0)
    alice = get_user_model().objects.get(username="alice")
    services.submission_save_draft(assignment=assignment, student=alice, answers={})
    locked, release = threading.Event(), threading.Event()

    def hold_alices_draft():
        with transaction.atomic():
            assert services.submission_draft(assignment=assignment, student=alice, lock=True)
            locked.set()
            release.wait(HANG_GUARD)

    holder = threading.Thread(target=closing_connections(hold_alices_draft), daemon=True)
    holder.start()
    try:
        assert locked.wait(HANG_GUARD)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM grading_assignment WHERE id = %s FOR KEY SHARE NOWAIT",
                           [assignment.pk])
    finally:
        release.set()
        holder.join(HANG_GUARD)
