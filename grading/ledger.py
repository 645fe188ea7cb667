"""Staff changes on top of an automatic report, and the difference between two reports.

Pure (no Django). An attempt's grade is a chain of records: an automatic (or regrade) report,
then the overrides and reviews staff made, each a list of ``Change``s. ``apply`` replays the
changes on a report with the grader's own scoring rule, so a regrade keeps every staff decision
and the stored current report never needs re-deriving on read. ``diff`` says what a regrade
would change, cell by cell.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from grading.grader import score_questions
from grading.report import Adjustment, Report

CELL_STATUSES = ("correct", "carried", "incorrect")
FORMULA_STATUSES = ("correct", "not_chained", "incorrect")
KINDS = ("cell", "formula", "question", "total")


class ChangeError(ValueError):
    """A change that does not fit the report (no such cell, points out of range, ...)."""


@dataclass(frozen=True)
class Change:
    """One mark set by staff. ``status``/``credit`` for a cell or Q1 row, ``points`` otherwise."""

    kind: str           # cell | formula | question | total
    target: str = ""    # cell id, Q1 row, question id; "" for the total
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
        raise ChangeError(f"unknown kind of change {change.kind!r}")
    if change.kind == "cell":
        if report.cell(change.target) is None:
            raise ChangeError(f"there is no cell {change.target!r} in this attempt")
        _check_mark(change, CELL_STATUSES)
    elif change.kind == "formula":
        if report.formula(change.target) is None:
            raise ChangeError(f"there is no formula row {change.target!r} in this attempt")
        _check_mark(change, FORMULA_STATUSES)
    else:
        limit = report.max_with_extra if change.kind == "total" else getattr(
            report.question(change.target), "max", None)
        if limit is None:
            raise ChangeError(f"there is no question {change.target!r} in this attempt")
        if change.points is None or not 0 <= change.points <= limit:
            raise ChangeError(f"points must be between 0 and {limit:g}")


def _check_mark(change: Change, statuses: Sequence[str]) -> None:
    if change.status not in statuses:
        raise ChangeError(f"the mark must be one of {', '.join(statuses)}")
    if change.credit is None or not 0 <= change.credit <= 1:
        raise ChangeError("credit must be between 0 and 1")


def apply(report: Report, changes: Iterable[Applied]) -> Report:
    """``report`` with every change made, in order, and the scores recomputed by the grader's
    rule; question and total overrides win over what the marks add up to."""
    changes = list(changes)
    if not changes:
        return report
    cells = {c.id: c for c in report.cells}
    formulas = {f.row: f for f in report.formulas}
    # Points staff set earlier stay set: a report may already carry changes (the current grade).
    question_points = {a.target: a.points for a in report.adjustments
                       if a.kind == "question" and a.points is not None}
    total_points = [a.points for a in report.adjustments if a.kind == "total" and a.points is not None]

    def current() -> Report:
        new_cells = tuple(cells[c.id] for c in report.cells)
        questions, new_formulas = score_questions(
            report.questions, new_cells, tuple(formulas[f.row] for f in report.formulas))
        questions = tuple(replace(q, score=question_points[q.id]) if q.id in question_points else q
                          for q in questions)
        total = total_points[-1] if total_points else round(sum(q.score for q in questions), 4)
        return replace(report, cells=new_cells, formulas=new_formulas, questions=questions,
                       total=total)

    adjustments = list(report.adjustments)
    for applied in changes:
        change = applied.change
        check(report, change)
        if change.kind == "cell":
            before = cells[change.target]
            cells[change.target] = replace(before, status=change.status, credit=float(change.credit),
                                           message=_staff_message(applied, before.status, before.message))
            was, now = _mark_text(before.status, before.credit), _mark_text(change.status, change.credit)
        elif change.kind == "formula":
            row = formulas[change.target]
            formulas[change.target] = replace(row, status=change.status, credit=float(change.credit),
                                              message=_staff_message(applied, row.status, row.message))
            was, now = _mark_text(row.status, row.credit), _mark_text(change.status, change.credit)
        elif change.kind == "question":
            was = f"{current().question(change.target).score:g}"
            question_points[change.target] = float(change.points)
            now = f"{change.points:g}"
        else:
            was = f"{current().total:g}"
            total_points.append(float(change.points))
            now = f"{change.points:g}"
        adjustments.append(Adjustment(record=applied.record, kind=change.kind, target=change.target,
                                      before=was, after=now, reason=applied.reason, note=applied.note,
                                      by=applied.by, at=applied.at, review=applied.review,
                                      points=change.points if change.kind in ("question", "total") else None))
    return replace(current(), adjustments=tuple(adjustments))


def _mark_text(status: str, credit: float) -> str:
    return f"{status} ({credit:g})"


def _staff_message(applied: Applied, before: str, automatic: str) -> str:
    said = "reviewed by staff" if applied.review else "mark set by staff"
    note = f": {applied.note}" if applied.note else ""
    if before == "undecided":  # the grader's "staff will review this row" is now answered
        return f"{said}{note}"
    return f"{said}{note} (the grader said: {automatic})"


# ---------------------------------------------------------------- differences


@dataclass(frozen=True)
class MarkChange:
    id: str
    old: str
    new: str


@dataclass(frozen=True)
class ReportDiff:
    """What changes from one report to another: total, questions, cells and Q1 rows."""

    old_total: float
    new_total: float
    questions: tuple[tuple[str, float, float], ...]
    cells: tuple[MarkChange, ...]
    formulas: tuple[MarkChange, ...]

    @property
    def changed(self) -> bool:
        return bool(self.questions or self.cells or self.formulas
                    or abs(self.old_total - self.new_total) > 1e-9)


def diff(old: Report, new: Report) -> ReportDiff:
    """Every question score, cell mark and Q1 verdict that differs between two reports."""
    old_q = {q.id: q.score for q in old.questions}
    questions = tuple((q.id, old_q.get(q.id, 0.0), q.score) for q in new.questions
                      if abs(old_q.get(q.id, 0.0) - q.score) > 1e-9)
    old_cells = {c.id: c for c in old.cells}
    cells = tuple(MarkChange(c.id, old_cells[c.id].status if c.id in old_cells else "absent", c.status)
                  for c in new.cells
                  if c.id not in old_cells or (old_cells[c.id].status, old_cells[c.id].credit)
                  != (c.status, c.credit))
    old_rows = {f.row: f for f in old.formulas}
    formulas = tuple(MarkChange(f.row, old_rows[f.row].status if f.row in old_rows else "absent", f.status)
                     for f in new.formulas
                     if f.row not in old_rows or (old_rows[f.row].status, old_rows[f.row].credit)
                     != (f.status, f.credit))
    return ReportDiff(old.total, new.total, questions, cells, formulas)
