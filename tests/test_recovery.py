"""Grading that recovers by itself (issue 18, item 2): workers beat, running tasks have a lease,
a task whose worker died is queued again and graded once; a worker outlives database errors;
grade_pending says what it re-queued; staff pages and /healthz show grading's health."""
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, connection
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from grading import services
from grading.models import Grading, Submission, WorkerHeartbeat
from grading.services import health
from tests.factories import round1_values
from tests.webtools import client_for

ROOT = Path(__file__).resolve().parent.parent
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
GRADE_TASK = "grading.tasks.grade_submission"


def wait_for(condition, what: str, seconds: float = 60.0, every: float = 0.05):
    """Poll until ``condition()`` is truthy; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)  # a poll; a timed Event.wait never returns under faketime
    pytest.fail(f"timed out after {seconds:.0f} s waiting for {what}")


def submit_ungraded(assignment, student) -> Submission:
    """A submitted attempt whose grading task waits in the database queue."""
    with override_settings(TASKS=DB_TASKS):
        return services.submission_submit(assignment=assignment, student=student,
                                          answers={"rounds": [{"round": 1, "forward": {"s1": "0.46"}}]})


def task_of(sub) -> DBTaskResult:
    [task] = [t for t in DBTaskResult.objects.filter(task_path=GRADE_TASK) if t.args_kwargs["args"] == [sub.pk]]
    return task


def mark_running(task, *, worker: str, started) -> None:
    DBTaskResult.objects.filter(pk=task.pk).update(status="RUNNING", started_at=started, worker_ids=[worker])


def gradings(sub) -> list[str]:
    return list(Grading.objects.filter(submission=sub).values_list("kind", flat=True))


# ------------------------------------------------------------------ leases


@pytest.mark.django_db(transaction=True)
@override_settings(GRADING_HEARTBEAT_SECONDS=5, GRADING_LEASE_SECONDS=60)
def test_a_task_past_its_lease_with_a_dead_worker_is_queued_again_and_graded_once(world):
    """RUNNING for 2 minutes (lease 60 s) by a worker whose last beat is 1 minute old: queued
    again, then a worker grades it once; a second delivery of the same task writes nothing."""
    sub = submit_ungraded(world["assignment"], world["alice"])
    task = task_of(sub)
    now = timezone.now()
    mark_running(task, worker="dead", started=now - timedelta(minutes=2))
    health.worker_beat(worker_id="dead", now=now - timedelta(minutes=1))
    assert health.tasks_requeue_stuck().task_ids == [str(task.pk)]
    assert health.tasks_requeue_stuck().task_ids == []  # once
    task.refresh_from_db()
    assert task.status == "READY" and task.started_at is None
    with override_settings(TASKS=DB_TASKS):
        call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert gradings(sub) == ["auto"]
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL"
    # At least once: delivered again (a worker killed after grading, before marking it done).
    mark_running(task, worker="dead", started=now - timedelta(minutes=2))
    assert health.tasks_requeue_stuck().task_ids == [str(task.pk)]
    with override_settings(TASKS=DB_TASKS):
        call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert gradings(sub) == ["auto"]


@pytest.mark.django_db
@override_settings(GRADING_HEARTBEAT_SECONDS=5, GRADING_LEASE_SECONDS=60)
def test_a_task_within_its_lease_or_run_by_a_live_worker_stays(world):
    """Not re-queued: a task running for 30 s (its lease is 60 s) whatever its worker; a task
    running for 10 minutes whose worker beats and says it runs it. Re-queued: the live worker
    beats but runs something else (it lost the task), or the worker never beat at all."""
    now = timezone.now()
    fresh, long, lost, unknown = (task_of(submit_ungraded(world["assignment"], world[name]))
                                  for name in ("alice", "bob", "ta", "teacher"))
    mark_running(fresh, worker="gone", started=now - timedelta(seconds=30))
    mark_running(long, worker="busy", started=now - timedelta(minutes=10))
    mark_running(lost, worker="idle", started=now - timedelta(minutes=10))
    mark_running(unknown, worker="never-beat", started=now - timedelta(minutes=10))
    health.worker_beat(worker_id="busy", task_id=str(long.pk), now=now - timedelta(seconds=2))
    health.worker_beat(worker_id="idle", task_id="", now=now - timedelta(seconds=2))
    done = health.tasks_requeue_stuck(now=now)
    assert sorted(done.task_ids) == sorted([str(lost.pk), str(unknown.pk)])
    assert done.reasons == {str(lost.pk): "worker no longer running it", str(unknown.pk): "worker gone"}
    assert set(DBTaskResult.objects.filter(status="RUNNING").values_list("pk", flat=True)) == {fresh.pk, long.pk}


def _worker_env(database: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    env.update({
        "DJANGO_SETTINGS_MODULE": "backprop_site.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_TASKS_IMMEDIATE": "0",
        "DJANGO_DEBUG": "0",
        "GRADING_HEARTBEAT_SECONDS": "0.3",
        "GRADING_LEASE_SECONDS": "1.5",
        "PYTHONPATH": str(ROOT),
    })
    return env


@contextmanager
def worker_process(database: str, worker_id: str, *extra: str):
    process = subprocess.Popen(
        [sys.executable, "manage.py", "grading_worker", "--interval", "0.1", "--no-startup-delay",
         "--no-reload", "--worker-id", worker_id, "-v", "1", *extra],
        cwd=ROOT, env=_worker_env(database), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_task_is_replaced_and_the_attempt_graded_once(world):
    """A real worker (``manage.py grading_worker``, its own process on the SQLite file) is killed
    with SIGKILL while it runs a grading task; another worker queues the task again once the
    lease (1.5 s) is over and its worker's beat is stale, and grades the attempt exactly once."""
    if connection.vendor != "sqlite":
        pytest.skip("the worker processes share the SQLite file of the test database")
    from tests.recovery_tasks import slow_then_grade

    sub = submit_ungraded(world["assignment"], world["alice"])
    DBTaskResult.objects.all().delete()  # graded by the task that hangs on its first delivery instead
    with override_settings(TASKS=DB_TASKS):
        slow_then_grade.enqueue(sub.pk)
    [task] = DBTaskResult.objects.all()
    database = connection.settings_dict["NAME"]

    def state():
        task.refresh_from_db()
        return task

    with worker_process(database, "first", "--nice", "12") as first:
        wait_for(lambda: state().status == "RUNNING" and WorkerHeartbeat.objects.filter(
            worker_id="first", task_id=str(task.pk)).exists(), "the first worker to run the task")
        # --nice 12: below the web servers (never above the niceness this test runs at).
        assert os.getpriority(os.PRIO_PROCESS, first.pid) == max(12, os.getpriority(os.PRIO_PROCESS, 0))
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
    assert state().status == "RUNNING" and task.worker_ids == ["first"] and gradings(sub) == []
    with worker_process(database, "second") as second:
        wait_for(lambda: state().status == "SUCCESSFUL", "the task to be run again and succeed")
        assert task.worker_ids == ["first", "second"]
        assert gradings(sub) == ["auto"]
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
        log = second.stdout.read() if second.stdout else ""
    assert not WorkerHeartbeat.objects.filter(worker_id="second").exists()  # a clean stop says goodbye
    assert "re-queued" in log and "worker gone" in log, log


# ------------------------------------------------------------------ transient errors


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("error", [OperationalError("database is locked"),
                                   InterfaceError("connection already closed")])
def test_a_worker_survives_a_locked_database_or_a_dropped_connection(world, caplog, error):
    """The claim's exclusive transaction fails twice (as behind a 28 s roster import): db_worker
    itself exits with the error; grading_worker logs a warning, waits and grades the attempt."""
    import django_tasks_db.management.commands.db_worker as db_worker

    sub = submit_ungraded(world["assignment"], world["alice"])
    real = db_worker.exclusive_transaction
    failures = []

    @contextmanager
    def flaky(using=None):
        if len(failures) < 2:
            failures.append(1)
            raise error
        with real(using):
            yield

    with override_settings(TASKS=DB_TASKS), mock.patch.object(db_worker, "exclusive_transaction", flaky):
        with pytest.raises(type(error)):
            call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
        assert gradings(sub) == []
        failures.clear()
        with caplog.at_level(logging.WARNING, logger="grading.worker"):
            call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert len(failures) == 2
    assert gradings(sub) == ["auto"]
    warnings = [r.getMessage() for r in caplog.records if r.name == "grading.worker"]
    assert len(warnings) == 2 and all(str(error) in w and "retrying" in w for w in warnings)


@pytest.mark.django_db(transaction=True)
def test_a_worker_waits_for_a_write_lock_held_by_another_connection(world):
    """Another connection holds SQLite's exclusive lock for a moment while a worker runs: the
    worker waits for it and grades (it neither exits nor fails the task)."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's write lock")
    import sqlite3
    import threading

    sub = submit_ungraded(world["assignment"], world["alice"])
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    started = threading.Event()

    def work():
        started.set()
        with override_settings(TASKS=DB_TASKS):
            call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)

    runner = threading.Thread(target=work)
    runner.start()
    started.wait(10)
    # The lock is held "for a moment" while the worker tries to claim (nothing can be graded
    # meanwhile, however long the worker takes to try).
    time.sleep(0.5)
    assert runner.is_alive() and gradings(sub) == []
    holder.execute("COMMIT")
    holder.close()
    runner.join(timeout=60)
    assert not runner.is_alive()
    assert gradings(sub) == ["auto"]


# ------------------------------------------------------------------ grade_pending


@pytest.mark.django_db(transaction=True)
@override_settings(GRADING_HEARTBEAT_SECONDS=5, GRADING_LEASE_SECONDS=60)
def test_grade_pending_requeues_stuck_tasks_and_queues_only_what_has_no_task(world):
    """alice's task is stuck with a dead worker (re-queued), bob's waits in the queue (left
    alone), the TA's task failed (a new one is queued); the command says each, by number."""
    now = timezone.now()
    stuck, waiting, failed = (submit_ungraded(world["assignment"], world[name]) for name in ("alice", "bob", "ta"))
    mark_running(task_of(stuck), worker="dead", started=now - timedelta(minutes=5))
    DBTaskResult.objects.filter(pk=task_of(failed).pk).update(status="FAILED")
    out = StringIO()
    with override_settings(TASKS=DB_TASKS):
        call_command("grade_pending", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"1 stuck task(s) re-queued (RUNNING over the 60 s lease, worker gone): {task_of(stuck).pk} (worker gone)"
    assert lines[1:] == [f"2 ungraded attempt(s) already waiting in the queue: {stuck.pk}, {waiting.pk}",
                         f"1 attempt(s) queued for grading: {failed.pk}"]
    assert health.queued_gradings() == {stuck.pk, waiting.pk, failed.pk}
    with override_settings(TASKS=DB_TASKS):
        call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert [gradings(s) for s in (stuck, waiting, failed)] == [["auto"]] * 3
    out = StringIO()
    call_command("grade_pending", stdout=out)
    assert out.getvalue().splitlines()[1:] == ["0 ungraded attempt(s) already waiting in the queue",
                                               "0 attempt(s) queued for grading"]


# ------------------------------------------------------------------ health


@pytest.mark.django_db
def test_healthz_without_a_task_queue_is_ok(client):
    """Tasks run as they are queued (the immediate backend): no worker is needed."""
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["problems"] == [] and body["workers_needed"] is False


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, GRADING_HEARTBEAT_SECONDS=5, GRADING_STALLED_SECONDS=120)
def test_healthz_answers_503_without_a_live_worker_and_200_with_one(client, world, clock):
    """No login needed; 503 naming what is wrong: no worker, then grading stalled (an attempt
    waiting over 2 minutes); 200 once a worker beats; 503 again when its beat is old."""
    assert client.get("/healthz").json()["problems"] == ["no task worker alive"]
    assert client.get("/healthz").status_code == 503
    sub = submit_ungraded(world["assignment"], world["alice"])
    clock.shift(timedelta(minutes=3))
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["problems"] == ["no task worker alive", "grading stalled"]
    assert body["queue_depth"] == 1 and body["waiting_attempts"] == 1
    assert body["oldest_waiting_seconds"] >= 180
    assert "alice" not in response.content.decode() and str(sub.pk) not in body.values()
    health.worker_beat(worker_id="w1", host="h", pid=1)
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json()["workers_alive"] == 1
    clock.shift(timedelta(seconds=16))  # three beats missed
    assert client.get("/healthz").status_code == 503


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_does_not(client):
    with mock.patch("grading.selectors.health.connection.cursor", side_effect=OperationalError("unable to open")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["problems"] == ["database unavailable"] and "unable" not in response.content.decode()


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, GRADING_HEARTBEAT_SECONDS=5, GRADING_STALLED_SECONDS=120)
def test_staff_pages_show_grading_health_and_a_banner_when_stalled(world, clock):
    """The TA's gradebook: a health line always; the red banner only when an attempt has waited
    more than 2 minutes and no worker is alive."""
    ta = client_for(world["ta"])
    url = reverse("grading:gradebook", args=[world["assignment"].pk])
    page = ta.get(url).content.decode()
    assert 'id="grading-health"' in page and "0 workers alive" in page and "no attempt waiting" in page
    assert "grading-stalled" not in page
    submit_ungraded(world["assignment"], world["alice"])
    clock.shift(timedelta(seconds=60))
    page = ta.get(url).content.decode()
    assert "grading-stalled" not in page and "1 task queued" in page and "oldest ungraded attempt" in page
    clock.shift(timedelta(seconds=90))
    page = ta.get(url).content.decode()
    assert 'id="grading-stalled"' in page and "1 attempt is waiting for its grade" in page
    health.worker_beat(worker_id="w1")
    page = ta.get(url).content.decode()
    assert "grading-stalled" not in page and "1 worker alive" in page
    assert "grading-health" not in client_for(world["alice"]).get(
        reverse("grading:assignment", args=[world["assignment"].pk])).content.decode()


@pytest.mark.django_db
@override_settings(TASKS=DB_TASKS, GRADING_HEARTBEAT_SECONDS=5, GRADING_STALLED_SECONDS=120)
def test_an_attempt_whose_task_failed_is_reported_even_with_a_live_worker(client, world, clock):
    """A live worker, but the attempt's task FAILED (nothing will grade it): after 2 minutes
    /healthz says so and staff see a warning naming grade_pending; once queued again, both clear."""
    from grading import tasks
    from grading.selectors.health import GRADE_TASK as SELECTOR_GRADE_TASK

    assert SELECTOR_GRADE_TASK == tasks.grade_submission.module_path == GRADE_TASK
    sub = submit_ungraded(world["assignment"], world["alice"])
    DBTaskResult.objects.filter(pk=task_of(sub).pk).update(status="FAILED")
    health.worker_beat(worker_id="w1")
    assert client.get("/healthz").status_code == 200  # not yet 2 minutes
    clock.shift(timedelta(minutes=3))
    health.worker_beat(worker_id="w1")
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["problems"] == ["attempts ungraded with no task"]
    url = reverse("grading:gradebook", args=[world["assignment"].pk])
    page = client_for(world["ta"]).get(url).content.decode()
    assert 'id="grading-orphaned"' in page and "grade_pending" in page and "grading-stalled" not in page
    call_command("grade_pending", stdout=StringIO())
    assert client.get("/healthz").status_code == 200
    assert "grading-orphaned" not in client_for(world["ta"]).get(url).content.decode()


@pytest.mark.django_db(transaction=True)
def test_grade_pending_now_grades_here_and_the_leftover_task_writes_nothing(world):
    """--now grades a queued attempt in the command; when a worker later runs the task still
    in the queue for it, no second automatic grade is written."""
    sub = submit_ungraded(world["assignment"], world["alice"])
    out = StringIO()
    with override_settings(TASKS=DB_TASKS):
        call_command("grade_pending", "--now", stdout=out)
    assert out.getvalue().splitlines()[1] == f"1 attempt(s) graded: {sub.pk}"
    assert task_of(sub).status == "READY" and gradings(sub) == ["auto"]
    with override_settings(TASKS=DB_TASKS):
        call_command("grading_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert task_of(sub).status == "SUCCESSFUL" and gradings(sub) == ["auto"]


@pytest.mark.django_db
def test_heartbeats_of_workers_gone_for_a_day_are_forgotten(world):
    now = timezone.now()
    health.worker_beat(worker_id="old", now=now - timedelta(days=2))
    health.worker_beat(worker_id="recent", now=now - timedelta(hours=1))
    assert health.workers_forget_dead(now=now) == 1
    assert list(WorkerHeartbeat.objects.values_list("worker_id", flat=True)) == ["recent"]
