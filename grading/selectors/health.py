"""The health of grading, for staff pages and ``/healthz``: the database answers, workers alive
by their heartbeat, the queue's depth, the oldest attempt waiting for its grade, and whether
grading is stalled (attempts waiting past GRADING_STALLED_SECONDS with no live worker)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from grading.models import Submission, WorkerHeartbeat


def heartbeat_seconds() -> float:
    return float(getattr(settings, "GRADING_HEARTBEAT_SECONDS", 5.0))


def lease_seconds() -> float:
    return float(getattr(settings, "GRADING_LEASE_SECONDS", 60.0))


def stale_after() -> timedelta:
    """A worker with no beat for three beats is gone."""
    return timedelta(seconds=3 * heartbeat_seconds())


def stalled_seconds() -> float:
    return float(getattr(settings, "GRADING_STALLED_SECONDS", 120.0))


def workers_needed() -> bool:
    """Tasks wait for a worker (the database backend), rather than running as they are queued."""
    return isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)


GRADE_TASK = "grading.tasks.grade_submission"


def queued_gradings() -> set[int]:
    """The attempts whose grading task is waiting or running."""
    active = DBTaskResult.objects.filter(
        task_path=GRADE_TASK, status__in=[TaskResultStatus.READY, TaskResultStatus.RUNNING])
    found: set[int] = set()
    for args_kwargs in active.values_list("args_kwargs", flat=True):
        args = (args_kwargs or {}).get("args") or []
        if args and isinstance(args[0], int):
            found.add(args[0])
    return found


@dataclass
class Health:
    database: bool = True
    workers_needed: bool = True
    workers_alive: int = 0
    queue_depth: int = 0  # tasks ready to run
    running: int = 0  # tasks running
    waiting: int = 0  # submitted attempts with no grade yet
    oldest_waiting_at: datetime | None = None
    oldest_waiting_seconds: float | None = None
    stalled: bool = False
    orphaned: int = 0  # attempts waiting past the stall time with no task queued or running for them
    problems: list[str] = field(default_factory=list)  # machine words, for /healthz

    @property
    def ok(self) -> bool:
        return not self.problems


def grading_health(*, now: datetime | None = None) -> Health:
    """Read everything at once; a database that does not answer is a problem, not an exception."""
    now = now or timezone.now()
    health = Health(workers_needed=workers_needed())
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        health.workers_alive = WorkerHeartbeat.objects.filter(beat_at__gte=now - stale_after()).count()
        health.queue_depth = DBTaskResult.objects.ready().count()
        health.running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING).count()
        ungraded = Submission.objects.filter(state=Submission.State.SUBMITTED, gradings__isnull=True)
        health.waiting = ungraded.count()
        oldest = ungraded.order_by("submitted_at").values_list("submitted_at", flat=True).first()
    except DatabaseError:
        health.database = False
        health.problems.append("database unavailable")
        return health
    if oldest is not None:
        health.oldest_waiting_at = oldest
        health.oldest_waiting_seconds = max(0.0, (now - oldest).total_seconds())
    if health.workers_needed:
        if not health.workers_alive:
            health.problems.append("no task worker alive")
        late_since = now - timedelta(seconds=stalled_seconds())
        if oldest is not None and oldest < late_since:
            if not health.workers_alive:
                health.stalled = True
                health.problems.append("grading stalled")
            late = set(ungraded.filter(submitted_at__lt=late_since).values_list("pk", flat=True))
            health.orphaned = len(late - queued_gradings())
            if health.orphaned:
                health.problems.append("attempts ungraded with no task")
    return health
