"""Every printed number that disagrees with the engine at its own printed precision, classified.

No Django here. A printed number disagrees when |printed - exact| is more than half a unit of
its last printed place ("0.106239": 0.0000005). Each disagreement is one of

* ``carried``: a cell that depends on a typo (or on a carried cell) and whose printed value is
  what its formula gives from the printed values it depends on (a round's parameter copying the
  previous round's mistyped update, a cell computed from a mistyped one): wrong only because an
  earlier printed typo was used;
* ``last_digit``: off by at most one unit of its last printed place, or what its formula gives
  from the printed values it depends on when none of them is a typo or carried (a rounding slip,
  or the rounding of printed values carried on);
* ``typo``: every other one.

"What its formula gives from the printed values": the lecturer worked with the engine's value
of an upstream cell or with one that prints as it is printed, so each upstream value lies in
[min(exact, printed - half a unit), max(exact, printed + half a unit)]; the formula is bounded
over those intervals (at their corners) and the printed value must fall within that bound plus
half its own last unit. An upstream cell printed exactly ("0.46") or not printed is the
engine's value. A cell is ``carried`` only from a ``typo`` or another ``carried`` cell, never
from a rounding slip.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from grading.engine.spec import Spec
from grading.keyaudit.printed import Printed, PrintedKeyError, resolve_columns
from grading.engine.text import _

CellRef = tuple[int, str, str]  # (round, column, display name), as a printed key names a cell
MAX_CORNERS_DIMENSIONS = 10  # 2^10 corners at most


class EngineCell(NamedTuple):
    value: float
    deps: tuple[CellRef, ...]
    fn: Callable[..., float] | None  # None for a given cell


def engine_cells(spec: Spec) -> dict[CellRef, EngineCell]:
    """Every cell of the engine's graph of ``spec``, upstream cells first.

    The one function that reads the graph's API: a printed key names cells by (round, column,
    display name), which the graph gives every cell (``s1``, or ``s1[2]`` with layers).
    """
    from grading.engine.graph import build_graph

    graph = build_graph(spec)
    values = graph.evaluate()
    ref = {k: (k.round, k.column, cell.name) for k, cell in graph.cells.items()}
    return {ref[k]: EngineCell(values[k], tuple(ref[d] for d in cell.deps),
                               None if cell.given else cell.fn)
            for k, cell in graph.cells.items()}


@dataclass(frozen=True)
class Disagreement:
    """One printed number the engine disagrees with, the engine's value and what kind of slip."""

    round: int
    column: str
    name: str
    printed: str
    expected: float
    kind: str  # "typo", "carried" or "last_digit"

    def to_json(self) -> dict[str, Any]:
        return {"round": self.round, "column": self.column, "name": self.name,
                "printed": self.printed, "expected": self.expected, "kind": self.kind}


def _unit(text: str) -> Decimal:
    exponent = Decimal(text).as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {text}")
    return Decimal(1).scaleb(exponent)


def audit(spec: Spec, printed: list[Printed]) -> list[Disagreement]:
    """Every printed number of ``printed`` that disagrees with the engine, in the graph's order.
    A key with no printed number is refused: "every printed number agrees" would be vacuous."""
    if not printed:
        raise PrintedKeyError(_("the printed key has no number this audit can read (nothing was "
                                "checked): a round heading then name = value lines, CSV rows or "
                                "JSON cells are expected"))
    cells = engine_cells(spec)
    columns_of: dict[tuple[int, str], tuple[str, ...]] = {}
    for r, column, name in cells:
        columns_of[(r, name)] = (*columns_of.get((r, name), ()), column)
    texts: dict[CellRef, str] = {}
    for item in resolve_columns(printed, columns_of):
        ref = (item.round, item.column, item.name)
        if ref not in cells:
            raise PrintedKeyError(_("%(where)s: the problem has no such cell", where=item.where))
        if ref in texts:
            raise PrintedKeyError(_("%(where)s: printed twice", where=item.where))
        texts[ref] = item.text

    off = {ref for ref, text in texts.items()
           if abs(Decimal(text) - Decimal(cells[ref].value)) > _unit(text) / 2}
    kinds: dict[CellRef, str] = {}
    found = []
    for ref, cell in cells.items():  # the graph's order: upstream cells first
        if ref not in off:
            continue
        text = texts[ref]
        explained = cell.fn is not None and _explained(cell, float(text), float(_unit(text)) / 2,
                                                        cells, texts)
        if explained and any(kinds.get(dep) in ("typo", "carried") for dep in cell.deps):
            kinds[ref] = "carried"
        elif explained or abs(Decimal(text) - Decimal(cell.value)) <= _unit(text):
            kinds[ref] = "last_digit"
        else:
            kinds[ref] = "typo"
        found.append(Disagreement(ref[0], ref[1], ref[2], text, cell.value, kinds[ref]))
    return found


def _interval(ref: CellRef, cells: dict[CellRef, EngineCell], texts: dict[CellRef, str]
              ) -> tuple[float, float]:
    """Where the value the lecturer worked with lies: the engine's, or one that prints as printed."""
    exact = cells[ref].value
    if ref not in texts or float(texts[ref]) == exact:
        return exact, exact  # not printed, or printed exactly ("0.46" is 0.46, not 0.455 to 0.465)
    printed, half = float(texts[ref]), float(_unit(texts[ref])) / 2
    return min(exact, printed - half), max(exact, printed + half)


def _explained(cell: EngineCell, printed: float, half_unit: float, cells: dict[CellRef, EngineCell],
               texts: dict[CellRef, str]) -> bool:
    """Whether ``printed`` is what the cell's formula gives from values the upstream cells print as."""
    fn = cell.fn
    if fn is None:
        raise ValueError("a given cell has no formula to explain it")
    bounds = [_interval(dep, cells, texts) for dep in cell.deps]
    centre = [(a + b) / 2 for a, b in bounds]
    wide = [k for k, (a, b) in enumerate(bounds) if a != b]
    if len(wide) <= MAX_CORNERS_DIMENSIONS:
        # The graph's formulas are monotone in each upstream value over such small intervals, or
        # peak inside (a square, f(1 - f)): the corners and the centre give the formula's range.
        values = [fn(*centre)]
        for corner in itertools.product(*((bounds[k][0], bounds[k][1]) for k in wide)):
            point = list(centre)
            for k, v in zip(wide, corner):
                point[k] = v
            values.append(fn(*point))
        low, high = min(values), max(values)
    else:  # a weighted sum over many inputs: linear, so the first order is exact
        value = fn(*centre)
        spread = sum(abs(fn(*centre[:k], bounds[k][1], *centre[k + 1:])
                         - fn(*centre[:k], bounds[k][0], *centre[k + 1:])) / 2 for k in wide)
        low, high = value - spread, value + spread
    # The slack covers float rounding.
    slack = half_unit * (1 + 1e-6) + 1e-15
    return low - slack <= printed <= high + slack
