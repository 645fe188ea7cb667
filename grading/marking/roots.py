"""Roots of carried credit, and the honest slips that explain them.

No Django here. A **root** is a wrong typed cell that does not follow from its own inputs (for
the first slip of a table, its inputs are all right or given). Everything computed honestly
after it is *carried*. Carried credit rewards careful work after an honest slip; it must not
reward a value invented or copied so that the rest of the table can be computed from it. So each
root is explained, when it can be, by a slip a careful human marker would recognise, searched
from the cell's own formula and the student's own values (never from the key of another cell):

* a named mistake (``grading.mistakes``, found by the tables' first pass);
* the sign flipped;
* one digit wrong, two adjacent digits swapped, a digit dropped or doubled, the decimal point
  moved (the typed text against the right value written out at the same places);
* the value rounded or truncated at fewer places (not to 0);
* a wrong operand taken from the same round's table: another cell of the same quantity (x1 for
  x2, w12 for w21, another unit's f or s), or the same cell of the previous round;
* one term of a sum dropped or doubled (s, L and a hidden layer's dL/df are sums).

An explained root carries as it always did, and its feedback names the slip. An unexplained
root's carried cells follow the assignment's policy (``MarkingRules.unexplained_roots``):
``review`` (they wait for staff), ``carry`` (carried as before) or ``none`` (no carried credit).
A root whose value equals another student's number for that cell (``Others``) is never
explained: it is a copy signal for staff.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from grading.engine import CellId, Graph, Place, Shape, registry
from grading.engine.text import Text, _

ExplanationKind = Literal["named_mistake", "sign", "digit", "swapped_digits", "dropped_digit",
                          "doubled_digit", "decimal_point", "rounding", "truncation", "operand", "term"]
RootState = Literal["explained", "waiting", "accepted", "declined", "carried", "refused"]
Policy = Literal["review", "carry", "none"]
POLICIES: tuple[Policy, ...] = ("review", "carry", "none")


def policy(name: str) -> Policy:
    """A stored policy name as a Policy; ValueError for any other name."""
    for known in POLICIES:  # (a loop, not ``in``: the type checker then knows it is a Policy)
        if known == name:
            return known
    raise ValueError(f"unknown policy for unexplained roots: {name!r} (known: {', '.join(POLICIES)})")
# Another student's number for a cell, written at the assignment's decimals -> who has it.
Others = Mapping[str, Mapping[str, tuple[str, ...]]]

OPERAND_SLACK = 3.0  # a recomputed candidate within 3 bands: the typed inputs were rounded
MIN_PLACES = 2  # a value rounded or cut off at fewer places than this is not "rounded": it is made up


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a root is an honest slip: its kind and words for the student (a Text)."""

    kind: ExplanationKind
    message: str


def _text(value: float, places: int) -> str:
    return f"{abs(value):.{max(places, 0)}f}"


def digit_slip(typed: float, places: int, right: float, decimals: int, tol: float = 0.0) -> Explanation | None:
    """One digit wrong, two adjacent digits swapped, a digit dropped or doubled, the decimal point
    moved, or the sign flipped: ``typed`` (written with ``places`` decimals) against ``right``
    written at the assignment's ``decimals``.

    Digits are compared at the assignment's places: a value typed with fewer ("0.9" for 0.6130)
    is never "one digit" off (only a rounding may explain it); a dropped digit leaves one place
    fewer than the right value written out (at least the assignment's places), a doubled one one
    more. ``tol``: how far a right value worked from rounded inputs may be from the student's own.
    """
    at = max(places, decimals)
    mine, target = _text(typed, at), _text(right, at)
    if typed == 0 or right == 0:
        differ_sign = False
    else:
        differ_sign = (typed < 0) != (right < 0)
    if differ_sign:
        return Explanation("sign", _("the sign is flipped")) if mine == target and places >= decimals else None
    if places >= decimals and len(target) == len(mine) and mine != target:
        differ = [i for i, (a, b) in enumerate(zip(mine, target)) if a != b]
        if len(differ) == 1:
            return Explanation("digit", _("one digit differs"))
        if len(differ) == 2 and differ[1] == differ[0] + 1 and \
                (mine[differ[0]], mine[differ[1]]) == (target[differ[1]], target[differ[0]]):
            return Explanation("swapped_digits", _("two digits are swapped"))
    written = _text(typed, places)
    if places >= decimals - 1:  # the right value written out at one place more, less one digit
        full = _text(right, places + 1)
        if any(ch.isdigit() and full[:i] + full[i + 1:] == written for i, ch in enumerate(full)):
            return Explanation("dropped_digit", _("a digit is dropped"))
    if places >= decimals + 1:  # the right value at one place fewer, with one digit written twice
        full = _text(right, places - 1)
        if any(ch.isdigit() and full[:i] + ch + full[i:] == written for i, ch in enumerate(full)):
            return Explanation("doubled_digit", _("a digit is doubled"))
    if typed != 0 and right != 0 and places >= decimals:
        shift = round(math.log10(abs(typed) / abs(right)))
        # The digits were written (at the assignment's places) before the point moved, so their
        # rounding moves with it; moved left, the value is rounded again where it was typed.
        unit = max(0.6 * 10.0 ** -decimals, OPERAND_SLACK * tol) * 10.0 ** max(shift, 0)
        if shift < 0:
            unit = max(unit, 0.6 * 10.0 ** -places)
        if 1 <= abs(shift) <= 3 and abs(abs(typed) - abs(right) * 10.0 ** shift) < unit:
            return Explanation("decimal_point", _("the decimal point is moved"))
    return None


def rounding_slip(typed: float, right: float, decimals: int, tol: float) -> Explanation | None:
    """``right`` rounded at fewer places than the assignment's, or cut off (truncated) at its
    places or fewer, keeping at least ``MIN_PLACES`` (0.5423 is not "0.5, rounded": that is σ(0));
    never a slip to 0."""
    for places in range(decimals, MIN_PLACES - 1, -1):
        rounded = round(right, places)
        if places < decimals and rounded != 0 and abs(typed - rounded) < tol:
            return Explanation("rounding", _("rounded to %(n)s places", n=places))
        factor = 10.0 ** places
        truncated = math.trunc(right * factor) / factor
        if truncated != 0 and abs(typed - truncated) < tol:
            return Explanation("truncation", _("cut off after %(n)s places", n=places))
    return None


def _safe(fn: Callable[..., float], values: Sequence[float]) -> float | None:
    try:
        v = float(fn(*values))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return v if math.isfinite(v) else None


def operand_slip(graph: Graph, key: CellId, typed: float, values: Mapping[CellId, float | None],
                 tol: float, usable: Callable[[CellId], bool] | None = None) -> Explanation | None:
    """The cell's formula with one input replaced by a neighbour of the same quantity in the
    same round's table (or the same cell one round earlier) gives the typed value. The neighbour
    taken must be one of the student's honest numbers (``usable``: right, or worked from their
    own inputs): a slip takes a real number from the wrong place, not a made-up one."""
    cell = graph[key]
    inputs = [values.get(u) for u in cell.deps]
    if cell.fn is None or any(v is None for v in inputs):
        return None
    base = [float(v) for v in inputs if v is not None]
    for position, u in enumerate(cell.deps):
        for other in _neighbours(graph, u):
            value = values.get(other)
            if value is None or value == base[position] or (
                    usable is not None and not usable(other)):
                continue
            trial = list(base)
            trial[position] = float(value)
            got = _safe(cell.fn, trial)
            if got is not None and abs(got - typed) < OPERAND_SLACK * tol:
                return Explanation("operand", _("%(other)s is used in place of %(name)s",
                                                other=_label(graph, other, key.round),
                                                name=graph[u].name))
    return None


def _label(graph: Graph, cell: CellId, round_no: int) -> str:
    name = graph[cell].name
    return name if cell.round == round_no else _("round %(round)s's %(name)s", round=cell.round, name=name)


def _neighbours(graph: Graph, u: CellId) -> Iterable[CellId]:
    """Cells a student could take in place of ``u``: the same quantity in the same column and
    round (another index or layer: x1 for x2, w12 for w21), the same weight before or after its
    update, and ``u`` itself one round earlier."""
    for other in graph.by_quantity.get((u.round, u.quantity), ()):
        if other != u and (other.column == u.column or (other.layer, other.index) == (u.layer, u.index)):
            yield other
    earlier = CellId(u.round - 1, u.column, u.layer, u.quantity, u.index, u.sample)
    if u.round > 1 and earlier in graph.cells:
        yield earlier


def is_sum(graph: Graph, key: CellId) -> bool:
    """s, L and a hidden layer's dL/df are sums of terms (a dropped or doubled term is a slip)."""
    if key.quantity in ("s", "L"):
        return True
    return key.quantity == "dL/df" and key.layer is not None and key.layer < graph.shape.n_layers


def term_slip(graph: Graph, key: CellId, typed: float, values: Mapping[CellId, float | None],
              tol: float) -> Explanation | None:
    """For a sum: one of its inputs taken as 0 (that term dropped) or twice (doubled)."""
    if not is_sum(graph, key):
        return None
    cell = graph[key]
    inputs = [values.get(u) for u in cell.deps]
    if cell.fn is None or any(v is None for v in inputs):
        return None
    base = [float(v) for v in inputs if v is not None]
    for position, u in enumerate(cell.deps):
        for factor, words in ((0.0, _("the term with %(name)s is left out", name=graph[u].name)),
                              (2.0, _("the term with %(name)s is counted twice", name=graph[u].name))):
            trial = list(base)
            trial[position] = base[position] * factor
            got = _safe(cell.fn, trial)
            if got is not None and abs(got - typed) < OPERAND_SLACK * tol:
                return Explanation("term", words)
    return None


def explain(graph: Graph, key: CellId, typed: float, places: int, rights: Sequence[float],
            values: Mapping[CellId, float | None], decimals: int, tol: float, *,
            digits: bool = True, usable: Callable[[CellId], bool] | None = None) -> Explanation | None:
    """The first honest slip that turns a right value of ``rights`` (from the student's own
    inputs, then the exact ones) into ``typed``; None when there is none. ``digits``: slips of
    the written digits count (they can make any value, 0 included: not where a round is full
    of roots); the others come from the right value or the table itself."""
    for right in rights:
        found = (digit_slip(typed, places, right, decimals, tol) if digits else None) \
            or rounding_slip(typed, right, decimals, tol)
        if found is not None:
            return found
    return operand_slip(graph, key, typed, values, tol, usable) or term_slip(graph, key, typed, values, tol)


def copied_from(others: Others | None, cell_id: str, typed: float, decimals: int) -> tuple[str, ...]:
    """Who else has ``typed`` (at the assignment's decimals) as their number for this cell."""
    if not others:
        return ()
    return tuple(others.get(cell_id, {}).get(f"{typed:.{decimals}f}", ()))


def sentence(explanation: Explanation, typed: str, right: float, decimals: int) -> Text:
    """The feedback's words for an explained root: what was typed, what was right, the slip."""
    return _("you typed %(typed)s where %(right)s was right: %(slip)s; the cells after it are "
             "marked from your value", typed=typed, right=f"{right:.{decimals}f}", slip=explanation.message)


Honest = tuple[tuple[tuple[Place, ...], Callable[..., float]], ...]


def honest_alternatives(graph: Graph) -> Mapping[Place, Honest]:
    """Other honest derivations of a cell than its own step: the output's dL/df from the
    student's own y − f cell (dL/df = −scale·(y − f) for a squared loss, as Mazur writes it)."""
    # Only where the graph has both cells in round 1 (a round of several samples has neither
    # without its sample); looked up, not gathered from every cell: this runs for every marking.
    cells = graph.cells
    return {cell: honest for cell, honest in _honest(graph.shape).items()
            if cell.at(1) in cells and all(d.at(1) in cells for deps, _fn in honest for d in deps)}


@lru_cache(maxsize=64)
def _honest(shape: Shape) -> Mapping[Place, Honest]:
    loss = registry.loss(shape.loss)
    if not loss.squared or loss.slope_scale is None:
        return {}
    scale = float(loss.slope_scale(shape.n_outputs))
    out: dict[Place, Honest] = {}
    for j in range(1, shape.n_outputs + 1):
        cell, y_minus_f = Place("backward", shape.n_layers, "dL/df", (j,)), Place("forward", None, "y-f", (j,))
        out[cell] = (((y_minus_f,), lambda d, scale=scale: -scale * d),)
    return out
