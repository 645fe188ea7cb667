"""Course staff pages: gradebook and its CSV, the answer key, class analytics and their plots.

Every view starts with permissions.access_assignment_as_staff: anyone else gets a 404.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from grading import analytics, permissions, plots, services
from grading.models import Assignment, Membership, Submission
from grading.views.common import band_text, round_question, round_tables, svg_response

if TYPE_CHECKING:
    from grading.engine import Spec


def class_rows(assignment: Assignment) -> list[dict[str, Any]]:
    """One row per student of the course: all submitted attempts and the counted (best) one."""
    students = (get_user_model().objects
                .filter(memberships__course=assignment.course,
                        memberships__role=Membership.Role.STUDENT)
                .order_by("username"))
    attempts = defaultdict(list)
    for s in (Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
              .prefetch_related("reviews").order_by("attempt")):
        attempts[s.student_id].append((s, services.effective_report(s)))
    rows = []
    for student in students:
        mine = attempts.get(student.pk, [])
        best = analytics.best_attempt(mine)
        submission, report = best if best else (None, None)
        rows.append({"student": student, "attempts": [s for s, _ in mine], "best": submission,
                     "report": report, "scores": analytics.question_scores(report),
                     "total": analytics.report_total(report)})
    return rows


@login_required
@require_GET
def gradebook(request: HttpRequest, pk: int) -> HttpResponse:
    """Students × questions with total, attempts and late flag; links to every attempt."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    questions = list(assignment.questions.all())
    rows = class_rows(assignment)
    for row in rows:
        row["cells"] = [row["scores"].get(f"Q{q.number}") for q in questions]
    return render(request, "grading/gradebook.html",
                  {"assignment": assignment, "questions": questions, "rows": rows})


@login_required
@require_GET
def gradebook_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """The gradebook as CSV: UTF-8 with a BOM (Excel), one row per student, no live formulas."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    question_ids = [f"Q{q.number}" for q in assignment.questions.all()]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # username and email are the keys LMS grade imports match students on.
    writer.writerow(["username", "name", "email", *question_ids, "total", "attempts", "late",
                     "submitted_at"])
    for row in class_rows(assignment):
        best = row["best"]
        writer.writerow([analytics.csv_safe(v) for v in [
            row["student"].get_username(),
            row["student"].get_full_name(),
            row["student"].email,
            *[row["scores"].get(q, "") for q in question_ids],
            "" if row["total"] is None else row["total"],
            len(row["attempts"]),
            ("yes" if best.late else "no") if best else "",
            timezone.localtime(best.submitted_at).isoformat() if best else "",
        ]])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"),
                            content_type="text/csv; charset=utf-8")
    filename = f"{assignment.course.code}-{assignment.slug}-gradebook.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
def answer_key(request: HttpRequest, pk: int) -> HttpResponse:
    """Every round's table from the engine, the reference formulas and the named mistakes."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    spec = assignment.parsed_spec
    return render(request, "grading/key.html", {
        "assignment": assignment,
        "spec": spec,
        "tables": round_tables(spec, show_expected=True, decimals=assignment.decimals),
        "round_questions": round_question(assignment),
        "reference": [{"row": row, "text": text}
                      for row, text in services.reference_formulas(spec).items()],
        "mistakes": services.mistake_catalogue(),
        "band": band_text(assignment.decimals),
        "loss": services.answer_key(spec).loss(),
    })


@login_required
@require_GET
def key_loss_plot(request: HttpRequest, pk: int) -> HttpResponse:
    """The key's loss per round."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    return svg_response(plots.loss_plot(tuple(services.answer_key(assignment.parsed_spec).loss())))


def heatmap_cells(spec: Spec) -> list[tuple[str, str]]:
    """The heatmap's columns: every typed cell name, column by column in table order."""
    typed = {(c, n) for _, c, n in services.typed_cells(spec)}
    names = services.cell_names(spec)
    return [(c, n) for c in services.TABLE_COLUMNS for n in names[c] if (c, n) in typed]


def _counted_reports(assignment: Assignment) -> list[dict[str, Any]]:
    return [row["report"] for row in class_rows(assignment) if row["report"]]


def _mistake_counts(reports: list[dict[str, Any]]) -> list[tuple[str, str, int]]:
    return analytics.mistake_counts(reports, [(m["id"], m["title"]) for m in services.mistake_catalogue()])


@login_required
@require_GET
def class_analytics(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the class goes wrong: per-cell heatmap, named mistakes, score distribution."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    reports = _counted_reports(assignment)
    totals = [t for t in map(analytics.report_total, reports) if t is not None]
    return render(request, "grading/analytics.html", {
        "assignment": assignment,
        "students": len(reports),
        "mistake_counts": _mistake_counts(reports),
        "mean": sum(totals) / len(totals) if totals else None,
    })


@login_required
@require_GET
def analytics_plot(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """One analytics plot as SVG: kind is heatmap, mistakes or scores."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    if kind not in {"heatmap", "mistakes", "scores"}:
        raise Http404("No such plot.")
    reports = _counted_reports(assignment)
    spec = assignment.parsed_spec
    if kind == "heatmap":
        data = analytics.wrong_share(reports, n_rounds=spec.n_rounds, cells=heatmap_cells(spec))
        return svg_response(plots.wrong_share_heatmap(data.rows, data.columns, data.shares))
    if kind == "mistakes":
        counts = _mistake_counts(reports)
        return svg_response(plots.bar_chart(tuple(t for _, t, _ in counts),
                                            tuple(c for _, _, c in counts),
                                            "Students who made each mistake", "students"))
    maximum = max((r.get("max_with_extra") or r.get("max") or 0 for r in reports), default=0)
    totals = tuple(t for t in map(analytics.report_total, reports) if t is not None)
    return svg_response(plots.histogram(totals, float(maximum), "Scores (counted attempt)"))
