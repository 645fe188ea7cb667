"""One submitted attempt: its feedback, its grade's history, and the changes staff make to it.

Students read their current grade (with staff's notes) and may ask for a mark to be looked at;
course staff also see every record of the ledger, set marks with a reason, decide undecided
Q1 rows and regrade the attempt with a preview first.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.translation import get_language, gettext as _
from django.views.decorators.http import require_GET, require_POST

from grading import permissions, selectors, services

from grading.figures import plots
from grading.forms import (FormulaReviewForm, OverrideForm, WithdrawForm, ReplyForm, ReviewRequestForm,
                           RootReviewForm, describe_cell, values_from_answers)
from grading.templatetags.grading_tags import target_options
from grading.views import fragments
from grading.views.common import (band_text, formula_row_title, question_title, round_question, round_tables,
                                  svg_response, target_labels)
from grading.views.params import id_param


def _where(cell: Any) -> str:
    return describe_cell(cell)


def _targets(report: Any, updates: bool) -> dict[str, list[tuple[str, str]]]:
    """What a mark can be set on or asked about, grouped for a <select>: (value, label)."""
    return {
        _("Questions"): [(q.id, question_title(q, updates)) for q in report.questions],
        _("Q1 rows"): [(f.row, formula_row_title(f.row)) for f in report.formulas],
        _("Cells"): [(c.id, _where(c)) for c in report.cells],
    }


def _target_parts(report: Any, updates: bool) -> tuple[dict[str, list[tuple[str, str]]], dict[str, str], str]:
    """The targets, each target's label, and the request form's <optgroup>s of them."""
    targets = _targets(report, updates)
    return (targets, {value: label for options in targets.values() for value, label in options},
            target_options(targets))


def _target_kinds(report: Any) -> dict[str, str]:
    """Each target's override kind, so that a reply's form opens on the kind of what was asked about."""
    return {**{c.id: "cell" for c in report.cells}, **{f.row: "formula" for f in report.formulas},
            **{q.id: "question" for q in report.questions}}


def _roots(report: Any) -> list[dict[str, Any]]:
    """The report's roots of carried credit, for staff: each with its carried cells described."""
    return [{"line": line, "root": line.root, "where": _where(line.root),
             "cells": [_where(c) for c in line.cells]} for line in selectors.root_lines(report)]


@login_required
@require_GET
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A submitted attempt, marked cell by cell; staff see every expected value and the ledger."""
    submission = permissions.access_submission(request.user, pk)
    assignment = submission.assignment
    spec = selectors.problem_of(submission)  # the student's own numbers, when they have a variant
    staff = permissions.is_course_staff(request.user, assignment.course)
    current = selectors.current_grading(submission)
    shown = current
    if staff and id_param(request.GET.get("record")):
        shown = selectors.grading_record(submission, id_param(request.GET.get("record"))) or current
    report = selectors.report_of(shown) if shown else None
    show_expected = permissions.may_see_expected(request.user, submission)
    titles = {m["id"]: m["title"] for m in selectors.mistake_catalogue()}
    decimals = report.decimals if report else assignment.decimals
    variant = submission.variant if staff else None  # staff see the student's drawn numbers
    round_questions = round_question(assignment)
    # What a mark can be asked about: the choices, their labels and the request form's options,
    # built once per record and language (a record never changes).
    targets, labels, options = fragments.kept(
        ("targets", shown.pk, shown.created_at, get_language()), lambda: _target_parts(report, not spec.plain)
    ) if report and shown else ({}, {}, "")
    context = {
        "submission": submission,
        "assignment": assignment,
        "spec": spec,
        "report": report,
        "record": shown,
        "current": current,
        "old_record": shown is not None and current is not None and shown.pk != current.pk,
        "questions": [{"q": q, "title": question_title(q, not spec.plain)} for q in report.questions] if report else [],
        "tables_html": fragments.feedback_tables(
            submission, shown,
            lambda: round_tables(spec, values=values_from_answers(spec, submission.answers),
                                 marks=report.cells if report else (), show_expected=show_expected,
                                 decimals=decimals),
            spec=spec, show_expected=show_expected, round_questions=round_questions, mistake_titles=titles),
        "mistakes": [{"title": m.title, "explanation": m.explanation,
                      "cells": [_where(c) for c in m.cells]} for m in report.mistakes] if report else [],
        "show_expected": show_expected,
        "staff": staff,
        "band": band_text(decimals),
        "extra_points": (report.max_with_extra - report.max) if report else 0,
        "history": selectors.grading_history(submission) if staff else [],
        "requests": selectors.requests_of(submission),
        "targets": targets,
        "target_labels": labels,
        "target_options": options,
        "target_kinds": _target_kinds(report) if report else {},
        # Staff only: a root's copy signal (another student's number) is never shown to the student.
        "roots": _roots(report) if report and staff else [],
        "pending": report is not None and any(c.status == "pending" for c in report.cells),
        "live_overrides": selectors.live_overrides(report) if report and staff else [],
        "override_form": OverrideForm(initial={"based_on": current.sequence if current else None}),
        "request_form": ReviewRequestForm(),
        "own": submission.student_id == request.user.pk,
        # A notice is a staff record on top of another: an attempt whose latest record is its
        # first (sequence 1, the grader's) has none, and most attempts are read so.
        "notices": (selectors.grade_notices(request.user, submission)
                    if submission.student_id == request.user.pk and current is not None and current.sequence > 1
                    else []),
        "variant": variant,
        "variant_numbers": (selectors.variant_numbers(assignment.template, variant.spec)
                            if variant is not None else []),
    }
    # A student's marks of this record are the same on every reading: kept (staff see forms in them).
    context["report_html"] = fragments.feedback_report(
        submission, shown, show_expected=show_expected, reveal=assignment.reveal,
        build=lambda: render_to_string("grading/includes/feedback_report.html", context)
    ) if report is not None and shown is not None and not staff else None
    return render(request, "grading/submission.html", context)


@login_required
@require_GET
def submission_loss_plot(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's L per round beside the key's (the key only where expected values are shown)."""
    submission = permissions.access_submission(request.user, pk)
    report = selectors.current_report(submission)
    if report is None:
        raise Http404("Not graded yet.")
    key: tuple[float | None, ...] = report.loss.key
    if not permissions.may_see_expected(request.user, submission):
        key = (None,) * len(key)
    student = tuple(v if isinstance(v, (int, float)) else None for v in report.loss.student)
    return svg_response(plots.loss_plot(tuple(key), student, lang=get_language()))


def _error_text(form: forms.Form) -> str:
    """A bound form's error messages, on one line (an ErrorList yields each message as text)."""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


def _done(request: HttpRequest, submission: Any, action: Any, success: str) -> HttpResponse:
    """Run a service call; show its refusal (validation, a newer grade) as a message, never a 500."""
    try:
        action()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    except services.GradeConflict as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return redirect(submission)


@login_required
@require_POST
def formula_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Course staff accept or reject an undecided Q1 row: a review record; the score follows it."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    form = FormulaReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept or reject for a Q1 row."))
        return redirect(submission)
    data = form.cleaned_data
    done = _("Row %(row)s accepted.") if form.accepted else _("Row %(row)s rejected.")
    return _done(request, submission, lambda: services.formula_review_create(
        submission=submission, row=data["row"], accepted=form.accepted, reviewer=request.user,
        note=data["note"], based_on=data["based_on"]), done % {"row": data["row"]})


@login_required
@require_POST
def root_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Course staff accept or decline a root of carried credit no honest slip explains: one review
    record; the cells carried from it are carried (accepted) or wrong (declined)."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    form = RootReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose accept or decline for the carried credit."))
        return redirect(submission)
    data = form.cleaned_data
    report = selectors.current_report(submission)
    root = report.root(data["root"]) if report else None
    where = _where(root) if root is not None else data["root"]
    done = (_("Carried credit from %(cell)s accepted.") if form.accepted
            else _("Carried credit from %(cell)s declined."))
    return _done(request, submission, lambda: services.root_review_create(
        submission=submission, root=data["root"], accepted=form.accepted, reviewer=request.user,
        note=data["note"], based_on=data["based_on"]), done % {"cell": where})


@login_required
@require_POST
def grade_override(request: HttpRequest, pk: int) -> HttpResponse:
    """Course staff set a mark, a question's points or the total, with a reason: a new record."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    form = OverrideForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The grade was not changed: %(errors)s") % {"errors": " ".join(
            f"{e}" for errors in form.errors.values() for e in errors)})
        return redirect(submission)
    data = form.cleaned_data
    return _done(request, submission, lambda: services.grading_override(
        submission=submission, changes=[services.Change(**form.change())], by=request.user,
        reason=data["reason"],
        note=data["note"], based_on=data["based_on"]),
        _("Grade changed; the earlier grade stays in the history."))


@login_required
@require_POST
def grade_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """Course staff take back an override: a new record, the automatic grade there again."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    form = WithdrawForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The grade was not changed: %(errors)s") % {"errors": _error_text(form)})
        return redirect(submission)
    data = form.cleaned_data
    return _done(request, submission, lambda: services.grading_withdraw(
        submission=submission, kind=data["kind"], target=data["target"], by=request.user,
        reason=data["reason"], based_on=data["based_on"]),
        _("Override withdrawn: the automatic grade is back; both records stay in the history."))


@login_required
def regrade_attempt(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: what a regrade would change (nothing written). POST: apply it."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    try:
        if request.method == "POST":
            # The reason is kept in the ledger (an audit record), so its default stays in English.
            reason = request.POST.get("reason", "").strip()[:2000] or "regrade of one attempt"
            seen = request.POST.get("sequence", ""), request.POST.get("digest", "")
            expect = [int(seen[0]), seen[1]] if seen[0].isdigit() else None  # what the preview showed
            try:
                item = services.regrade_attempt(submission=submission, dry_run=False, by=request.user,
                                                reason=reason, expect=expect)
            except services.RegradeRefused:
                messages.error(request, _("Nothing was written: the attempt changed since the preview. "
                                          "Check the new preview."))
                return redirect("grading:regrade_attempt", pk=submission.pk)
            messages.success(request, _("Regraded.") if item.diff.changed else _("Nothing changed."))
            return redirect(submission)
        item = services.regrade_attempt(submission=submission, dry_run=True)
    except ValidationError as exc:
        return render(request, "grading/regrade_attempt.html", {
            "submission": submission, "assignment": submission.assignment, "item": None,
            "refused": " ".join(exc.messages)}, status=409)
    return render(request, "grading/regrade_attempt.html", {
        "submission": submission, "assignment": submission.assignment, "item": item,
        "line_list": [item.to_json()],
        "target_labels": target_labels(selectors.problem_of(submission),
                                       selectors.questions_of(submission.assignment))})


@login_required
@require_POST
def review_request_create(request: HttpRequest, pk: int) -> HttpResponse:
    """A student asks staff to look at a cell, a question or the attempt again."""
    submission = permissions.access_own_submission(request.user, pk)
    form = ReviewRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, _error_text(form))
        return redirect(submission)
    return _done(request, submission, lambda: services.review_request_create(
        submission=submission, student=request.user, target=form.cleaned_data["target"],
        message=form.cleaned_data["message"]), _("Your request was sent to the course staff."))


@login_required
@require_POST
def review_reply(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    """Staff answer a student's request: "no change" with a reply, or one mark changed with it."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    review = selectors.review_request(submission.assignment, request_id)
    if review is None or review.submission_id != submission.pk:
        raise Http404("No such request.")
    form = ReplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, _error_text(form))
        return redirect(submission)
    changes = []
    if request.POST.get("outcome") == "change":
        data = request.POST.copy()
        if not data.get("reason"):
            data["reason"] = f"answer to the student's request #{review.pk}"
        override = OverrideForm(data)
        if not override.is_valid():
            messages.error(request, _("The reply was not sent: %(errors)s") % {"errors": _error_text(override)})
            return redirect(submission)
        changes = [services.Change(**override.change())]
        reason, based_on = override.cleaned_data["reason"], override.cleaned_data["based_on"]
    else:
        reason, based_on = "", None
    return _done(request, submission, lambda: services.review_request_answer(
        request=review, by=request.user, message=form.cleaned_data["message"], changes=changes,
        reason=reason, based_on=based_on), _("Reply sent to the student."))


@login_required
@require_GET
def submission_status(request: HttpRequest, pk: int) -> JsonResponse:
    """Whether the attempt is graded yet, for the feedback page's "grading…" poll."""
    return JsonResponse({"graded": permissions.submission_graded(request.user, pk)})
