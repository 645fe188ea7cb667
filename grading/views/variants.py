"""Staff pages of an assignment with per-student numbers: the class key (the template with its
ranges, and where each cell lies over the class's variants) and one student's own key.

Course staff only (TAs included); anyone else gets a 404, as on every staff page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from grading import permissions, selectors

from grading.figures import plots
from grading.views.common import (RoundTable, band_text, fmt_given, fmt_key, round_question,
                                  round_tables, svg_response)

if TYPE_CHECKING:
    from grading.engine import Spec
    from grading.models import Assignment


def _range_text(low: float, high: float, decimals: int) -> str:
    """A cell's values over the class: one value, or "lowest … highest"."""
    if fmt_key(low, decimals) == fmt_key(high, decimals):
        return fmt_key(low, decimals)
    return f"{fmt_key(low, decimals)} … {fmt_key(high, decimals)}"


def spread_tables(shape: Spec, spread: selectors.Spread | None, ranged: dict,
                  decimals: int) -> list[RoundTable]:
    """Each round's table of the class key: a ranged given value as its range, a fixed one as
    itself, and each computed cell as the lowest and highest value over the class's variants."""
    key = selectors.answer_key(shape)
    by_place = {(c.key.round, c.key.column, c.name): c for c in key.graph.cells.values()}
    tables = round_tables(shape, show_expected=True, decimals=decimals)
    for table in tables:
        for row in table.rows:
            for cell in row:
                if cell is None:
                    continue
                graph_cell = by_place[(cell.round, cell.column, cell.name)]
                place = graph_cell.key.place
                if graph_cell.gradable:
                    cell.expected = (_range_text(spread.low[graph_cell.key], spread.high[graph_cell.key],
                                                 decimals) if spread else "—")
                else:
                    where = ((place.quantity, cell.round, place.index) if place.quantity in ("x", "y")
                             else (place.quantity, place.layer, place.index))
                    cell.given = ranged.get(where) or cell.given
    return tables


def class_key(request: HttpRequest, assignment: Assignment) -> HttpResponse:
    """The class key of an assignment with ranges (``staff.answer_key`` sends it here)."""
    shape = assignment.shape_spec
    variants = selectors.class_variants(assignment)
    spread = selectors.class_spread(selectors.variant_specs(variants, shape))
    numbers = selectors.ranged_numbers(assignment.template, assignment.spec)
    ranged = {n.where: n.text for n in numbers}
    loss_keys = [k for k in selectors.answer_key(shape).graph.cells if k.quantity == "L" and not k.sample]
    return render(request, "grading/key_variants.html", {
        "assignment": assignment,
        "spec": shape,
        "tables": spread_tables(shape, spread, ranged, assignment.decimals),
        "round_questions": round_question(assignment),
        "reference": [{"row": row, "text": text}
                      for row, text in selectors.reference_formulas(shape).items()],
        "mistakes": selectors.mistake_catalogue(shape),
        "band": band_text(assignment.decimals),
        "lr": ranged.get(("lr",)) or fmt_given(shape.learning_rate),
        "ranged": numbers,
        "drawn": len(variants), "students": len({v.student_id for v in variants}),
        "loss": ([_range_text(spread.low[k], spread.high[k], assignment.decimals) for k in loss_keys]
                 if spread else []),
    })


@login_required
@require_GET
def variant_key(request: HttpRequest, pk: int, variant_id: int) -> HttpResponse:
    """One student's own problem and its full key, as they were drawn (staff only)."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    variant = permissions.access_variant(request.user, assignment, variant_id)
    spec = variant.parsed_spec
    tables = round_tables(spec, show_expected=True, decimals=assignment.decimals)
    return render(request, "grading/variant_key.html", {
        "assignment": assignment, "variant": variant, "spec": spec, "tables": tables,
        "samples": list(enumerate(spec.samples, start=1)),
        "numbers": selectors.variant_numbers(assignment.template, variant.spec),
        "round_questions": round_question(assignment), "band": band_text(assignment.decimals),
        "loss": selectors.answer_key(spec).loss(),
    })


@login_required
@require_GET
def variant_loss_plot(request: HttpRequest, pk: int, variant_id: int) -> HttpResponse:
    """The loss per round of one student's problem (staff only)."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    variant = permissions.access_variant(request.user, assignment, variant_id)
    return svg_response(plots.loss_plot(tuple(selectors.answer_key(variant.parsed_spec).loss()), lang=get_language()))


def no_shared_key(assignment: Assignment) -> None:
    """An assignment with per-student numbers has no one key to plot: 404."""
    if assignment.has_variants:
        raise Http404("Each student has their own key.")
