"""Drafts and submitted attempts: keep what is typed, and hand it in under the server's clock."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from grading import engine, tasks

from grading.grade import grader
from grading.marking.roots import Others
from grading.models import Assignment, Grading, Membership, Submission
from grading.selectors.copying import class_numbers
from grading.selectors.people import Terms, student_terms
from grading.selectors.problems import formula_rows, typed_cells
from grading.selectors.variants import problem_of
from grading.services.assignments import grading_config
from grading.services.grades import grading_create_auto
from grading.services.variants import problem_for

log = logging.getLogger(__name__)

FIELD_MAX_CHARS = 600  # a formula may be 500 characters; anything longer is refused, not cut


class SubmissionError(Exception):
    """A submission the rules refuse, with a message for the student."""


def clean_answers(spec: engine.Spec, raw: Any) -> dict[str, Any]:
    """Keep what was typed in the cells and Q1 rows a student answers, as typed; anything else
    is dropped, and over-long text is refused with the places it was typed. Which cells and rows
    there are depends on the network's shape only: every variant of an assignment shares it, so
    ``assignment.shape_spec`` serves for all of them."""
    raw = raw if isinstance(raw, dict) else {}
    tables_in = raw.get("rounds") if isinstance(raw.get("rounds"), list) else []
    by_round = {t.get("round"): t for t in tables_in if isinstance(t, dict)}
    rounds: dict[int, dict[str, Any]] = {r: {"round": r} for r in range(1, spec.n_rounds + 1)}
    too_long: list[str] = []
    for key in typed_cells(spec):
        column = by_round.get(key.round, {}).get(key.column)
        value = column.get(key.name) if isinstance(column, dict) else None
        if _typed(value, too_long, _cell_place, key):
            rounds[key.round].setdefault(key.column, {})[key.name] = value
    formulas_in = raw.get("formulas") if isinstance(raw.get("formulas"), dict) else {}
    typed_formulas = {row: formulas_in[row] for row in formula_rows(spec)
                      if _typed(formulas_in.get(row), too_long, _formula_place, row)}
    if too_long:
        raise ValidationError(
            _("These answers are longer than %(n)s characters: %(places)s. Shorten them and save "
              "again; nothing else was lost.") % {"n": FIELD_MAX_CHARS, "places": ", ".join(too_long[:5])},
            code="too_long")
    return {"rounds": list(rounds.values()), "formulas": typed_formulas}


def _typed(value: Any, too_long: list[str], place: Callable[[Any], str], of: Any) -> bool:
    """Whether ``value`` is typed text to keep; notes ``place(of)`` when it is too long (worded
    only then: a submit's accepting path checks every cell)."""
    if not isinstance(value, str) or value == "":
        return False
    if len(value) > FIELD_MAX_CHARS:
        too_long.append(place(of))
    return True


def _cell_place(key) -> str:
    return _("round %(round)s %(cell)s") % {"round": key.round, "cell": key.name}


def _formula_place(row) -> str:
    return _("formula %(row)s") % {"row": row}


def _next_attempt(assignment: Assignment, student) -> int:
    last = (Submission.objects.filter(assignment=assignment, student=student)
            .aggregate(m=Max("attempt"))["m"])
    return (last or 0) + 1


def _answering(draft: Submission) -> None:
    """Tie a draft to the problem it answers, once: the student's variant of its attempt (drawn
    now if the page did not draw it), or none for the shared spec. Kept through the submit, so
    an attempt is graded on the numbers its page showed."""
    if draft.variant_id is None:
        draft.variant = problem_for(assignment=draft.assignment, student=draft.student,
                                    attempt=draft.attempt).variant


def submitted_count(assignment: Assignment, student) -> int:
    return Submission.objects.filter(assignment=assignment, student=student,
                                     state=Submission.State.SUBMITTED).count()


# Field checks only on a save: the assignment and the student were checked by the view's access
# rule (re-checking each foreign key costs a query), the database's constraints guard the rest.
_CHECKED = ["assignment", "student"]


def _lock_student(assignment: Assignment, student) -> None:
    """Queue this student's writes to this course one behind the other until the transaction
    ends: their membership row is locked (other students are not held up). Without it, a submit
    and an autosave that both find no draft each insert one (PostgreSQL; SQLite's IMMEDIATE
    transactions already take turns)."""
    list(Membership.objects.select_for_update(of=("self",)).order_by()
         .filter(course_id=assignment.course_id, user=student).values_list("pk", flat=True))


def submission_draft(*, assignment: Assignment, student, lock: bool = False) -> Submission | None:
    """The student's current draft, if any; ``lock`` row-locks it until the transaction ends
    (a no-op on SQLite, whose IMMEDIATE transactions already serialize writers)."""
    # of=("self",): the model's ordering joins the assignment; locking that row too would queue
    # the whole class behind one student's save (and deadlock two first saves on PostgreSQL).
    drafts = Submission.objects.select_for_update(of=("self",)) if lock else Submission.objects
    return drafts.filter(assignment=assignment, student=student,
                         state=Submission.State.DRAFT).first()


def opens_message(assignment: Assignment) -> str:
    """What a student is told before the assignment opens."""
    return _("This assignment opens at %(time)s.") % {
        "time": f"{timezone.localtime(assignment.opens_at):%Y-%m-%d %H:%M}"}


def submission_save_draft(*, assignment: Assignment, student, answers: Any,
                          now: datetime | None = None) -> Submission:
    """Keep what the student typed as their draft: at any time once the assignment has opened
    (after the due time too, so nothing typed is ever lost)."""
    if not assignment.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    cleaned = clean_answers(assignment.shape_spec, answers)
    for last_try in (False, True):
        try:
            with transaction.atomic():
                # Locked: a stale copy saved over a submit committed meanwhile would turn the
                # graded attempt back into a draft.
                _lock_student(assignment, student)
                draft = submission_draft(assignment=assignment, student=student, lock=True)
                if draft is None:
                    draft = Submission(assignment=assignment, student=student,
                                       attempt=_next_attempt(assignment, student))
                _answering(draft)
                draft.answers = cleaned
                # Field checks only: the database's unique constraints guard the rest (below).
                draft.full_clean(exclude=_CHECKED, validate_unique=False, validate_constraints=False)
                draft.save()
            return draft
        except IntegrityError:
            # A concurrent save created the draft between our read and our insert: update it.
            if last_try:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def check_may_submit(*, assignment: Assignment, student, now: datetime,
                     terms: Terms | None = None, used: int | None = None) -> None:
    """Raise SubmissionError when the server's clock or the attempt count forbids a submission;
    the student's own terms (an extension) count."""
    terms = terms or student_terms(assignment, student)
    if not terms.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    if not terms.is_open(now):
        raise SubmissionError(
            _("The due time (%(time)s) has passed; your draft is kept but can no longer be submitted.")
            % {"time": f"{timezone.localtime(terms.due_at):%Y-%m-%d %H:%M}"})
    used = submitted_count(assignment, student) if used is None else used
    if not assignment.practice and used >= terms.max_attempts:  # practice: unlimited
        raise SubmissionError(_("You have used all %(n)s attempts.") % {"n": terms.max_attempts})


def answers_digest(answers: Any) -> str:
    """SHA-256 of the answers in a canonical JSON form: the receipt a student can check."""
    text = json.dumps(answers, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Accepted:
    """A submit taken: its attempt (with the receipt), and whether it had been taken before."""

    submission: Submission
    duplicate: bool = False


def _by_token(assignment: Assignment, student, token: str | None) -> Submission | None:
    if not token:
        return None
    return Submission.objects.filter(assignment=assignment, student=student, submit_token=token).first()


def submission_accept(*, assignment: Assignment, student, answers: Any, now: datetime | None = None,
                      token: str | None = None) -> Accepted:
    """Take a submission in one short transaction and queue its grading: the answers become a
    new attempt with its arrival time and receipt. A submit carrying the token of one already
    taken (a double click, a resent POST) gets that attempt back, never a second one."""
    now = now or timezone.now()
    if not assignment.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    cleaned = clean_answers(assignment.shape_spec, answers)
    refused: SubmissionError | None = None
    for last_try in (False, False, True):
        try:
            with transaction.atomic():
                # Locked: a concurrent autosave or submit of this student waits for us.
                _lock_student(assignment, student)
                earlier = _by_token(assignment, student, token)
                if earlier is not None:
                    return Accepted(earlier, duplicate=True)
                draft = submission_draft(assignment=assignment, student=student, lock=True)
                used = submitted_count(assignment, student)
                terms = student_terms(assignment, student)
                try:
                    check_may_submit(assignment=assignment, student=student, now=now, terms=terms,
                                     used=used)
                except SubmissionError as exc:
                    refused = exc
                if refused is None:
                    if draft is None:
                        draft = Submission(assignment=assignment, student=student,
                                           attempt=_next_attempt(assignment, student))
                    draft.answers = cleaned
                    # A concurrent submit may have taken this attempt number; use the next free one.
                    draft.attempt = max(draft.attempt, used + 1)
                    _answering(draft)
                    draft.state = Submission.State.SUBMITTED
                    draft.submitted_at = now
                    draft.late = terms.is_past_due(now)
                    draft.receipt = answers_digest(cleaned)
                    draft.submit_token = token or None
                    draft.full_clean(exclude=_CHECKED, validate_unique=False, validate_constraints=False)
                    draft.save()
                    # Queued in the same transaction: the task exists exactly when the attempt does.
                    tasks.enqueue_grading(draft.pk)
            break
        except IntegrityError as exc:
            # Another submit of this student inserted first (no draft to lock): the same page
            # finds its attempt; another page tries again on what is there now.
            earlier = _by_token(assignment, student, token)
            if earlier is not None:
                return Accepted(earlier, duplicate=True)
            if last_try:
                raise SubmissionError(_("This attempt was submitted twice at once; reload the page.")) from exc
    if refused is not None:
        # Not taken, but nothing typed is lost: it stays the draft (saved the way an autosave
        # is, which copes with a concurrent first save).
        submission_save_draft(assignment=assignment, student=student, answers=answers, now=now)
        raise refused
    # The loop ends (without raising) only at its break, and when nothing was refused the
    # attempt was made from the draft or a new row and saved there.
    assert draft is not None
    return Accepted(draft)


def submission_submit(*, assignment: Assignment, student, answers: Any,
                      now: datetime | None = None, token: str | None = None) -> Submission:
    """Take a submission (see ``submission_accept``) and return its attempt."""
    return submission_accept(assignment=assignment, student=student, answers=answers, now=now,
                             token=token).submission


def submission_grade(*, submission_id: int) -> Grading | None:
    """Grade a submitted attempt that has no grade yet (the task worker's job); None when it
    already has one (a task run twice grades once)."""
    submission = (Submission.objects.select_related("assignment", "variant", "student").filter(
        pk=submission_id, state=Submission.State.SUBMITTED).first())
    if submission is None or submission.gradings.exists():
        return None
    config = grading_config(submission.assignment)
    report = grader.grade_submission(problem_of(submission), submission.answers, config,
                                     others=others_of(submission))
    try:
        return grading_create_auto(submission=submission, report=report, config=config)
    except ValidationError:
        return None  # another worker graded it meanwhile


def others_of(submission: Submission) -> Others | None:
    """The class's numbers for this attempt's student (the copy signal on its roots); None, with
    a warning logged, when the index cannot be built: a grading never fails because of it."""
    try:
        return class_numbers(submission.assignment, exclude_student=submission.student)
    except Exception:  # noqa: BLE001 - grade without the copy signal rather than not at all
        log.warning("class numbers of assignment %s unavailable; grading attempt %s without them",
                    submission.assignment_id, submission.pk, exc_info=True)
        return None


def submissions_auto_submit(*, assignment: Assignment, now: datetime | None = None) -> list[Submission]:
    """At the due time, submit the draft of every student who never submitted (when the
    assignment asks for it): an attempt received at their due time, marked as submitted by the
    server. Only a draft last saved before the student's own deadline is taken (what they had
    typed by then); running it again takes nothing twice."""
    if not assignment.auto_submit:
        return []
    now = now or timezone.now()
    submitted = Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
    drafts = (Submission.objects.filter(assignment=assignment, state=Submission.State.DRAFT)
              .exclude(student__in=submitted.values("student")).select_related("student"))
    taken = []
    for draft in drafts:
        terms = student_terms(assignment, draft.student)
        if terms.closes_at > now or draft.updated_at > terms.closes_at:
            continue
        with transaction.atomic():
            _lock_student(assignment, draft.student)
            draft = Submission.objects.select_for_update(of=("self",)).get(pk=draft.pk)
            if not draft.is_draft or submitted.filter(student=draft.student_id).exists():
                continue
            draft.state = Submission.State.SUBMITTED
            draft.submitted_at = terms.due_at
            draft.late = False
            draft.receipt = answers_digest(draft.answers)
            draft.auto_submitted = True
            _answering(draft)
            draft.full_clean()
            draft.save()
            tasks.enqueue_grading(draft.pk)
        taken.append(draft)
    return taken


def auto_submit_pending(assignment: Assignment, now: datetime | None = None) -> datetime | None:
    """When the next auto-submit is due: the earliest deadline still ahead of a student with a
    draft and no attempt (an extension's), or None."""
    if not assignment.auto_submit:
        return None
    now = now or timezone.now()
    submitted = Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
    later = [student_terms(assignment, d.student).closes_at for d in
             Submission.objects.filter(assignment=assignment, state=Submission.State.DRAFT)
             .exclude(student__in=submitted.values("student")).select_related("student")]
    ahead = [t for t in later if t > now]
    return min(ahead) if ahead else None
