"""Every write goes through here: save a draft, submit, grade, review a formula.

Views check access and parse forms, then call exactly one of these. Each validates before it
saves; grades are append-only (a resubmission is a new attempt, a review is a new record).
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from grading import engine, formulas, grader, marking, mistakes
from grading.models import Assignment, FormulaReview, Question, Submission

FIELD_MAX_CHARS = 600  # a formula may be 500 characters; anything longer is refused, not cut


class SubmissionError(Exception):
    """A submission the rules refuse, with a message for the student."""


# ---------------------------------------------------------------- reads for the web layer
# The views, forms and template tags read the computation through these, never directly:
# imports run one way, views -> services -> engine/marking/formulas/mistakes/grader.

TABLE_COLUMNS: tuple[str, ...] = engine.COLUMNS  # the four columns of a round's table, in order


class FormulaTextError(ValueError):
    """A Q1 formula that cannot be read; the message is the parser's, for the student."""


def answer_key(spec: engine.Spec) -> engine.Key:
    """The engine's key for a spec, from the grader's cache: one computation serves all pages."""
    return grader.answer_key(spec)


def cell_names(spec: engine.Spec) -> dict[str, list[str]]:
    """Column -> the cell names of one round's table, in table order."""
    return engine.cell_names(spec.n_inputs, spec.n_outputs)


@lru_cache(maxsize=64)
def typed_cells(spec: engine.Spec) -> tuple[engine.CellKey, ...]:
    """The cells a student types, in table order: every gradable cell of the engine's graph."""
    return tuple(cell.key for cell in engine.build_graph(spec).gradable())


def band_text(decimals: int) -> str:
    """The tolerance band in words, as the marking messages say it: "±0.000051"."""
    return marking.band_text(decimals)


def number_problem(text: str) -> str:
    """Why a typed cell is not a number ("" when it is one, or blank), said before submitting."""
    parsed = marking.parse_number(text)
    return parsed.message if parsed.status == "invalid" else ""


def formula_rows(spec: engine.Spec) -> tuple[str, ...]:
    """Q1's rows for this network size, in the seed's order."""
    return tuple(formulas.Q1_ROWS(spec.n_inputs, spec.n_outputs))


def reference_formulas(spec: engine.Spec) -> dict[str, str]:
    """Q1 row -> its reference formula as text, for the answer key."""
    return formulas.reference_formulas(spec.n_inputs, spec.n_outputs)


def formula_mathml(text: str, *, n_inputs: int, n_outputs: int) -> str:
    """A Q1 formula as MathML from our own renderer; FormulaTextError says why it cannot be read."""
    try:
        return formulas.to_mathml(text, n_inputs=n_inputs, n_outputs=n_outputs)
    except Exception as exc:  # noqa: BLE001 - any parser complaint is the student's message, never a 500
        raise FormulaTextError(str(exc)) from exc


def mistake_catalogue() -> list[dict[str, str]]:
    """The named mistakes the marker recognises, in catalogue order: id, title, explanation."""
    return [{"id": m.id, "title": m.title, "explanation": m.explanation} for m in mistakes.MISTAKES]


# ---------------------------------------------------------------- answers


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


# ---------------------------------------------------------------- configuration


def grading_config(assignment: Assignment) -> grader.GradingConfig:
    """The grader's settings for an assignment, from its fields and its questions."""
    questions = tuple(
        grader.QuestionSpec(number=q.number, kind=q.kind, points=q.points, round=q.round,
                            extra_credit=q.extra_credit)
        for q in assignment.questions.all())
    return grader.GradingConfig(
        questions=questions or grader.default_questions(assignment.parsed_spec),
        decimals=assignment.decimals,
        carried_credit=assignment.carried_credit,
        carried_cap=assignment.carried_cap,
        not_chained_credit=assignment.not_chained_credit,
        formula_time_limit=getattr(settings, "GRADING_FORMULA_TIME_LIMIT", 2.0),
    )


def assignment_create(*, course, title: str, slug: str, spec: dict, due_at: datetime,
                      opens_at: datetime | None = None, statement: str = "",
                      **options: Any) -> Assignment:
    """Create an assignment with Homework 4.1's question layout for its spec."""
    assignment = Assignment(course=course, title=title, slug=slug, spec=spec, due_at=due_at,
                            opens_at=opens_at or timezone.now(), statement=statement, **options)
    assignment.full_clean()
    with transaction.atomic():
        assignment.save()
        assignment_questions_default(assignment=assignment)
    return assignment


def assignment_questions_default(*, assignment: Assignment) -> list[Question]:
    """Give an assignment without questions Homework 4.1's layout for its spec (the admin calls
    this too), so the grader, the gradebook and the page headings read the same questions."""
    if assignment.questions.exists():
        return list(assignment.questions.all())
    created = []
    for q in grader.default_questions(assignment.parsed_spec):
        question = Question(assignment=assignment, number=q.number, kind=q.kind,
                            points=q.points, round=q.round, extra_credit=q.extra_credit)
        question.full_clean()
        question.save()
        created.append(question)
    return created


# ---------------------------------------------------------------- submissions


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


def check_may_submit(*, assignment: Assignment, student, now: datetime) -> None:
    """Raise SubmissionError when the server's clock or the attempt count forbids a submission."""
    if not assignment.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    if not assignment.is_open(now):
        raise SubmissionError(
            f"The due time ({timezone.localtime(assignment.due_at):%Y-%m-%d %H:%M}) has passed; "
            "your draft is kept but can no longer be submitted.")
    used = submitted_count(assignment, student)
    if used >= assignment.max_attempts:
        raise SubmissionError(f"You have used all {assignment.max_attempts} attempts.")


def submission_submit(*, assignment: Assignment, student, answers: Any,
                      now: datetime | None = None) -> Submission:
    """Save the answers, grade them and record a new attempt; earlier attempts stay as they were."""
    now = now or timezone.now()
    draft = submission_save_draft(assignment=assignment, student=student, answers=answers, now=now)
    check_may_submit(assignment=assignment, student=student, now=now)
    graded = draft.answers
    report = grader.grade_submission(assignment.parsed_spec, graded, grading_config(assignment))
    try:
        with transaction.atomic():
            draft = Submission.objects.select_for_update().get(pk=draft.pk)
            if not draft.is_draft:
                raise SubmissionError("This attempt was already submitted.")
            # An autosave may have landed while grading ran: keep what was graded.
            draft.answers = graded
            # A concurrent submit may have taken this attempt number; use the next free one.
            draft.attempt = max(draft.attempt, submitted_count(assignment, student) + 1)
            check_may_submit(assignment=assignment, student=student, now=now)
            draft.state = Submission.State.SUBMITTED
            draft.submitted_at = now
            draft.late = assignment.is_past_due(now)
            draft.report = report
            draft.score = report["total"]
            draft.max_score = report["max"]
            draft.grader_version = report["grader_version"]
            draft.full_clean()
            draft.save()
    except IntegrityError as exc:
        raise SubmissionError("This attempt was submitted twice at once; reload the page.") from exc
    return draft


def reviews_for(submission: Submission) -> dict[str, bool]:
    """The latest review decision on each Q1 row of a submission."""
    decisions: dict[str, bool] = {}
    # Sorted here rather than with order_by(), so that a prefetch_related("reviews") is used.
    for review in sorted(submission.reviews.all(), key=lambda r: (r.created_at, r.pk)):
        decisions[review.row] = review.accepted
    return decisions


def effective_report(submission: Submission) -> dict[str, Any] | None:
    """The submission's report with the instructors' formula reviews applied."""
    if submission.report is None:
        return None
    reviews = reviews_for(submission)
    return grader.rescore(submission.report, reviews) if reviews else submission.report


def formula_review_create(*, submission: Submission, row: str, accepted: bool, reviewer,
                          note: str = "") -> FormulaReview:
    """Record an instructor's decision on an undecided Q1 row; the score follows it."""
    rows = {f["row"]: f for f in (submission.report or {}).get("formulas", [])}
    if row not in rows:
        raise ValidationError(f"There is no formula row {row!r} in this submission.", code="no_row")
    if rows[row]["status"] != "undecided":
        raise ValidationError(f"Row {row} was decided by the grader ({rows[row]['status']}).",
                              code="decided")
    review = FormulaReview(submission=submission, row=row, accepted=accepted, reviewer=reviewer,
                           note=note)
    review.full_clean()
    review.save()
    return review
