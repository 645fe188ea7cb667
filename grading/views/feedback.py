"""The feedback page of one submission, its loss plot, and the instructor's formula review."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from grading import permissions, plots, services
from grading.forms import FormulaReviewForm, values_from_answers
from grading.views.common import band_text, question_title, round_question, round_tables, svg_response


def _cell_where(cell: dict[str, Any]) -> str:
    prefix = {"parameters": "parameter ", "updated": "updated "}.get(cell["column"], "")
    return f"round {cell['round']} {prefix}{cell['name']}"


def mistake_summaries(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Each named mistake once, as the grader summarised it, with readable cell places."""
    return [{**m, "cells": [_cell_where(c) for c in m["cells"]]} for m in report.get("mistakes", ())]


@login_required
@require_GET
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A submitted attempt, marked cell by cell; staff see every expected value."""
    submission = permissions.access_submission(request.user, pk)
    assignment = submission.assignment
    spec = assignment.parsed_spec
    report = services.effective_report(submission) or {}
    show_expected = permissions.may_see_expected(request.user, submission)
    staff = permissions.is_course_staff(request.user, assignment.course)
    titles = {m["id"]: m["title"] for m in services.mistake_catalogue()}
    cells = [{**c, "mistake_title": titles.get(c.get("mistake"), c.get("mistake"))}
             for c in report.get("cells", ())]
    reviews = services.reviews_for(submission)
    formulas = [{**f, "review": reviews.get(f.get("row"))} for f in report.get("formulas", ())]
    questions = [{**q, "title": question_title(q)} for q in report.get("questions", ())]
    decimals = report.get("decimals", assignment.decimals)
    context = {
        "submission": submission,
        "assignment": assignment,
        "spec": spec,
        "report": report,
        "questions": questions,
        "formulas": formulas,
        "tables": round_tables(spec, values=values_from_answers(spec, submission.answers),
                               marks=cells, show_expected=show_expected, decimals=decimals),
        "round_questions": round_question(assignment),
        "mistakes": mistake_summaries(report),
        "show_expected": show_expected,
        "staff": staff,
        "band": band_text(decimals),
        "carried_total": round(sum(q.get("carried", 0) for q in questions), 4),
        "extra_points": (report.get("max_with_extra") or 0) - (report.get("max") or 0),
    }
    return render(request, "grading/submission.html", context)


@login_required
@require_GET
def submission_loss_plot(request: HttpRequest, pk: int) -> HttpResponse:
    """The student's L per round beside the key's (the key only where expected values are shown)."""
    submission = permissions.access_submission(request.user, pk)
    loss = (services.effective_report(submission) or {}).get("loss") or {}
    key = tuple(loss.get("key") or ())
    if not permissions.may_see_expected(request.user, submission):
        key = (None,) * len(key)
    student = tuple(v if isinstance(v, (int, float)) else None for v in loss.get("student") or ())
    return svg_response(plots.loss_plot(key, student, title="Loss per round"))


@login_required
@require_POST
def formula_review(request: HttpRequest, pk: int) -> HttpResponse:
    """Course staff accept or reject an undecided Q1 row; the score follows the decision."""
    submission = permissions.access_submission_as_staff(request.user, pk)
    form = FormulaReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose accept or reject for a formula row.")
        return redirect(submission)
    try:
        services.formula_review_create(submission=submission, row=form.cleaned_data["row"],
                                       accepted=form.accepted, reviewer=request.user,
                                       note=form.cleaned_data["note"])
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        verdict = "accepted" if form.accepted else "rejected"
        messages.success(request, f"Row {form.cleaned_data['row']} {verdict}.")
    return redirect(submission)
