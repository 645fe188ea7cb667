"""Running a course term: class regrades (background jobs), extensions, rosters.

Regrade dry runs are open to all course staff; applying a class regrade, extensions and
roster imports are the instructors'.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from grading import permissions, selectors, services
from grading.forms import ExtensionForm, RegradeForm, RosterForm
from grading.views.common import job_progress, target_labels


@login_required
def regrade(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: recent regrade jobs and the form. POST: queue a dry run (staff) or a regrade (instructor)."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    instructor = permissions.is_instructor(request.user, assignment.course)
    if request.method == "POST":
        form = RegradeForm(request.POST)
        if form.is_valid():
            apply = form.cleaned_data["apply"]
            if apply and not instructor:
                raise Http404("Only instructors apply a class regrade.")
            reviewed = None
            if apply and form.cleaned_data["reviewed"]:
                # "Apply this regrade" on a dry run's page: exactly that diff, or a refusal.
                reviewed = selectors.regrade_job(assignment, form.cleaned_data["reviewed"])
                if reviewed is None:
                    raise Http404("No such dry run.")
            try:
                job = services.regrade_job_create(assignment=assignment, by=request.user, dry_run=not apply,
                                                  reason=form.cleaned_data["reason"], reviewed=reviewed)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                return redirect(reverse("grading:regrade_job", args=[assignment.pk, job.pk]))
    return render(request, "grading/regrade.html", {
        "assignment": assignment, "jobs": selectors.regrade_jobs(assignment), "instructor": instructor})


@login_required
@require_GET
def regrade_job(request: HttpRequest, pk: int, job_id: int) -> HttpResponse:
    """A regrade job: its progress while it runs (the page polls), then what changed."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    job = selectors.regrade_job(assignment, job_id)
    if job is None:
        raise Http404("No such job.")
    return render(request, "grading/regrade_job.html", {
        "assignment": assignment, "job": job, "result": job.result or {},
        "target_labels": target_labels(assignment.shape_spec, selectors.questions_of(assignment)),
        "instructor": permissions.is_instructor(request.user, assignment.course)})


@login_required
@require_GET
def regrade_job_progress(request: HttpRequest, pk: int, job_id: int) -> JsonResponse:
    """The job's progress as JSON, for the page's poll."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    job = selectors.regrade_job(assignment, job_id)
    if job is None:
        raise Http404("No such job.")
    # "status_text": the status in the reader's language, as the page shows it (not the raw value).
    return JsonResponse({"status": job.status, "status_text": str(job.get_status_display()),
                         "done": job.done, "total": job.total, "changed": job.changed, "finished": job.finished_at is not None})


@login_required
def extensions(request: HttpRequest, pk: int) -> HttpResponse:
    """Every extension of the assignment (the audit list); instructors add one by POST."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    instructor = permissions.is_instructor(request.user, assignment.course)
    form = ExtensionForm(request.POST or None, assignment=assignment)
    if request.method == "POST":
        if not instructor:
            raise Http404("Only instructors grant extensions.")
        if form.is_valid():
            data = form.cleaned_data
            student = data["student"]
            try:
                services.extension_create(assignment=assignment, student=student, by=request.user,
                                          reason=data["reason"], due_at=data["due_at"],
                                          extra_attempts=data["extra_attempts"])
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Extension recorded for %(username)s.")
                                 % {"username": student.get_username()})
                return redirect(reverse("grading:extensions", args=[assignment.pk]))
    return render(request, "grading/extensions.html", {
        "assignment": assignment, "form": form, "instructor": instructor,
        "records": selectors.extension_list(assignment), "now": timezone.now()},
        status=400 if form.errors else 200)


@login_required
def roster(request: HttpRequest, pk: int) -> HttpResponse:
    """Import students from a CSV into the assignment's course (instructors): the file is checked
    here and imported by a task worker; its page shows the progress and the result."""
    assignment = permissions.access_assignment_as_instructor(request.user, pk)
    form = RosterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            job = services.roster_job_create(assignment=assignment, by=request.user,
                                             text=form.cleaned_data["text"],
                                             passwords=form.cleaned_data["passwords"])
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect(reverse("grading:roster_job", args=[assignment.pk, job.pk]))
    return render(request, "grading/roster.html", {
        "assignment": assignment, "form": form,
        "jobs": selectors.staff_jobs(assignment, "roster"),
        "students": selectors.course_students(assignment.course)},
        status=400 if form.errors else 200)


def _roster_job(request: HttpRequest, pk: int, job_id: int) -> tuple[Any, Any]:
    assignment = permissions.access_assignment_as_instructor(request.user, pk)
    job = selectors.staff_job(assignment, job_id, "roster")
    if job is None:
        raise Http404("No such job.")
    return assignment, job


@login_required
@require_GET
def roster_job(request: HttpRequest, pk: int, job_id: int) -> HttpResponse:
    """A roster import: its progress while it runs (the page polls), then every line's outcome
    and, for the instructor who started it, the passwords it made until they are downloaded."""
    services.staff_jobs_expire()
    assignment, job = _roster_job(request, pk, job_id)
    return _roster_job_page(request, assignment, job)


def _roster_job_page(request: HttpRequest, assignment: Any, job: Any, status: int = 200,
                     gone: bool = False) -> HttpResponse:
    lines = (job.result or {}).get("lines", [])
    counts = {k.replace(" enrolled", ""): sum(1 for line in lines if line["outcome"] == k)
              for k in ("created", "enrolled", "already enrolled", "skipped")}
    shown = {} if gone else selectors.roster_passwords_shown(job, request.user)
    for line in lines:
        line["shown"] = shown.get(line["username"], "")
    response = render(request, "grading/roster_job.html", {
        "assignment": assignment, "job": job, "lines": lines, "counts": counts, "gone": gone,
        "warnings": sum(1 for line in lines if line.get("warning")),
        "with_passwords": sum(1 for line in lines if line.get("password")),
        "mine": job.requested_by_id == request.user.pk}, status=status)
    response["Cache-Control"] = "no-store"  # it may show passwords
    return response


@login_required
@require_GET
def roster_job_progress(request: HttpRequest, pk: int, job_id: int) -> JsonResponse:
    """The job's progress as JSON, for the page's poll."""
    _assignment, job = _roster_job(request, pk, job_id)
    return job_progress(job)


@login_required
@require_GET
def roster_job_passwords(request: HttpRequest, pk: int, job_id: int) -> HttpResponse:
    """The passwords the import made, as CSV, once: then they are deleted; asking again says so."""
    assignment, job = _roster_job(request, pk, job_id)
    try:
        passwords = services.roster_passwords_take(job=job, by=request.user)
    except services.SealBroken:
        messages.error(request, _("These passwords cannot be read: they were sealed under another secret key "
                                  "(the site's SECRET_KEY changed since the import). Nothing was deleted; "
                                  "make new passwords for these students from the roster page."))
        return _roster_job_page(request, assignment, job, status=409, gone=True)
    if passwords is None:
        job = selectors.staff_job(assignment, job_id, "roster") or job
        return _roster_job_page(request, assignment, job, status=410, gone=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["username", "password"])
    writer.writerows(sorted(passwords.items()))
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (f'attachment; filename="{assignment.course.code}-roster-{job.pk}-passwords.csv"')
    response["Cache-Control"] = "no-store"
    return response
