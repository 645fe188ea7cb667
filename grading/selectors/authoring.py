"""Reads the authoring page needs: a spec checked as its author types it, the preview's problem,
and the key audit of a printed key.

A spec is checked by the engine's own rules (``parse_template``: every number, range and choice,
with its position), then for degeneracy: a spec without ranges by the rule itself (each reason
names its cell), a template by drawing probe students (the engine's VariantError says which
reasons were commonest when its ranges admit almost nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from grading import engine, keyaudit

from grading.grade import grader
from grading.engine.degenerate import degenerate_reasons
from grading.engine.ranges import Template, parse_template
from grading.engine.variants import VariantError, draw
from grading.models import Assignment, Course, check_draws
from grading.selectors.variants import PREVIEW_KEY

MAX_REASONS = 6  # a degenerate problem's reasons listed (the rest counted)


@dataclass(frozen=True)
class LibraryEntry:
    """An audited template of the library, as the authoring page's "start from" list shows it."""

    slug: str
    title: str
    source: str
    description: str
    spec: dict[str, Any]


def library_templates() -> list[LibraryEntry]:
    """The library's audited templates (well-known worked examples), in file order."""
    from grading.keyaudit.library import templates
    return [LibraryEntry(t.slug, t.title, t.source, t.description, t.spec_json) for t in templates()]


def library_template(slug: str) -> LibraryEntry | None:
    """The library's template of this slug, or None."""
    return next((t for t in library_templates() if t.slug == slug), None)


@dataclass(frozen=True)
class Check:
    """What the engine says of a spec: an error (its message starts with the position), the
    reasons it is degenerate, and a concrete problem to preview (an example draw with ranges)."""

    error: str = ""
    degenerate: tuple[str, ...] = ()
    example: engine.Spec | None = None
    template: Template | None = None
    example_is_draw: bool = False

    @property
    def ok(self) -> bool:
        return not self.error and not self.degenerate


def check_spec(spec: Any, *, decimals: int, seed: int, example: int = 0) -> Check:
    """Check a spec (ranges and choices allowed) as the authoring form does before saving."""
    try:
        template = parse_template(spec)
    except engine.SpecError as exc:
        return Check(error=str(exc))
    if not template.free:
        reasons = degenerate_reasons(template.low, decimals=decimals)
        shown: tuple[str, ...] = tuple(r.message for r in reasons[:MAX_REASONS])
        if len(reasons) > MAX_REASONS:
            shown += (_("... and %(n)s more") % {"n": len(reasons) - MAX_REASONS},)
        return Check(degenerate=shown, example=template.low, template=template)
    try:
        check_draws(template, seed, decimals)
    except VariantError as exc:
        return Check(degenerate=(str(exc),), example=template.low, template=template)
    return Check(example=draw(template, seed, f"{PREVIEW_KEY}-{example}", decimals=decimals),
                 template=template, example_is_draw=True)


# ---------------------------------------------------------------- the key audit

AUDIT_FORMATS = ("text", "csv", "json")
MAX_AUDIT_CHARS = 200_000


@dataclass(frozen=True)
class AuditLine:
    """One printed number the engine disagrees with, ready to show."""

    round: int
    column: str
    name: str
    printed: str
    expected: str          # the engine's value at the printed precision
    exact: float
    kind: str


@dataclass(frozen=True)
class Audit:
    lines: list[AuditLine] = field(default_factory=list)
    checked: int = 0
    error: str = ""


def _places(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def key_audit(spec: engine.Spec, text: str, fmt: str) -> Audit:
    """Every number of a pasted printed key (text as in the handout, CSV or JSON) that disagrees
    with the engine at its printed precision, classified; or the reader's message."""
    if len(text) > MAX_AUDIT_CHARS:
        return Audit(error=_("The key is longer than %(n)s characters.") % {"n": f"{MAX_AUDIT_CHARS:,}"})
    try:
        if fmt == "json":
            try:
                data = json.loads(text)
            except (ValueError, RecursionError) as exc:
                return Audit(error=_("Not JSON: %(why)s") % {"why": str(exc)[:200]})
            printed = keyaudit.from_json(data)
        elif fmt == "csv":
            printed = keyaudit.from_csv(text)
        else:
            printed = keyaudit.from_text(text)
        found = keyaudit.audit(spec, printed)
    except keyaudit.PrintedKeyError as exc:
        return Audit(error=str(exc))
    lines = [AuditLine(d.round, d.column, d.name, d.printed,
                       f"{d.expected:.{_places(d.printed)}f}", d.expected, d.kind) for d in found]
    return Audit(lines=lines, checked=len(printed))


# ---------------------------------------------------------------- what the authoring form offers

REVEAL_CHOICES = tuple(Assignment.Reveal.choices)
UNEXPLAINED_ROOTS_CHOICES = tuple(Assignment.UnexplainedRoots.choices)
ACTIVATIONS = engine.ACTIVATIONS
LOSSES = engine.LOSSES
PREVIEW_SEED = 0  # a new assignment's example draws, before it has a seed of its own


def default_questions(n_rounds: int) -> list[Any]:
    """Homework 4.1's questions for a problem of ``n_rounds`` rounds (number, kind, points, round,
    extra_credit): the points a new assignment starts with."""
    return list(grader.questions_for_rounds(n_rounds))


def slug_taken(course: Course, slug: str, *, but: int | None = None) -> bool:
    """Whether another assignment of the course has this slug."""
    found = Assignment.objects.filter(course=course, slug=slug)
    return (found.exclude(pk=but) if but is not None else found).exists()


def authoring_initial(assignment: Assignment) -> dict[str, Any]:
    """An assignment's settings and questions as the authoring form starts from them."""
    data = {name: getattr(assignment, name) for name in (
        "title", "title_th", "slug", "statement", "statement_th", "opens_at", "due_at", "accept_late", "decimals", "max_attempts",
        "reveal", "carried_credit", "carried_cap", "not_chained_credit", "unexplained_roots", "grace_seconds",
        "auto_submit", "practice")}
    for q in assignment.questions.all():
        # By kind, never by position: the form lays the questions out again when rounds change.
        key = f"round-{q.round}" if q.kind == "round" else q.kind
        data[f"points-{key}"] = q.points
        data[f"extra-{key}"] = q.extra_credit
    return data
