"""Every round's table as an explicit graph of cells, and the key.

One cell per number of the tables, keyed by its ``CellId`` (round, column, layer, quantity,
index), with its display name and stable id made from that. A cell is either given (a constant
of the spec) or computed: a function of upstream cells, with the formula written in the course's
notation (``grading.engine.steps``). Marking walks the same graph to recompute a cell from a
student's own upstream values, so the graph is data, not one long function. The key's values
come from the numpy engine (``grading.engine.network``); the graph's formulas agree with it.

No Django here: this module is imported by the management commands, the marking code and the
tests alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from typing import Any, NamedTuple, Union, cast

import numpy as np

from grading.engine.cells import (COLUMNS, CellId, Place, Shape, cell_name, column_places,
                                  names_table, parameter_places, zero_input_gradients)
from grading.engine.network import Trace, train_one
from grading.engine.spec import Sample, Spec
from grading.engine.registry import identity as _identity
from grading.engine.steps import round_steps


class Cell(NamedTuple):
    """One cell: given (no deps), or computed by ``fn`` from its upstream cells. (A named
    tuple: a graph has hundreds of them, built for every key.)"""

    key: CellId
    name: str                    # the display name, e.g. "s1" or "s1[2]"
    id: str                      # the stable id, the answer form's input name: "r2.forward.s1"
    deps: tuple[CellId, ...] = ()
    fn: Callable[..., float] | None = None
    formula: str = ""
    value: float | None = None  # only for given cells
    gradable: bool = True

    @property
    def round(self) -> int:
        return self.key.round

    @property
    def column(self) -> str:
        return self.key.column

    @property
    def place(self) -> Place:
        return self.key.place

    @property
    def given(self) -> bool:
        return self.fn is None

    def compute(self, upstream: Iterable[float]) -> float:
        """This cell's value from the given upstream values (in ``deps`` order)."""
        if self.fn is None:
            return float(self.value)  # type: ignore[arg-type]
        return float(self.fn(*upstream))


@dataclass
class Graph:
    """All cells of all rounds, in an order where every cell comes after its upstream cells."""

    spec: Spec
    shape: Shape
    cells: dict[CellId, Cell] = field(default_factory=dict)
    overridden: frozenset[Place] = frozenset()

    def add(self, cell: Cell) -> None:
        self.cells[cell.key] = cell

    def __getitem__(self, key: CellId) -> Cell:
        return self.cells[key]

    @property
    def n_layers(self) -> int:
        return self.shape.n_layers

    def gradable(self, round_no: int | None = None) -> list[Cell]:
        return [c for c in self.cells.values()
                if c.gradable and (round_no is None or c.key.round == round_no)]

    @cached_property
    def by_quantity(self) -> dict[tuple[int, str], list[CellId]]:
        """The cells of each round by quantity, in graph order: (round, quantity) -> cells."""
        out: dict[tuple[int, str], list[CellId]] = {}
        for key in self.cells:
            out.setdefault((key.round, key.quantity), []).append(key)
        return out

    @cached_property
    def _by_name(self) -> dict[tuple[str, str], Place]:
        return names_table(self.shape)

    def find(self, round_no: int, column: str, name: str) -> CellId:
        """The cell that ``name`` displays in ``column`` of round ``round_no``; KeyError if none."""
        key = self._by_name[(column, name)].at(round_no)
        if key not in self.cells:
            raise KeyError((round_no, column, name))
        return key

    def evaluate(self, like: Mapping[CellId, float] | None = None) -> dict[CellId, float]:
        """The value of every cell, computed in graph order.

        With ``like`` (the key's values), a cell whose formula is not overridden and whose
        inputs equal ``like``'s takes ``like``'s value: a mistaken student's tables then agree
        with the key exactly wherever the mistake changes nothing.
        """
        values: dict[CellId, float] = {}
        for key, cell in self.cells.items():
            if (like is not None and cell.place not in self.overridden
                    and all(values[d] == like[d] for d in cell.deps)):
                values[key] = like[key]
            else:
                values[key] = cell.compute(values[d] for d in cell.deps)
        return values


# (column, name) of a single-layer network, or a Place: a cell of every round.
Where = Union[Place, tuple[str, str]]
# A replacement for one computed cell of every round: (upstream cells, fn, formula).
Override = tuple[Sequence[Where], Callable[..., float], str]


def round_formulas(n_inputs: int, n_outputs: int, lr: float) -> list[tuple[str, str, list[tuple[str, str]], Callable[..., float], str]]:
    """One round's computed cells of a single sigmoid layer, by name: (column, name, upstream
    (column, name) list, fn, formula). ``round_steps`` has them by structure, for any network."""
    def name(p: Place) -> str:
        return cell_name(p, 1)

    return [(s.place.column, name(s.place), [(d.column, name(d)) for d in s.deps], s.fn, s.formula)
            for s in round_steps(Shape.single(n_inputs, n_outputs), float(lr))]


def _place(shape: Shape, where: Where) -> Place:
    if isinstance(where, Place):
        return where
    column, name = where
    return names_table(shape)[(column, name)]


def build_graph(spec: Spec, overrides: Mapping[Where, Override] | None = None) -> Graph:
    """The explicit graph of every cell of every round of ``spec``.

    ``overrides`` replaces the formula of some computed cells in every round (the named
    mistakes of ``grading.mistakes`` use it to build a mistaken student's tables); upstream
    cells of an override must come before it in a round's order.
    """
    shape = Shape.of(spec)
    steps = round_steps(shape, float(spec.learning_rate))
    plan = _plan(shape, float(spec.learning_rate))
    overridden: frozenset[Place] = frozenset()
    if overrides:
        by_place = {}
        for where, (deps, fn, text) in overrides.items():
            try:
                target = _place(shape, where)
            except KeyError:
                raise ValueError(f"overrides name cells that are not computed: {[where]}") from None
            by_place[target] = (tuple(_place(shape, d) for d in deps), fn, text)
        unknown = set(by_place) - {s.place for s in steps}
        if unknown:
            raise ValueError(f"overrides name cells that are not computed: {sorted(unknown)}")
        plan = tuple((p, name, kind, *by_place[p], None) if p in by_place
                     else (p, name, kind, deps, fn, text, by_round)
                     for p, name, kind, deps, fn, text, by_round in plan)
        overridden = frozenset(by_place)
    if not overrides:
        computed, given = _plain_cells(shape, float(spec.learning_rate), spec.n_rounds)
        # A copy of the shared table (no key hashed again); only the given values are the spec's.
        graph = Graph(spec, shape, cells=cast(dict[CellId, Cell], dict(computed)))
        cells = graph.cells
        for key, name, ident in given:
            cells[key] = Cell(key, name, ident, value=_given(spec, key.place, spec.sample_of(key.round, key.sample)),
                              gradable=False)
        return _zero_inputs_given(graph)
    graph = Graph(spec, shape, overridden=overridden)
    cells = graph.cells
    for key, name, ident, deps, fn, text, is_given in _skeleton(plan, spec.n_rounds):
        if is_given:
            sample = spec.sample_of(key.round, key.sample)
            cells[key] = Cell(key, name, ident, value=_given(spec, key.place, sample), gradable=False)
        else:
            cells[key] = Cell(key, name, ident, deps, fn, text)
    return _zero_inputs_given(graph)


def _zero_inputs_given(graph: Graph) -> Graph:
    """The gradients an input of exactly 0 makes 0 (``zero_input_gradients``) shown as given:
    still computed (the cells after them use them), never typed or marked."""
    cells = graph.cells
    for key in zero_input_gradients(graph.spec):
        if key in cells:
            cells[key] = cells[key]._replace(gradable=False)
    return graph


@lru_cache(maxsize=256)
def _plain_cells(shape: Shape, learning_rate: float, n_rounds: int
                 ) -> tuple[dict[CellId, Cell | None], tuple[tuple[CellId, str, str], ...]]:
    """Every cell of every problem of one shape, learning rate and length, in graph order, the
    computed ones made (a cell is immutable: a class of per-student variants shares them), the
    given ones None; and the given ones' (key, name, id), whose values are each spec's."""
    computed: dict[CellId, Cell | None] = {}
    given = []
    for key, name, ident, deps, fn, text, is_given in _skeleton(_plan(shape, learning_rate), n_rounds):
        if is_given:
            computed[key] = None
            given.append((key, name, ident))
        else:
            computed[key] = Cell(key, name, ident, deps, fn, text)
    return computed, tuple(given)


def _skeleton(plan: tuple[tuple[Any, ...], ...], n_rounds: int) -> tuple[tuple[Any, ...], ...]:
    """Every cell of every round without the given values: (key, name, id, upstream cells, fn,
    formula, given)."""
    out = []
    for r in range(1, n_rounds + 1):
        for place, name, kind, deps, fn, text, by_round in plan:
            key = place.at(r)
            ident = f"r{r}.{place.column}.{name}"
            if kind == "computed":
                if by_round is not None:
                    fn, text = by_round(r)
                out.append((key, name, ident, tuple([d.at(r) for d in deps]), fn, text, False))
            elif kind == "copied" and r > 1:
                # Rounds 2+: the student writes the previous round's updated values here.
                out.append((key, name, ident, (deps[0].at(r - 1),), _identity,
                            f"{name} (updated in round {r - 1})", False))
            else:
                out.append((key, name, ident, (), None, "", True))
    return tuple(out)


@lru_cache(maxsize=256)
def _plan(shape: Shape, learning_rate: float) -> tuple[tuple[Any, ...], ...]:
    """One round's cells in graph order: (place, name, kind, upstream places, fn, formula, the
    round's (fn, formula) where they depend on it or None), kind
    "given" (x, y, round 1's and fixed parameters), "copied" (w and b of rounds 2+, from the
    round before's updated column) or "computed"."""
    n_layers = shape.n_layers
    updated = set(column_places(shape)["updated"])
    plan: list[tuple[Any, ...]] = []
    for place in parameter_places(shape):
        source = place._replace(column="updated")
        kind = "copied" if place.quantity not in ("x", "y") and source in updated else "given"
        plan.append((place, cell_name(place, n_layers), kind, (source,), None, "", None))
    for step in round_steps(shape, learning_rate):
        plan.append((step.place, cell_name(step.place, n_layers), "computed", step.deps, step.fn, step.formula,
                     step.by_round))
    return tuple(plan)


def _given(spec: Spec, place: Place, sample: Sample) -> float:
    """A given value of the spec: x, y, the initial (or fixed) w and b, or an optimizer's state
    before round 1."""
    if place.quantity == "x":
        return sample.x[place.index[0] - 1]
    if place.quantity == "y":
        return sample.y[place.index[0] - 1]
    if place.quantity not in ("w", "b"):
        return 0.0  # an optimizer's state before round 1: no velocity, no moments yet
    layer = spec.layers[place.layer - 1]  # type: ignore[operator]
    if place.quantity == "b":
        return layer.biases[place.index[0] - 1]
    i, j = place.index
    return layer.weights[i - 1][j - 1]


# ---------------------------------------------------------------- the key


@dataclass(frozen=True)
class Key:
    """Every value of every round, plus the graph they came from."""

    graph: Graph
    values: Mapping[CellId, float]

    @property
    def spec(self) -> Spec:
        return self.graph.spec

    def value(self, round_no: int, column: str, name: str) -> float:
        """The value of the cell that ``name`` displays in ``column`` of round ``round_no``."""
        return self.values[self.graph.find(round_no, column, name)]

    def loss(self) -> list[float]:
        return [self.values[CellId(r, "forward", None, "L", ())] for r in range(1, self.spec.n_rounds + 1)]

    def to_json(self) -> dict[str, Any]:
        """The key in its JSON form: one table per round (columns of named cells), the loss per
        round, and every cell with its structure."""
        shape, n_layers = self.graph.shape, self.graph.n_layers
        places = column_places(shape)
        rounds = []
        for r in range(1, self.spec.n_rounds + 1):
            table: dict[str, Any] = {"round": r}
            for column in COLUMNS:
                table[column] = {cell_name(p, n_layers): self.values[p.at(r)] for p in places[column]}
            rounds.append(table)
        cells = [{"round": k.round, "column": k.column, "layer": k.layer, "quantity": k.quantity,
                  "index": list(k.index), "name": cell.name, "value": self.values[k]}
                 for k, cell in self.graph.cells.items()]
        if self.spec.batch > 1:  # which sample of the round a cell is of (0: the round's reduced value)
            for entry, k in zip(cells, self.graph.cells):
                entry["sample"] = k.sample
        return {"rounds": rounds, "loss": self.loss(), "cells": cells}


def trace_values(graph: Graph, trace: Trace, problem: int = 0) -> dict[CellId, float]:
    """The value of every cell of ``graph`` from the numpy engine's trace of its spec."""
    keys = tuple(graph.cells)
    gather = _gather(keys, graph.spec.batch)
    out = np.empty(len(keys))
    for (column, quantity, layer, reduced), (positions, at) in gather.items():
        array = trace.array(column, quantity, layer, reduced=reduced)[problem]
        out[positions] = array[at]
    return dict(zip(keys, out.tolist()))


_GATHERS: dict[tuple[int, int], tuple[tuple[CellId, ...], dict[Any, Any]]] = {}


def _gather(keys: tuple[CellId, ...], batch: int) -> dict[tuple[str, str, int | None, bool], tuple[Any, Any]]:
    """Where each cell's value sits in the trace: per quantity (column, quantity, layer, reduced),
    the cells' positions in ``keys`` and their (row, index…) in the quantity's (R, …) array. A
    per-sample quantity's rows are the samples, (round − 1)·batch + sample; the others' the rounds.
    Kept for the last graphs' cells: a class's problems share one list of cells."""
    known = _GATHERS.get((len(keys), batch))
    if known is not None and known[0] == keys:  # the same cells (the same objects: compared by identity first)
        return known[1]
    cells: dict[tuple[str, str, int | None, bool], list[tuple[int, tuple[int, ...]]]] = {}
    for position, key in enumerate(keys):
        row = (key.round - 1) * batch + key.sample - 1 if key.sample else key.round - 1
        cells.setdefault((key.column, key.quantity, key.layer, key.sample == 0), []).append(
            (position, (row, *(k - 1 for k in key.index))))
    plan = {kind: (np.array([p for p, _ in found], dtype=np.intp),
                   tuple(np.array(axis, dtype=np.intp) for axis in zip(*(at for _, at in found))))
            for kind, found in cells.items()}
    if len(_GATHERS) >= 64:
        _GATHERS.clear()
    _GATHERS[(len(keys), batch)] = (keys, plan)
    return plan


def cell_across(trace: Trace, key: CellId) -> Any:
    """One cell's values over every problem of ``trace`` (a (P,) array): the row of its round, or
    of its sample where a round feeds several."""
    batch = trace.architecture.batch
    row = (key.round - 1) * batch + key.sample - 1 if key.sample else key.round - 1
    array = trace.array(key.column, key.quantity, key.layer, reduced=key.sample == 0)
    at: tuple[Any, ...] = (slice(None), row, *(k - 1 for k in key.index))
    return array[at]


def answer_key(spec: Spec) -> Key:
    """Compute every cell of every round of ``spec`` (values from the numpy engine)."""
    graph = build_graph(spec)
    return Key(graph=graph, values=trace_values(graph, train_one(spec)))


def loss_at(spec: Spec, round_no: int, weights: Any, biases: Any) -> float:
    """The loss of round ``round_no``'s sample for the given parameters of a single sigmoid
    layer with half-SSE (for gradient checks)."""
    import numpy as np

    sample = spec.samples[round_no - 1]
    s = np.asarray(sample.x) @ np.asarray(weights, dtype=float) + np.asarray(biases, dtype=float)
    f = 1.0 / (1.0 + np.exp(-s))
    return float(np.sum((np.asarray(sample.y) - f) ** 2) / 2)
