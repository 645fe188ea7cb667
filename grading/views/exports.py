"""The gradebook's CSV exports: a small class downloads at once; a class of more than
``GRADING_EXPORT_INLINE_MAX`` students is exported by a staff job (a task worker builds the file
with progress; its page offers the download until it expires).

Course staff only, as the gradebook (a TA too); anyone else gets a 404. Starting a job is a POST
(CSRF); a GET never starts one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from grading import permissions, selectors, services
from grading.views.common import job_progress


def exports_in_background(students: int) -> bool:
    """Whether a class of this many students is exported by a job rather than in the request."""
    return students > int(settings.GRADING_EXPORT_INLINE_MAX)


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text.encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _layout(assignment: Any, layout: str) -> str:
    if not selectors.export_allowed(assignment, layout):
        # Practice counts for nothing: there is no grade to import into an LMS.
        raise Http404("No such export.")
    return layout


@login_required
@require_GET
def gradebook_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The gradebook as CSV (UTF-8 with a BOM, no live formulas): ``?format=full`` (default),
    ``moodle`` or ``canvas`` (the two LMS grade-import layouts). Above the inline limit, a page
    with the button that starts the export in the background (a GET changes nothing)."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    layout = _layout(assignment, request.GET.get("format", "full"))
    students = selectors.course_student_count(assignment.course)
    if exports_in_background(students):
        return render(request, "grading/export_start.html", {
            "assignment": assignment, "layout": layout, "students": students,
            "limit": settings.GRADING_EXPORT_INLINE_MAX, "jobs": selectors.staff_jobs(assignment, "export")})
    return _csv_response(selectors.gradebook_csv(assignment, layout), selectors.export_filename(assignment, layout))


@login_required
@require_POST
def export_start(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the export (``format`` as above) and go to its page."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    layout = _layout(assignment, request.POST.get("format", "full"))
    try:
        job = services.export_job_create(assignment=assignment, by=request.user, layout=layout)
    except ValidationError:
        raise Http404("No such export.") from None
    return redirect(reverse("grading:export_job", args=[assignment.pk, job.pk]))


def _export_job(request: HttpRequest, pk: int, job_id: int) -> tuple[Any, Any]:
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    job = selectors.staff_job(assignment, job_id, "export")
    if job is None:
        raise Http404("No such export.")
    return assignment, job


def _export_job_page(request: HttpRequest, assignment: Any, job: Any, status: int = 200) -> HttpResponse:
    layout = str(job.options.get("layout", "full"))
    return render(request, "grading/export_job.html", {
        "assignment": assignment, "job": job, "layout": layout,
        "filename": selectors.export_filename(assignment, layout),
        "expired": job.expires_at <= timezone.now(),
        "downloads": [{"by": d.get("by", ""), "at": datetime.fromisoformat(d["at"])}
                      for d in (job.result or {}).get("downloads", []) if d.get("at")]}, status=status)


@login_required
@require_GET
def export_job(request: HttpRequest, pk: int, job_id: int) -> HttpResponse:
    """An export: its progress while it runs (the page polls), then the download, or its error."""
    services.staff_jobs_expire()
    assignment, job = _export_job(request, pk, job_id)
    return _export_job_page(request, assignment, job)


@login_required
@require_GET
def export_job_progress(request: HttpRequest, pk: int, job_id: int) -> JsonResponse:
    """The job's progress as JSON, for the page's poll."""
    _assignment, job = _export_job(request, pk, job_id)
    return job_progress(job)


@login_required
@require_GET
def export_job_download(request: HttpRequest, pk: int, job_id: int) -> HttpResponse:
    """The file the job built (the same bytes as the direct download); 409 with the job's page
    while it is not built, 410 once its page expired."""
    services.staff_jobs_expire()
    assignment, job = _export_job(request, pk, job_id)
    if job.status != job.Status.DONE:
        return _export_job_page(request, assignment, job, status=409)
    text = selectors.staff_job_file(job)
    if not text:
        return _export_job_page(request, assignment, job, status=410)
    services.export_download_record(job=job, by=request.user)
    layout = str(job.options.get("layout", "full"))
    response = _csv_response(text, selectors.export_filename(assignment, layout))
    response["Cache-Control"] = "no-store"  # a class's grades: not kept by a shared cache
    return response
