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
from typing import Any

from grading.engine import Cell, CellId, Graph, Place
from grading.mistakes import Mistake
from grading.mistakes.base import Alternative
from grading.engine.text import _

# A carried mistake is recomputed from exact values while the student rounded every step of
# the way: a few units in the last place more than the band.
CARRIED_SLACK = 3.0


def _safe(fn: Callable[..., float], values: list[float]) -> float | None:
    try:
        v = float(fn(*values))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return v if math.isfinite(v) else None


_SHARED: dict[int, tuple[Any, dict[str, tuple[Mistake, dict[Place, Alternative]]],
                          dict[Place, list[Place]], dict[Place, frozenset[Place]]]] = {}


class CarriedMistakes:
    """The cells of a round as each named mistake's formulas make them, from the round's
    parameters as the student has them (typed or carried over) and the given values; each value
    computed when first asked, and only the cells the asked one is computed from."""

    def __init__(self, graph: Graph, key: Mapping[CellId, float], student: Mapping[CellId, float | None],
                 alternatives: Mapping[Place, tuple[tuple[Mistake, Alternative], ...]]) -> None:
        self.graph, self.key, self.student = graph, key, student
        self._values: dict[str | None, dict[CellId, float | None]] = {}
        # What depends only on the network (the mistakes' formulas, which cells feed which) is
        # shared by every marking of it: the alternatives object is the mistakes module's cached one.
        shared = _SHARED.get(id(alternatives))
        if shared is None or shared[0] is not alternatives:
            by_mistake: dict[str, tuple[Mistake, dict[Place, Alternative]]] = {}
            for found in alternatives.values():
                for mistake, alt in found:
                    entry = by_mistake.setdefault(mistake.id, (mistake, {}))
                    entry[1].setdefault(alt.cell, alt)  # a mistake's first formula per cell, as mistake_graph
            if len(_SHARED) > 64:
                _SHARED.clear()
            shared = _SHARED[id(alternatives)] = (alternatives, by_mistake, {}, {})
        _, self.by_mistake, self._upstream, self._feeding_sets = shared

    def _value(self, k: CellId, mistake_id: str | None) -> float | None:
        """Cell ``k`` with ``mistake_id``'s formulas (None: the right ones), from its round's parameters."""
        memo = self._values.setdefault(mistake_id, {})
        if k in memo:
            return memo[k]
        cell = self.graph[k]
        if not cell.gradable:
            value: float | None = self.key[k]
        elif k.column == "parameters":  # the round starts from the student's own parameters
            own = self.student.get(k)
            value = self.key[k] if own is None else own
        elif mistake_id is not None and not self._touched(cell, self.by_mistake[mistake_id][1]):
            value = self._value(k, None)  # none of the mistake's formulas is in this cell's making
        else:
            alt = self.by_mistake[mistake_id][1].get(k.place) if mistake_id else None
            fn, deps = (alt.fn, [p.at(k.round) for p in alt.deps]) if alt else (cell.fn, list(cell.deps))
            ups = [self._value(d, mistake_id) for d in deps]
            value = None if None in ups else _safe(fn, ups)  # type: ignore[arg-type]
        memo[k] = value
        return value

    def _touched(self, cell: Cell, alts: Mapping[Place, Alternative]) -> bool:
        return cell.key.place in alts or not alts.keys().isdisjoint(self._feeding_set(cell))

    def _feeding_set(self, cell: Cell) -> frozenset[Place]:
        place = cell.key.place
        found = self._feeding_sets.get(place)
        if found is None:
            found = self._feeding_sets[place] = frozenset(self._feeding(cell))
        return found

    def _feeding(self, cell: Cell) -> list[Place]:
        """The computed places of a round that ``cell`` is computed from, nearest first (not itself)."""
        place = cell.place
        if place not in self._upstream:
            seen: list[Place] = []
            stack = list(cell.deps)
            while stack:
                k = stack.pop(0)
                if k.round != cell.key.round or k.place in seen or k.column == "parameters":
                    continue
                seen.append(k.place)
                stack.extend(self.graph[k].deps)
            self._upstream[place] = seen
        return self._upstream[place]

    def find(self, cell: Cell, typed: float, tol: float) -> tuple[Mistake, str] | None:
        """The named mistake made in a cell upstream whose consequence reproduces ``typed`` in
        ``cell`` (and the right formulas do not), with the name of that cell; None if none does."""
        k, r = cell.key, cell.key.round
        feeding = self._feeding(cell)
        if not feeding:
            return None
        right = self._value(k, None)
        if right is None:
            return None
        for mistake_id, (mistake, alts) in self.by_mistake.items():
            sources = [p for p in feeding if p in alts]
            if not sources:
                continue  # none of its formulas feeds this cell
            wrong = self._value(k, mistake_id)
            if wrong is None or abs(wrong - right) < tol or abs(typed - wrong) >= CARRIED_SLACK * tol:
                continue
            if any(self._typed_otherwise(d, mistake_id, tol) for d in cell.deps):
                # An input typed otherwise than the mistaken round has it: right (the slip is
                # this cell's own) or something else (nothing is read into gamed inputs).
                continue
            for place in reversed(sources):  # the first in the round's order that it changes
                at = place.at(r)
                if self._value(at, mistake_id) != self._value(at, None):
                    return mistake, self.graph[at].name
        return None

    def _typed_otherwise(self, k: CellId, mistake_id: str, tol: float) -> bool:
        """Whether the student typed ``k`` with another value than the mistaken round's."""
        typed = self.student.get(k)
        if typed is None or not self.graph[k].gradable:
            return False
        changed = self._value(k, mistake_id)
        return changed is not None and abs(typed - changed) >= CARRIED_SLACK * tol


def factor_note(typed: float, right: float, tol: float) -> str:
    """Q1's words for a value that is the right one times -1, 2 or 1/2 (a Text); "" otherwise."""
    if abs(right) < tol:
        return ""
    if abs(typed + right) < tol:
        return _("it has the wrong sign")
    for shown, k in (("2", 2.0), ("1/2", 0.5)):
        if abs(typed - k * right) < tol:
            return _("it is %(factor)s times the right value: check the constant factors", factor=shown)
    return ""


__all__ = ["CARRIED_SLACK", "CarriedMistakes", "factor_note"]
