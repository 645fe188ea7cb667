"""Which wrong upstream values may earn carried credit downstream (the anti-gaming rule).

Carried credit rewards correct work on a student's own wrong inputs. It must not reward inputs
chosen to make the next step trivial, so a wrong upstream value is used for carried credit
only when it is plausible for its kind (a value within the band of the key always is). The
kind is the cell's quantity and layer (never read from its name); the bounds below are Homework
4.1's for a sigmoid output and half-SSE, and follow the activation and loss otherwise:

* any cell: 0 is not plausible where the key is not 0 (it turns products and updates into
  copies), nor is a value more than 100 × max(1, |key|) away from zero;
* f_j: inside its activation's range (σ: strictly between 0 and 1, tanh: between −1 and 1,
  ReLU: not negative, linear: any), not σ(0) = 0.5 for a sigmoid, and for the output layer not
  equal to the target y_j ("f copied from y");
* y_j − f_j: smaller in size than the largest |y_j − f_j| for f_j in the output's range (either
  sign, so that work after the "f − y" mistake still follows through);
* (y_j − f_j)²: between 0 and the largest such square; L: not negative;
* the output's dL/df_j: for a squared loss at most twice the largest |dL/df_j| over the range
  (the "loss without ½" mistake fits); for cross-entropy with a 0/1 target, the sign of f − y;
* dL/ds_j: the sign of the student's own dL/df_j of that unit, and for σ and tanh (slopes
  between 0 and 1) no larger in size (a softmax unit's sums over the whole layer: no rule);
* a value typed in more than ``max_repeats`` cells of one round (default 5: f = dL/df =
  dL/ds = dL/db can happen honestly), and in more than the key has it, is not plausible in
  that round ("the same number everywhere").

The same rule decides whether a named mistake may be read into a wrong cell: a mistake is
only named from plausible upstream values.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Mapping, Sequence

from grading.engine import CellId, Column, Graph, QuantityName, registry
from grading.engine.text import Text, _

# An activation's range, its "not an output" reason and its slope words are its registry record's
# (grading.engine.registry); reasons are Text, read in any language.
_CHECKED = frozenset({"f", "y-f", "(y-f)^2", "L", "dL/df", "dL/ds"})  # the kinds with rules of their own


def repeated_values(round_values: Mapping[CellId, float], key_values: Mapping[CellId, float],
                    tol: float, max_repeats: int) -> set[float]:
    """Values typed in more than ``max_repeats`` cells of a round, and more often than in the key."""
    return repeated_in(list(round_values.values()), [key_values[k] for k in round_values], tol, max_repeats)


def repeated_in(typed: Sequence[float], expected: Sequence[float], tol: float, max_repeats: int) -> set[float]:
    """``repeated_values`` of a round's typed numbers and the key's values of the same cells."""
    counts = Counter(round(v, 12) for v in typed)
    out = set()
    keyed: list[float] | None = None
    for value, count in counts.items():
        if count <= max_repeats:
            continue
        if keyed is None:  # the key's values of the typed cells, sorted: counted by bisection
            keyed = sorted(expected)
        # the key's values v with |v − value| < tol
        in_key = bisect_left(keyed, value + tol) - bisect_right(keyed, value - tol)
        if count > in_key:
            out.add(value)
    return out


def _bounds_text(lo: float, hi: float) -> Text:
    def text(v: float) -> str:
        return ("∞" if v > 0 else "−∞") if math.isinf(v) else f"{v:g}".replace("-", "−")
    return _("%(lo)s and %(hi)s", lo=text(lo), hi=text(hi))


def implausible(key: CellId, value: float, student: Mapping[CellId, float | None],
                key_values: Mapping[CellId, float], tol: float, repeated: set[float],
                graph: Graph, *, blunt: bool = True) -> Text | None:
    """Why ``value`` in cell ``key`` may not earn carried credit downstream ("is 0, which ...",
    said of the value), or None if it may.

    ``blunt``: the rules made against invented values (0, σ(0), a copy of the target, the same
    number everywhere) apply. The marking asks them only of a root that no honest slip explains;
    a value carried from an explained slip is judged by its kind's ranges alone. A value is "0"
    only where the right value is not 0 too at the assignment's decimals.
    """
    expected = key_values[key]
    if abs(value - expected) < tol:
        return None
    if blunt and abs(value) < tol and abs(expected) >= tol:
        return _("is 0, which makes the next step trivial")
    if abs(value) > 100 * max(1.0, abs(expected)):
        return _("is far outside any reasonable value")
    if blunt and round(value, 12) in repeated:
        return _("is typed in too many cells of this round")
    shape, q, r = graph.shape, key.quantity, key.round
    if q not in _CHECKED or (key.column != "forward" and q == "f"):
        return None
    top = shape.n_layers
    j = key.index[0] if key.index else 0
    y = key_values.get(CellId(r, "parameters", None, "y", (j,), key.sample), 0.0)
    lo, hi = registry.activation(shape.activations[top - 1]).range

    def named(quantity: QuantityName, layer: int | None, column: Column = "forward") -> str:
        cell = CellId(r, column, layer, quantity, (j,), key.sample)
        return graph.cells[cell].name if cell in graph.cells else quantity

    if q == "f":
        activation = registry.activation(shape.activations[key.layer - 1])  # type: ignore[operator]
        low, high = activation.range
        inside = (low <= value if activation.low_closed else low < value) and value < high
        if activation.not_output is not None and not inside:
            return activation.not_output
        if blunt and key.layer == top and abs(value - y) < tol:
            return _("is a copy of the target %(y)s", y=named("y", None, "parameters"))
        if blunt and activation.name == "sigmoid" and abs(value - 0.5) < tol:
            return _("is σ(0) = 0.5, which skips the forward pass")
        return None
    largest = max(abs(y - lo), abs(y - hi))  # the largest |y − f| over the output's range
    if q == "y-f" and math.isfinite(largest) and not abs(value) < largest:
        return _("is larger than %(y)s − %(f)s can be for %(f)s between %(bounds)s",
                 y=named("y", None, "parameters"), f=named("f", top), bounds=_bounds_text(lo, hi))
    if q == "(y-f)^2" and not 0 <= value <= largest * largest + tol:
        return _("is not (%(y)s − %(f)s)² for any %(f)s between %(bounds)s",
                 y=named("y", None, "parameters"), f=named("f", top), bounds=_bounds_text(lo, hi))
    if q == "L" and value < 0:
        return _("is negative, and a loss cannot be")
    if q == "dL/df" and key.layer == top:
        f_name, y_name = named("f", top), named("y", None, "parameters")
        loss = registry.loss(shape.loss)
        if loss.slope_scale is None:
            if (y >= 1 and value >= 0) or (y <= 0 and value <= 0):
                return _("does not have the sign of %(f)s − %(y)s", f=f_name, y=y_name)
            return None
        scale = loss.slope_scale(shape.n_outputs)
        if abs(value) > 2 * scale * largest + tol:
            return _("is larger than %(f)s − %(y)s can be", f=f_name, y=y_name) if shape.loss == "half_sse" else \
                _("is larger than dL/df can be for %(f)s between %(bounds)s", f=f_name, bounds=_bounds_text(lo, hi))
    if q == "dL/ds":
        g_cell = CellId(r, "backward", key.layer, "dL/df", (j,), key.sample)
        g = student.get(g_cell)
        activation = registry.activation(shape.activations[key.layer - 1])  # type: ignore[operator]
        if activation.output_only:  # softmax: each dL/ds sums over every unit's dL/df, no sign to ask for
            return None
        # σ and tanh shrink dL/df; a ReLU or linear unit passes it on whole, so a slip there
        # shows as a larger value and only the sign is asked for.
        bounded = activation.slope_at_most_one
        if g is not None and (value * g <= 0 or (bounded and abs(value) > abs(g) + tol)):
            return _("does not follow from your %(cell)s: %(slope)s", cell=graph.cells[g_cell].name,
                     slope=activation.slope_words(named("f", key.layer)))
    return None
