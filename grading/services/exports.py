"""A large class's gradebook export as a staff job (issue 18, item 3): queued by a POST, built by a
task worker a slice of students at a time with its progress in the job's row, then kept in that
row for download until the job's page expires (``staff_jobs_expire`` empties it)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from grading.models import Assignment, StaffJob
from grading.selectors.exports import export_allowed, gradebook_csv_steps
from grading.selectors.people import course_student_count


class ExportRefused(Exception):
    """The export cannot be built as asked; its message, in the requester's language, is for staff."""


# Students per step (GRADING_EXPORT_BATCH overrides it): 25-50 ms a step with 2 attempts each, 50-120 ms
# with 5 (bench/bench_exports.py), so the page's progress moves every fraction of a second.
EXPORT_BATCH = 200


def export_job_create(*, assignment: Assignment, by, layout: str) -> StaffJob:
    """Queue the export of the assignment's gradebook in ``layout`` for a task worker; the same
    export already waiting or running is returned instead (a second click adds no work)."""
    from grading import tasks
    from grading.services.people import JOB_LIFETIME

    if not export_allowed(assignment, layout):
        raise ValidationError(_("There is no such export for this assignment."), code="no_such_export")
    waiting = StaffJob.objects.filter(assignment=assignment, kind=StaffJob.Kind.EXPORT, options__layout=layout,
                                      status__in=[StaffJob.Status.QUEUED, StaffJob.Status.RUNNING])
    earlier = waiting.defer("output", "payload").order_by("-pk").first()
    if earlier is not None:
        return earlier
    now = timezone.now()
    job = StaffJob(kind=StaffJob.Kind.EXPORT, assignment=assignment, requested_by=by, created_at=now,
                   expires_at=now + JOB_LIFETIME,
                   options={"layout": layout, "language": translation.get_language() or ""},
                   total=course_student_count(assignment.course))
    job.full_clean()
    job.save()
    tasks.enqueue_staff_job(job.pk)
    return job


def export_job_run(*, job_id: int, on_batch: Callable[[StaffJob], None] | None = None) -> None:
    """Build a queued export: each step's progress is committed as it goes (the job's page polls
    it), the file is written to the job once, at the end. Delivered again after its worker died,
    the job starts over (the file is only ever written whole). A failure is written to the job,
    where its page and the gradebook show it, and raised for the worker's log.
    ``on_batch(job)`` runs after each step's progress is committed."""
    jobs = StaffJob.objects.filter(pk=job_id, kind=StaffJob.Kind.EXPORT)
    job = jobs.select_related("assignment__course").defer("output", "payload").first()
    # RUNNING too: a task is delivered again only when its worker is gone (its lease ran out).
    if job is None or not jobs.filter(status__in=[StaffJob.Status.QUEUED, StaffJob.Status.RUNNING]) \
            .update(status=StaffJob.Status.RUNNING, done=0, error=""):
        return  # gone, or finished already
    batch = int(getattr(settings, "GRADING_EXPORT_BATCH", EXPORT_BATCH))
    pieces: list[str] = []
    try:
        # What the job says is in the language of the staff member who started it.
        with translation.override(job.options.get("language") or None):
            layout = str(job.options.get("layout", ""))
            if not export_allowed(job.assignment, layout):
                # Queued for an assignment made practice since: it has no grade for an LMS.
                raise ExportRefused(_("This assignment has no %(layout)s export any more (a practice assignment "
                                      "has only the file with all columns).") % {"layout": layout})
        for text, done, total in gradebook_csv_steps(job.assignment, layout, batch=max(1, batch)):
            pieces.append(text)
            jobs.update(done=done, total=total)
            if on_batch is not None:
                on_batch(job)
        output = "".join(pieces)
        jobs.update(status=StaffJob.Status.DONE, output=output, finished_at=timezone.now(),
                    result={"bytes": len(output.encode("utf-8")), "students": total})
    except Exception as exc:  # noqa: BLE001 - the job records the failure; the worker goes on
        error = str(exc) if isinstance(exc, ExportRefused) else f"{type(exc).__name__}: {exc}"
        jobs.update(status=StaffJob.Status.FAILED, error=error[:2000], output="", finished_at=timezone.now())
        raise


def export_download_record(*, job: StaffJob, by) -> None:
    """Note who downloaded the export and when, in the job's result (the list staff read)."""
    with transaction.atomic():
        current = StaffJob.objects.select_for_update().filter(pk=job.pk).values_list("result", flat=True).first()
        result = dict(current or {})
        result["downloads"] = [*result.get("downloads", []),
                               {"by": by.get_username(), "at": timezone.now().isoformat()}][-50:]
        StaffJob.objects.filter(pk=job.pk).update(result=result)
