"""Staff changes on top of an automatic report, and the difference between two reports.

Pure (no Django). An attempt's grade is a chain of records: an automatic (or regrade) report,
then the overrides and reviews staff made, each a list of ``Change``s. ``apply`` replays the
changes on a report with the grader's own scoring rule, so a regrade keeps every staff decision
and the stored current report never needs re-deriving on read. ``diff`` says what a regrade
would change, cell by cell, and ``kept_overrides`` what it keeps ("Q2: grader 22.4, override 30").

A staff change is taken back by a later one of kind ``withdraw`` (target "<kind>:<target>"),
never by editing a record: ``resolve`` leaves out what a withdrawal took back, so ``replay`` (and
every regrade) gives the grader's own mark or points there again, and ``live_overrides`` lists
what is still in force on a report.
"""

from __future__ import annotations

import hashlib
import json
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import msgspec

from grading.engine import cell_id_text, single_layer_cell
from grading.grade.grader import grade_submission, score_questions
from grading.grade.report import Adjustment, Report
from grading.engine.text import Text, _
from grading.formulas.check import FormulaStatus
from grading.marking.roots import Others, RootState
from grading.marking.tables import MarkStatus

S = TypeVar("S", bound=str)
CELL_STATUSES: tuple[MarkStatus, ...] = ("correct", "carried", "incorrect")
FORMULA_STATUSES: tuple[FormulaStatus, ...] = ("correct", "not_chained", "incorrect")
KINDS = ("cell", "formula", "question", "total", "root", "withdraw")
# What a withdrawal can take back: a mark or points staff set (a root decision is changed by a
# later decision instead). A withdrawal's target is "<kind>:<target>" ("question:Q2", "total:").
WITHDRAWABLE = ("cell", "formula", "question", "total")
# A root of carried credit that nothing honest explains: staff accept it (its carried cells earn
# their credit) or decline it (they are wrong); a decision may be changed by a later one.
ROOT_DECISIONS: tuple[RootState, ...] = ("accepted", "declined")
# Any root may be decided: one waiting for review, one refused by the policy, an explained one
# staff judge otherwise, one the policy "carry" carried; a decision may be changed by a later one.
DECIDABLE_ROOTS = ("waiting", "refused", "accepted", "declined", "explained", "carried")


class ChangeError(ValueError):
    """A change that does not fit the report (no such cell, points out of range, ...); its
    message is a ``grading.engine.text.Text`` (``str(exc)`` is in the reader's language)."""


@dataclass(frozen=True)
class Change:
    """One mark set by staff. ``status``/``credit`` for a cell or Q1 row, ``points`` otherwise."""

    kind: str           # cell | formula | question | total | root | withdraw
    target: str = ""    # cell id, Q1 row, question id; "" for the total; "<kind>:<target>" for
    #                     a withdrawal (the staff changes of that mark go, the grader's stands)
    status: str = ""
    credit: float | None = None
    points: float | None = None


@dataclass(frozen=True)
class Applied:
    """A change with its record's who, when and why: what ``apply`` writes into adjustments."""

    change: Change
    record: int
    reason: str
    note: str
    by: str
    at: str
    review: bool = False


def check(report: Report, change: Change) -> None:
    """Raise ChangeError when ``change`` does not fit ``report``; the message is for staff."""
    if change.kind not in KINDS:
        raise ChangeError(_("unknown kind of change %(kind)s", kind=repr(change.kind)))
    if change.kind == "withdraw":
        withdrawn(change)
        return
    if change.kind == "cell":
        if report.cell(change.target) is None:
            raise ChangeError(_("there is no cell %(cell)s in this attempt", cell=repr(change.target)))
        _check_mark(change, CELL_STATUSES)
    elif change.kind == "formula":
        if report.formula(change.target) is None:
            raise ChangeError(_("there is no Q1 row %(row)s in this attempt", row=repr(change.target)))
        _check_mark(change, FORMULA_STATUSES)
    elif change.kind == "root":
        root = report.root(change.target)
        if root is None or root.state not in DECIDABLE_ROOTS:
            raise ChangeError(_("there is no root waiting for a decision at %(cell)s in this attempt",
                                cell=place(report, change.target)))
        if change.status not in ROOT_DECISIONS:
            raise ChangeError(_("a root is accepted or declined"))
    else:
        limit = report.max_with_extra if change.kind == "total" else getattr(
            report.question(change.target), "max", None)
        if limit is None:
            raise ChangeError(_("there is no question %(question)s in this attempt",
                                question=repr(change.target)))
        if change.points is None or not 0 <= change.points <= limit:
            raise ChangeError(_("points must be between 0 and %(limit)s", limit=f"{limit:g}"))


def place(report: Report, target: str) -> str:
    """How a message to people names a cell, root, Q1 row or question of ``report``, as the pages
    do ("round 1 s1", "round 2 updated w11", "Q1 dL/ds1", "Q2"), never a raw cell id; a target
    the report lacks (a forged or stale request) is quoted as it came."""
    mark = report.cell(target) or report.root(target)
    if mark is not None:
        if mark.column == "parameters":
            return _("round %(round)s parameter %(cell)s", round=mark.round, cell=mark.name)
        if mark.column == "updated":
            return _("round %(round)s updated %(cell)s", round=mark.round, cell=mark.name)
        return _("round %(round)s %(cell)s", round=mark.round, cell=mark.name)
    if report.formula(target) is not None:
        return _("Q1 %(row)s", row=target)
    if report.question(target) is not None:
        return target
    return repr(target)


def withdrawal(kind: str, target: str = "") -> Change:
    """The change that takes back every staff change of one mark (``kind``, ``target``)."""
    return Change(kind="withdraw", target=f"{kind}:{target if kind != 'total' else ''}")


def withdrawn(change: Change) -> tuple[str, str]:
    """The (kind, target) a withdrawal takes back; ChangeError when it names no such mark."""
    kind, _sep, target = change.target.partition(":")
    if kind not in WITHDRAWABLE or (kind != "total" and not target):
        raise ChangeError(_("a withdrawal names a mark staff set: %(target)s", target=repr(change.target)))
    return kind, target if kind != "total" else ""


def live_overrides(report: Report) -> list[Adjustment]:
    """The staff changes of ``report`` still in force, in order: every adjustment of a mark
    (cell, Q1 row, question points, total) no later withdrawal took back."""
    live: list[Adjustment] = []
    for a in report.adjustments:
        if a.kind == "withdraw":
            kind, target = withdrawn(Change(kind="withdraw", target=a.target))
            live = [b for b in live if (b.kind, b.target) != (kind, target)]
        elif a.kind in WITHDRAWABLE:
            live.append(a)
    return live


def check_withdrawal(report: Report, change: Change) -> None:
    """Raise ChangeError unless ``change`` withdraws a staff change in force on ``report``."""
    kind, target = withdrawn(change)
    if not any((a.kind, a.target) == (kind, target) for a in live_overrides(report)):
        raise ChangeError(_("there is no change by staff to withdraw at %(target)s",
                            target=place(report, target) if target else _("the total")))


def resolve(changes: Sequence[Applied]) -> list[Applied]:
    """The staff changes with those a later withdrawal took back left out (the withdrawals
    themselves stay: they are part of the history a report shows)."""
    kept: list[Applied] = []
    for applied in changes:
        if applied.change.kind == "withdraw":
            kind, target = withdrawn(applied.change)
            kept = [a for a in kept if a.change.kind == "withdraw"
                    or (a.change.kind, a.change.target) != (kind, target)]
        kept.append(applied)
    return kept


def _one_of(statuses: Sequence[S], status: str) -> S:
    """``status`` as one of ``statuses`` (which ``check`` made sure it is)."""
    for known in statuses:
        if known == status:
            return known
    raise ChangeError(_("the mark must be one of %(marks)s", marks=", ".join(statuses)))


def _present(value: float | None) -> float:
    """A credit or points value ``check`` made sure is there."""
    if value is None:
        raise ChangeError(_("credit must be between 0 and 1"))
    return value


def _check_mark(change: Change, statuses: Sequence[str]) -> None:
    if change.status not in statuses:
        raise ChangeError(_("the mark must be one of %(marks)s", marks=", ".join(statuses)))
    if change.credit is None or not 0 <= change.credit <= 1:
        raise ChangeError(_("credit must be between 0 and 1"))


def apply(report: Report, changes: Iterable[Applied]) -> Report:
    """``report`` with every change made, in order, and the scores recomputed by the grader's
    rule; question and total overrides win over what the marks add up to.

    A withdrawal of question or total points lets the marks add up again; a withdrawal of a
    cell's or Q1 row's mark needs the grader's own mark, so it is made by ``replay`` on the
    automatic report (here it only enters the history)."""
    changes = list(changes)
    if not changes:
        return report
    cells = {c.id: c for c in report.cells}
    formulas = {f.row: f for f in report.formulas}
    roots = {r.id: r for r in report.roots}
    # Points staff set earlier stay set: a report may already carry changes (the current grade);
    # points a withdrawal took back do not.
    live = live_overrides(report)
    question_points = {a.target: a.points for a in live if a.kind == "question" and a.points is not None}
    total_points = [a.points for a in live if a.kind == "total" and a.points is not None]

    def current() -> Report:
        new_cells = tuple(cells[c.id] for c in report.cells)
        questions, new_formulas = score_questions(
            report.questions, new_cells, tuple(formulas[f.row] for f in report.formulas))
        questions = tuple(replace(q, score=question_points[q.id]) if q.id in question_points else q
                          for q in questions)
        total = total_points[-1] if total_points else round(sum(q.score for q in questions), 4)
        return replace(report, cells=new_cells, formulas=new_formulas, questions=questions,
                       total=total, roots=tuple(roots[r.id] for r in report.roots))

    adjustments = list(report.adjustments)
    was: Text | str
    now: Text | str
    for applied in changes:
        change = applied.change
        check(report, change)
        if change.kind == "cell":
            before = cells[change.target]
            status, credit = _one_of(CELL_STATUSES, change.status), _present(change.credit)
            cells[change.target] = replace(before, status=status, credit=float(credit),
                                           message=_staff_message(applied, before.status, before.message))
            was, now = _mark_text(before.status, before.credit), _mark_text(status, credit)
        elif change.kind == "formula":
            row = formulas[change.target]
            row_status, credit = _one_of(FORMULA_STATUSES, change.status), _present(change.credit)
            formulas[change.target] = replace(row, status=row_status, credit=float(credit),
                                              message=_staff_message(applied, row.status, row.message))
            was, now = _mark_text(row.status, row.credit), _mark_text(row_status, credit)
        elif change.kind == "root":
            before_root = roots[change.target]
            roots[change.target] = replace(before_root, state=_one_of(ROOT_DECISIONS, change.status))
            staff_set = {a.target for a in adjustments if a.kind == "cell"}
            _carry_from_roots(cells, roots, [c for c in before_root.carried if c not in staff_set], applied)
            was, now = _STATUS_WORDS[before_root.state], _STATUS_WORDS[change.status]
        elif change.kind == "withdraw":
            kind, target = withdrawn(change)
            was = (f"{current().total:g}" if kind == "total" else
                   f"{getattr(current().question(target), 'score', 0.0):g}" if kind == "question" else "")
            if kind == "question":
                question_points.pop(target, None)
            elif kind == "total":
                total_points.clear()
            now = (f"{current().total:g}" if kind == "total" else
                   f"{getattr(current().question(target), 'score', 0.0):g}" if kind == "question" else "")
            if kind in ("cell", "formula"):
                mark = cells.get(target) if kind == "cell" else formulas.get(target)
                now = _mark_text(mark.status, mark.credit) if mark is not None else ""
                was = _("set by staff")
        elif change.kind == "question":
            question, points = current().question(change.target), _present(change.points)
            if question is None:  # pragma: no cover - check() refused it
                raise ChangeError(_("there is no question %(question)s in this attempt",
                                    question=repr(change.target)))
            was = f"{question.score:g}"
            question_points[change.target] = float(points)
            now = f"{points:g}"
        else:
            points = _present(change.points)
            was = f"{current().total:g}"
            total_points.append(float(points))
            now = f"{points:g}"
        adjustments.append(Adjustment(record=applied.record, kind=change.kind, target=change.target,
                                      before=was, after=now, reason=applied.reason, note=applied.note,
                                      by=applied.by, at=applied.at, review=applied.review,
                                      points=change.points if change.kind in ("question", "total") else None))
    return replace(current(), adjustments=tuple(adjustments))


# A mark's status as an adjustment's before/after shows it ("incorrect (0)"): the English is the
# status itself, as it always was.
_STATUS_WORDS = {"correct": _("correct"), "carried": _("carried"), "incorrect": _("incorrect"),
                 "pending": _("carried, waiting for review"), "waiting": _("waiting for review"),
                 "accepted": _("accepted"), "declined": _("declined"), "refused": _("refused"),
                 "explained": _("explained: carried"),
                 "not_chained": _("not_chained"), "undecided": _("undecided"),
                 "invalid": _("invalid"), "blank": _("blank")}


def _carry_from_roots(cells: dict[str, Any], roots: Mapping[str, Any], carried: Sequence[str],
                      applied: Applied) -> None:
    """Each cell carried from a decided root, marked by all of its roots' decisions: wrong if one
    was declined (or refused), still waiting while one waits, else carried with its credit. (A
    cell whose mark staff set by hand is left out by the caller: that decision stands.)"""
    for cell_id in carried:
        mark = cells.get(cell_id)
        if mark is None or mark.status not in ("pending", "carried", "incorrect"):
            continue
        mine = [r for r in roots.values() if cell_id in r.carried]
        states = {r.state for r in mine}
        if states & {"declined", "refused"}:
            status, credit = "incorrect", 0.0
        elif "waiting" in states:
            status, credit = "pending", 0.0
        else:
            status, credit = "carried", max(r.credit for r in mine)
        if (status, credit) != (mark.status, mark.credit):
            words = (_("carried credit given on review by staff") if status == "carried" else
                     _("carried credit declined on review by staff") if status == "incorrect" else mark.message)
            if applied.note and status != "pending":
                words = _("%(said)s: %(note)s", said=words, note=applied.note)
            cells[cell_id] = replace(mark, status=status, credit=credit, message=words)


def _mark_text(status: str, credit: float) -> Text:
    return _("%(mark)s (%(credit)s)", mark=_STATUS_WORDS.get(status, status), credit=f"{credit:g}")


def _staff_message(applied: Applied, before: str, automatic: str) -> Text:
    """What a cell or Q1 row says once staff set its mark: who, the note, what the grader said
    (``automatic``, a Text kept whole, so it is read in the reader's language too)."""
    said = _("reviewed by staff") if applied.review else _("mark set by staff")
    if applied.note:
        said = _("%(said)s: %(note)s", said=said, note=applied.note)
    if before == "undecided":  # the grader's "staff will review this row" is now answered
        return said
    return _("%(said)s (the grader said: %(automatic)s)", said=said, automatic=automatic)


# ---------------------------------------------------------------- differences


@dataclass(frozen=True)
class MarkChange:
    id: str
    old: str
    new: str


@dataclass(frozen=True)
class KeptOverride:
    """A staff change a regrade keeps, beside what the grader now gives there: "Q2: grader
    22.4, override 30 kept". ``grader``/``kept`` are points (question, total) or a mark's status."""

    kind: str
    target: str
    grader: str
    kept: str

    @property
    def differs(self) -> bool:
        return self.grader != self.kept


@dataclass(frozen=True)
class ReportDiff:
    """What changes from one report to another: total, questions, cells and Q1 rows; with a
    regrade, the staff changes it keeps and a digest of the new report (what applying writes)."""

    old_total: float
    new_total: float
    questions: tuple[tuple[str, float, float], ...]
    cells: tuple[MarkChange, ...]
    formulas: tuple[MarkChange, ...]
    kept: tuple[KeptOverride, ...] = ()
    digest: str = ""

    @property
    def changed(self) -> bool:
        return bool(self.questions or self.cells or self.formulas
                    or abs(self.old_total - self.new_total) > 1e-9)

    @property
    def score_changed(self) -> bool:
        """Points change (a question or the total), not only a mark's status (carried → correct)."""
        return bool(self.questions or abs(self.old_total - self.new_total) > 1e-9)


# A report's marks as a diff reads them: total, question scores, cell marks, Q1 marks.
Marks = tuple[float, dict[str, float], dict[str, tuple[str, float]], dict[str, tuple[str, float]]]


def _marks(report: Report | Mapping[str, Any]) -> Marks:
    """Total, question scores, cell marks and Q1 marks of a report, typed or as stored JSON
    (reading the stored form directly is what makes a class regrade cheap)."""
    if isinstance(report, Report):
        return (report.total, {q.id: q.score for q in report.questions},
                {c.id: (c.status, c.credit) for c in report.cells},
                {f.row: (f.status, f.credit) for f in report.formulas})
    cells = {(c.get("id") or cell_id_text(single_layer_cell(c["round"], c["column"], c["name"]), 1)):
             (c["status"], c["credit"]) for c in report.get("cells", ())}  # schema 0 had no ids
    return (float(report.get("total", 0.0)), {q["id"]: q["score"] for q in report.get("questions", ())},
            cells, {f["row"]: (f["status"], f["credit"]) for f in report.get("formulas", ())})


# A stored report's marks decoded from its text into only the fields a diff reads (msgspec
# skips the rest, 40 kB of it, without building it): 0.07 ms against 0.31 ms for json.loads and
# the dictionaries, a quarter of a class dry run's time per attempt. The same marks as ``_marks``
# of the parsed JSON (tests/test_regrade_fast.py); a text these fields do not fit (it never
# should) is parsed whole, as before.
class _StoredCell(msgspec.Struct):
    status: str
    credit: float
    id: str | None = None       # schema 0 had none: its place instead
    round: int = 0
    column: str = ""
    name: str = ""


class _StoredRow(msgspec.Struct):
    row: str
    status: str
    credit: float


class _StoredQuestion(msgspec.Struct):
    id: str
    score: float


class _StoredMarks(msgspec.Struct):
    total: float = 0.0
    questions: list[_StoredQuestion] = []
    cells: list[_StoredCell] = []
    formulas: list[_StoredRow] = []


_STORED = msgspec.json.Decoder(_StoredMarks)


def stored_marks(text: str) -> Marks:
    """``_marks`` of a report stored as JSON text, reading only the fields it needs."""
    try:
        m = _STORED.decode(text)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return _marks(json.loads(text))
    return (m.total, {q.id: q.score for q in m.questions},
            {(c.id or cell_id_text(single_layer_cell(c.round, c.column, c.name), 1)): (c.status, c.credit)
             for c in m.cells},
            {f.row: (f.status, f.credit) for f in m.formulas})


def diff(old: Report | Mapping[str, Any], new: Report) -> ReportDiff:
    """Every question score, cell mark and Q1 verdict that differs between two reports (the old
    one typed or as stored)."""
    return _diff(_marks(old), new)


def _diff(old: Marks, new: Report) -> ReportDiff:
    old_total, old_q, old_cells, old_rows = old
    new_total, new_q, new_cells, new_rows = _marks(new)
    questions = tuple((q, old_q.get(q, 0.0), score) for q, score in new_q.items()
                      if abs(old_q.get(q, 0.0) - score) > 1e-9)
    cells = tuple(MarkChange(i, old_cells[i][0] if i in old_cells else "absent", mark[0])
                  for i, mark in new_cells.items() if old_cells.get(i) != mark)
    formulas = tuple(MarkChange(r, old_rows[r][0] if r in old_rows else "absent", mark[0])
                     for r, mark in new_rows.items() if old_rows.get(r) != mark)
    return ReportDiff(old_total, new_total, questions, cells, formulas)


def regrade_one(spec: Any, config: Any, answers: Any, current: Mapping[str, Any] | str,
                changes: Sequence[Applied], keep: bool = True,
                others: Others | None = None) -> tuple[ReportDiff, Report | None]:
    """Grade ``answers`` again, replay the staff ``changes`` that still fit, and compare with the
    ``current`` stored report (its JSON, parsed or as text): the diff, and (when ``keep`` and
    the grade changes) the grader's new report; ``others``: the class's numbers for the copy
    signal on roots. Runs in a grading pool's worker."""
    [found] = regrade_group(spec, config, answers, others, [(current, changes, keep)])
    return found


Compared = tuple[Mapping[str, Any] | str, Sequence[Applied], bool]  # current report, changes, keep


def regrade_group(spec: Any, config: Any, answers: Any, others: Others | None,
                  attempts: Sequence[Compared]) -> list[tuple[ReportDiff, Report | None]]:
    """``regrade_one`` for attempts that typed the same ``answers`` on the same problem with
    the same class numbers around them: graded once (the grader is a function of exactly
    these), each compared with its own current report and staff changes."""
    auto = grade_submission(spec, answers, config, others)
    return [compare(auto, current, changes, keep) for current, changes, keep in attempts]


def compare(auto: Report, current: Mapping[str, Any] | str, changes: Sequence[Applied],
            keep: bool = True) -> tuple[ReportDiff, Report | None]:
    """The grader's ``auto`` report with ``changes`` replayed, against the ``current`` stored one."""
    new = replay(auto, changes) if changes else auto
    found = _diff(stored_marks(current) if isinstance(current, str) else _marks(current), new)
    # The digest only where a regrade would write (an unchanged attempt's fingerprint is its
    # record number): hashing every report would cost a class dry run a quarter of its time.
    found = replace(found, kept=kept_overrides(auto, changes, new) if changes else (),
                    digest=digest(new) if found.changed else "")
    return found, (auto if keep and found.changed else None)


# The fingerprint's form: a stored plan made with another form never matches, so an "Apply" of
# a dry run made before the form changed refuses and shows the new diff (safe: nothing is
# written that was not reviewed). 2: the fields below (1 was the SHA-256 of the report's repr).
DIGEST_FORM = "report-fingerprint-2"
_SEP = "\x1f"


def digest(report: Report) -> str:
    """A fingerprint of what a regrade would write, for "apply exactly what was reviewed": every
    field that a grade, a dry run's line or a feedback page's mark reads (totals, each question's
    score and points, each cell's and Q1 row's typed value, status, credit and named mistake, each cell's
    expected value, each root's state, credit, copy signal and carried cells, each staff change's
    record and points) under the grader's version and the decimals; not the messages, which the
    grader words from these. BLAKE2b of the strings joined and the numbers as float64 bits: a
    tenth of the cost of hashing the report's repr, which a class dry run paid per changed attempt."""
    cells, rows, roots, marks = report.cells, report.formulas, report.roots, report.adjustments
    text = [DIGEST_FORM, report.grader_version, str(report.schema), str(report.decimals),
            str(len(cells)), str(len(rows)), str(len(roots)), str(len(marks))]
    text += [q.id for q in report.questions]
    text += [f"{c.id}{_SEP}{c.given}{_SEP}{c.status}{_SEP}{c.mistake or ''}" for c in cells]
    text += [f"{f.row}{_SEP}{f.given}{_SEP}{f.status}" for f in rows]
    text += [f"{r.id}{_SEP}{r.state}{_SEP}{'|'.join(r.copied_from)}{_SEP}{'|'.join(r.carried)}" for r in roots]
    text += [f"{a.record}{_SEP}{a.kind}{_SEP}{a.target}{_SEP}{a.review}{_SEP}{a.points is None}" for a in marks]
    numbers = array("d", (report.total, report.max, report.max_with_extra, report.band))
    numbers.extend([q.score for q in report.questions])
    numbers.extend([q.max for q in report.questions])
    numbers.extend([q.carried for q in report.questions])
    numbers.extend([c.credit for c in cells])
    numbers.extend([c.expected for c in cells])
    numbers.extend([f.credit for f in rows])
    numbers.extend([f.points for f in rows])
    numbers.extend([r.credit for r in roots])
    numbers.extend([a.points for a in marks if a.points is not None])
    fingerprint = hashlib.blake2b(_SEP.join(text).encode(), digest_size=16)
    fingerprint.update(numbers.tobytes())
    return fingerprint.hexdigest()


def kept_overrides(auto: Report, changes: Sequence[Applied], new: Report) -> tuple[KeptOverride, ...]:
    """Every staff change in force on ``new`` (``auto`` with ``changes`` replayed), with what the
    grader gives there without it: points without the points staff set, a mark as graded."""
    live = live_overrides(new)
    if not live:
        return ()
    pins = {("question", a.target) for a in live if a.kind == "question"} | \
        ({("total", "")} if any(a.kind == "total" for a in live) else set())
    plain = replay(auto, [a for a in changes if (a.change.kind, a.change.target) not in pins])
    out: dict[tuple[str, str], KeptOverride] = {}
    for a in live:
        if a.kind == "question":
            grader, kept = plain.question(a.target), new.question(a.target)
            line = KeptOverride("question", a.target, f"{getattr(grader, 'score', 0.0):g}",
                                f"{getattr(kept, 'score', 0.0):g}")
        elif a.kind == "total":
            line = KeptOverride("total", "", f"{plain.total:g}", f"{new.total:g}")
        else:
            mark = auto.cell(a.target) if a.kind == "cell" else auto.formula(a.target)
            now = new.cell(a.target) if a.kind == "cell" else new.formula(a.target)
            line = KeptOverride(a.kind, a.target, getattr(mark, "status", "absent"),
                                getattr(now, "status", "absent"))
        out[(a.kind, a.target)] = line
    return tuple(out.values())


def replay(auto: Report, changes: Sequence[Applied]) -> Report:
    """``auto`` with the staff changes that still fit it (a cell a changed spec no longer has is
    skipped) and no later withdrawal took back."""
    fitting = []
    for applied in resolve(changes):
        try:
            check(auto, applied.change)
        except ChangeError:
            continue
        fitting.append(applied)
    return apply(auto, fitting)
