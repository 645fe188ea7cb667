"""Drafts and submitted attempts: keep what is typed, and hand it in under the server's clock."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grading import engine, grader
from grading.models import Assignment, Submission
from grading.selectors.people import Terms, student_terms
from grading.selectors.problems import formula_rows, typed_cells
from grading.services.assignments import grading_config
from grading.services.grades import grading_create_auto

FIELD_MAX_CHARS = 600  # a formula may be 500 characters; anything longer is refused, not cut


class SubmissionError(Exception):
    """A submission the rules refuse, with a message for the student."""


def clean_answers(spec: engine.Spec, raw: Any) -> dict[str, Any]:
    """Keep what was typed in the cells and Q1 rows a student answers, as typed; anything else
    is dropped, and over-long text is refused with the places it was typed."""
    raw = raw if isinstance(raw, dict) else {}
    tables_in = raw.get("rounds") if isinstance(raw.get("rounds"), list) else []
    by_round = {t.get("round"): t for t in tables_in if isinstance(t, dict)}
    rounds: dict[int, dict[str, Any]] = {r: {"round": r} for r in range(1, spec.n_rounds + 1)}
    too_long: list[str] = []
    for key in typed_cells(spec):
        column = by_round.get(key.round, {}).get(key.column)
        value = column.get(key.name) if isinstance(column, dict) else None
        if _typed(value, f"round {key.round} {key.name}", too_long):
            rounds[key.round].setdefault(key.column, {})[key.name] = value
    formulas_in = raw.get("formulas") if isinstance(raw.get("formulas"), dict) else {}
    typed_formulas = {row: formulas_in[row] for row in formula_rows(spec)
                      if _typed(formulas_in.get(row), f"formula {row}", too_long)}
    if too_long:
        raise ValidationError(
            f"These answers are longer than {FIELD_MAX_CHARS} characters: {', '.join(too_long[:5])}. "
            "Shorten them and save again; nothing else was lost.", code="too_long")
    return {"rounds": list(rounds.values()), "formulas": typed_formulas}


def _typed(value: Any, where: str, too_long: list[str]) -> bool:
    """Whether ``value`` is typed text to keep; notes ``where`` when it is too long."""
    if not isinstance(value, str) or value == "":
        return False
    if len(value) > FIELD_MAX_CHARS:
        too_long.append(where)
    return True


def _next_attempt(assignment: Assignment, student) -> int:
    last = (Submission.objects.filter(assignment=assignment, student=student)
            .aggregate(m=Max("attempt"))["m"])
    return (last or 0) + 1


def submitted_count(assignment: Assignment, student) -> int:
    return Submission.objects.filter(assignment=assignment, student=student,
                                     state=Submission.State.SUBMITTED).count()


def submission_draft(*, assignment: Assignment, student, lock: bool = False) -> Submission | None:
    """The student's current draft, if any; ``lock`` row-locks it until the transaction ends
    (a no-op on SQLite, whose IMMEDIATE transactions already serialize writers)."""
    drafts = Submission.objects.select_for_update() if lock else Submission.objects
    return drafts.filter(assignment=assignment, student=student,
                         state=Submission.State.DRAFT).first()


def opens_message(assignment: Assignment) -> str:
    """What a student is told before the assignment opens."""
    return f"This assignment opens at {timezone.localtime(assignment.opens_at):%Y-%m-%d %H:%M}."


def submission_save_draft(*, assignment: Assignment, student, answers: Any,
                          now: datetime | None = None) -> Submission:
    """Keep what the student typed as their draft: at any time once the assignment has opened
    (after the due time too, so nothing typed is ever lost)."""
    if not assignment.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    cleaned = clean_answers(assignment.parsed_spec, answers)
    for last_try in (False, True):
        try:
            with transaction.atomic():
                # Locked: a stale copy saved over a submit committed meanwhile would turn the
                # graded attempt back into a draft.
                draft = submission_draft(assignment=assignment, student=student, lock=True)
                if draft is None:
                    draft = Submission(assignment=assignment, student=student,
                                       attempt=_next_attempt(assignment, student))
                draft.answers = cleaned
                draft.full_clean(validate_constraints=False)
                draft.save()
            return draft
        except IntegrityError:
            # A concurrent save created the draft between our read and our insert: update it.
            if last_try:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def check_may_submit(*, assignment: Assignment, student, now: datetime,
                     terms: Terms | None = None) -> None:
    """Raise SubmissionError when the server's clock or the attempt count forbids a submission;
    the student's own terms (an extension) count."""
    terms = terms or student_terms(assignment, student)
    if not terms.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    if not terms.is_open(now):
        raise SubmissionError(
            f"The due time ({timezone.localtime(terms.due_at):%Y-%m-%d %H:%M}) has passed; "
            "your draft is kept but can no longer be submitted.")
    used = submitted_count(assignment, student)
    if used >= terms.max_attempts:
        raise SubmissionError(f"You have used all {terms.max_attempts} attempts.")


def submission_submit(*, assignment: Assignment, student, answers: Any,
                      now: datetime | None = None) -> Submission:
    """Save the answers, grade them and record a new attempt with its first grading record;
    earlier attempts and their grades stay as they were."""
    now = now or timezone.now()
    draft = submission_save_draft(assignment=assignment, student=student, answers=answers, now=now)
    terms = student_terms(assignment, student)
    check_may_submit(assignment=assignment, student=student, now=now, terms=terms)
    graded = draft.answers
    config = grading_config(assignment)
    report = grader.grade_submission(assignment.parsed_spec, graded, config)
    try:
        with transaction.atomic():
            draft = Submission.objects.select_for_update().get(pk=draft.pk)
            if not draft.is_draft:
                raise SubmissionError("This attempt was already submitted.")
            # An autosave may have landed while grading ran: keep what was graded.
            draft.answers = graded
            # A concurrent submit may have taken this attempt number; use the next free one.
            draft.attempt = max(draft.attempt, submitted_count(assignment, student) + 1)
            check_may_submit(assignment=assignment, student=student, now=now, terms=terms)
            draft.state = Submission.State.SUBMITTED
            draft.submitted_at = now
            draft.late = terms.is_past_due(now)
            draft.full_clean()
            draft.save()
            grading_create_auto(submission=draft, report=report, config=config)
    except IntegrityError as exc:
        raise SubmissionError("This attempt was submitted twice at once; reload the page.") from exc
    return draft
