"""Assignments written on the authoring page: created, cloned or changed, with their questions.

The spec is validated by the model (the engine's rules, and for ranges the draws of probe
students); a spec without ranges must also not be degenerate. Once students have started
(a draft, an attempt or a variant), the network's shape, its rounds and its loss stay as they
are (their answers and variants are laid out by them: clone the assignment instead), and an
assignment whose attempts were handed in on one shared problem does not get ranges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grading import engine, tasks
from grading.engine.degenerate import degenerate_reasons
from grading.engine.ranges import parse_template
from grading.models import Assignment, Question, Submission, Variant

SETTINGS = ("title", "title_th", "slug", "statement", "statement_th", "opens_at", "due_at", "accept_late", "decimals",
            "max_attempts", "reveal", "carried_credit", "carried_cap", "not_chained_credit",
            "unexplained_roots", "grace_seconds", "auto_submit", "practice")
# What a grade depends on: a change of any of them leaves graded attempts for a regrade.
GRADED_ON = ("spec", "decimals", "carried_credit", "carried_cap", "not_chained_credit", "unexplained_roots")


@dataclass(frozen=True)
class QuestionPoints:
    """One question as the authoring page sets it."""

    number: int
    kind: str
    points: float
    round: int | None = None
    extra_credit: bool = False


@dataclass(frozen=True)
class Authored:
    """The saved assignment, and how many graded attempts wait for a regrade after the change."""

    assignment: Assignment
    to_regrade: int = 0


def _shape(spec: Any) -> tuple[engine.Shape, int]:
    low = parse_template(spec).low
    return engine.Shape.of(low), low.n_rounds


def _refuse_degenerate(assignment: Assignment) -> None:
    template = parse_template(assignment.spec)
    if template.free:
        return  # the model's clean() drew probe students already
    reasons = degenerate_reasons(template.low, decimals=assignment.decimals)
    if reasons:
        raise ValidationError({"spec": [_("The problem is degenerate: %(reason)s")
                                         % {"reason": r.message} for r in reasons[:6]]},
                              code="degenerate")


def _refuse_change(before: Assignment, after: Assignment) -> None:
    started = (Submission.objects.filter(assignment=before).exists()
               or Variant.objects.filter(assignment=before).exists())
    if started and _shape(before.spec) != _shape(after.spec):
        raise ValidationError(_(
            "Students have started this assignment: its network, rounds, loss and whether biases "
            "are updated can no longer change (their answers and numbers are laid out by them). "
            "Clone it to make a changed version."), code="shape_fixed")
    shared = Submission.objects.filter(assignment=before, state=Submission.State.SUBMITTED,
                                       variant__isnull=True)
    if after.has_variants and not before.has_variants and shared.exists():
        raise ValidationError(_(
            "Attempts were handed in on this assignment's shared numbers: it cannot get ranges now "
            "(those attempts would lose the problem they answered). Clone it to make a version "
            "with per-student numbers."), code="ranges_after_work")


def _questions(assignment: Assignment, points: Sequence[QuestionPoints]) -> None:
    """Give the assignment exactly these questions (by number), changing what is there."""
    wanted = {q.number: q for q in points}
    assignment.questions.exclude(number__in=list(wanted)).delete()
    existing = {q.number: q for q in assignment.questions.all()}
    for number, q in wanted.items():
        row = existing.get(number) or Question(assignment=assignment, number=number)
        row.kind, row.round, row.points, row.extra_credit = q.kind, q.round, q.points, q.extra_credit
        row.full_clean()
        row.save()


def assignment_author(*, course, spec: Any, settings: dict[str, Any],
                      points: Sequence[QuestionPoints], assignment: Assignment | None = None) -> Authored:
    """Create an assignment (``assignment`` None) or change one, with its questions; raise
    ValidationError (keyed by field, "spec" for the problem) when it cannot be saved."""
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f"not settings of the authoring page: {sorted(unknown)}")
    before = Assignment.objects.get(pk=assignment.pk) if assignment is not None else None
    # A new assignment starts unpublished: its students see nothing until its author publishes it.
    target = (Assignment.objects.get(pk=assignment.pk) if assignment is not None
              else Assignment(course=course, published=False))
    for name, value in settings.items():
        setattr(target, name, value)
    target.spec = spec
    target.full_clean()
    _refuse_degenerate(target)
    old_points = {}
    if before is not None:
        _refuse_change(before, target)
        old_points = {q.number: (q.points, q.extra_credit) for q in before.questions.all()}
    with transaction.atomic():
        target.save()
        _questions(target, points)
        if before is None or any(getattr(before, f) != getattr(target, f)
                                 for f in ("due_at", "auto_submit", "grace_seconds")):
            tasks.schedule_auto_submit(target)
    changed = before is not None and (
        any(getattr(before, f) != getattr(target, f) for f in GRADED_ON)
        or old_points != {q.number: (q.points, q.extra_credit) for q in points})
    to_regrade = (Submission.objects.filter(assignment=target, state=Submission.State.SUBMITTED).count()
                  if changed else 0)
    return Authored(target, to_regrade)


def assignment_publish(assignment: Assignment) -> bool:
    """Publish an assignment: its students see it (from its opening time). False when it was
    published already (nothing changes)."""
    with transaction.atomic():
        changed = Assignment.objects.filter(pk=assignment.pk, published=False).update(published=True)
    assignment.published = True
    return bool(changed)
