"""Question 1's rows and what each one means, read off the engine's steps of one round."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from grading.engine import Place, Shape, cell_name, round_steps, variable_of
from grading.engine.spec import SGD

from grading.engine.text import Text, _

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
    place: Place | None = None  # the cell of the tables this row is the formula of


@dataclass(frozen=True)
class Table:
    shape: Shape
    rows: tuple[Row, ...]
    by_name: dict[str, Row] = field(init=False, compare=False, hash=False, repr=False)
    inputs: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {row.name: row for row in self.rows})
        # The inputs the rows are computed from (x, y, w, b): the leaves of every expansion.
        used = frozenset(d for row in self.rows for d in row.deps)
        object.__setattr__(self, "inputs", used & vocabulary(*self.shape.sizes).inputs)

    def __getitem__(self, name: str) -> Row:
        return self.by_name[name]

    @property
    def n_inputs(self) -> int:
        return self.shape.n_inputs

    @property
    def n_outputs(self) -> int:
        return self.shape.n_outputs

    @property
    def sizes(self) -> tuple[int, ...]:
        return self.shape.sizes

    def descendants(self, name: str) -> list[str]:
        """Rows computed from ``name``, in table order."""
        return [row.name for row in self.rows if name in row.ancestors]


def shape_of(network: tuple[Any, ...]) -> Shape:
    """A Shape from ``(shape,)`` or a single layer's ``(n_inputs, n_outputs)``."""
    if len(network) == 1 and isinstance(network[0], Shape):
        return network[0]
    n_inputs, n_outputs = network
    return Shape.single(n_inputs, n_outputs)


def q1_table(*network: Any) -> Table:
    """Q1's rows for ``q1_table(shape)`` or a single layer's ``q1_table(n_inputs, n_outputs)``.

    Q1 asks for the formulas of one sample's forward and backward pass: a round of several
    samples repeats them per sample, and an optimizer changes only the updated column, so the
    rows are those of the same network fed one sample a round (``s1[2]``, not ``s1[2](3)``)."""
    return _q1_table(one_sample(shape_of(network)))


def one_sample(shape: Shape) -> Shape:
    """``shape`` fed one sample a round with plain SGD: the shape Q1's rows are read from."""
    if shape.batch == 1 and shape.optimizer.kind == "sgd":
        return shape
    return replace(shape, batch=1, reduce="mean", optimizer=SGD)


@lru_cache(maxsize=128)  # one entry per network shape in use
def _q1_table(shape: Shape) -> Table:
    """Q1's rows from ``round_steps`` (the engine's formulas of one round): forward layer by
    layer, L, then backward from the output layer down."""
    vocab = vocabulary(*shape.sizes)

    def name(place: Place) -> str:
        return cell_name(place, shape.n_layers)

    steps = {step.place: step for step in round_steps(shape, 1.0)
             if step.place.column in ("forward", "backward")}
    order = [p for p in steps if name(p) in vocab.computed]

    def expand(deps: tuple[Place, ...]) -> list[str]:
        out: list[str] = []
        for place in deps:
            if place.column == "parameters" or name(place) in vocab.computed:
                found = [name(place)]
            else:  # an intermediate cell of the table (y1-f1, (y1-f1)^2): not a Q1 row
                found = expand(steps[place].deps)
            out.extend(n for n in found if n not in out)
        return out

    rows: list[Row] = []
    ancestors: dict[str, frozenset[str]] = {}
    for index, place in enumerate(order):
        step, row = steps[place], name(place)
        flat = expand(step.deps)
        previous = tuple(d for d in flat if d in vocab.computed)
        ancestors[row] = frozenset(previous).union(*(ancestors[p] for p in previous))
        expr = parse_formula(step.formula, sizes=shape.sizes)
        stray = set(names_in(expr)) - set(flat)
        if stray:  # the engine's text and its deps must tell the same story
            raise AssertionError(f"engine formula of {row} uses {sorted(stray)} outside its deps")
        variable = variable_of(place)
        wrt = name(variable) if variable is not None else None
        rows.append(Row(row, place.column, step.formula, expr, tuple(flat), previous, wrt,
                        ancestors[row], index, place))
    return Table(shape, tuple(rows))


def Q1_ROWS(*network: Any) -> list[str]:  # noqa: N802 (public name fixed by the API)
    """Q1's rows in the seed's order: s, f, L, then dL/df, dL/ds, dL/db, dL/dw."""
    return [row.name for row in q1_table(*network).rows]


def reference_formulas(*network: Any) -> dict[str, str]:
    """Row -> reference formula in canonical text, derived from the engine's graph."""
    return {row.name: to_text(row.expr) for row in q1_table(*network).rows}


def circular(row: Row, expr: Expr, table: Table) -> Text | str:
    """Why ``expr`` cannot be ``row``'s formula because of what it uses, or "" if it can."""
    used = names_in(expr)
    if row.name in used:
        return _("circular: %(row)s is written in terms of itself", row=row.name)
    after = set(table.descendants(row.name))
    for name in used:
        if name in after:
            return _("circular: %(name)s is computed from %(row)s, so %(row)s cannot use it", name=name,
                     row=row.name)
    for name in used:
        other = table.by_name.get(name)
        if other is not None and other.index > row.index and name not in row.ancestors:
            return _("%(name)s comes after %(row)s in the table: a formula may only use what is "
                     "computed before it", name=name, row=row.name)
    return ""
