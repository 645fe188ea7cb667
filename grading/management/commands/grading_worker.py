"""python manage.py grading_worker [db_worker's options]: the task worker to run in production.

It is django_tasks_db's ``db_worker`` loop, plus:

- a heartbeat: a thread renews this worker's row (``WorkerHeartbeat``) every
  GRADING_HEARTBEAT_SECONDS with the task it runs, and re-queues the tasks of workers that
  died mid-task once their lease (GRADING_LEASE_SECONDS) is over;
- it survives transient database errors ("database is locked", a dropped connection): it logs
  a warning, closes the broken connection, waits (backing off up to 30 s) and goes on;
- ``--nice N`` (or GRADING_WORKER_NICE) runs it at a lower CPU priority than the web servers:
  on a machine that serves and grades, a deadline burst's requests come first and grading
  catches up after (grading may lag by seconds; a student waiting on a submit may not).
  `make run` and `make loadtest` pass 10; the default, 0, keeps the priority it was started with.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time

from django.db import DatabaseError, InterfaceError, OperationalError, connections
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from grading.services import health
from grading.services.people import staff_jobs_expire

log = logging.getLogger("grading.worker")

TRANSIENT = (OperationalError, InterfaceError)
MAX_BACKOFF = 30.0


class GradingWorker(Worker):
    """db_worker's Worker with a heartbeat thread and a loop that outlives database errors."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.task_id = ""
        self.stopped = threading.Event()
        self.beats = 0  # heartbeats written (tests wait on it)

    # ---------------------------------------------------------------- heartbeat

    def beat_once(self) -> None:
        """One heartbeat, then the re-queue of dead workers' tasks; errors are logged, never raised."""
        try:
            health.worker_beat(worker_id=self.worker_id, host=socket.gethostname()[:255],
                               pid=_pid(), task_id=self.task_id)
            self.beats += 1
            health.tasks_requeue_stuck()
            health.workers_forget_dead()
            staff_jobs_expire()  # a job's passwords or exported file go when its page expires, seen or not
        except DatabaseError as error:
            log.warning("grading worker %s: heartbeat failed (%s); trying again in %.0f s",
                        self.worker_id, error, health.heartbeat_seconds())
            _close_connections()
        finally:
            connections.close_all()  # this thread's own connection; a fresh one each beat

    def heartbeat_loop(self) -> None:
        while not self.stopped.is_set():
            self.beat_once()
            self.pause(health.heartbeat_seconds())

    def pause(self, seconds: float) -> None:
        """Until the next beat, or until stopped. Short relative sleeps, not a timed Event.wait:
        that one takes an absolute deadline, which a clock offset by an interposed library
        (faketime, in the test suite) turns into years."""
        end = time.monotonic() + seconds
        while not self.stopped.is_set() and time.monotonic() < end:
            time.sleep(min(0.1, max(0.0, end - time.monotonic())))

    def run_task(self, db_task_result) -> None:
        self.task_id = str(db_task_result.id)
        try:
            super().run_task(db_task_result)
        finally:
            self.task_id = ""

    # ---------------------------------------------------------------- the loop

    def run(self) -> None:
        beater = threading.Thread(target=self.heartbeat_loop, name="grading-heartbeat", daemon=True)
        beater.start()
        failures = 0
        try:
            while self.running:
                try:
                    super().run()
                    return  # --batch or --max-tasks: done
                except TRANSIENT as error:
                    failures += 1
                    delay = min(MAX_BACKOFF, 0.2 * 2 ** min(failures, 8)) * (0.5 + random.random() / 2)  # noqa: S311
                    log.warning("grading worker %s: database error (%s); retrying in %.1f s",
                                self.worker_id, error, delay)
                    self.running_task = False
                    self.startup_delay = False
                    _close_connections()
                    time.sleep(delay)
                else:
                    failures = 0
        finally:
            self.stopped.set()
            try:
                health.worker_forget(worker_id=self.worker_id)
            except DatabaseError:
                pass  # its beat goes stale; the others see it gone
            _close_connections()


def lower_priority(nice: int | None) -> int:
    """Make this process's niceness at least ``nice`` (None: GRADING_WORKER_NICE, else 0), never
    lower than it was (a second call changes nothing); the niceness it now has."""
    import os

    if nice is None:
        nice = int(os.environ.get("GRADING_WORKER_NICE", "0") or 0)
    now = os.getpriority(os.PRIO_PROCESS, 0)
    if nice > now:
        os.setpriority(os.PRIO_PROCESS, 0, min(nice, 19))
    return os.getpriority(os.PRIO_PROCESS, 0)


def _pid() -> int:
    import os

    return os.getpid()


def _close_connections() -> None:
    """Drop this thread's connections (a broken one is reopened on next use)."""
    for connection in connections.all(initialized_only=True):
        try:
            if connection.in_atomic_block:
                connection.needs_rollback = True
            connection.close()
        except DatabaseError:
            pass


class Command(DbWorkerCommand):
    help = ("Run a task worker (db_worker) with a heartbeat, leases on running tasks and retries on "
            "transient database errors, at a lower CPU priority than the web servers.")

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--nice", type=int, default=None,
                            help="Run at least this nice (default GRADING_WORKER_NICE or 0: the priority it was "
                                 "started with); 10 puts grading below the web servers.")

    def handle(self, *, verbosity: int, queue_name: str, interval: float, batch: bool,
               backend_name: str, startup_delay: bool, reload: bool, max_tasks: int | None,
               worker_id: str, exclude_queues: str, **options) -> None:
        self.configure_logging(verbosity)
        lower_priority(options.get("nice"))
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        worker = GradingWorker(queue_names=queue_names, interval=interval, batch=batch,
                               backend_name=backend_name, startup_delay=startup_delay,
                               max_tasks=max_tasks, worker_id=worker_id, excluded_queue_names=excluded)
        if threading.current_thread() is threading.main_thread():
            worker.configure_signals()
        worker.run()
