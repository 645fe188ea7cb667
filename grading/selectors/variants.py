"""Reads of per-student variants: an attempt's problem, the class's variants, what staff see of them.

The class key page shows, for an assignment with ranges, where each cell's value lies over the
class's variants: one vectorised numpy pass over all of them (``engine.train`` on a stacked
batch), not one key per student.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.utils.translation import gettext as _

from grading import engine
from grading.engine.grids import cell_text
from grading.engine.cells import Place, QuantityName, cell_name
from grading.engine.ranges import Free, Template
from grading.engine.variants import draw
from grading.models import Assignment, Submission, Variant

PREVIEW_KEY = "staff-preview"


def problem_of(submission: Submission) -> engine.Spec:
    """The problem an attempt answers: its student's variant, or the assignment's shared spec."""
    variant = submission.variant  # None, without a query, when the attempt has no variant
    return variant.parsed_spec if variant is not None else submission.assignment.parsed_spec


def spec_json_of(submission: Submission) -> Any:
    """The spec an attempt is graded against, as stored (its variant's, or the assignment's)."""
    variant = submission.variant
    return variant.spec if variant is not None else submission.assignment.spec


def preview_problem(assignment: Assignment, example: int = 0) -> engine.Spec:
    """What staff see on the students' page: the shared spec, or one example draw (not stored)
    when every student has their own numbers."""
    if not assignment.has_variants:
        return assignment.parsed_spec
    return draw(assignment.template, assignment.seed, f"{PREVIEW_KEY}-{example}",
                decimals=assignment.decimals)


def class_variants(assignment: Assignment) -> list[Variant]:
    """Every variant of the assignment with its student, by username then attempt."""
    return list(Variant.objects.filter(assignment=assignment).select_related("student")
                .order_by("student__username", "attempt_no"))


def variants_by_student(assignment: Assignment) -> dict[int, list[Variant]]:
    """Student id -> their variants (attempt 0 first), for the gradebook."""
    found: dict[int, list[Variant]] = defaultdict(list)
    for variant in (Variant.objects.filter(assignment=assignment)
                    .only("pk", "student_id", "attempt_no", "spec", "spec_sha256", "drawn_at")
                    .order_by("attempt_no")):
        found[variant.student_id].append(variant)
    return dict(found)


def free_label(free: Free, n_layers: int) -> str:
    """A ranged number's name in the course's notation: "w12", "w21[2]", "b1", "round 3 x2",
    "learning rate"."""
    path = free.path
    if path[0] == "learning_rate":
        return _("learning rate")
    if path[0] == "samples":
        return _("round %(round)s %(cell)s") % {"round": path[1] + 1, "cell": f"{path[2]}{path[3] + 1}"}
    layer, rest = (path[1] + 1, path[2:]) if path[0] == "layers" else (1, path)
    quantity: QuantityName
    quantity, index = ("w", (rest[1] + 1, rest[2] + 1)) if rest[0] == "weights" else ("b", (rest[1] + 1,))
    return cell_name(Place("parameters", layer, quantity, index), n_layers)


def _at(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


@dataclass(frozen=True)
class Drawn:
    """One ranged number of a template and the value a variant has there."""

    label: str
    value: float


def variant_numbers(template: Template, spec: Any) -> list[Drawn]:
    """The values a concrete spec has at the template's ranged numbers (what makes it this
    student's), by their names. A spec of another form (the template changed) gives what it can."""
    n_layers = template.low.n_layers
    shown = []
    for free in template.free:
        path = free.path
        if "layers" not in spec and path[0] == "layers" and path[1] == 0:
            path = path[2:]  # the single-layer form of a one-layer template
        try:
            shown.append(Drawn(free_label(free, n_layers), float(_at(spec, path))))
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return shown


@dataclass(frozen=True)
class Spread:
    """Where each cell lies over the class's variants: cell -> (lowest, highest), and how many."""

    low: dict[engine.CellId, float]
    high: dict[engine.CellId, float]
    count: int
    graph: engine.Graph


def class_spread(specs: list[engine.Spec]) -> Spread | None:
    """Each cell's lowest and highest value over these problems (one shape), in one vectorised
    pass; None without problems."""
    if not specs:
        return None
    trace = engine.train(engine.stack(specs))
    graph = engine.build_graph(specs[0])
    low: dict[engine.CellId, float] = {}
    high: dict[engine.CellId, float] = {}
    lows: dict[tuple[str, str, int | None], Any] = {}
    highs: dict[tuple[str, str, int | None], Any] = {}
    for key in graph.cells:
        if trace.architecture.batch > 1:  # rows by sample and by round: one cell at a time
            values = engine.cell_across(trace, key)
            low[key], high[key] = float(np.min(values)), float(np.max(values))
            continue
        kind = (key.column, key.quantity, key.layer)
        if kind not in lows:
            array = trace.array(*kind)
            lows[kind], highs[kind] = np.min(array, axis=0), np.max(array, axis=0)
        at = (key.round - 1, *(k - 1 for k in key.index))
        low[key], high[key] = float(lows[kind][at]), float(highs[kind][at])
    return Spread(low, high, len(specs), graph)


def variant_specs(variants: list[Variant], shape: engine.Spec) -> list[engine.Spec]:
    """The parsed specs of these variants that have ``shape``'s network (a changed template's
    older draws of another shape are left out)."""
    wanted = engine.Shape.of(shape), shape.n_rounds
    specs = [v.parsed_spec for v in variants]
    return [s for s in specs if (engine.Shape.of(s), s.n_rounds) == wanted]


@dataclass(frozen=True)
class Ranged:
    """One ranged number of a template: its name, its text as the authoring page writes it
    ("0.1..0.9 step 0.1", "{0.2, 0.5}") and where it appears in the tables: ("w" or "b", layer,
    index) for a parameter (given in round 1, or in every round when biases stay fixed), ("x"
    or "y", round, index) for a sample's value, ("lr",) for the learning rate."""

    label: str
    text: str
    where: tuple[Any, ...]


def ranged_numbers(template: Template, spec: Any) -> list[Ranged]:
    """The template's ranged numbers, in its order."""
    n_layers = template.low.n_layers
    found = []
    for free in template.free:
        path = free.path
        if path[0] == "learning_rate":
            where: tuple[Any, ...] = ("lr",)
        elif path[0] == "samples":
            where = (path[2], path[1] + 1, (path[3] + 1,))
        else:
            layer, rest = (path[1] + 1, path[2:]) if path[0] == "layers" else (1, path)
            index = (rest[1] + 1, rest[2] + 1) if rest[0] == "weights" else (rest[1] + 1,)
            where = ("w" if rest[0] == "weights" else "b", layer, index)
        found.append(Ranged(free_label(free, n_layers), cell_text(_at(spec, path)), where))
    return found


def students_started(assignment: Assignment) -> int:
    """How many students have a draft, an attempt or their numbers drawn."""
    with_work = set(Submission.objects.filter(assignment=assignment).values_list("student_id", flat=True))
    with_work |= set(Variant.objects.filter(assignment=assignment).values_list("student_id", flat=True))
    return len(with_work)
