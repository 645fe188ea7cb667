"""What the mistakes are written with: the network a formula is for, and a mistaken formula.

No Django here. ``Net`` names cells in the course's notation and walks the layers; builders in
``classic`` and ``deeper`` return ``Alternative``s, one mistaken formula of one cell each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from grading.engine import Column, Place, QuantityName, Shape, cell_name, column_places


@dataclass(frozen=True)
class Alternative:
    """The mistaken formula of one cell (same place in every round), over same-round cells."""

    cell: Place
    deps: tuple[Place, ...]
    fn: Callable[..., float]
    formula: str
    name: str  # the cell's display name, for people reading the list

    @property
    def column(self) -> str:
        return self.cell.column


class Net:
    """What a mistake's formulas are written for: the network's shape and learning rate."""

    def __init__(self, shape: Shape, lr: float) -> None:
        self.shape, self.lr = shape, lr
        self.layers = range(1, shape.n_layers + 1)
        self.top = shape.n_layers

    def n(self, place: Place) -> str:
        return cell_name(place, self.shape.n_layers)

    def units(self, layer: int) -> range:
        return range(1, self.shape.sizes[layer] + 1)

    def alt(self, cell: Place, deps: tuple[Place, ...], fn: Callable[..., float], formula: str) -> Alternative:
        return Alternative(cell, deps, fn, formula, self.n(cell))

    @property
    def places(self) -> set[Place]:
        return {p for ps in column_places(self.shape).values() for p in ps}

    def outputs(self) -> list[tuple[int, Place, Place]]:
        """(j, f_j of the output layer, y_j) for every output."""
        return [(j, P("forward", self.top, "f", j), P("parameters", None, "y", j)) for j in self.units(self.top)]

    def below(self, layer: int, i: int) -> Place:
        """x_i for layer 1, else f_i of the layer below."""
        return P("parameters", None, "x", i) if layer == 1 else P("forward", layer - 1, "f", i)


def P(column: Column, layer: int | None, quantity: QuantityName, *index: int) -> Place:  # noqa: N802
    """A place, written short: P("backward", 2, "dL/dw", 1, 2)."""
    return Place(column, layer, quantity, tuple(index))


def num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)
