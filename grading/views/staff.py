"""Course staff pages: gradebook (its exports: grading/views/exports.py), the key, analytics, the review queue.

Every view starts with a permissions.access_* call: anyone else gets a 404. TAs and
instructors read everything and grade (overrides, reviews, requests, one attempt's regrade,
a class dry run); applying a class regrade is the instructors'.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language, gettext as _
from django.views.decorators.http import require_GET

from grading import permissions, selectors

from grading.figures import analytics, plots
from grading.views import variants
from grading.views.exports import exports_in_background
from grading.views.common import band_text, round_question, round_tables, svg_response, target_labels

if TYPE_CHECKING:
    from grading.engine import Spec


@login_required
@require_GET
def gradebook(request: HttpRequest, pk: int) -> HttpResponse:
    """Students × questions with total, attempts, late and review flags; links to every attempt."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    questions = selectors.questions_of(assignment)
    rows = selectors.class_rows(assignment)
    drawn = selectors.variants_by_student(assignment)
    template = assignment.template
    drafts, extensions = selectors.drafts_by_student(assignment), selectors.extensions_by_student(assignment)
    lines = [{"row": row, "cells": [row.scores.get(f"Q{q.number}") for q in questions],
              "draft": drafts.get(row.student.pk), "extension": extensions.get(row.student.pk),
              "variants": [{"variant": v, "numbers": _numbers_text(template, v.spec)}
                           for v in drawn.get(row.student.pk, [])]} for row in rows]
    return render(request, "grading/gradebook.html", {
        "assignment": assignment, "questions": questions, "lines": lines,
        "with_variants": bool(drawn) or assignment.has_variants,
        "to_review": sum(1 for row in rows if row.needs_review or row.open_requests),
        "exports_in_background": exports_in_background(len(rows)),
        "export_jobs": selectors.staff_jobs(assignment, "export", limit=5),
        "instructor": permissions.is_instructor(request.user, assignment.course)})


def _numbers_text(template: Any, spec: Any) -> str:
    """A variant's own numbers in one line, for a tooltip: "w11 = 0.3, round 1 x1 = 0.45"."""
    return ", ".join(f"{d.label} = {d.value:g}" for d in selectors.variant_numbers(template, spec))


@login_required
@require_GET
def answer_key(request: HttpRequest, pk: int) -> HttpResponse:
    """Every round's table from the engine, the reference formulas and the named mistakes."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    if assignment.has_variants:
        return variants.class_key(request, assignment)
    spec = assignment.parsed_spec
    return render(request, "grading/key.html", {
        "assignment": assignment,
        "spec": spec,
        "tables": round_tables(spec, show_expected=True, decimals=assignment.decimals),
        "round_questions": round_question(assignment),
        "reference": [{"row": row, "text": text}
                      for row, text in selectors.reference_formulas(spec).items()],
        "mistakes": selectors.mistake_catalogue(spec),
        "band": band_text(assignment.decimals),
        "loss": selectors.answer_key(spec).loss(),
    })


@login_required
@require_GET
def key_loss_plot(request: HttpRequest, pk: int) -> HttpResponse:
    """The key's loss per round (an assignment with per-student numbers has one per variant)."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    variants.no_shared_key(assignment)
    return svg_response(plots.loss_plot(tuple(selectors.answer_key(assignment.parsed_spec).loss()), lang=get_language()))


def heatmap_cells(spec: Spec) -> list[tuple[str, str]]:
    """The heatmap's columns: every typed cell name, column by column in table order."""
    typed = {(k.column, k.name) for k in selectors.typed_cells(spec)}
    names = selectors.cell_names(spec)
    return [(c, n) for c in selectors.TABLE_COLUMNS for n in names[c] if (c, n) in typed]


def _mistake_counts(reports: list, spec: Spec) -> list[tuple[str, str, int]]:
    return analytics.mistake_counts(reports, [(m["id"], m["title"]) for m in selectors.mistake_catalogue(spec)])


def _copy_pairs(counted: list, labels: dict[str, str]) -> list[dict[str, Any]]:
    """The copy signal's pairs with their cells named as every page names them ("round 1 s1",
    never "r1.forward.s1"), in the key's table order rather than the ids' alphabetical one."""
    order = {target: i for i, target in enumerate(labels)}
    return [{"first": p.first, "second": p.second, "count": p.count,
             "cells": [labels.get(c, c) for c in sorted(p.cells, key=lambda c: (order.get(c, len(order)), c))]}
            for p in selectors.copy_signal(counted)]


@login_required
@require_GET
def class_analytics(request: HttpRequest, pk: int) -> HttpResponse:
    """Where the class goes wrong: heatmap, named mistakes, scores, and a copy signal."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    counted = selectors.counted_reports(assignment)
    reports = [r for _, r in counted]
    totals = [r.total for r in reports]
    return render(request, "grading/analytics.html", {
        "assignment": assignment,
        "students": len(reports),
        "mistake_counts": _mistake_counts(reports, assignment.shape_spec),
        "mean": sum(totals) / len(totals) if totals else None,
        "copy_pairs": _copy_pairs(counted, target_labels(assignment.shape_spec, selectors.questions_of(assignment))),
        "copied_roots": analytics.copied_roots(counted),
        "root_summary": analytics.root_summary(reports),
    })


@login_required
@require_GET
def analytics_plot(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    """One analytics plot as SVG: kind is heatmap, mistakes or scores."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    if kind not in {"heatmap", "mistakes", "scores"}:
        raise Http404("No such plot.")
    reports = [r for _, r in selectors.counted_reports(assignment)]
    spec = assignment.shape_spec  # cells by place: the same for every variant
    if kind == "heatmap":
        cells = heatmap_cells(spec)
        typed = {(c.round, c.column, c.name) for c in selectors.typed_cells(spec)}
        given = frozenset((r, column, name) for r in range(1, spec.n_rounds + 1)
                          for column, name in cells if (r, column, name) not in typed)
        data = analytics.wrong_share(reports, n_rounds=spec.n_rounds, cells=cells, given=given)
        return svg_response(plots.wrong_share_heatmap(tuple(str(r) for r in data.rows), data.columns,
                                                      data.shares, data.blank, data.given,
                                                      lang=get_language()))
    # Words in the reader's language: the SVG keeps them as text, which the browser draws with
    # its own fonts (Thai included); the language is part of each plot's cache key.
    if kind == "mistakes":
        counts = _mistake_counts(reports, spec)
        return svg_response(plots.bar_chart(tuple(str(t) for _, t, _ in counts),
                                            tuple(c for _, _, c in counts),
                                            _("Students who made each mistake"), _("students"),
                                            lang=get_language()))
    maximum = max((r.max_with_extra or r.max for r in reports), default=0)
    return svg_response(plots.histogram(tuple(r.total for r in reports), float(maximum),
                                        _("Scores (counted attempt)"), lang=get_language()))


@login_required
@require_GET
def review_queue(request: HttpRequest, pk: int) -> HttpResponse:
    """What waits for staff, oldest first: undecided Q1 rows and students' requests."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    return render(request, "grading/queue.html", {
        "assignment": assignment, "items": selectors.review_queue(assignment),
        "target_labels": target_labels(assignment.shape_spec, selectors.questions_of(assignment))})
