"""A variant template: a spec in which some numbers are ranges or choices, validated.

No Django here. Any number of a spec (either form: a weight, a bias, an input x, a target y, the
learning rate) may be written as

* ``{"range": [lo, hi], "step": s}``: a value of the grid lo, lo + s, lo + 2s, ... up to hi.
  hi need not be on the grid: the grid stops at its last point <= hi. The points are exact
  decimals (0.1 + 2 * 0.1 is 0.3, not 0.30000000000000004), at most ``MAX_POINTS`` of them;
* ``{"choice": [v1, v2, ...]}``: one of the listed numbers (at most ``MAX_POINTS``).

``parse_template`` checks every range and choice (with its position in the message, as
``parse_spec`` does), then the spec with every ranged number at its lowest and at its highest
value: the checks ``parse_spec`` makes on a number (size, a positive learning rate, bce targets
in [0, 1]) hold over a whole interval once they hold at both ends.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Context, Decimal
from typing import Any

import numpy as np

from grading.engine import registry
from grading.engine.network import Batch, stack
from grading.engine.spec import (MAX_MAGNITUDE, THE_SPEC, Layer, Sample, Spec, SpecError, json_repr,
                                 parse_spec)
from grading.engine.text import Text, _

MAX_POINTS = 10_000
_DECIMAL = Context(prec=60)


@dataclass(frozen=True)
class Free:
    """One ranged number: where it sits in the spec and the values it may take.

    A grid's k-th value is (start + k * step) / scale, integers exactly; a choice lists its values.
    """

    where: str                  # "layers[0].weights[1][0]", as parse_spec writes positions
    path: tuple[Any, ...]       # ("layers", 0, "weights", 1, 0)
    size: int
    start: int = 0
    step: int = 0
    scale: int = 1
    choices: tuple[float, ...] = ()

    def value(self, k: int) -> float:
        """The k-th value (0-based)."""
        if self.choices:
            return self.choices[k]
        return (self.start + k * self.step) / self.scale  # int / int: correctly rounded

    def values(self, ks: np.ndarray) -> np.ndarray:
        """The values of an array of indices, each equal to ``value(k)``."""
        if self.choices:
            chosen: np.ndarray = np.asarray(self.choices, dtype=float)[ks]
            return chosen
        top = abs(self.start) + self.size * abs(self.step)
        if self.scale <= 10 ** 22 and top < 2 ** 53:
            # Integers below 2^53 and powers of ten up to 1e22 are exact in float64, so the one
            # division is correctly rounded: the same float as value(k).
            return (self.start + ks.astype(np.int64) * self.step).astype(float) / float(self.scale)
        return np.array([self.value(int(k)) for k in np.ravel(ks)], dtype=float).reshape(np.shape(ks))

    @property
    def low(self) -> float:
        return min(self.choices) if self.choices else self.value(0)

    @property
    def high(self) -> float:
        return max(self.choices) if self.choices else self.value(self.size - 1)


@dataclass(frozen=True, eq=False)
class Template:
    """A spec with ranged numbers: the spec at their lowest values and the ranged numbers."""

    low: Spec
    free: tuple[Free, ...]

    @property
    def sizes(self) -> tuple[int, ...]:
        return tuple(f.size for f in self.free)

    def batch(self, values: np.ndarray) -> Batch:
        """The batch of P concrete problems, ``values`` (P, len(free)) in the order of ``free``."""
        base = stack([self.low])
        p = len(values)
        arrays: dict[str, Any] = {"weights": [np.repeat(w, p, axis=0) for w in base.weights],
                  "biases": [np.repeat(b, p, axis=0) for b in base.biases],
                  "learning_rate": np.repeat(base.learning_rate, p, axis=0),
                  "x": np.repeat(base.x, p, axis=0), "y": np.repeat(base.y, p, axis=0)}
        for k, free in enumerate(self.free):
            name, layer, index = _location(free.path)
            target = arrays[name] if layer is None else arrays[name][layer]
            target[(slice(None), *index)] = values[:, k]
        return Batch(architecture=base.architecture, weights=tuple(arrays["weights"]),
                     biases=tuple(arrays["biases"]), learning_rate=arrays["learning_rate"],
                     x=arrays["x"], y=arrays["y"])

    def specs(self, values: np.ndarray) -> list[Spec]:
        """The concrete specs of ``values`` (P, len(free)), as ``parse_spec`` would give them."""
        batch, low = self.batch(values), self.low
        return [Spec(layers=tuple(Layer(weights=tuple(map(tuple, batch.weights[l][p].tolist())),
                                        biases=tuple(batch.biases[l][p].tolist()),
                                        activation=layer.activation)
                                  for l, layer in enumerate(low.layers)),
                     learning_rate=float(batch.learning_rate[p]),
                     samples=tuple(Sample(x=tuple(x), y=tuple(y))
                                   for x, y in zip(batch.x[p].tolist(), batch.y[p].tolist())),
                     loss=low.loss, update_biases=low.update_biases, batch=low.batch,
                     reduce=low.reduce, optimizer=low.optimizer)
                for p in range(len(values))]


def _location(path: tuple[Any, ...]) -> tuple[str, int | None, tuple[int, ...]]:
    """(batch array, layer or None, index after the problem axis) of a ranged number's path."""
    if path[0] == "layers":
        return path[2], path[1], tuple(path[3:])
    if path[0] == "samples":
        return path[2], None, (path[1], path[3])
    if path[0] == "learning_rate":
        return "learning_rate", None, ()
    return path[0], 0, tuple(path[1:])


# ---------------------------------------------------------------- parsing


def _is_free(value: Any) -> bool:
    return isinstance(value, dict) and ("range" in value or "choice" in value)


# The spec's own order of its parts: a template's ranged numbers are listed (and drawn) in it,
# whatever order the JSON object's keys come in. A database may store them in another order
# (PostgreSQL's jsonb sorts keys by length): the same template must draw the same numbers.
_KEY_ORDER = {key: k for k, key in enumerate(("layers", "weights", "biases", "activation", "loss",
                                              "learning_rate", "update_biases", "samples", "x", "y"))}


def _in_order(data: dict[Any, Any]) -> list[tuple[Any, Any]]:
    return sorted(data.items(), key=lambda item: (_KEY_ORDER.get(item[0], len(_KEY_ORDER)), str(item[0])))


def _find(data: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """(path, object) of every range or choice where a spec can hold a number, and elsewhere, in
    the spec's order (layers; weights row by row, then biases; the learning rate; the samples,
    each x then y), not the JSON keys' order."""
    if _is_free(data):
        return [(path, data)]
    # A number sits at most five deep (layers[l].weights[i][j]); a longer list than any bound
    # of parse_spec is refused by it before its items are read.
    if len(path) >= 6:
        return []
    items = (enumerate(data[:100]) if isinstance(data, list)
             else _in_order(data) if isinstance(data, dict) else ())
    return [found for key, value in items for found in _find(value, (*path, key))]


def _where(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _number_position(path: tuple[Any, ...], layered: bool) -> bool:
    """Whether ``path`` is where a spec of its form holds a number."""
    shapes = [("learning_rate",), ("samples", int, "x", int), ("samples", int, "y", int)]
    shapes += ([("layers", int, "weights", int, int), ("layers", int, "biases", int)] if layered
               else [("weights", int, int), ("biases", int)])
    return any(len(shape) == len(path) and all(
        (isinstance(part, int) and not isinstance(part, bool)) if want is int else part == want
        for want, part in zip(shape, path)) for shape in shapes)


def _finite(value: Any, where: str, what: Text) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(_("%(where)s: %(what)s must be a number, got %(value)s", where=where, what=what,
                          value=json_repr(value)))
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(_("%(where)s: %(what)s must be a finite number, got %(value)s", where=where,
                          what=what, value=str(value)))
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(_("%(where)s: %(what)s is %(value)s; keep values within ±1e6", where=where,
                          what=what, value=json_repr(value)))
    # repr is the shortest text of the float, the decimal its author wrote.
    return Decimal(repr(float(value))) if isinstance(value, float) else Decimal(value)


def _exponent(number: Decimal) -> int:
    """The exponent of a finite Decimal (as_tuple() gives a letter for NaN and infinity)."""
    exponent = number.as_tuple().exponent
    if not isinstance(exponent, int):
        raise ValueError(f"not a finite number: {number}")
    return exponent


def _free(path: tuple[Any, ...], item: dict[str, Any]) -> Free:
    where = _where(path)
    if "choice" in item:
        if set(item) != {"choice"}:
            raise SpecError(_('%(where)s: a choice is written {"choice": [v1, v2, ...]}; unknown keys: '
                              '%(keys)s', where=where, keys=", ".join(sorted(map(str, set(item) - {"choice"})))))
        values = item["choice"]
        if not isinstance(values, list) or not values:
            raise SpecError(_("%(where)s: choice must be a non-empty list of numbers", where=where))
        if len(values) > MAX_POINTS:
            raise SpecError(_("%(where)s: choice has %(n)s values; at most %(max)s", where=where, n=len(values),
                              max=MAX_POINTS))
        return Free(where=where, path=path, size=len(values), choices=tuple(
            float(_finite(v, where, _("choice value %(n)s", n=k + 1))) for k, v in enumerate(values)))
    if set(item) != {"range", "step"}:
        extra = sorted(map(str, set(item) - {"range", "step"}))
        if extra:
            raise SpecError(_('%(where)s: a range is written {"range": [lo, hi], "step": s}; unknown keys: '
                              '%(keys)s', where=where, keys=", ".join(extra)))
        raise SpecError(_('%(where)s: a range is written {"range": [lo, hi], "step": s}; step is missing',
                          where=where))
    bounds = item["range"]
    if not isinstance(bounds, list) or len(bounds) != 2:
        raise SpecError(_("%(where)s: range must be a list of two numbers [lo, hi]", where=where))
    lo, hi = _finite(bounds[0], where, _("range lo")), _finite(bounds[1], where, _("range hi"))
    step = _finite(item["step"], where, _("range step"))
    if lo > hi:
        raise SpecError(_("%(where)s: range lo %(lo)s is above hi %(hi)s", where=where, lo=str(bounds[0]),
                          hi=str(bounds[1])))
    if step <= 0:
        raise SpecError(_("%(where)s: range step must be positive, got %(step)s", where=where,
                          step=str(item["step"])))
    steps = _DECIMAL.divide(_DECIMAL.subtract(hi, lo), step)  # exact: 60 digits cover any two floats
    if steps >= MAX_POINTS:
        raise SpecError(_("%(where)s: range has more than %(max)s points; use a larger step", where=where,
                          max=MAX_POINTS))
    exponent = max(0, -_exponent(lo), -_exponent(step))
    scale = 10 ** exponent
    return Free(where=where, path=path, size=int(steps.to_integral_value(ROUND_FLOOR)) + 1,
                start=int(lo * scale), step=int(step * scale), scale=scale)


def _substitute(data: Any, free: tuple[Free, ...], values: list[float]) -> Any:
    """A copy of ``data`` with each ranged number replaced by its value; ``data`` is not changed."""
    concrete = copy.copy(data)
    copied = {id(concrete)}
    for item, value in zip(free, values):
        target = concrete
        for part in item.path[:-1]:
            # Copy only the containers on the way to a ranged number, each once.
            if id(target[part]) not in copied:
                target[part] = copy.copy(target[part])
                copied.add(id(target[part]))
            target = target[part]
        target[item.path[-1]] = value
    return concrete


def parse_template(data: Any) -> Template:
    """Validate a spec whose numbers may be ranges or choices, or raise SpecError saying where."""
    layered = isinstance(data, dict) and "layers" in data
    found = _find(data)
    for path, _item in found:
        if not _number_position(path, layered):
            raise SpecError(_("%(where)s: a range or choice can only stand for a number (a weight, a bias, "
                              "an input x, a target y or the learning rate)", where=_where(path) or THE_SPEC))
    free = tuple(_free(path, item) for path, item in found)
    for item in free:
        if item.path == ("learning_rate",) and item.low <= 0:
            raise SpecError(_("learning_rate: every value must be positive; %(value)s is not",
                              value=str(item.low)))
        if layered and data.get("loss") in registry.LOSSES and registry.loss(data["loss"]).targets_in_unit \
                and item.path[-2:-1] == ("y",) \
                and not 0 <= item.low <= item.high <= 1:
            raise SpecError(_("%(where)s: with loss bce every target must be between 0 and 1; the values "
                              "reach %(value)s", where=item.where,
                              value=str(item.low if item.low < 0 else item.high)))
    low = parse_spec(_substitute(data, free, [f.low for f in free]))
    parse_spec(_substitute(data, free, [f.high for f in free]))
    return Template(low=low, free=free)
