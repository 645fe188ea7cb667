"""Question 1's verdicts: each row's formula against the engine graph's, and its chained form."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from grading.mistakes import alternatives_by_cell

from .lexer import MAX_LENGTH
from .mathml import to_mathml
from .names import vocabulary
from .nodes import Expr, FormulaError, Name, names_in, to_text, walk
from .numeric import Comparison, Points, compare, depends_on, hint_for, random_points, substitute
from .parser import parse_formula, parse_with_notes
from .rows import Row, Table, q1_table
from .sandbox import run_with_deadline
from .symbolic import definitions, equivalent

STATUSES = ("correct", "not_chained", "incorrect", "undecided", "invalid", "blank")
_MARGIN = 0.1      # seconds kept back from the time limit to assemble the marks
_HINT_NODES = 80   # no "x1 in place of x2" search on long formulas: it is a hint, not a verdict
_HINT_TRIES = 120  # nor more candidates than this per row (a 9x9 network has 80 other w's)


@dataclass(frozen=True)
class FormulaMark:
    """The verdict on one row of Q1, with what the app understood and how to show it."""

    row: str
    given: str
    status: str
    message: str
    credit: float
    understood: str
    mathml: str


@dataclass
class _Work:
    row: Row
    given: str
    expr: Expr
    notes: list[str]
    numeric: Comparison


@lru_cache(maxsize=None)
def _points(n_inputs: int, n_outputs: int) -> Points:
    return random_points(q1_table(n_inputs, n_outputs))


def grade_formulas(answers: Mapping[str, str], *, n_inputs: int = 2, n_outputs: int = 2,
                   not_chained_credit: float = 0.5, time_limit: float = 2.0) -> list[FormulaMark]:
    """One mark per Q1 row, in table order; the whole check ends within ``time_limit`` seconds."""
    deadline = time.monotonic() + time_limit - min(_MARGIN, time_limit / 5)
    table = q1_table(n_inputs, n_outputs)
    points = _points(n_inputs, n_outputs)
    marks: dict[str, FormulaMark] = {}
    pending: list[_Work] = []
    for row in table.rows:
        given = answers.get(row.name) if isinstance(answers, Mapping) else None
        if time.monotonic() > deadline:
            marks[row.name] = _mark(row, given, "undecided", "could not decide in time; "
                                    "an instructor will review this row")
            continue
        outcome = _first_look(row, given, table, points, deadline)
        if isinstance(outcome, FormulaMark):
            marks[row.name] = outcome
        else:
            pending.append(outcome)
    # Clear numeric agreement is checked symbolically too, first; unclear numerics go last, so a
    # hostile row cannot starve the others of the child's time.
    pending.sort(key=lambda w: w.numeric.verdict != "equal")
    tasks = [(w.row.name, (w.expr, w.row.name, table)) for w in pending]
    if tasks:
        definitions(table)  # built once here, inherited by every forked child
    symbolic = run_with_deadline(equivalent, tasks, deadline)
    for work in pending:
        marks[work.row.name] = _decide(work, symbolic.get(work.row.name), table, not_chained_credit)
    return [marks[row.name] for row in table.rows]


def _mark(row: Row, given: object, status: str, message: str, credit: float = 0.0,
          expr: Expr | None = None) -> FormulaMark:
    shown = given if isinstance(given, str) else ("" if given is None else repr(given)[:MAX_LENGTH])
    understood = to_text(expr) if expr is not None else ""
    mathml = to_mathml(expr) if expr is not None else ""
    return FormulaMark(row.name, shown, status, message, credit, understood, mathml)


def _first_look(row: Row, given: object, table: Table, points: Points,
                deadline: float = float("inf")) -> FormulaMark | _Work:
    """Everything decided in-process: blank, invalid, circular, numerically different."""
    if given is None or (isinstance(given, str) and not given.strip()):
        return _mark(row, given, "blank", "no answer")
    if not isinstance(given, str):
        return _mark(row, given, "invalid", "the answer must be text")
    try:
        expr, notes = parse_with_notes(_right_hand_side(given, row, table),
                                       n_inputs=table.n_inputs, n_outputs=table.n_outputs)
    except FormulaError as exc:
        return _mark(row, given, "invalid", exc.message)
    circular = _circular(row, expr, table)
    if circular:
        return _mark(row, given, "incorrect", _with_notes(circular, notes), expr=expr)
    numeric = compare(expr, row.expr, points)
    if numeric.verdict == "undefined":
        return _mark(row, given, "incorrect", _with_notes(numeric.reason, notes), expr=expr)
    if numeric.verdict == "different":
        return _mark(row, given, "incorrect",
                     _with_notes(_wrong(row, expr, table, points, deadline), notes), expr=expr)
    return _Work(row, given, expr, notes, numeric)


def _right_hand_side(given: str, row: Row, table: Table) -> str:
    """Accept 'dL/ds1 = ...' for row dL/ds1: students copy the left-hand side from the sheet."""
    if len(given) > MAX_LENGTH or "=" not in given:
        return given
    left, right = given.split("=", 1)
    try:
        lhs, _ = parse_with_notes(left, n_inputs=table.n_inputs, n_outputs=table.n_outputs)
    except FormulaError:
        return given
    if lhs == Name(row.name):
        return right
    raise FormulaError(f"this row is {row.name}, but the answer starts with '{left.strip()} =': "
                       "write only the right-hand side", 0)


def _circular(row: Row, expr: Expr, table: Table) -> str:
    used = names_in(expr)
    if row.name in used:
        return f"circular: {row.name} is written in terms of itself"
    after = set(table.descendants(row.name))
    for name in used:
        if name in after:
            return f"circular: {name} is computed from {row.name}, so {row.name} cannot use it"
    for name in used:
        other = table.by_name.get(name)
        if other is not None and other.index > row.index and name not in row.ancestors:
            return (f"{name} comes after {row.name} in the table: a formula may only use what is "
                    "computed before it")
    return ""


def _wrong(row: Row, expr: Expr, table: Table, points: Points,
           deadline: float = float("inf")) -> str:
    base = f"not equivalent to {row.name}"
    # What is off (a sign, a factor, an index), then the idea behind it when it is a named mistake.
    hints = [hint_for(expr, row.expr, points) or _swap_hint(row, expr, table, points, deadline),
             _mistake_hint(row, expr, table, points)]
    hint = "; ".join(h for h in hints if h)
    return f"{base}: {hint}" if hint else base


@lru_cache(maxsize=None)
def _row_mistakes(n_inputs: int, n_outputs: int) -> dict[str, tuple[tuple[str, Expr], ...]]:
    """Q1 row -> (message, mistaken formula) from the named mistakes the tables are marked with."""
    out: dict[str, list[tuple[str, Expr]]] = {}
    for (_, name), found in alternatives_by_cell(n_inputs, n_outputs, 1.0).items():
        for mistake, alt in found:
            try:
                wrong = parse_formula(alt.formula, n_inputs=n_inputs, n_outputs=n_outputs)
            except FormulaError:
                continue  # written over cells that Q1 has no name for (the updates)
            out.setdefault(name, []).append((f"{mistake.title}. {mistake.explanation}", wrong))
    return {name: tuple(v) for name, v in out.items()}


def _mistake_hint(row: Row, expr: Expr, table: Table, points: Points) -> str:
    """The named mistake a wrong formula is, when it is one of them (same data as the tables)."""
    for message, wrong in _row_mistakes(table.n_inputs, table.n_outputs).get(row.name, ()):
        if compare(expr, wrong, points).verdict == "equal":
            return message
    return ""


def _swap_hint(row: Row, expr: Expr, table: Table, points: Points,
               deadline: float = float("inf")) -> str:
    """'with x1 in place of x2 it would be right': the usual slips of index and of s for f.

    Runs in the server's own process, so it is bounded: at most _HINT_TRIES candidates, and
    none once the submission's deadline has passed.
    """
    if sum(1 for _ in walk(expr)) > _HINT_NODES:
        return ""
    names = sorted(vocabulary(table.n_inputs, table.n_outputs).all)
    tries = 0
    for used in names_in(expr):
        for other in _look_alikes(used, names):
            tries += 1
            if tries > _HINT_TRIES or time.monotonic() > deadline:
                return ""
            candidate = substitute(expr, {used: Name(other)})
            if _circular(row, candidate, table):
                continue
            try:
                if compare(candidate, row.expr, points).verdict == "equal":
                    return f"with {other} in place of {used} it would be right"
            except ArithmeticError:
                continue
    return ""


def _look_alikes(name: str, names: list[str]) -> list[str]:
    head = name.rstrip("0123456789")
    swaps = {"s": "f", "f": "s", "dL/ds": "dL/df", "dL/df": "dL/ds"}
    out = [n for n in names if n != name and n.rstrip("0123456789") == head]
    if head in swaps:
        out.append(swaps[head] + name[len(head):])
    return [n for n in out if n in names]


def _decide(work: _Work, symbolic: tuple[str, str] | None, table: Table,
            not_chained_credit: float) -> FormulaMark:
    row, given, expr, notes = work.row, work.given, work.expr, work.notes
    numeric = work.numeric.verdict
    sym, reason = symbolic if symbolic is not None else ("timeout", "ran out of time")
    if numeric == "equal" and sym == "equal" or numeric == "unknown" and sym == "equal":
        return _chained(work, table, not_chained_credit)
    if numeric == "unknown" and sym == "different":
        return _mark(row, given, "incorrect", _with_notes(f"not equivalent to {row.name}", notes), expr=expr)
    if numeric == "equal" and sym == "different":
        reason = "the numeric and symbolic checks disagree"
    elif numeric == "unknown" and sym != "equal":
        reason = work.numeric.reason or reason
    message = f"could not decide automatically ({reason}); an instructor will review this row"
    return _mark(row, given, "undecided", _with_notes(message, notes), expr=expr)


def _chained(work: _Work, table: Table, not_chained_credit: float) -> FormulaMark:
    """Equivalent: full credit if written from the previous functions, partial if it skips them."""
    row, expr = work.row, work.expr
    used = set(names_in(expr))
    names = sorted(vocabulary(table.n_inputs, table.n_outputs).all)
    missing = []
    for previous in row.previous:
        if previous in used and depends_on(expr, previous, names):
            continue
        # dL/ds1 may use s1, its variable of differentiation, where f1 = sigmoid(s1) is expected.
        if (row.wrt and row.wrt in used and row.wrt in names_in(table[previous].expr)
                and depends_on(expr, row.wrt, names)):
            continue
        missing.append(previous)
    if not missing:
        return _mark(work.row, work.given, "correct", _with_notes("correct", work.notes), 1.0, expr)
    wanted = " and ".join(missing)
    rule = ("a forward function is written from the previous function" if row.column == "forward"
            else "a backward function is written from the previous function and the variable of "
                 "differentiation")
    message = f"equivalent, but not chained: write {row.name} in terms of {wanted} ({rule})"
    return _mark(row, work.given, "not_chained", _with_notes(message, work.notes),
                 float(not_chained_credit), expr)


def _with_notes(message: str, notes: list[str]) -> str:
    return message + "".join(f"; {note}" for note in notes)
