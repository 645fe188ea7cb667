"""Question 1's rows and what each one means, read off the engine's steps of one round."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from fractions import Fraction
from functools import lru_cache
from typing import Any

from grading.engine import Place, Shape, cell_name, round_steps, variable_of
from grading.engine.spec import SGD

from grading.engine.text import Text, _

from .names import HYPER_PARAMETERS, MAX_BATCH, ROUND, UPDATE_ROWS, all_of, update_vocabulary, vocabulary
from .nodes import Expr, FormulaError, Name, Num, names_in, to_text
from .parser import parse_formula, parse_with_notes

UPDATE = "update"  # the column of the "Update (one parameter)" rows
OLD = "old:"       # internal: a row's own name on its right, its value before the round (never typed)


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
    # An update row: its formula as written, with names (``expr`` has the hyper-parameters'
    # values and OLD + its own name: what it is checked with).
    written: Expr | None = None


@dataclass(frozen=True)
class Table:
    shape: Shape
    rows: tuple[Row, ...]
    # The update group (issue 20): the spec's training (batch, reduce, optimizer: ``shape`` is
    # the one-sample shape the forward and backward rows are read from), and the names an
    # update row may use with the value each hyper-parameter is bound to (None: a free name,
    # when the table was made without the learning rate, for its row names and texts only).
    training: Shape | None = None
    constants: tuple[tuple[str, Fraction | None], ...] = ()
    update_names: frozenset[str] = frozenset()
    by_name: dict[str, Row] = field(init=False, compare=False, hash=False, repr=False)
    inputs: frozenset[str] = field(init=False, compare=False, hash=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {row.name: row for row in self.rows})
        # The inputs the rows are computed from (x, y, w, b): the leaves of every expansion;
        # the update rows' are g (or g1..gk), t, and every row's value before the round.
        used = frozenset(d for row in self.rows for d in row.deps)
        update = frozenset(n for n in self.update_names if n not in self.by_name and n not in dict(self.constants))
        old = frozenset(OLD + row.name for row in self.rows if row.column == UPDATE)
        object.__setattr__(self, "inputs", used & vocabulary(*self.shape.sizes).inputs | update | old)

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

    def names(self) -> list[str]:
        """Every name a checked formula of this table may hold, sorted (the network's, and the
        update rows' with their values before the round; hyper-parameters are numbers by then)."""
        return sorted(vocabulary(*self.sizes).all | self.inputs | {row.name for row in self.rows})

    def bind(self, row: Row, expr: Expr) -> Expr:
        """An update row's answer as it is checked: its own name is its value before the round,
        each hyper-parameter its value; FormulaError for a name this spec does not have. Any
        other row's answer as it is."""
        if row.column != UPDATE:
            return expr
        values = dict(self.constants)
        mapping: dict[str, Expr] = {}
        for name in names_in(expr):
            if name not in self.update_names:
                raise FormulaError(_not_here(name, self))
            if name == row.name:
                mapping[name] = Name(OLD + name)
            elif values.get(name) is not None:
                mapping[name] = Num(values[name])  # type: ignore[arg-type]
        from .numeric import substitute

        return substitute(expr, mapping) if mapping else expr


def shape_of(network: tuple[Any, ...]) -> Shape:
    """A Shape from ``(shape,)`` or a single layer's ``(n_inputs, n_outputs)``."""
    if len(network) == 1 and isinstance(network[0], Shape):
        return network[0]
    n_inputs, n_outputs = network
    return Shape.single(n_inputs, n_outputs)


def q1_table(*network: Any, learning_rate: float | None = None) -> Table:
    """Q1's rows for ``q1_table(shape)`` or a single layer's ``q1_table(n_inputs, n_outputs)``.

    Q1 asks for the formulas of one sample's forward and backward pass: a round of several
    samples repeats them per sample, so those rows are the same network's fed one sample a round
    (``s1[2]``, not ``s1[2](3)``). A round of several samples or an optimizer other than plain SGD
    adds a third group, "Update (one parameter)" (``update_formulas``), with the hyper-parameters
    bound to the spec's values and the learning rate to ``learning_rate`` (needed to check
    answers; the row names and texts do not depend on it)."""
    shape = shape_of(network)
    if shape.plain:  # no update group: one sample a round, plain SGD
        return _q1_table(shape)
    return _with_update(shape, None if learning_rate is None else float(learning_rate))


def update_formulas(shape: Shape) -> list[tuple[str, str]]:
    """The update group's rows (name, formula as a handout writes it) for a generic parameter w,
    in table order. On a row's right its own name is its value before the round."""
    k, kind = shape.batch, shape.optimizer.kind
    rows: list[tuple[str, str]] = []
    if k > 1:
        total = " + ".join(f"g{i}" for i in range(1, k + 1))
        rows.append(("g", f"({total})/{k}" if shape.reduce == "mean" else total))
    if kind == "momentum":
        rows.append(("Δw", "-lr*g + beta*Δw"))
    elif kind == "adam":
        rows += [("m", "beta1*m + (1 - beta1)*g"), ("v", "beta2*v + (1 - beta2)*g^2"),
                 ("mhat", "m/(1 - beta1^t)"), ("vhat", "v/(1 - beta2^t)"),
                 ("Δw", "-lr*mhat/(sqrt(vhat) + eps)")]
    elif kind == "rmsprop":
        rows += [("v", "rho*v + (1 - rho)*g^2"), ("Δw", "-lr*g/(sqrt(v) + eps)")]
    elif kind != "sgd":  # pragma: no cover - a new optimizer needs its rows here
        raise ValueError(f"no Q1 update rows for the optimizer {kind!r}")
    rows.append(("w", "w - lr*g" if kind == "sgd" else "w + Δw"))
    return rows


def _exact(value: float) -> Fraction:
    """A setting as the decimal it was written as (0.9 is 9/10, 1e-08 is 1/10^8)."""
    return Fraction(repr(float(value)))


@lru_cache(maxsize=128)  # one entry per network shape and learning rate in use
def _with_update(shape: Shape, learning_rate: float | None) -> Table:
    base = _q1_table(one_sample(shape))
    opt = shape.optimizer
    settings = dict(opt.settings)
    constants: list[tuple[str, Fraction | None]] = [
        ("lr", None if learning_rate is None else _exact(learning_rate))]
    constants += [(name, _exact(settings[name])) for name in HYPER_PARAMETERS if name in settings]
    written = update_formulas(shape)
    names = {name for name, _text in written} | {"g"} | {c for c, _v in constants}
    if shape.batch > 1:
        names |= {f"g{i}" for i in range(1, shape.batch + 1)}
    if opt.kind == "adam":
        names.add(ROUND)
    table = Table(base.shape, base.rows, shape, tuple(constants), frozenset(names))
    rows = list(base.rows)
    ancestors: dict[str, frozenset[str]] = {}
    vocab = update_vocabulary()
    for name, text in written:
        expr = parse_with_notes(text, vocab=vocab)[0]
        row = Row(name, UPDATE, text, expr, (), (), None, frozenset(), len(rows), None, expr)
        bound = table.bind(row, expr)
        deps = tuple(names_in(bound))
        previous = tuple(d for d in deps if d in ancestors)
        ancestors[name] = frozenset(previous).union(*(ancestors[p] for p in previous))
        rows.append(replace(row, expr=bound, deps=deps, previous=previous, ancestors=ancestors[name]))
    return Table(base.shape, tuple(rows), shape, tuple(constants), frozenset(names))


def _not_here(name: str, table: Table) -> Text:
    """Why an update row may not use ``name`` in this spec."""
    shape = table.training
    kind = shape.optimizer.kind if shape is not None else "sgd"
    rows = [row.name for row in table.rows if row.column == UPDATE]
    if name in UPDATE_ROWS:
        return _("this problem's update rows are %(rows)s: it has no %(name)s", rows=all_of(rows), name=name)
    if name == ROUND:
        return _("t (the round) is used by Adam's bias correction only")
    if name in HYPER_PARAMETERS:
        settings = [c for c, _v in table.constants]
        return _("%(name)s is no setting of this problem's update (%(kind)s): its settings are %(settings)s",
                 name=name, kind=kind, settings=all_of(settings))
    if name[:1] == "g" and name[1:].isdigit() and int(name[1:]) <= MAX_BATCH:
        batch = shape.batch if shape is not None else 1
        if batch == 1:
            return _("a round here feeds one sample: its gradient is g")
        return _("a round here feeds %(k)s samples: their gradients are g1 to g%(k)s", k=batch)
    return _("%(name)s is not a name of the update rows", name=name)


def one_sample(shape: Shape) -> Shape:
    """``shape`` fed one sample a round with plain SGD: the shape Q1's rows are read from."""
    if shape.plain:
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
    """Row -> reference formula in canonical text, derived from the engine's graph (an update
    row's as written, with the hyper-parameters' names)."""
    return {row.name: to_text(row.written or row.expr) for row in q1_table(*network).rows}


def circular(row: Row, expr: Expr, table: Table) -> Text | str:
    """Why ``expr`` cannot be ``row``'s formula because of what it uses, or "" if it can (an
    update row's own name, its value before the round, is bound away before this: allowed)."""
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
