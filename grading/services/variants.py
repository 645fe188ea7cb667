"""Per-student variants: a student's own problem of an assignment with ranges, drawn once and kept.

A variant is drawn by the engine (``grading.engine.variants``) from the assignment's template,
its seed and the student's key (their user id as text) when the student first opens the
assignment, and stored as a ``Variant`` record: the page, the draft, the attempt, its grading,
its regrades and every page about it read that record, never the template again, so editing the
template later changes nothing a student already has. A practice assignment draws one per
attempt. An assignment without ranges has no variants: every student shares its spec.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max

from grading import engine
from grading.engine.variants import VariantError, draw
from grading.models import Assignment, Submission, Variant
from grading.selectors.prepared import first_pk


__all__ = ["Problem", "VariantError", "page_attempt", "problem_for", "spec_digest", "student_key",
           "student_problem", "variant_attempt_no", "variant_draw"]


@dataclass(frozen=True)
class Problem:
    """The concrete problem a student works on, and the variant it comes from (None: the
    assignment's shared spec)."""

    spec: engine.Spec
    variant: Variant | None = None


def spec_digest(spec: Any) -> str:
    """SHA-256 of a spec's canonical JSON text (sorted keys, no spaces)."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def student_key(student) -> str:
    """The key a student's numbers are drawn with: their user id as text (stable, never reused)."""
    return str(student.pk)


def variant_attempt_no(*, assignment: Assignment, attempt: int) -> int:
    """The variant an attempt answers: 0 (the student's one problem), or the attempt's own on a
    practice assignment."""
    return attempt if assignment.practice else 0


def _stored(assignment: Assignment, student, attempt_no: int) -> Variant | None:
    # One row at most (unique per assignment, student and attempt): ordered by pk, not by the
    # model's order, which would join the assignment and its course to sort it.
    found = first_pk(Variant, order=("pk",), assignment_id=assignment.pk, student_id=student.pk,
                     attempt_no=attempt_no)  # a plain statement: most assignments have no variants
    return None if found is None else Variant.objects.get(pk=found)


def variant_draw(*, assignment: Assignment, student, attempt_no: int = 0) -> Variant:
    """The student's variant for ``attempt_no``: the stored one, or drawn now and stored.

    Two first opens at once (two tabs) store one record: the second insert meets the unique
    constraint and reads the first one's (the draw is deterministic, so both drew the same
    numbers unless the template changed in between, and then the first stays). Raises the
    engine's VariantError when every draw of this student is degenerate.
    """
    found = _stored(assignment, student, attempt_no)
    if found is not None:
        return found
    concrete = draw(assignment.template, assignment.seed, student_key(student), attempt_no,
                    decimals=assignment.decimals).to_json()
    variant = Variant(assignment=assignment, student=student, attempt_no=attempt_no, spec=concrete,
                      spec_sha256=spec_digest(concrete))
    variant.full_clean(validate_unique=False, validate_constraints=False)
    try:
        with transaction.atomic():
            variant.save()
    except IntegrityError:
        return Variant.objects.get(assignment=assignment, student=student, attempt_no=attempt_no)
    return variant


def problem_for(*, assignment: Assignment, student, attempt: int) -> Problem:
    """The problem of the student's attempt number ``attempt`` (a draft's or a new attempt's):
    their variant, drawn now if it is the first time; the shared spec without ranges."""
    attempt_no = variant_attempt_no(assignment=assignment, attempt=attempt)
    if assignment.has_variants:
        variant = variant_draw(assignment=assignment, student=student, attempt_no=attempt_no)
        return Problem(variant.parsed_spec, variant)
    # The ranges may have been taken out since this student's numbers were drawn: they keep them.
    kept = _stored(assignment, student, attempt_no)
    return Problem(kept.parsed_spec, kept) if kept is not None else Problem(assignment.parsed_spec)


def page_attempt(*, assignment: Assignment, student) -> int:
    """The attempt the assignment page is for: the draft's, else the next one (practice draws a
    problem per attempt; otherwise any attempt answers the same one)."""
    if not assignment.practice:
        return 0
    mine = Submission.objects.filter(assignment=assignment, student=student)
    draft = mine.filter(state=Submission.State.DRAFT).values_list("attempt", flat=True).first()
    if draft is not None:
        return draft
    return (mine.aggregate(m=Max("attempt"))["m"] or 0) + 1


def student_problem(*, assignment: Assignment, student) -> Problem:
    """The problem the student sees on the assignment page now (drawn and stored on first open)."""
    return problem_for(assignment=assignment, student=student,
                       attempt=page_attempt(assignment=assignment, student=student))
