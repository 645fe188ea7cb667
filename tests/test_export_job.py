"""A large class's gradebook export off the request path (issue 18, item 3): up to
GRADING_EXPORT_INLINE_MAX students the CSV downloads at once, as always; above it the same link
shows a button that POSTs and starts a staff job; a task worker builds the file in steps with
progress; its page offers the download (the same bytes as the direct one) until it expires.

Tasks run as they are enqueued (the immediate backend, tests/testenv.py) except where a test
queues them in the database and runs ``manage.py grading_worker --batch`` as a worker would.
The clock is pinned (tests/conftest.py).
"""
import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from grading import services
from grading.models import Assignment, Grading, Membership, Question, StaffJob, Submission
from tests.factories import make_member
from tests.webtools import client_for, page_token

pytestmark = pytest.mark.django_db

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
LAYOUTS = ("full", "moodle", "canvas")


def graded(assignment, student, *scores: float) -> list[Submission]:
    """Submitted attempts with these totals, each graded once (Q1 gets the total, the rest 0)."""
    made = []
    for number, score in enumerate(scores, start=1):
        sub = Submission.objects.create(assignment=assignment, student=student, attempt=number, state="submitted",
                                        submitted_at=timezone.now() - timedelta(hours=10 - number), answers={})
        Grading.objects.create(submission=sub, sequence=1, kind="auto", report={}, score=score, max_score=100,
                               scores={"Q1": score}, grader_version="test", spec_hash="0" * 64)
        made.append(sub)
    return made


def parse(content: bytes) -> list[list[str]]:
    assert content.startswith(b"\xef\xbb\xbf")  # the byte order mark Excel needs
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def direct(client, assignment, layout: str) -> bytes:
    """The file as the direct download gives it (a limit high enough for any class here)."""
    with override_settings(GRADING_EXPORT_INLINE_MAX=1000):
        response = client.get(reverse("grading:gradebook_csv", args=[assignment.pk]), {"format": layout})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return response.content


def start(client, assignment, layout: str):
    """Press the export button on the page the link shows above the limit (CSRF as a browser)."""
    token = page_token(client, reverse("grading:gradebook_csv", args=[assignment.pk]) + f"?format={layout}")
    return client.post(reverse("grading:export_start", args=[assignment.pk]),
                       {"csrfmiddlewaretoken": token, "format": layout})


@pytest.fixture
def klass(world):
    """FRA501 with alice, bob and carol graded (carol's name would be a formula in a sheet)."""
    a = world["assignment"]
    carol = make_member(course=a.course, username="carol")
    carol.first_name, carol.email = "=HYPERLINK(1)", "carol@example.org"
    carol.save()
    graded(a, world["alice"], 30.0, 37.456)
    graded(a, world["bob"], 12.5)
    graded(a, carol, 20.0, 25.0, 25.0)  # a tie: the earliest counts
    return {**world, "carol": carol}


@override_settings(GRADING_EXPORT_INLINE_MAX=2)
def test_up_to_the_limit_the_link_downloads_and_above_it_shows_a_button_and_changes_nothing(world):
    """Two students with a limit of 2: the CSV at once, and the gradebook's buttons are links.
    A third student: the same link shows a page whose button POSTs; the GET queued nothing, and the
    gradebook's buttons are forms that POST."""
    a = world["assignment"]
    teacher = client_for(world["teacher"])
    url = reverse("grading:gradebook_csv", args=[a.pk])
    response = teacher.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert [row[0] for row in parse(response.content)[1:]] == ["alice", "bob"]
    book = teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert f'href="{url}?format=moodle" download' in book and "export-start" not in book
    make_member(course=a.course, username="carol")
    for layout in LAYOUTS:
        page = teacher.get(url, {"format": layout})
        html = page.content.decode()
        assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
        assert "This course has 3 students, more than 2" in html
        assert f'action="{reverse("grading:export_start", args=[a.pk])}"' in html
        assert f'name="format" value="{layout}"' in html and html.count('class="export-start"') == 1
    assert not StaffJob.objects.exists()
    book = teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert book.count('class="export-start"') == 3 and f'href="{url}?format=moodle"' not in book
    assert teacher.get(reverse("grading:export_start", args=[a.pk])).status_code == 405  # a GET starts nothing


@pytest.mark.django_db(transaction=True)  # the worker closes its connection when it ends
@override_settings(GRADING_EXPORT_INLINE_MAX=1)
def test_the_job_runs_in_a_task_worker_and_its_file_is_the_direct_download(klass):
    """Queued in the database by the POST; its page shows it waiting; ``grading_worker`` builds it;
    the page then offers the file, which is byte for byte the direct download, in each layout, and
    whose cells are the counted attempts' scores as this test works them out."""
    a = klass["assignment"]
    teacher = client_for(klass["teacher"])
    for layout in LAYOUTS:
        with override_settings(TASKS=DB_TASKS):
            response = start(teacher, a, layout)
        job = StaffJob.objects.get(kind="export", options__layout=layout)
        assert response.status_code == 302 and response["Location"] == reverse("grading:export_job", args=[a.pk, job.pk])
        with override_settings(TASKS=DB_TASKS):  # pressed again while it waits: the same job
            assert start(teacher, a, layout)["Location"] == response["Location"]
        assert StaffJob.objects.filter(options__layout=layout).count() == 1
        assert (job.status, job.done, job.total, job.requested_by) == ("queued", 0, 3, klass["teacher"])
        waiting = teacher.get(response["Location"]).content.decode()
        assert "Queued" in waiting and 'id="job-done">0<' in waiting and 'id="download-export"' not in waiting
        progress = teacher.get(reverse("grading:export_job_progress", args=[a.pk, job.pk])).json()
        assert progress == {"status": "queued", "status_text": "Queued", "done": 0, "total": 3, "finished": False}
        assert teacher.get(reverse("grading:export_job_download", args=[a.pk, job.pk])).status_code == 409
        with override_settings(TASKS=DB_TASKS):
            call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
        assert DBTaskResult.objects.get(args_kwargs__args=[job.pk]).status == "SUCCESSFUL"
        job.refresh_from_db()
        assert (job.status, job.done, job.total) == ("done", 3, 3) and job.finished_at is not None
        page = teacher.get(response["Location"]).content.decode()
        assert 'id="download-export"' in page and "The file is ready" in page
        download = teacher.get(reverse("grading:export_job_download", args=[a.pk, job.pk]))
        assert download.status_code == 200 and download["Content-Type"] == "text/csv; charset=utf-8"
        suffix = "" if layout == "full" else f"-{layout}"
        assert download["Content-Disposition"] == f'attachment; filename="FRA501-hw-4-1-gradebook{suffix}.csv"'
        assert download.content == direct(teacher, a, layout)
        rows = parse(download.content)
        if layout == "full":
            by_name = {row[0]: row for row in rows[1:]}
            total = rows[0].index(next(h for h in rows[0] if h.startswith("Total (")))
            assert rows[0][:3] == ["username", "name", "email"]
            assert [by_name[n][total] for n in ("alice", "bob", "carol")] == ["37.46", "12.5", "25.0"]
            assert [by_name[n][total + 1] for n in ("alice", "bob", "carol")] == ["2", "1", "3"]
            counted = Submission.objects.get(student=klass["carol"], attempt=2)  # the earliest of the tie
            assert by_name["carol"][total + 3] == timezone.localtime(counted.submitted_at).isoformat()
            assert by_name["carol"][1] == "'=HYPERLINK(1)"  # no live formula
            assert by_name["alice"][3] == "37.46"  # Q1
        elif layout == "moodle":
            assert rows == [["Username", "Email address", "Homework 4.1"], ["alice", "", "37.46"], ["bob", "", "12.5"],
                            ["carol", "carol@example.org", "25.0"]]
        else:
            main = sum(q.points for q in Question.objects.filter(assignment=a) if not q.extra_credit)
            assert rows[1] == ["Points Possible", "", "", "", "", f"{main:g}"]
            assert rows[2:] == [["alice", "", "", "alice", "FRA501", "37.46"], ["bob", "", "", "bob", "FRA501", "12.5"],
                                ["'=HYPERLINK(1)", "", "", "carol", "FRA501", "25.0"]]


@override_settings(GRADING_EXPORT_INLINE_MAX=0, GRADING_EXPORT_BATCH=2)
def test_the_job_commits_its_progress_step_by_step(klass):
    """Five students, two a step: the committed progress is 2, 4, 5 of 5 while it runs, and the
    file holds every student once, in username order."""
    a = klass["assignment"]
    for name in ("dan", "eve"):
        make_member(course=a.course, username=name)
    with override_settings(TASKS=DB_TASKS):
        job = services.export_job_create(assignment=a, by=klass["teacher"], layout="moodle")
    seen = []
    services.export_job_run(job_id=job.pk, on_batch=lambda _job: seen.append(
        StaffJob.objects.filter(pk=job.pk).values_list("status", "done", "total").get()))
    assert seen == [("running", 2, 5), ("running", 4, 5), ("running", 5, 5)]
    job.refresh_from_db()
    assert job.status == "done" and job.result["students"] == 5
    assert [row[0] for row in parse(job.output.encode())[1:]] == ["alice", "bob", "carol", "dan", "eve"]
    assert job.output.encode() == direct(client_for(klass["teacher"]), a, "moodle")


@override_settings(GRADING_EXPORT_INLINE_MAX=0)
def test_a_ta_exports_as_the_gradebook_allows_and_everyone_else_gets_404(klass):
    """A TA starts an export, reads its page and downloads it, and so does the instructor; a student, another
    course's instructor and the wrong assignment's address get 404; a visitor is sent to log in; a
    POST without its CSRF token is refused and starts nothing."""
    a = klass["assignment"]
    ta = client_for(klass["ta"])
    response = start(ta, a, "canvas")
    job = StaffJob.objects.get()
    assert response.status_code == 302 and job.requested_by == klass["ta"] and job.status == "done"
    urls = [reverse("grading:export_job", args=[a.pk, job.pk]),
            reverse("grading:export_job_progress", args=[a.pk, job.pk]),
            reverse("grading:export_job_download", args=[a.pk, job.pk])]
    for who in ("ta", "teacher"):
        assert [client_for(klass[who]).get(u).status_code for u in urls] == [200, 200, 200], who
    for who in ("alice", "stranger_teacher"):
        client = client_for(klass[who])
        assert [client.get(u).status_code for u in urls] == [404, 404, 404], who
    stranger = client_for(klass["stranger_teacher"])
    other = klass["other_assignment"]
    assert stranger.get(reverse("grading:export_job", args=[other.pk, job.pk])).status_code == 404
    token = page_token(stranger, reverse("grading:gradebook", args=[other.pk]))
    assert stranger.post(reverse("grading:export_start", args=[a.pk]),
                         {"csrfmiddlewaretoken": token, "format": "full"}).status_code == 404
    alice = client_for(klass["alice"])
    assert alice.post(reverse("grading:export_start", args=[a.pk]), {"format": "full"}).status_code in (403, 404)
    assert all(client_for().get(u).status_code == 302 for u in urls)
    assert client_for(klass["teacher"]).post(reverse("grading:export_start", args=[a.pk]),
                                             {"format": "full"}).status_code == 403  # no CSRF token
    assert StaffJob.objects.count() == 1
    # Who downloaded it, and when: on its page.
    page = client_for(klass["teacher"]).get(urls[0]).content.decode()
    assert page.count("by ta</li>") == 1 and page.count("by teacher</li>") == 1


@override_settings(GRADING_EXPORT_INLINE_MAX=0)
def test_the_file_is_deleted_when_the_job_page_expires(klass, clock):
    """Kept for a day: then emptied; the page says so and the download answers 410."""
    a = klass["assignment"]
    teacher = client_for(klass["teacher"])
    page_url = start(teacher, a, "full")["Location"]
    job = StaffJob.objects.get()
    assert job.output.startswith("\ufeffusername,")
    clock.shift(timedelta(hours=23))
    assert teacher.get(reverse("grading:export_job_download", args=[a.pk, job.pk])).status_code == 200
    clock.shift(timedelta(hours=1, seconds=1))
    page = teacher.get(page_url).content.decode()
    assert "has been deleted from the server" in page and 'id="download-export"' not in page
    job.refresh_from_db()
    assert job.output == "" and job.status == "done"
    gone = teacher.get(reverse("grading:export_job_download", args=[a.pk, job.pk]))
    assert gone.status_code == 410 and "has been deleted from the server" in gone.content.decode()


@pytest.mark.django_db(transaction=True)
@override_settings(GRADING_EXPORT_INLINE_MAX=0)
def test_a_failed_export_says_why_on_its_page_and_on_the_gradebook(klass):
    """A Moodle export queued, then the assignment made practice before a worker took it: the worker
    fails it (a practice assignment has no LMS grade); the job's page and the gradebook say so."""
    a = klass["assignment"]
    teacher = client_for(klass["teacher"])
    with override_settings(TASKS=DB_TASKS):
        page_url = start(teacher, a, "moodle")["Location"]
    Assignment.objects.filter(pk=a.pk).update(practice=True)
    with override_settings(TASKS=DB_TASKS):
        call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    job = StaffJob.objects.get()
    assert job.status == "failed" and job.output == "" and job.finished_at is not None
    assert DBTaskResult.objects.get(args_kwargs__args=[job.pk]).status == "FAILED"
    page = teacher.get(page_url)
    html = page.content.decode()
    assert page.status_code == 200 and 'id="export-error"' in html
    assert "The export stopped and wrote no file" in html
    assert ('id="export-error-text">This assignment has no moodle export any more (a practice assignment has only '
            'the file with all columns).<') in html
    assert 'id="download-export"' not in html
    assert teacher.get(reverse("grading:export_job_download", args=[a.pk, job.pk])).status_code == 409
    book = teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert 'class="text-danger export-failed">This assignment has no moodle export any more' in book


@override_settings(GRADING_EXPORT_INLINE_MAX=0)
def test_a_job_delivered_again_after_its_worker_died_starts_over_and_a_finished_one_is_left(klass):
    """At least once: RUNNING half way (its worker gone), delivered again, it is built whole; delivered
    once more when done, nothing changes."""
    a = klass["assignment"]
    with override_settings(TASKS=DB_TASKS):
        job = services.export_job_create(assignment=a, by=klass["teacher"], layout="full")
    StaffJob.objects.filter(pk=job.pk).update(status="running", done=2)
    services.staff_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.done) == ("done", 3)
    built, finished = job.output, job.finished_at
    Membership.objects.create(course=a.course, user=make_member(course=klass["other_assignment"].course,
                                                                username="late"), role="student")
    services.staff_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.output, job.finished_at, job.done) == (built, finished, 3)


@pytest.mark.django_db(transaction=True)  # a worker's beat closes its connection
@override_settings(GRADING_EXPORT_INLINE_MAX=0, TASKS=DB_TASKS)
def test_a_task_workers_heartbeat_deletes_an_expired_file_that_nobody_opens(klass, clock):
    """Nobody opens the job's page after its day: a worker's next heartbeat empties the file anyway;
    a file still within its day is kept."""
    from grading.management.commands.grading_worker import GradingWorker

    a = klass["assignment"]
    old = services.export_job_create(assignment=a, by=klass["teacher"], layout="full")
    services.export_job_run(job_id=old.pk)
    clock.shift(timedelta(hours=12))
    fresh = services.export_job_create(assignment=a, by=klass["teacher"], layout="full")
    services.export_job_run(job_id=fresh.pk)
    clock.shift(timedelta(hours=12, seconds=1))
    worker = GradingWorker(queue_names=["default"], interval=1, batch=True, backend_name="default",
                           startup_delay=False, max_tasks=None, worker_id="beat-test", excluded_queue_names=[])
    worker.beat_once()
    assert worker.beats == 1
    assert StaffJob.objects.get(pk=old.pk).output == ""
    assert StaffJob.objects.get(pk=fresh.pk).output.startswith("\ufeffusername,")


@override_settings(GRADING_EXPORT_INLINE_MAX=0)
def test_the_admin_lists_export_jobs_without_reading_their_files(klass):
    """The site admin's list and page of a job show it, and never read the exported file."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    a = klass["assignment"]
    job = services.export_job_create(assignment=a, by=klass["teacher"], layout="full")
    assert StaffJob.objects.get(pk=job.pk).output  # built (the immediate backend)
    get_user_model().objects.create_superuser("root", "root@example.org", "pw-for-tests-1")
    admin = client_for(get_user_model().objects.get(username="root"))
    for url in (reverse("admin:grading_staffjob_changelist"), reverse("admin:grading_staffjob_change", args=[job.pk])):
        with CaptureQueriesContext(connection) as captured:
            response = admin.get(url)
        assert response.status_code == 200 and "Gradebook export" in response.content.decode()
        reads = [q["sql"] for q in captured if 'FROM "grading_staffjob"' in q["sql"]]
        assert reads and not any('"grading_staffjob"."output"' in sql for sql in reads), url


@override_settings(GRADING_EXPORT_INLINE_MAX=0, GRADING_EXPORT_BATCH=1)
def test_an_export_that_breaks_half_way_keeps_no_file_and_names_the_error(klass):
    """A ledger record whose Q1 score is not a number (written by hand into the database) stops the
    export at that student: the steps before it are counted, no file is kept, and the page and the
    gradebook name the error."""
    a = klass["assignment"]
    [sub] = Submission.objects.filter(student=klass["bob"])
    Grading.objects.create(submission=sub, sequence=2, kind="regrade", report={}, score=12.5, max_score=100,
                           scores={"Q1": "n/a"}, grader_version="test", spec_hash="0" * 64)
    teacher = client_for(klass["teacher"])
    page = teacher.get(start(teacher, a, "full")["Location"]).content.decode()  # the worker logs it too
    job = StaffJob.objects.get()
    assert (job.status, job.done, job.total, job.output) == ("failed", 1, 3, "")  # alice's step, then bob's broke
    assert "id=\"export-error-text\">ValueError: could not convert string to float: &#x27;n/a&#x27;<" in page
    assert 'id="job-done">1<' in page and 'id="download-export"' not in page
    book = teacher.get(reverse("grading:gradebook", args=[a.pk])).content.decode()
    assert 'class="text-danger export-failed">ValueError: could not convert' in book
