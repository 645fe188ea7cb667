"""Question 1's verdicts: each row's formula against the engine graph's, and its chained form."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

from grading.engine import Shape
from grading.engine.text import Text, _, join

from .bounds import check_size
from .budget import Budget
from .cache import Verdict, VerdictCache, VerdictKey, verdict_key
from .hints import wrong_message
from .lexer import MAX_LENGTH
from .mathml import to_mathml
from .names import UPDATE_ROWS, all_of, update_vocabulary
from .nodes import Expr, FormulaError, Name, names_in, to_text
from .numeric import Comparison, Points, compare, depends_on, random_points
from .parser import parse_with_notes
from .rows import UPDATE, Row, Table, circular, q1_table, shape_of
from .sandbox import Failure, run_with_deadline
from .symbolic import REASONS, definitions, equivalent

# A formula row's verdict, stored in reports as this string.
FormulaStatus = Literal["correct", "not_chained", "incorrect", "undecided", "invalid", "blank"]
STATUSES: tuple[FormulaStatus, ...] = ("correct", "not_chained", "incorrect", "undecided", "invalid", "blank")
_MARGIN = 0.1      # seconds kept back from the time limit to assemble the marks
_SYMBOLIC = ("equal", "different", "unknown")


@dataclass(frozen=True)
class FormulaMark:
    """The verdict on one row of Q1, with what the app understood and how to show it."""

    row: str
    given: str
    status: FormulaStatus
    message: str  # a grading.engine.text.Text: read in the reader's language
    credit: float
    understood: str
    mathml: str


@dataclass
class _Work:
    """A row that only the symbolic check (in a child process) can decide."""

    row: Row
    given: str
    expr: Expr   # as checked (an update row's bound: ``Table.bind``)
    shown: Expr  # as read, for the mark's text and MathML
    notes: list[Text]
    numeric: Comparison
    key: VerdictKey | None


def _points(*network: Any, learning_rate: float | None = None) -> Points:
    return _shape_points(shape_of(network), learning_rate)


@lru_cache(maxsize=128)  # one entry per network shape (and learning rate, for update rows) in use
def _shape_points(shape: Shape, learning_rate: float | None = None) -> Points:
    return random_points(q1_table(shape, learning_rate=learning_rate))


def _settings(table: Table) -> tuple[Any, ...]:
    """What an update row's verdict depends on beyond the network: batch, reduce, optimizer and
    the hyper-parameters' values (empty for a table without update rows)."""
    if table.training is None:
        return ()
    t = table.training  # the values as floats: a key is hashed once a row, and Fraction's hash is slow
    return (t.batch, t.reduce, t.optimizer.kind,
            tuple((name, None if value is None else float(value)) for name, value in table.constants))


def grade_formulas(answers: Mapping[str, str], *, n_inputs: int = 2, n_outputs: int = 2,
                   shape: Shape | None = None, not_chained_credit: float = 0.5,
                   time_limit: float = 2.0, cache: VerdictCache | None = None,
                   learning_rate: float | None = None) -> list[FormulaMark]:
    """One mark per Q1 row, in table order; the whole check uses at most ``time_limit`` seconds
    of its own CPU time (a busy machine changes no verdict; ``budget.py`` has the wall-clock guard).

    The rows are those of ``shape`` (any dense network), or of a single sigmoid layer of
    ``n_inputs`` × ``n_outputs``. With a ``cache`` (``VERDICTS``, the process's own), a formula
    already decided for this row, network and credit is not checked again. A shape with a batch
    round or an optimizer has the update rows too, checked with ``learning_rate`` (required then).
    """
    budget = Budget.of(time_limit - min(_MARGIN, time_limit / 5))
    shape = shape or Shape.single(n_inputs, n_outputs)
    table = q1_table(shape, learning_rate=learning_rate)
    if table.training is not None and learning_rate is None:
        raise ValueError("the update rows of Q1 are checked with the assignment's learning rate")
    points = _points(shape, learning_rate=learning_rate if table.training is not None else None)
    settings = _settings(table)
    marks: dict[str, FormulaMark] = {}
    pending: list[_Work] = []
    for row in table.rows:
        given = answers.get(row.name) if isinstance(answers, Mapping) else None
        if given is None or (isinstance(given, str) and not given.strip()):
            marks[row.name] = _mark(row, given, "blank", _("no answer"))  # nothing to decide, even late
            continue
        if budget.expired():
            marks[row.name] = _mark(row, given, "undecided", _("could not decide in time; "
                                                               "an instructor will review this row"))
            continue
        typed_key = (row.name, given, table.shape, *settings, float(not_chained_credit))
        known = (cache.typed_mark(typed_key, budget.cpu) if cache is not None and isinstance(given, str)
                 else None)
        if known is not None:
            marks[row.name] = known
            continue
        outcome = _first_look(row, given, table, points, budget, not_chained_credit, cache)
        if cache is not None and isinstance(outcome, FormulaMark) and isinstance(given, str):
            cache.keep_typed_mark(typed_key, outcome, budget.cpu)  # undecided: a hit for this budget
        if isinstance(outcome, FormulaMark):
            marks[row.name] = outcome
        else:
            pending.append(outcome)
    # Clear numeric agreement is checked symbolically first, unclear numerics last; each row has
    # its own share of the time in the sandbox, so a hostile row cannot starve the others.
    pending.sort(key=lambda w: w.numeric.verdict != "equal")
    tasks = [(w.row.name, (w.expr, w.row.name, table)) for w in pending]
    if tasks:
        definitions(table)  # built once here, inherited by every forked child
    symbolic = run_with_deadline(equivalent, tasks, budget) if tasks else {}
    for work in pending:
        result = symbolic.get(work.row.name)
        verdict = _decide(work, result, table, not_chained_credit)
        if verdict.status == "undecided":
            # Out of time (or numerics and symbolics disagreeing): kept with the CPU seconds the
            # check had, reused for a check given no more. A crashed checker is tried again.
            verdict = replace(verdict, budget=-1.0 if isinstance(result, Failure) else budget.cpu)
        marks[work.row.name] = _judged(work.row, work.given, work.shown, work.notes, verdict,
                                       work.key, cache, table)
        if cache is not None:
            cache.keep_typed_mark((work.row.name, work.given, table.shape, *settings,
                                   float(not_chained_credit)), marks[work.row.name], verdict.budget)
    return [marks[row.name] for row in table.rows]


def _mark(row: Row, given: object, status: FormulaStatus, message: str, credit: float = 0.0,
          expr: Expr | None = None, table: Table | None = None) -> FormulaMark:
    shown = given if isinstance(given, str) else ("" if given is None else repr(given)[:MAX_LENGTH])
    understood = to_text(expr) if expr is not None else ""
    mathml = to_mathml(expr, sizes=table.sizes if table else None) if expr is not None else ""
    return FormulaMark(row.name, shown, status, message, credit, understood, mathml)


def _judged(row: Row, given: str, expr: Expr, notes: list[Text], verdict: Verdict,
            key: VerdictKey | None, cache: VerdictCache | None, table: Table) -> FormulaMark:
    """The mark for a read formula, its verdict kept in ``cache`` (which keeps decided ones only)."""
    if cache is not None and key is not None:
        cache.put(key, verdict)
    return _mark(row, given, verdict.status, _with_notes(verdict.message, notes), verdict.credit,
                 expr, table)


def _first_look(row: Row, given: object, table: Table, points: Points,
                budget: Budget | None = None, not_chained_credit: float = 0.5,
                cache: VerdictCache | None = None) -> FormulaMark | _Work:
    """Everything decided in-process: blank, invalid, cached, circular, numerically different."""
    if given is None or (isinstance(given, str) and not given.strip()):
        return _mark(row, given, "blank", _("no answer"))
    if not isinstance(given, str):
        return _mark(row, given, "invalid", _("the answer must be text"))
    try:
        shown, notes = read_answer(given, row.name, table.sizes)
        expr = table.bind(row, shown)  # an update row's own name and hyper-parameters
    except FormulaError as exc:
        return _mark(row, given, "invalid", exc.message)
    key = None
    if cache is not None:
        key = verdict_key(expr, row.name, table.shape, not_chained_credit, _settings(table))
        known = cache.get(key, budget.cpu if budget is not None else None)
        if known is not None:
            return _judged(row, given, shown, notes, known, None, None, table)
    reason = circular(row, expr, table)
    if reason:
        return _judged(row, given, shown, notes, Verdict("incorrect", reason), key, cache, table)
    numeric = compare(expr, row.expr, points)
    if numeric.verdict == "undefined":
        return _judged(row, given, shown, notes, Verdict("incorrect", numeric.reason), key, cache, table)
    if numeric.verdict == "different":
        message, complete = wrong_message(row, expr, table, points, budget)
        return _judged(row, given, shown, notes, Verdict("incorrect", message),
                       key if complete else None, cache, table)
    return _Work(row, given, expr, shown, notes, numeric, key)


def read_answer(given: str, row: str | None, sizes: tuple[int, ...]) -> tuple[Expr, list[Text]]:
    """A Q1 answer for ``row`` read as the grader reads it: its tree and notes, or FormulaError.

    The live preview calls this too, so a text is refused by both or by neither (without a row,
    a leading "name =" is not taken off).
    """
    # An update row (g, m, v, mhat, vhat, Δw, w) is read with the update group's names.
    vocab = update_vocabulary() if row in UPDATE_ROWS else None
    text = _right_hand_side(given, row, sizes) if row is not None else given
    expr, notes = parse_with_notes(text, sizes=sizes, vocab=vocab)
    check_size(expr)
    return expr, notes


def _right_hand_side(given: str, row: str, sizes: tuple[int, ...]) -> str:
    """Accept 'dL/ds1 = ...' for row dL/ds1: students copy the left-hand side from the sheet."""
    if len(given) > MAX_LENGTH or "=" not in given:
        return given
    left, right = given.split("=", 1)
    try:
        lhs = parse_with_notes(left, sizes=sizes, vocab=update_vocabulary() if row in UPDATE_ROWS else None)[0]
    except FormulaError:
        return given
    if lhs == Name(row):
        return right
    raise FormulaError(_("this row is %(row)s, but the answer starts with '%(left)s =': write only the "
                         "right-hand side", row=row, left=left.strip()), 0)


def _symbolic_result(result: object) -> tuple[str, Text | str]:
    """The child's (verdict, reason), or why there is none: a timeout, a failure, a bad reply.

    The child sends a key of ``REASONS`` (plain data); its message is made here, in the parent.
    """
    if result is None:
        return "timeout", _("ran out of time")
    if isinstance(result, Failure):
        return "failed", _("the check failed: %(kind)s", kind=result.kind)
    if (isinstance(result, tuple) and len(result) == 2 and result[0] in _SYMBOLIC
            and isinstance(result[1], str) and result[1] in REASONS):
        return result[0], REASONS[result[1]]
    return "failed", _("the check failed: %(kind)s", kind=_("bad reply"))


def _decide(work: _Work, symbolic: object, table: Table, not_chained_credit: float) -> Verdict:
    row, numeric = work.row, work.numeric.verdict
    sym, reason = _symbolic_result(symbolic)
    if numeric == "equal" and sym == "equal" or numeric == "unknown" and sym == "equal":
        return _chained(work, table, not_chained_credit)
    if numeric == "unknown" and sym == "different":
        return Verdict("incorrect", _("not equivalent to %(row)s", row=row.name))
    if numeric == "equal" and sym == "different":
        reason = _("the numeric and symbolic checks disagree")
    elif numeric == "unknown" and sym not in ("equal", "failed"):
        reason = work.numeric.reason or reason
    return Verdict("undecided", _("could not decide automatically (%(reason)s); an instructor will "
                                  "review this row", reason=reason))


def _chained(work: _Work, table: Table, not_chained_credit: float) -> Verdict:
    """Equivalent: full credit if written from the previous functions, partial if it skips them."""
    row, expr = work.row, work.expr
    used = set(names_in(expr))
    names = table.names()
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
        return Verdict("correct", _("correct"), 1.0)
    if row.column == UPDATE:
        rule = _("an update row is written from the rows before it")
    elif row.column == "forward":
        rule = _("a forward function is written from the previous function")
    else:
        rule = _("a backward function is written from the previous function and the variable of "
                 "differentiation")
    message = _("equivalent, but not chained: write %(row)s in terms of %(wanted)s (%(rule)s)",
                row=row.name, wanted=all_of(missing), rule=rule)
    return Verdict("not_chained", message, float(not_chained_credit))


def _with_notes(message: str, notes: list[Text]) -> str:
    return join("; ", [message, *notes]) if notes else message
