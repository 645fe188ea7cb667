"""Grading that recovers by itself: worker heartbeats, leases on running tasks, re-queueing.

A worker (``manage.py grading_worker``) renews its ``WorkerHeartbeat`` every few seconds with the
task it is running. A task left RUNNING longer than its lease whose worker is gone (no recent
beat) or no longer running it is put back in the queue: delivery is at least once, and the
grading task is idempotent (``submission_grade`` writes no second automatic grade).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.utils import timezone
from django_tasks_db.compat import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from grading import tasks
from grading.models import Submission, WorkerHeartbeat
from grading.selectors.health import heartbeat_seconds, lease_seconds, queued_gradings, stale_after

log = logging.getLogger("grading.health")


def worker_beat(*, worker_id: str, host: str = "", pid: int = 0, task_id: str = "",
                now: datetime | None = None) -> None:
    """Renew a worker's heartbeat (created on its first beat)."""
    now = now or timezone.now()
    updated = WorkerHeartbeat.objects.filter(worker_id=worker_id).update(beat_at=now, task_id=task_id)
    if not updated:
        WorkerHeartbeat.objects.update_or_create(
            worker_id=worker_id,
            defaults={"host": host[:255], "pid": pid, "beat_at": now, "task_id": task_id},
            create_defaults={"host": host[:255], "pid": pid, "beat_at": now, "started_at": now,
                             "task_id": task_id})


def worker_forget(*, worker_id: str) -> None:
    """A worker stopping cleanly removes its heartbeat."""
    WorkerHeartbeat.objects.filter(worker_id=worker_id).delete()


def workers_forget_dead(*, now: datetime | None = None, keep: timedelta = timedelta(days=1)) -> int:
    """Heartbeats of workers gone for more than ``keep``: no longer worth showing."""
    now = now or timezone.now()
    deleted, _ = WorkerHeartbeat.objects.filter(beat_at__lt=now - keep).delete()
    return deleted


@dataclass
class Requeued:
    """What a re-queue did: the task ids put back, and why."""

    task_ids: list[str] = field(default_factory=list)
    reasons: dict[str, str] = field(default_factory=dict)


def tasks_requeue_stuck(*, now: datetime | None = None, lease: float | None = None) -> Requeued:
    """Put back in the queue every task RUNNING longer than its lease whose worker is gone (no
    beat within three beats) or whose live worker says it runs something else. Each row is
    switched back with a conditional update, so two reapers never requeue one task twice."""
    now = now or timezone.now()
    lease_td = timedelta(seconds=lease_seconds() if lease is None else lease)
    live = {hb.worker_id: hb.task_id for hb in
            WorkerHeartbeat.objects.filter(beat_at__gte=now - stale_after())}
    done = Requeued()
    stuck = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING, started_at__lt=now - lease_td)
    for task in stuck.only("id", "worker_ids", "started_at", "task_path"):
        worker = task.worker_ids[-1] if task.worker_ids else ""
        if worker in live and live[worker] == str(task.id):
            continue  # a long task its live worker is still running
        reason = "worker gone" if worker not in live else "worker no longer running it"
        moved = DBTaskResult.objects.filter(pk=task.pk, status=TaskResultStatus.RUNNING,
                                            started_at=task.started_at).update(
            status=TaskResultStatus.READY, started_at=None)
        if moved:
            log.warning("task %s (%s) re-queued: RUNNING since %s, %s (worker %s)", task.pk,
                        task.task_path, task.started_at, reason, worker or "?")
            done.task_ids.append(str(task.pk))
            done.reasons[str(task.pk)] = reason
    return done


@dataclass
class Pending:
    """What ``grading_requeue_pending`` did."""

    requeued: Requeued
    waiting: list[int]  # ungraded attempts whose task was already in the queue
    queued: list[int]  # ungraded attempts given a new task
    graded: list[int]  # ungraded attempts graded here (now=True)


def grading_requeue_pending(*, now: bool = False) -> Pending:
    """Recover grading after workers were down: re-queue stuck tasks, then queue a grading task
    for each submitted attempt with no grade and no task waiting or running (or, ``now``, grade
    every ungraded attempt here; a task still queued for one then writes nothing)."""
    from grading.services.submissions import submission_grade

    requeued = tasks_requeue_stuck()
    ungraded = list(Submission.objects.filter(state=Submission.State.SUBMITTED, gradings__isnull=True)
                    .order_by("submitted_at", "pk").values_list("pk", flat=True))
    in_queue = queued_gradings()
    result = Pending(requeued=requeued, waiting=[], queued=[], graded=[])
    for pk in ungraded:
        if now:
            if submission_grade(submission_id=pk) is not None:
                result.graded.append(pk)
        elif pk in in_queue:
            result.waiting.append(pk)
        else:
            tasks.enqueue_grading(pk)
            result.queued.append(pk)
    return result
