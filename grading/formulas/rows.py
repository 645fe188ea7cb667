"""Question 1's rows and what each one means, read off the engine's graph of cells."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from grading.engine import round_formulas

from .names import vocabulary
from .nodes import Expr, names_in, to_text
from .parser import parse_formula


@dataclass(frozen=True)
class Row:
    """One row of Q1: its reference formula and its place in the chain."""

    name: str
    column: str              # forward | backward
    formula: str             # the engine's formula text
    expr: Expr               # that text, parsed
    deps: tuple[str, ...]    # upstream rows and inputs, intermediates (y-f, (y-f)^2) expanded
    previous: tuple[str, ...]  # the rows among deps: the "previous functions" of the chain
    wrt: str | None          # the variable of differentiation of a backward row
    ancestors: frozenset[str]  # every row this one is computed from, directly or not
    index: int


@dataclass(frozen=True)
class Table:
    n_inputs: int
    n_outputs: int
    rows: tuple[Row, ...]

    def __getitem__(self, name: str) -> Row:
        return self.by_name[name]

    @property
    def by_name(self) -> dict[str, Row]:
        return {row.name: row for row in self.rows}

    def descendants(self, name: str) -> list[str]:
        """Rows computed from ``name``, in table order."""
        return [row.name for row in self.rows if name in row.ancestors]


@lru_cache(maxsize=None)
def q1_table(n_inputs: int, n_outputs: int) -> Table:
    """Q1's rows for an n×m network, from ``round_formulas`` (the engine's graph of one round)."""
    vocab = vocabulary(n_inputs, n_outputs)
    cells = {name: (column, deps, text)
             for column, name, deps, _fn, text in round_formulas(n_inputs, n_outputs, 1.0)
             if column in ("forward", "backward")}
    order = [name for name in cells if name in vocab.computed]

    def expand(deps: list[tuple[str, str]]) -> list[str]:
        out: list[str] = []
        for column, name in deps:
            if column == "parameters" or name in vocab.computed:
                found = [name]
            else:  # an intermediate cell of the table (y1-f1, (y1-f1)^2): not a Q1 row
                found = expand(cells[name][1])
            out.extend(n for n in found if n not in out)
        return out

    rows: list[Row] = []
    ancestors: dict[str, frozenset[str]] = {}
    for index, name in enumerate(order):
        column, deps, text = cells[name]
        flat = expand(deps)
        previous = tuple(d for d in flat if d in vocab.computed)
        ancestors[name] = frozenset(previous).union(*(ancestors[p] for p in previous))
        expr = parse_formula(text, n_inputs=n_inputs, n_outputs=n_outputs)
        stray = set(names_in(expr)) - set(flat)
        if stray:  # the engine's text and its deps must tell the same story
            raise AssertionError(f"engine formula of {name} uses {sorted(stray)} outside its deps")
        wrt = name[len("dL/d"):] if name.startswith("dL/d") else None
        rows.append(Row(name, column, text, expr, tuple(flat), previous, wrt, ancestors[name], index))
    return Table(n_inputs, n_outputs, tuple(rows))


def Q1_ROWS(n_inputs: int, n_outputs: int) -> list[str]:  # noqa: N802 (public name fixed by the API)
    """Q1's rows in the seed's order: s, f, L, then dL/df, dL/ds, dL/db, dL/dw."""
    return [row.name for row in q1_table(n_inputs, n_outputs).rows]


def reference_formulas(n_inputs: int, n_outputs: int) -> dict[str, str]:
    """Row -> reference formula in canonical text, derived from the engine's graph."""
    return {row.name: to_text(row.expr) for row in q1_table(n_inputs, n_outputs).rows}


def circular(row: Row, expr: Expr, table: Table) -> str:
    """Why ``expr`` cannot be ``row``'s formula because of what it uses, or "" if it can."""
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
