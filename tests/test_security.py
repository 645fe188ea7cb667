"""Security review: access per role, CSRF, hostile input, races, and the formula sandbox.

The first tests pin protections that already held when this file was written; the later ones
each reproduce a problem the review found (the test name says which) and guard its fix.
Posts use Client(enforce_csrf_checks=True) with the token from the rendered page.
"""
from __future__ import annotations

import csv
import io
import os
import signal
import time

import pytest
from django.test import Client
from django.urls import reverse

from grading import formulas, services

from grading.grade import grader
from grading.formulas import sandbox
from grading.models import Submission
from grading.services import submissions
from tests.factories import make_member, report_of
from tests.webtools import client_for, post_answers, submit, token_from

pytestmark = pytest.mark.django_db


# ------------------------------------------------------------------ fixtures and helpers


def staff_urls(assignment) -> list[str]:
    return [reverse(name, args=[assignment.pk]) for name in
            ("grading:gradebook", "grading:gradebook_csv", "grading:key", "grading:key_loss_plot",
             "grading:analytics")] + [
        reverse("grading:analytics_plot", args=[assignment.pk, kind])
        for kind in ("heatmap", "mistakes", "scores")]


# ------------------------------------------------------------------ protections that hold


def test_every_staff_url_is_404_for_a_student_of_the_same_course(world):
    client = client_for(world["alice"])
    for url in staff_urls(world["assignment"]):
        assert client.get(url).status_code == 404, url


def test_staff_of_another_course_get_404_everywhere_in_this_course(world):
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, {"r1.forward.s1": "0.46"})
    client = client_for(world["stranger_teacher"])
    urls = [*staff_urls(a), reverse("grading:assignment", args=[a.pk]), sub.get_absolute_url(),
            reverse("grading:submission_loss_plot", args=[sub.pk]),
            reverse("grading:submission_status", args=[sub.pk])]
    for url in urls:
        assert client.get(url).status_code == 404, url
    token = token_from(client, world["other_assignment"])
    review = client.post(reverse("grading:formula_review", args=[sub.pk]),
                         {"csrfmiddlewaretoken": token, "row": "s1", "decision": "accept"})
    assert review.status_code == 404


def test_a_student_cannot_see_or_review_another_students_work_or_any_draft(world):
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, {"r1.forward.s1": "0.46"})
    draft = services.submission_save_draft(assignment=a, student=world["alice"],
                                           answers={"formulas": {"s1": "x1"}})
    bob = client_for(world["bob"])
    for url in (sub.get_absolute_url(), reverse("grading:submission_loss_plot", args=[sub.pk]),
                reverse("grading:submission_status", args=[sub.pk]),
                draft.get_absolute_url(), reverse("grading:submission_loss_plot", args=[draft.pk]),
                reverse("grading:submission_status", args=[draft.pk])):
        assert bob.get(url).status_code == 404, url
    alice = client_for(world["alice"])
    assert alice.get(draft.get_absolute_url()).status_code == 404  # even her own draft
    assert alice.get(reverse("grading:submission_status", args=[draft.pk])).status_code == 404
    token = token_from(alice, a)
    review = alice.post(reverse("grading:formula_review", args=[sub.pk]),
                        {"csrfmiddlewaretoken": token, "row": "s1", "decision": "accept"})
    assert review.status_code == 404  # her own submission, but she is not staff


def test_grading_status_is_the_students_own_and_the_course_staffs_only(world):
    """The feedback page's status poll answers the attempt's student and the course's staff
    (whether it is graded), and 404 to anyone else or for an attempt that does not exist."""
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, {"r1.forward.s1": "0.46"})
    url = reverse("grading:submission_status", args=[sub.pk])
    graded = sub.gradings.exists()
    for who in ("alice", "ta", "teacher"):
        response = client_for(world[who]).get(url)
        assert response.status_code == 200 and response.json() == {"graded": graded}, who
    for who in ("bob", "stranger", "stranger_teacher"):
        assert client_for(world[who]).get(url).status_code == 404, who
    missing = reverse("grading:submission_status", args=[sub.pk + 1000])
    assert client_for(world["teacher"]).get(missing).status_code == 404


def test_autosave_of_another_courses_assignment_is_404_and_writes_nothing(world):
    client = client_for(world["alice"])
    token = token_from(client, world["assignment"])
    response = client.post(reverse("grading:save_draft", args=[world["other_assignment"].pk]),
                           {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"})
    assert response.status_code == 404
    assert not Submission.objects.exists()


def test_answers_cannot_be_smuggled_into_another_students_draft(world):
    """Only the logged-in student's draft is written, whatever names the post carries."""
    a = world["assignment"]
    client = client_for(world["alice"])
    token = token_from(client, a)
    response = client.post(reverse("grading:save_draft", args=[a.pk]), {
        "csrfmiddlewaretoken": token, "student": world["bob"].pk, "student_id": world["bob"].pk,
        "r1.forward.s1": "0.46"})
    assert response.status_code == 200
    assert list(Submission.objects.values_list("student__username", flat=True)) == ["alice"]


def test_formula_preview_needs_login():
    response = Client().get(reverse("grading:formula_preview"), {"text": "x1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("name, args", [("grading:assignment", "assignment"),
                                        ("grading:save_draft", "assignment"),
                                        ("grading:formula_review", "submission")])
def test_a_post_without_csrf_token_is_403(world, name, args):
    a = world["assignment"]
    sub = submit(client_for(world["alice"]), a, {"r1.forward.s1": "0.46"})
    user = world["teacher"] if args == "submission" else world["alice"]
    pk = sub.pk if args == "submission" else a.pk
    response = client_for(user).post(reverse(name, args=[pk]),
                                     {"action": "submit", "row": "s1", "decision": "accept",
                                      "r1.forward.s1": "0.99"})
    assert response.status_code == 403
    assert Submission.objects.count() == 1 and sub.gradings.count() == 1


def test_expired_session_during_autosave_gets_401_json(world):
    client = client_for(world["alice"])
    token = token_from(client, world["assignment"])
    session = client.session
    session.set_expiry(-1)
    session.save()
    response = client.post(reverse("grading:save_draft", args=[world["assignment"].pk]),
                           {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"})
    assert response.status_code == 401 and response.json()["ok"] is False
    assert not Submission.objects.exists()


def test_too_many_fields_or_too_big_a_body_to_autosave_is_refused_not_500(world, settings):
    client = client_for(world["alice"])
    url = reverse("grading:save_draft", args=[world["assignment"].pk])
    token = token_from(client, world["assignment"])
    fields = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1
    many = client.post(url, {"csrfmiddlewaretoken": token, **{f"f{k}": "1" for k in range(fields)}})
    big = client.post(url, {"csrfmiddlewaretoken": token, "r1.forward.s1": "9" * 3_000_000})
    assert many.status_code == 400 and big.status_code == 413
    assert not Submission.objects.exists()


def test_usernames_and_names_are_escaped_in_gradebook_and_defused_in_csv(world):
    alice = world["alice"]
    alice.first_name, alice.last_name = "<script>alert(1)</script>", "=HYPERLINK(\"x\")"
    alice.save()
    make_member(course=world["course"], username="@SUM")
    submit(client_for(alice), world["assignment"], {"r1.forward.s1": "0.46"})
    teacher = client_for(world["teacher"])
    page = teacher.get(reverse("grading:gradebook", args=[world["assignment"].pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    body = teacher.get(reverse("grading:gradebook_csv", args=[world["assignment"].pk])).content
    for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))):
        for cell in row:
            assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), cell


def test_formula_markup_and_entities_never_reach_the_page_unescaped(world):
    """Typed formulas come back escaped; the MathML we mark safe holds only our own tags."""
    client = client_for(world["alice"])
    payloads = {"formulas.s1": "x1 < w11 & b1", "formulas.f1": "</math><script>alert(1)</script>",
                "formulas.s2": "x1\u202e<svg onload=alert(1)>", "formulas.L": "&lt;x1&gt;"}
    sub = submit(client, world["assignment"], payloads)
    for user in ("alice", "teacher"):
        html = client_for(world[user]).get(sub.get_absolute_url()).content.decode()
        assert "<script>alert(1)" not in html and "<svg onload" not in html
        assert "&amp;lt;x1&amp;gt;" in html
    preview = client.get(reverse("grading:formula_preview"), {"text": "σ(s1) & <b>"})
    assert preview["Content-Type"] == "application/json"  # shown with textContent by the script
    assert preview.json()["mathml"] == "" and preview.json()["error"]


def test_preview_of_hostile_text_runs_the_parser_only(world, monkeypatch):
    """The live preview parses and renders; it never starts the sympy sandbox (no fork), so
    hostile text costs a parse, bounded by the parser's own limits, and answers 200."""
    def no_fork():
        raise AssertionError("the preview must not fork a checker")

    monkeypatch.setattr(sandbox.os, "fork", no_fork)
    client = client_for(world["alice"])
    url = reverse("grading:formula_preview")
    for text in ["(" * 499 + "x1", "σ(" * 250, "x1" + "²" * 498, "9^9^9^9^9", "e^" * 250,
                 "__import__('os')", "exp(" * 120 + "x1"]:
        response = client.get(url, {"text": text})
        assert response.status_code == 200, text[:20]


# ------------------------------------------------------------------ findings, each with its fix


def test_huge_typed_value_upstream_does_not_crash_the_grader_500(world):
    """A cell typed 1e20 upstream made the hint for a downstream cell raise decimal.InvalidOperation."""
    client = client_for(world["alice"])
    client.raise_request_exception = False
    response = post_answers(client, world["assignment"],
                         {"r1.forward.y1-f1": "1e20", "r1.forward.(y1-f1)^2": "1",
                          "r1.forward.L": "1e99", "r2.forward.L": "-1e-99"}, action="submit")
    assert response.status_code == 302
    sub = Submission.objects.get(state=Submission.State.SUBMITTED)
    assert client.get(sub.get_absolute_url()).status_code == 200
    assert client.get(reverse("grading:submission_loss_plot", args=[sub.pk])).status_code == 200


def test_autosave_racing_a_submit_cannot_change_the_graded_answers(world, monkeypatch):
    """An autosave landing while a submit is being graded must not replace what was graded.

    Reproduced on the demo server with concurrent posts: the stored attempt showed one value
    and its report had marked another.
    """
    a, alice = world["assignment"], world["alice"]
    real_grade = grader.grade_submission

    def grade_while_an_autosave_lands(spec, answers, config, others=None):
        services.submission_save_draft(assignment=a, student=alice,
                                       answers={"rounds": [{"round": 1, "forward": {"s1": "0.9999"}}]})
        return real_grade(spec, answers, config, others)

    monkeypatch.setattr(grader, "grade_submission", grade_while_an_autosave_lands)
    sub = submit(client_for(alice), a, {"r1.forward.s1": "0.4600"})
    sub.refresh_from_db()
    graded = report_of(sub).cell("r1.forward.s1")
    assert sub.answers["rounds"][0]["forward"]["s1"] == "0.4600" == graded.given


def test_a_draft_created_concurrently_is_updated_not_a_500(world, monkeypatch):
    """Two first saves at once: the loser of the insert race updates the winner's draft."""
    a, alice = world["assignment"], world["alice"]
    services.submission_save_draft(assignment=a, student=alice, answers={})
    real = submissions.submission_draft
    calls = {"n": 0}

    def not_seen_the_first_time(**kwargs):
        calls["n"] += 1
        return None if calls["n"] == 1 else real(**kwargs)

    monkeypatch.setattr(submissions, "submission_draft", not_seen_the_first_time)
    client = client_for(alice)
    client.raise_request_exception = False
    token = token_from(client, a)
    response = client.post(reverse("grading:save_draft", args=[a.pk]),
                           {"csrfmiddlewaretoken": token, "r1.forward.s1": "0.46"})
    assert response.status_code == 200, response.content[:200]
    draft = Submission.objects.get()
    assert draft.answers["rounds"][0]["forward"]["s1"] == "0.46"


# Simultaneous submits and autosaves, run in real threads: tests/test_concurrency.py.


def test_formula_hint_search_keeps_the_time_limit_on_a_big_network():
    """The "x1 in place of x2" hint search ran in the parent with no deadline: on a 9x9 network
    one wrong row with many names took seconds, past the submission's time limit."""
    names = [f"w{i}{j}" for i in range(1, 10) for j in range(1, 10)][:38]
    text = "+".join(names)
    limit = 0.5
    started = time.process_time()
    marks = formulas.grade_formulas({"L": text, "dL/dw99": text}, n_inputs=9, n_outputs=9,
                                    time_limit=limit)
    # This process's own CPU time (the search runs here, not in a child): a bound on its work
    # that another busy process cannot inflate. Without the deadline the search takes seconds.
    assert time.process_time() - started < limit + 0.5
    assert {m.row: m.status for m in marks}["L"] in ("incorrect", "undecided")


def test_whole_q1_of_a_big_network_with_hostile_rows_stays_within_two_seconds():
    rows = formulas.Q1_ROWS(9, 9)
    text = "+".join(f"w{i}{j}" for i in range(1, 10) for j in range(1, 5))
    started = time.monotonic()
    marks = formulas.grade_formulas({r: text for r in rows}, n_inputs=9, n_outputs=9, time_limit=2.0)
    assert time.monotonic() - started < 10  # a hang guard with room for a busy machine
    assert len(marks) == len(rows)


@pytest.fixture
def many_open_fds():
    """Push the process's next file descriptors past 1024, as on a busy threaded server."""
    fds = []
    try:
        while not fds or fds[-1] < 1030:
            fds.append(os.open(os.devnull, os.O_RDONLY))
    except OSError:
        pytest.skip("cannot open that many files here")
    yield
    for fd in fds:
        os.close(fd)


def test_sandbox_works_when_file_descriptors_are_above_1024(many_open_fds):
    """select() refuses descriptors >= 1024 (ValueError, a 500 on submit); the sandbox must not."""
    marks = formulas.grade_formulas({"s1": "w11*x1 + w21*x2 + b1"}, time_limit=2.0)
    assert marks[0].status == "correct"


def test_sandbox_fork_failure_gives_undecided_rows_not_a_500(monkeypatch):
    def no_more_processes():
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(sandbox.os, "fork", no_more_processes)
    marks = formulas.grade_formulas({"s1": "w11*x1 + w21*x2 + b1"}, time_limit=1.0)
    assert marks[0].status == "undecided"
    read_fds_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0
    formulas.grade_formulas({"s1": "w11*x1 + w21*x2 + b1"}, time_limit=1.0)
    if read_fds_before:
        assert len(os.listdir("/proc/self/fd")) == read_fds_before  # no pipe leaked


def test_sandbox_child_is_killed_and_reaped_at_the_deadline():
    """A child that never reports is gone (no zombie) when run_with_deadline returns."""
    pids = []

    def forever(pid_fd):
        while True:
            signal.pause()  # never reports: blocks until the sandbox kills it

    started = time.monotonic()
    result = sandbox.run_with_deadline(forever, [("k", (0,))], time.monotonic() + 0.3)
    assert result == {} and time.monotonic() - started < 5  # a hang guard, not a speed
    children = [p for p in os.listdir("/proc") if p.isdigit()] if os.path.isdir("/proc") else []
    for pid in children:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            pids.append((pid, fields[0]))
    assert not [p for p in pids if p[1] == "Z"], pids


def test_sandbox_refuses_to_unpickle_anything_but_plain_data(monkeypatch):
    """The parent unpickles the child's bytes: only tuples/strings/numbers, never a callable."""
    import pickle

    evil = pickle.dumps(("k", os.system))
    with pytest.raises(pickle.UnpicklingError):
        sandbox.loads_plain(evil)
    assert sandbox.loads_plain(pickle.dumps(("s1", ("equal", "")))) == ("s1", ("equal", ""))
