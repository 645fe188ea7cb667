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
from datetime import datetime, timezone as dt_timezone
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from grading import engine, tasks
from grading.engine.degenerate import degenerate_reasons
from grading.engine.ranges import parse_template
from grading.models import Assignment, AssignmentChange, Question, Submission, Variant

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


def _plain(value: Any) -> Any:
    """A setting's value as the history stores it (JSON): times as ISO text in UTC (the same
    moment is the same text, whichever zone it was read in)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        value = value.astimezone(dt_timezone.utc)
    return value.isoformat() if hasattr(value, "isoformat") else value


def _snapshot(assignment: Assignment, points: dict[int, tuple[float, bool]]) -> dict[str, Any]:
    """What a staff change to the assignment can change: its settings, problem and questions."""
    out = {name: _plain(getattr(assignment, name)) for name in SETTINGS}
    out["spec"] = assignment.spec
    out["questions"] = {str(n): {"points": p, "extra_credit": extra} for n, (p, extra) in sorted(points.items())}
    return out


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: {"before": before.get(name), "after": after.get(name)}
            for name in after if before.get(name) != after.get(name)}


def assignment_author(*, course, spec: Any, settings: dict[str, Any],
                      points: Sequence[QuestionPoints], assignment: Assignment | None = None,
                      by: Any = None, reason: str = "") -> Authored:
    """Create an assignment (``assignment`` None) or change one, with its questions; raise
    ValidationError (keyed by field, "spec" for the problem) when it cannot be saved.

    Every creation and every edit that changes something appends an ``AssignmentChange`` (who,
    when, each changed field before and after, why). Changing a published assignment needs a
    ``reason``: its students see the change."""
    unknown = set(settings) - set(SETTINGS)
    if unknown:
        raise ValueError(f"not settings of the authoring page: {sorted(unknown)}")
    reason = (reason or "").strip()
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
    new_points = {q.number: (q.points, q.extra_credit) for q in points}
    changes = _diff(_snapshot(before, old_points) if before is not None else {},
                    _snapshot(target, new_points))
    if before is not None and before.published and changes and not reason:
        raise ValidationError({"reason": [_("Say why you change a published assignment: its students see "
                                            "the change, and the reason is kept in its history.")]})
    with transaction.atomic():
        target.save()
        _questions(target, points)
        if before is None or changes:
            change = AssignmentChange(assignment=target, created_by=by, reason=reason, changes=changes,
                                      kind=AssignmentChange.Kind.CREATE if before is None else AssignmentChange.Kind.EDIT)
            change.full_clean()
            change.save()
        if before is None or any(getattr(before, f) != getattr(target, f)
                                 for f in ("due_at", "auto_submit", "grace_seconds")):
            tasks.schedule_auto_submit(target)
    changed = before is not None and (
        any(getattr(before, f) != getattr(target, f) for f in GRADED_ON)
        or old_points != {q.number: (q.points, q.extra_credit) for q in points})
    to_regrade = (Submission.objects.filter(assignment=target, state=Submission.State.SUBMITTED).count()
                  if changed else 0)
    return Authored(target, to_regrade)


def assignment_change_record(*, assignment: Assignment, by: Any, kind: str, changes: dict[str, Any],
                             reason: str = "") -> AssignmentChange:
    """Append a change made elsewhere (the Django admin) to the assignment's history; values are
    kept as JSON (times as ISO text, anything else as its text)."""
    def plain(value: Any) -> Any:
        value = _plain(value)
        return value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)

    change = AssignmentChange(assignment=assignment, created_by=by, kind=kind, reason=(reason or "").strip(),
                              changes={name: {"before": plain(c.get("before")), "after": plain(c.get("after"))}
                                       for name, c in changes.items()})
    change.full_clean()
    change.save()
    return change


def assignment_publish(assignment: Assignment, *, by: Any = None, reason: str = "") -> bool:
    """Publish an assignment: its students see it (from its opening time). False when it was
    published already (nothing changes). Recorded in its history."""
    with transaction.atomic():
        changed = Assignment.objects.filter(pk=assignment.pk, published=False).update(published=True)
        if changed:
            AssignmentChange.objects.create(assignment=assignment, kind=AssignmentChange.Kind.PUBLISH,
                                            created_by=by, reason=(reason or "").strip(),
                                            changes={"published": {"before": False, "after": True}})
    assignment.published = True
    return bool(changed)


def assignment_unpublish(assignment: Assignment, *, by: Any, reason: str) -> bool:
    """Hide an assignment from its students again, with a reason, while none has handed in an
    attempt (after that it stays published: its attempts and grades are records; change its due
    time instead). False when it was not published. Recorded in its history."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Say why the assignment is taken back: the reason is kept in its history."),
                              code="no_reason")
    with transaction.atomic():
        if Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED).exists():
            raise ValidationError(_("Students have handed in attempts: the assignment stays published (its "
                                    "attempts and grades are kept). Change its due time instead."),
                                  code="has_attempts")
        changed = Assignment.objects.filter(pk=assignment.pk, published=True).update(published=False)
        if changed:
            AssignmentChange.objects.create(assignment=assignment, kind=AssignmentChange.Kind.UNPUBLISH,
                                            created_by=by, reason=reason,
                                            changes={"published": {"before": True, "after": False}})
    assignment.published = False
    return bool(changed)
