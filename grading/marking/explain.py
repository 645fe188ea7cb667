"""Why a wrong cell is wrong, when its own formula does not say: a mistake made upstream and
carried into it, or a sign or factor of 2 off (the same words as Q1's hints).

No Django here. A student who flips dL/df in their head but types a right (or no) dL/df still
hands in dL/ds and dL/dw with the flip in them: the one-step search of ``tables`` cannot see
that, because the mistaken formula is not this cell's. Here each named mistake's formulas are
run through the whole round from the round's own parameters, and a cell that matches the
mistaken round (and not the right one) is labelled with it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from grading.engine import Cell, CellId, Graph, Place
from grading.mistakes import Alternative, Mistake

# A carried mistake is recomputed from exact values while the student rounded every step of
# the way: a few units in the last place more than the band.
CARRIED_SLACK = 3.0


def _safe(fn: Callable[..., float], values: list[float]) -> float | None:
    try:
        v = float(fn(*values))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return v if math.isfinite(v) else None


class CarriedMistakes:
    """Each round evaluated with each named mistake's formulas, from the round's parameters as
    the student has them (typed or carried over) and the given values; computed when first asked."""

    def __init__(self, graph: Graph, key: Mapping[CellId, float], student: Mapping[CellId, float | None],
                 alternatives: Mapping[Place, tuple[tuple[Mistake, Alternative], ...]]) -> None:
        self.graph, self.key, self.student = graph, key, student
        self.by_mistake: dict[str, tuple[Mistake, dict[Place, Alternative]]] = {}
        for found in alternatives.values():
            for mistake, alt in found:
                entry = self.by_mistake.setdefault(mistake.id, (mistake, {}))
                entry[1].setdefault(alt.cell, alt)  # a mistake's first formula per cell, as mistake_graph
        self._rounds: dict[int, list[Cell]] = {}
        self._values: dict[tuple[int, str | None], dict[CellId, float | None]] = {}

    def _cells(self, r: int) -> list[Cell]:
        if r not in self._rounds:
            self._rounds[r] = [c for k, c in self.graph.cells.items() if k.round == r]
        return self._rounds[r]

    def _round(self, r: int, mistake_id: str | None) -> dict[CellId, float | None]:
        """Round ``r``'s values with ``mistake_id``'s formulas (None: the right ones)."""
        memo = self._values.get((r, mistake_id))
        if memo is not None:
            return memo
        alts = self.by_mistake[mistake_id][1] if mistake_id else {}
        values: dict[CellId, float | None] = {}
        for cell in self._cells(r):
            k = cell.key
            if not cell.gradable:
                values[k] = self.key[k]
            elif k.column == "parameters":  # the round starts from the student's own parameters
                own = self.student.get(k)
                values[k] = self.key[k] if own is None else own
            else:
                alt = alts.get(cell.place)
                fn, deps = (alt.fn, [p.at(r) for p in alt.deps]) if alt else (cell.fn, list(cell.deps))
                ups = [values.get(d) for d in deps]
                values[k] = None if None in ups else _safe(fn, ups)  # type: ignore[arg-type]
        self._values[(r, mistake_id)] = values
        return values

    def find(self, cell: Cell, typed: float, tol: float) -> tuple[Mistake, str] | None:
        """The named mistake whose round reproduces ``typed`` in ``cell`` (and the right round
        does not), with the name of the cell it starts from; None if none does."""
        k, r = cell.key, cell.key.round
        right = self._round(r, None).get(k)
        if right is None:
            return None
        for mistake_id, (mistake, alts) in self.by_mistake.items():
            values = self._round(r, mistake_id)
            wrong = values.get(k)
            if wrong is None or abs(wrong - right) < tol or abs(typed - wrong) >= CARRIED_SLACK * tol:
                continue
            if any(self._typed_otherwise(d, values, tol) for d in cell.deps):
                # An input typed otherwise than the mistaken round has it: right (the slip is
                # this cell's own) or something else (nothing is read into gamed inputs).
                continue
            source = self._source(r, mistake_id, alts, cell)
            if source is not None:
                return mistake, source
        return None

    def _typed_otherwise(self, k: CellId, wrong: Mapping[CellId, float | None], tol: float) -> bool:
        """Whether the student typed ``k`` with another value than the mistaken round's."""
        typed, changed = self.student.get(k), wrong.get(k)
        if typed is None or changed is None or not self.graph[k].gradable:
            return False
        return abs(typed - changed) >= CARRIED_SLACK * tol

    def _source(self, r: int, mistake_id: str, alts: Mapping[Place, Alternative], cell: Cell) -> str | None:
        """The first cell of the round whose mistaken formula changes its value and feeds ``cell``."""
        plain, wrong = self._round(r, None), self._round(r, mistake_id)
        feeding = self._upstream(cell)
        for place in alts:
            k = place.at(r)
            if k in feeding and plain.get(k) is not None and wrong.get(k) is not None \
                    and plain[k] != wrong[k]:
                return self.graph[k].name
        return None

    def _upstream(self, cell: Cell) -> set[CellId]:
        """``cell`` and every cell of its round it is computed from."""
        seen: set[CellId] = set()
        stack = [cell.key]
        while stack:
            k = stack.pop()
            if k in seen or k.round != cell.key.round:
                continue
            seen.add(k)
            stack.extend(self.graph[k].deps)
        return seen


def factor_note(typed: float, right: float, tol: float) -> str:
    """Q1's words for a value that is the right one times -1, 2 or 1/2; "" otherwise."""
    if abs(right) < tol:
        return ""
    if abs(typed + right) < tol:
        return "it has the wrong sign"
    for shown, k in (("2", 2.0), ("1/2", 0.5)):
        if abs(typed - k * right) < tol:
            return f"it is {shown} times the right value: check the constant factors"
    return ""


__all__ = ["CARRIED_SLACK", "CarriedMistakes", "factor_note"]
