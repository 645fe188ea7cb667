"""The background work, on Django's Tasks framework (the django-tasks backport).

The only place that enqueues. Workers run ``manage.py grading_worker`` (db_worker with heartbeats
and leases, see grading/services/health.py; any number, on any machine sharing the database); tests use the immediate backend, which runs a task as it is enqueued.
"""

from __future__ import annotations

from django_tasks import task


@task()
def grade_submission(submission_id: int) -> None:
    """Grade a submitted attempt and write its first ledger record. A transient database error
    ("database is locked", a dropped connection) is tried again a few times before the task
    fails (``grade_pending`` queues a failed one again); running twice grades once."""
    import time

    from django.db import OperationalError, connection

    from grading.services.submissions import submission_grade

    for attempt in range(4):
        try:
            submission_grade(submission_id=submission_id)
            return
        except OperationalError:
            if attempt == 3 or connection.in_atomic_block:
                raise
            connection.close()
            time.sleep(0.5 * 2 ** attempt)


def enqueue_grading(submission_id: int) -> None:
    """Queue the grading of an attempt (in the caller's transaction, with the database backend)."""
    grade_submission.enqueue(submission_id)


@task()
def regrade_job(job_id: int) -> None:
    """Run a queued class regrade (or dry run)."""
    from grading.services.regrade import regrade_job_run

    regrade_job_run(job_id=job_id)


def enqueue_regrade(job_id: int) -> None:
    """Hand a regrade job to a worker."""
    regrade_job.enqueue(job_id)


@task()
def auto_submit(assignment_id: int) -> None:
    """Submit the drafts of students who never submitted, once their due time has passed; then
    come back for students whose extension ends later."""
    from grading.models import Assignment
    from grading.services.submissions import auto_submit_pending, submissions_auto_submit

    assignment = Assignment.objects.filter(pk=assignment_id).first()
    if assignment is None:
        return
    submissions_auto_submit(assignment=assignment)
    later = auto_submit_pending(assignment)
    if later is not None:
        schedule_auto_submit(assignment, at=later)


def schedule_auto_submit(assignment, at=None) -> bool:
    """Queue the auto-submit of an assignment for its due time (plus grace), when the backend
    can run a task later; False when it cannot (the immediate backend: use
    ``manage.py autosubmit`` from cron instead)."""
    if not assignment.auto_submit:
        return False
    backend = auto_submit.get_backend()
    if not backend.supports_defer:
        return False
    auto_submit.using(run_after=at or assignment.due_at + assignment.grace).enqueue(assignment.pk)
    return True


@task()
def staff_job(job_id: int) -> None:
    """Run a queued staff job (a roster import, a large class's gradebook export)."""
    from grading.services.people import staff_job_run

    staff_job_run(job_id=job_id)


def enqueue_staff_job(job_id: int) -> None:
    """Hand a staff job to a worker."""
    staff_job.enqueue(job_id)


@task()
def lti_passback(line_item_id: int, student_id: int, force: bool = False, by_id: int | None = None,
                 tries: int = 0) -> None:
    """Send a student's current grade to an LMS line item (AGS). Idempotent: the grade already
    sent is not sent twice. A refusal is tried again a few times with growing pauses; then, where
    the backend can run a task later, again after a longer wait (up to a day of tries)."""
    import time

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from grading.lti.platform import PlatformError
    from grading.services.lti import passback_send

    by = get_user_model().objects.filter(pk=by_id).first() if by_id else None
    pause = float(getattr(settings, "LTI_PASSBACK_BACKOFF_SECONDS", 2.0))
    for attempt in range(3):
        try:
            passback_send(line_item_id=line_item_id, student_id=student_id, by=by, force=force)
            return
        except PlatformError:
            if attempt == 2:
                break
            time.sleep(pause * 2 ** attempt)
    backend = lti_passback.get_backend()
    if backend.supports_defer and tries < 8:
        from datetime import timedelta

        from django.utils import timezone
        later = timezone.now() + timedelta(minutes=5 * 2 ** tries)  # 5 min ... about 21 h
        lti_passback.using(run_after=later).enqueue(line_item_id, student_id, force, by_id, tries + 1)


def enqueue_passback(line_item_id: int, student_id: int, *, force: bool = False,
                     by_id: int | None = None) -> None:
    """Queue the send of a student's current grade to a line item."""
    lti_passback.enqueue(line_item_id, student_id, force, by_id)


@task()
def lti_roster_sync(job_id: int) -> None:
    """Run a queued roster sync from the LMS (NRPS)."""
    from grading.services.lti import roster_sync_run

    roster_sync_run(job_id=job_id)


def enqueue_roster_sync(job_id: int) -> None:
    """Hand a roster sync to a worker."""
    lti_roster_sync.enqueue(job_id)


@task()
def lti_line_item_create(line_item_id: int) -> None:
    """Create an assignment's line item in the LMS gradebook (a launch found none)."""
    from grading.services.lti import line_item_create_remote

    line_item_create_remote(line_item_id=line_item_id)


def enqueue_line_item_create(line_item_id: int) -> None:
    """Hand a line item's creation to a worker."""
    lti_line_item_create.enqueue(line_item_id)
