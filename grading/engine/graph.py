"""The network's tables as an explicit graph of named cells.

One cell per number of the homework's tables, keyed by (round, column, name). A cell is
either given (a constant of the spec) or computed: a function of named upstream cells, with
the formula written in the homework's notation. Marking walks the same graph to recompute a
cell from a student's own upstream values, so the graph is data, not one long function.

No Django here: this module is imported by the management commands, the marking code and the
tests alike.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from grading.engine.spec import Spec

COLUMNS = ("parameters", "forward", "backward", "updated")


class CellKey(NamedTuple):
    round: int
    column: str
    name: str

    def __str__(self) -> str:
        return f"round {self.round} {self.column} {self.name}"

    @property
    def id(self) -> str:
        """The cell's stable id, the answer form's input name: ``r2.forward.s1``."""
        return f"r{self.round}.{self.column}.{self.name}"


@dataclass(frozen=True)
class Cell:
    """One named cell: given (no deps), or computed by ``fn`` from its upstream cells."""

    key: CellKey
    deps: tuple[CellKey, ...] = ()
    fn: Callable[..., float] | None = None
    formula: str = ""
    value: float | None = None  # only for given cells
    gradable: bool = True

    @property
    def given(self) -> bool:
        return self.fn is None

    def compute(self, upstream: Iterable[float]) -> float:
        """This cell's value from the given upstream values (in ``deps`` order)."""
        if self.fn is None:
            return float(self.value)  # type: ignore[arg-type]
        return float(self.fn(*upstream))


# ---------------------------------------------------------------- cell names


def w_name(i: int, j: int) -> str:
    """Name of the weight from input i to output j (1-based), as the seed writes it."""
    return f"w{i}{j}"


def cell_names(n_inputs: int, n_outputs: int) -> dict[str, list[str]]:
    """Every cell name of one round's table, column by column, in the seed's order."""
    ins, outs = range(1, n_inputs + 1), range(1, n_outputs + 1)
    weights = [w_name(i, j) for i in ins for j in outs]
    biases = [f"b{j}" for j in outs]
    return {
        "parameters": [f"x{i}" for i in ins] + [f"y{j}" for j in outs] + weights + biases,
        "forward": [f"s{j}" for j in outs] + [f"f{j}" for j in outs]
        + [f"y{j}-f{j}" for j in outs] + [f"(y{j}-f{j})^2" for j in outs] + ["L"],
        "backward": [f"dL/df{j}" for j in outs] + [f"dL/ds{j}" for j in outs]
        + [f"dL/db{j}" for j in outs]
        # The seed lists dL/dw11, dL/dw21, dL/dw12, dL/dw22: grouped by output.
        + [f"dL/d{w_name(i, j)}" for j in outs for i in ins],
        "updated": weights + biases,
    }


# ---------------------------------------------------------------- the graph


# The cells' formulas take plain numbers (the key) or intervals (marking recomputes a cell over
# what the typed values stand for, ``grading.marking.intervals``). Where the interval needs its
# own bound (a square, σ, f(1 − f)) a helper asks the value for it; the engine never imports the
# interval type, and float results are computed exactly as they always were.


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) or isinstance(v, numbers.Real)  # numpy scalars too


def sigmoid(z: Any) -> Any:
    """The logistic function, written to avoid overflow for large |z|."""
    if not _number(z):
        return z.sigmoid()
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def _weighted_sum(*values: Any) -> Any:
    # values = w_1j..w_nj, x_1..x_n, b_j
    n = (len(values) - 1) // 2
    if all(_number(v) for v in values):
        return math.fsum(values[k] * values[n + k] for k in range(n)) + values[-1]
    total = values[-1]
    for k in range(n):
        total = values[k] * values[n + k] + total
    return total


def _half_sum(*squares: Any) -> Any:
    if all(_number(v) for v in squares):
        return math.fsum(squares) / 2
    return sum(squares[1:], squares[0]) / 2


def _identity(v: Any) -> Any:
    return v


def _square(d: Any) -> Any:
    # An interval spanning 0 squares to [0, ...], which d * d would not give.
    return d * d if _number(d) else d.square()


def _times_sigmoid_slope(g: Any, f: Any) -> Any:
    # f * (1 - f) over an interval of f is bounded as one piece (it peaks at f = 1/2).
    return g * f * (1 - f) if _number(f) else g * f.logistic_slope()


@dataclass
class Graph:
    """All cells of all rounds, in an order where every cell comes after its upstream cells."""

    spec: Spec
    cells: dict[CellKey, Cell] = field(default_factory=dict)

    def add(self, cell: Cell) -> None:
        self.cells[cell.key] = cell

    def __getitem__(self, key: CellKey) -> Cell:
        return self.cells[key]

    def gradable(self, round_no: int | None = None) -> list[Cell]:
        return [c for c in self.cells.values()
                if c.gradable and (round_no is None or c.key.round == round_no)]

    def evaluate(self) -> dict[CellKey, float]:
        """The value of every cell, computed in graph order."""
        values: dict[CellKey, float] = {}
        for key, cell in self.cells.items():
            values[key] = cell.compute(values[d] for d in cell.deps)
        return values


def round_formulas(n_inputs: int, n_outputs: int, lr: float) -> list[tuple[str, str, list[tuple[str, str]], Callable[..., float], str]]:
    """One round's computed cells: (column, name, upstream (column, name) list, fn, formula).

    Parameter cells are not included: they are given (round 1, and x, y in every round) or
    carried from the previous round's updated column.
    """
    ins, outs = range(1, n_inputs + 1), range(1, n_outputs + 1)
    lr_text = _num_text(lr)
    rows: list[tuple[str, str, list[tuple[str, str]], Callable[..., float], str]] = []
    for j in outs:
        deps = ([("parameters", w_name(i, j)) for i in ins] + [("parameters", f"x{i}") for i in ins]
                + [("parameters", f"b{j}")])
        text = " + ".join(f"{w_name(i, j)}*x{i}" for i in ins) + f" + b{j}"
        rows.append(("forward", f"s{j}", deps, _weighted_sum, text))
    for j in outs:
        rows.append(("forward", f"f{j}", [("forward", f"s{j}")], sigmoid, f"sigmoid(s{j})"))
    for j in outs:
        rows.append(("forward", f"y{j}-f{j}", [("parameters", f"y{j}"), ("forward", f"f{j}")],
                     lambda y, f: y - f, f"y{j} - f{j}"))
    for j in outs:
        rows.append(("forward", f"(y{j}-f{j})^2", [("forward", f"y{j}-f{j}")],
                     _square, f"(y{j} - f{j})^2"))
    rows.append(("forward", "L", [("forward", f"(y{j}-f{j})^2") for j in outs], _half_sum,
                 " + ".join(f"(y{j} - f{j})^2/2" for j in outs)))
    for j in outs:
        rows.append(("backward", f"dL/df{j}", [("forward", f"f{j}"), ("parameters", f"y{j}")],
                     lambda f, y: f - y, f"f{j} - y{j}"))
    for j in outs:
        rows.append(("backward", f"dL/ds{j}", [("backward", f"dL/df{j}"), ("forward", f"f{j}")],
                     _times_sigmoid_slope, f"dL/df{j} * f{j} * (1 - f{j})"))
    for j in outs:
        rows.append(("backward", f"dL/db{j}", [("backward", f"dL/ds{j}")], _identity,
                     f"dL/ds{j} * 1"))
    for j in outs:
        for i in ins:
            rows.append(("backward", f"dL/d{w_name(i, j)}",
                         [("backward", f"dL/ds{j}"), ("parameters", f"x{i}")],
                         lambda g, x: g * x, f"dL/ds{j} * x{i}"))
    for i in ins:
        for j in outs:
            w = w_name(i, j)
            rows.append(("updated", w, [("parameters", w), ("backward", f"dL/d{w}")],
                         lambda p, g, lr=lr: p - lr * g, f"{w} - {lr_text}*dL/d{w}"))
    for j in outs:
        rows.append(("updated", f"b{j}", [("parameters", f"b{j}"), ("backward", f"dL/db{j}")],
                     lambda p, g, lr=lr: p - lr * g, f"b{j} - {lr_text}*dL/db{j}"))
    return rows


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


# (column, name) -> (upstream (column, name) list, fn, formula): a replacement for one
# computed cell of every round, as ``round_formulas`` writes them.
Override = tuple[list[tuple[str, str]], Callable[..., float], str]


def build_graph(spec: Spec, overrides: Mapping[tuple[str, str], Override] | None = None) -> Graph:
    """The explicit graph of every cell of every round of ``spec``.

    ``overrides`` replaces the formula of some computed cells in every round (the named
    mistakes of ``grading.mistakes`` use it to build a mistaken student's tables); upstream
    cells of an override must come before it in a round's order.
    """
    graph = Graph(spec)
    n, m = spec.n_inputs, spec.n_outputs
    formulas = round_formulas(n, m, spec.learning_rate)
    if overrides:
        unknown = set(overrides) - {(column, name) for column, name, *_ in formulas}
        if unknown:
            raise ValueError(f"overrides name cells that are not computed: {sorted(unknown)}")
        formulas = [(column, name, *overrides[(column, name)]) if (column, name) in overrides
                    else (column, name, deps, fn, text)
                    for column, name, deps, fn, text in formulas]
    for r, sample in enumerate(spec.samples, start=1):
        for i, x in enumerate(sample.x, start=1):
            graph.add(Cell(CellKey(r, "parameters", f"x{i}"), value=x, gradable=False))
        for j, y in enumerate(sample.y, start=1):
            graph.add(Cell(CellKey(r, "parameters", f"y{j}"), value=y, gradable=False))
        for name in cell_names(n, m)["updated"]:
            key = CellKey(r, "parameters", name)
            if r == 1:
                graph.add(Cell(key, value=_initial(spec, name), gradable=False))
            else:
                # Rounds 2+: the student writes the previous round's updated values here.
                graph.add(Cell(key, deps=(CellKey(r - 1, "updated", name),), fn=_identity,
                               formula=f"{name} (updated in round {r - 1})"))
        for column, name, deps, fn, text in formulas:
            graph.add(Cell(CellKey(r, column, name),
                           deps=tuple(CellKey(r, c, d) for c, d in deps), fn=fn, formula=text))
    return graph


def _initial(spec: Spec, name: str) -> float:
    if name.startswith("b"):
        return spec.biases[int(name[1:]) - 1]
    i, j = int(name[1]), int(name[2])
    return spec.weights[i - 1][j - 1]


# ---------------------------------------------------------------- the key


@dataclass(frozen=True)
class Key:
    """Every value of every round, plus the graph they came from."""

    graph: Graph
    values: Mapping[CellKey, float]

    @property
    def spec(self) -> Spec:
        return self.graph.spec

    def value(self, round_no: int, column: str, name: str) -> float:
        return self.values[CellKey(round_no, column, name)]

    def loss(self) -> list[float]:
        return [self.value(r, "forward", "L") for r in range(1, self.spec.n_rounds + 1)]

    def to_json(self) -> dict[str, Any]:
        """The key in its JSON form: one table per round, columns of named cells."""
        names = cell_names(self.spec.n_inputs, self.spec.n_outputs)
        rounds = []
        for r in range(1, self.spec.n_rounds + 1):
            table: dict[str, Any] = {"round": r}
            for column in COLUMNS:
                table[column] = {name: self.value(r, column, name) for name in names[column]}
            rounds.append(table)
        return {"rounds": rounds, "loss": self.loss()}


def answer_key(spec: Spec) -> Key:
    """Compute every cell of every round of ``spec``."""
    graph = build_graph(spec)
    return Key(graph=graph, values=graph.evaluate())


def loss_at(spec: Spec, round_no: int, weights: Any, biases: Any) -> float:
    """The loss of round ``round_no``'s sample for the given parameters (for gradient checks)."""
    import numpy as np

    sample = spec.samples[round_no - 1]
    s = np.asarray(sample.x) @ np.asarray(weights, dtype=float) + np.asarray(biases, dtype=float)
    f = 1.0 / (1.0 + np.exp(-s))
    return float(np.sum((np.asarray(sample.y) - f) ** 2) / 2)
