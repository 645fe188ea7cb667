"""A submitted attempt's receipt for its student to keep: downloaded as a text file, or
e-mailed to the address on their account."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from grading import permissions, selectors, services

if TYPE_CHECKING:
    from grading.models import Submission


def _own_attempt(request: HttpRequest, pk: int) -> Submission:
    """The user's own submitted attempt; anyone else's (staff included) is a 404 here."""
    submission = permissions.access_submission(request.user, pk)
    if submission.student_id != request.user.pk or not submission.receipt:
        raise Http404("No such receipt.")
    return submission


def _filled(values: Any) -> int:
    if isinstance(values, dict):
        return sum(_filled(v) for v in values.values())
    if isinstance(values, list):
        return sum(_filled(v) for v in values)
    return 1 if isinstance(values, str) and values.strip() else 0


def _receipt_text(request: HttpRequest, submission: Submission) -> str:
    answers = submission.answers if isinstance(submission.answers, dict) else {}
    spec = selectors.problem_of(submission)
    rounds = [{k: v for k, v in table.items() if k != "round"} if isinstance(table, dict) else table
              for table in answers.get("rounds", [])]
    return render_to_string("grading/receipt/receipt.txt", {
        "submission": submission, "assignment": submission.assignment, "rule": "=" * 40,
        "cells_filled": _filled(rounds), "cells_total": len(selectors.typed_cells(spec)),
        "rows_filled": _filled(answers.get("formulas", {})), "rows_total": len(selectors.formula_rows(spec)),
        "page_url": request.build_absolute_uri(submission.get_absolute_url()),
        # As the receipt was computed (services.answers_digest): its SHA-256 is the receipt.
        "answers_json": json.dumps(submission.answers, sort_keys=True, ensure_ascii=False, separators=(",", ":")),
    }, request=request)


@login_required
@require_GET
def receipt_download(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt as a text file to keep."""
    submission = _own_attempt(request, pk)
    assignment = submission.assignment
    response = HttpResponse(_receipt_text(request, submission), content_type="text/plain; charset=utf-8")
    name = slugify(f"receipt {assignment.course.code} {assignment.slug} attempt {submission.attempt}")
    response["Content-Disposition"] = f'attachment; filename="{name}.txt"'
    return response


@login_required
@require_POST
def receipt_email(request: HttpRequest, pk: int) -> HttpResponse:
    """E-mail the receipt to the student's own address, and say where it went."""
    submission = _own_attempt(request, pk)
    subject = _("Receipt: %(title)s, attempt %(n)s") % {"title": submission.assignment.shown_title,
                                                         "n": submission.attempt}
    try:
        address = services.receipt_send(submission=submission, subject=subject,
                                        body=_receipt_text(request, submission))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The receipt was sent to %(address)s.") % {"address": address})
    return redirect(submission.get_absolute_url())
