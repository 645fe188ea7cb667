"""What is off in a wrong formula: a sign or factor, a swapped index, a named mistake.

Runs in the server's own process, so it is bounded: no index search on long formulas, at most
_HINT_TRIES candidates per row, and none once the submission's deadline has passed.
"""

from __future__ import annotations

import time
from functools import lru_cache

from grading.mistakes import alternatives_by_cell

from .names import vocabulary
from .nodes import Expr, FormulaError, Name, names_in, walk
from .numeric import Points, compare, hint_for, substitute
from .parser import parse_formula
from .rows import Row, Table, circular

_HINT_NODES = 80   # no "x1 in place of x2" search on long formulas: it is a hint, not a verdict
_HINT_TRIES = 120  # nor more candidates than this per row (a 9x9 network has 80 other w's)


def wrong_message(row: Row, expr: Expr, table: Table, points: Points,
                  deadline: float = float("inf")) -> tuple[str, bool]:
    """The message for a formula that is not ``row``'s, and whether the hint search finished."""
    base = f"not equivalent to {row.name}"
    # What is off (a sign, a factor, an index), then the idea behind it when it is a named mistake.
    swap: str | None = ""
    factor = hint_for(expr, row.expr, points)
    if not factor:
        swap = _swap_hint(row, expr, table, points, deadline)
    hints = [factor or swap or "", _mistake_hint(row, expr, table, points)]
    hint = "; ".join(h for h in hints if h)
    return (f"{base}: {hint}" if hint else base), swap is not None


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
               deadline: float = float("inf")) -> str | None:
    """'with x1 in place of x2 it would be right': the usual slips of index and of s for f.

    None when the deadline cut the search short (so the message is not the whole answer).
    """
    if sum(1 for _ in walk(expr)) > _HINT_NODES:
        return ""
    names = sorted(vocabulary(table.n_inputs, table.n_outputs).all)
    tries = 0
    for used in names_in(expr):
        for other in _look_alikes(used, names):
            tries += 1
            if tries > _HINT_TRIES:
                return ""
            if time.monotonic() > deadline:
                return None
            candidate = substitute(expr, {used: Name(other)})
            if circular(row, candidate, table):
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
