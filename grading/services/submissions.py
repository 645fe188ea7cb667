"""Drafts and submitted attempts: keep what is typed, and hand it in under the server's clock."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from collections.abc import Callable, Collection, Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Aggregate, Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _, ngettext

from grading import engine, tasks

from grading.grade import grader
from grading.marking.roots import Others
from grading.models import (DRAFT_VERSIONS_KEPT, Assignment, DraftVersion, Grading, Membership,
                            Submission)
from grading.selectors.copying import class_numbers
from grading.selectors.drafts import draft_version, newest_version
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
    draft = (drafts.filter(assignment=assignment, student=student, state=Submission.State.DRAFT)
             .annotate(newest_version=newest_version()).first())
    if draft is not None:  # the caller's objects, not a query each when the draft reads them
        draft.assignment, draft.student = assignment, student
        if lock:
            draft.remember_locked_row()  # read under this transaction's row lock: save need not read it again
    return draft


def opens_message(assignment: Assignment) -> str:
    """What a student is told before the assignment opens."""
    return _("This assignment opens at %(time)s.") % {
        "time": f"{timezone.localtime(assignment.opens_at):%Y-%m-%d %H:%M}"}


class DraftVersionMissing(Exception):
    """A restore of a version the student's current draft does not keep (none, or pruned)."""


class DraftConflict(SubmissionError):
    """A save based on an older version of the draft that would write over newer values of the
    same cells (typed in another tab or device): refused, nothing changed. ``newer`` holds the
    stored values of those cells (input name -> text, "" for a cleared cell), ``version`` the
    draft's version now."""

    def __init__(self, message: str, *, newer: dict[str, str], version: int):
        super().__init__(message)
        self.newer, self.version = newer, version


@dataclass(frozen=True)
class DraftSaved:
    """A save taken: the draft, its version now, and the values of cells another tab or device
    changed since the save's base that the save did not carry (to show them in this tab)."""

    draft: Submission
    version: int
    newer: dict[str, str]


@lru_cache(maxsize=64)
def _places(spec: engine.Spec) -> tuple[tuple[tuple[str, int, str, str], ...], tuple[tuple[str, str], ...]]:
    """The inputs of a problem's shape, as plain tuples read on every save: each typed cell's
    (input name, round, column, name), then each Q1 row's (input name, row)."""
    return (tuple((key.id, key.round, key.column, key.name) for key in typed_cells(spec)),
            tuple((f"formulas.{row}", row) for row in formula_rows(spec)))


def _flat(spec: engine.Spec, answers: Any) -> dict[str, str]:
    """Input name -> typed text of the filled answers ("r1.forward.s1", "formulas.dL/ds1")."""
    answers = answers if isinstance(answers, dict) else {}
    tables = answers.get("rounds") if isinstance(answers.get("rounds"), list) else []
    by_round = {t.get("round"): t for t in tables if isinstance(t, dict)}
    values: dict[str, str] = {}
    cells, rows = _places(spec)
    for name, round_, column_name, cell in cells:
        table = by_round.get(round_)
        column = table.get(column_name) if table is not None else None
        value = column.get(cell) if isinstance(column, dict) else None
        if isinstance(value, str) and value:
            values[name] = value
    formulas = answers.get("formulas") if isinstance(answers.get("formulas"), dict) else {}
    for name, row in rows:
        text = formulas.get(row)
        if isinstance(text, str) and text:
            values[name] = text
    return values


def _nested(spec: engine.Spec, values: dict[str, str]) -> dict[str, Any]:
    """The answers' shape of input name -> text (the inverse of ``_flat``)."""
    rounds: dict[int, dict[str, Any]] = {r: {"round": r} for r in range(1, spec.n_rounds + 1)}
    cells, rows = _places(spec)
    for name, round_, column_name, cell in cells:
        if values.get(name):
            rounds[round_].setdefault(column_name, {})[cell] = values[name]
    formulas = {row: values[name] for name, row in rows if values.get(name)}
    return {"rounds": list(rounds.values()), "formulas": formulas}


def answer_names(spec: engine.Spec) -> tuple[str, ...]:
    """Every input name a draft holds, cells then Q1 rows."""
    cells, rows = _places(spec)
    return (*(cell[0] for cell in cells), *(row[0] for row in rows))


def _changed_since(spec: engine.Spec, draft: Submission, base: int, now: dict[str, str]) -> set[str] | None:
    """The input names whose value differs between version ``base`` and ``now``; None when
    that version is no longer kept (every name then counts as changed)."""
    if base <= 0:
        then: dict[str, str] = {}
    else:
        kept = DraftVersion.objects.filter(draft=draft, number=base).values_list("answers", flat=True).first()
        if kept is None:
            return None
        then = _flat(spec, kept)
    return {name for name in then.keys() | now.keys() if then.get(name, "") != now.get(name, "")}


def _keep_version(draft: Submission, number: int, *, kind: str = DraftVersion.Kind.SAVE,
                  restored_from: int | None = None) -> None:
    """Append version ``number`` (what the draft holds now) and prune the oldest beyond the bound."""
    filled = len(_flat(draft.assignment.shape_spec, draft.answers))
    DraftVersion.objects.create(draft=draft, number=number, answers=draft.answers, cells=filled,
                                kind=kind, restored_from=restored_from)
    draft.__dict__["newest_version"] = number  # what draft_version reads from now on
    if number > DRAFT_VERSIONS_KEPT:  # nothing to prune before (a delete a save need not ask)
        DraftVersion.prune(draft, up_to=number - DRAFT_VERSIONS_KEPT)


def submission_save_draft(*, assignment: Assignment, student, answers: Any,
                          now: datetime | None = None, carried: Iterable[str] | None = None,
                          base: int | None = None) -> Submission:
    """Keep what the student typed as their draft (see ``draft_save``) and return the draft."""
    return draft_save(assignment=assignment, student=student, answers=answers, now=now,
                      carried=carried, base=base).draft


def draft_save(*, assignment: Assignment, student, answers: Any, now: datetime | None = None,
               carried: Iterable[str] | None = None, base: int | None = None) -> DraftSaved:
    """Keep what the student typed as their draft: at any time once the assignment has opened
    (after the due time too, so nothing typed is ever lost).

    A save is a merge: only the input names in ``carried`` change (an empty value clears that
    one cell); the others keep their stored value. ``carried=None`` means every answer field
    (the whole form, as a refused submit sends it). Each save appends a ``DraftVersion``.

    ``base`` is the draft version the page was showing. A save based on an older version than
    the stored one is refused (``DraftConflict``, nothing changed) when it would write a
    different value over a cell changed since its base; one that touches only cells nobody
    changed since is merged (nothing newer is overwritten), and the other changed cells come back
    in ``DraftSaved.newer``. No ``base`` (an old page, a script without versions): merged as is.
    """
    if not assignment.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    spec = assignment.shape_spec
    posted = _flat(spec, clean_answers(spec, answers))
    names = answer_names(spec)
    wanted = None if carried is None else set(carried)
    touched = names if wanted is None else tuple(n for n in names if n in wanted)
    for last_try in (False, True):
        try:
            with transaction.atomic():
                # Locked: a stale copy saved over a submit committed meanwhile would turn the
                # graded attempt back into a draft.
                _lock_student(assignment, student)
                draft = submission_draft(assignment=assignment, student=student, lock=True)
                saved = _merge_into_draft(assignment, student, draft, posted=posted, touched=touched, base=base)
            return saved
        except IntegrityError:
            # A concurrent save created the draft between our read and our insert: update it.
            if last_try:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _merge_into_draft(assignment: Assignment, student, draft: Submission | None, *, posted: dict[str, str],
                      touched: Collection[str], base: int | None) -> DraftSaved:
    """``draft_save``'s merge, inside the caller's transaction, with the student's writes locked
    and ``draft`` (their current draft or None) read under that lock."""
    spec = assignment.shape_spec
    if draft is None:
        draft = Submission(assignment=assignment, student=student, attempt=_next_attempt(assignment, student))
        if base:
            # The page's draft was handed in meanwhile (another tab): the page
            # shows that attempt's answers, so the new draft starts from them.
            draft.answers = _last_answers(assignment, student)
    stored = _flat(spec, draft.answers)
    version = draft_version(draft)
    newer: dict[str, str] = {}
    if base is not None and base < version:
        changed = _changed_since(spec, draft, base, stored)
        clash = [n for n in touched if (changed is None or n in changed)
                 and posted.get(n, "") != stored.get(n, "")]
        if clash:
            raise DraftConflict(_conflict_message(spec, clash),
                                newer={n: stored.get(n, "") for n in clash}, version=version)
        newer = {n: stored.get(n, "") for n in (changed if changed is not None else stored)
                 if n not in touched}
    merged = dict(stored)
    for name in touched:
        if posted.get(name):
            merged[name] = posted[name]
        else:
            merged.pop(name, None)
    if draft.pk is None:
        _answering(draft)  # a draft is tied to its problem once, when it is made
    draft.answers = _nested(spec, merged)
    # Field checks only: the database's unique constraints guard the rest (below).
    draft.full_clean(exclude=_CHECKED, validate_unique=False, validate_constraints=False)
    draft.save()
    _keep_version(draft, version + 1)
    return DraftSaved(draft, version + 1, newer)


def _last_answers(assignment: Assignment, student) -> Any:
    last = (Submission.objects.filter(assignment=assignment, student=student,
                                      state=Submission.State.SUBMITTED)
            .order_by("-attempt").values_list("answers", flat=True).first())
    return last or {}


def _conflict_message(spec: engine.Spec, names: list[str]) -> str:
    """The refusal of a stale save, naming the answers as the page does ("round 1 s2")."""
    cells = {key.id: key for key in typed_cells(spec)}
    places = [_("round %(round)s %(cell)s") % {"round": cells[n].round, "cell": cells[n].name} if n in cells
              else _("formula %(row)s") % {"row": n.removeprefix("formulas.")} for n in names]
    shown = ", ".join(places[:5]) + (", …" if len(places) > 5 else "")
    return ngettext(
        "Not saved: another tab or device saved a newer value of %(places)s since this page "
        "loaded. What you typed is still here: load the newer value, or keep yours to save it over.",
        "Not saved: another tab or device saved newer values of %(n)s answers (%(places)s) since "
        "this page loaded. What you typed is still here: load the newer values, or keep yours "
        "to save them over.", len(names)) % {"n": len(names), "places": shown}


def draft_restore(*, assignment: Assignment, student, number: int,
                  now: datetime | None = None) -> DraftSaved:
    """Make a new save of the student's draft whose content is its version ``number``: the
    history grows, nothing is rewritten. Raises DraftVersionMissing for a version this
    student's current draft does not keep."""
    if not assignment.has_opened(now):
        raise SubmissionError(opens_message(assignment))
    with transaction.atomic():
        _lock_student(assignment, student)
        draft = submission_draft(assignment=assignment, student=student, lock=True)
        kept = DraftVersion.objects.filter(draft=draft, number=number).first() if draft else None
        if draft is None or kept is None:
            raise DraftVersionMissing(number)
        version = draft_version(draft)
        draft.answers = kept.answers
        draft.full_clean(exclude=_CHECKED, validate_unique=False, validate_constraints=False)
        draft.save()
        _keep_version(draft, version + 1, kind=DraftVersion.Kind.RESTORE, restored_from=number)
    return DraftSaved(draft, version + 1, {})


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
                # One statement: how many attempts are used, and the one this token took, if any.
                counts: dict[str, Aggregate] = {"used": Count("pk", filter=Q(state=Submission.State.SUBMITTED))}
                if token:
                    counts["earlier"] = Max("pk", filter=Q(submit_token=token))
                seen = Submission.objects.filter(assignment=assignment, student=student).aggregate(**counts)
                if seen.get("earlier") is not None:
                    return Accepted(Submission.objects.get(pk=seen["earlier"]), duplicate=True)
                draft = submission_draft(assignment=assignment, student=student, lock=True)
                used = seen["used"]
                terms = student_terms(assignment, student)
                try:
                    check_may_submit(assignment=assignment, student=student, now=now, terms=terms,
                                     used=used)
                except SubmissionError as exc:
                    refused = exc
                    # Not taken, but nothing typed is lost: the whole form becomes the draft,
                    # merged the way an autosave is, in this transaction and under its lock.
                    spec = assignment.shape_spec
                    _merge_into_draft(assignment, student, draft, posted=_flat(spec, cleaned),
                                      touched=answer_names(spec), base=None)
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


def others_of(submission: Submission, index: Any = None) -> Others | None:
    """The class's numbers for this attempt's student (the copy signal on its roots); None, with
    a warning logged, when the index cannot be built: a grading never fails because of it.
    ``index``: the assignment's class index when the caller read it already (a class regrade
    reads it once, not once per attempt)."""
    try:
        if index is not None:
            return index.view(submission.student.get_username())
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
