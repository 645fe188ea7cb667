"""The one-step formula of every computed cell of a round, for any dense network.

No Django here. Each ``Step`` is a cell's place, its upstream places (the same round's cells),
a function of their values and its formula as the course writes it. The key's values come
from ``grading.engine.network``; these formulas are what follow-through recomputes a cell with
from a student's own upstream cells, and what Q1's rows are read from, so they must agree with
the network (tests/test_graph_layers.py checks it on random networks of every kind).

The functions take plain numbers (the key, the student's values) or intervals (marking
recomputes a cell over what the typed values stand for, ``grading.marking.intervals``). Where
an interval needs its own bound (a square, σ, f(1 − f), a logarithm) a helper asks the value
for it: this module never imports the interval type, and on floats every function computes
exactly as it always did.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grading.engine import registry
from grading.engine.cells import GRADIENT, Place, Shape, cell_name, layer_places, loss_places
from grading.engine.registry import identity as _identity
from grading.engine.registry import sigmoid, tanh, relu  # noqa: F401  (steps.sigmoid, as before)


@dataclass(frozen=True)
class Step:
    """One computed cell of every round: place, upstream places, function and formula text."""

    place: Place
    deps: tuple[Place, ...]
    fn: Callable[..., Any]
    formula: str


# ---------------------------------------------------------------- functions of numbers or intervals


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) or isinstance(v, numbers.Real)  # numpy scalars too


ACTIVATE = {a.name: a.scalar for a in registry.activations()}


def _weighted_sum(*values: Any) -> Any:
    # values = w_1j..w_nj, x_1..x_n, b_j
    n = (len(values) - 1) // 2
    if all(_number(v) for v in values):
        return math.fsum(values[k] * values[n + k] for k in range(n)) + values[-1]
    total = values[-1]
    for k in range(n):
        total = values[k] * values[n + k] + total
    return total


def _dot(*values: Any) -> Any:
    # values = w_j1..w_jK, dL/ds_1..dL/ds_K: a hidden unit's dL/df, summed over the layer above
    k = len(values) // 2
    if all(_number(v) for v in values):
        return math.fsum(values[t] * values[k + t] for t in range(k))
    total = values[0] * values[k]
    for t in range(1, k):
        total = values[t] * values[k + t] + total
    return total


def _square(d: Any) -> Any:
    # An interval spanning 0 squares to [0, ...], which d * d would not give.
    return d * d if _number(d) else d.square()


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


# ---------------------------------------------------------------- the steps of a round


@lru_cache(maxsize=256)
def round_steps(shape: Shape, learning_rate: float) -> tuple[Step, ...]:
    """Every computed cell of one round of ``shape`` in graph order (upstream cells first):
    forward layer by layer, the loss, backward from the output layer down, then the updates.

    Parameter cells are not steps: they are given (round 1; x, y in every round; fixed biases)
    or copied from the previous round's updated column (``build_graph``).
    """
    steps: list[Step] = []
    steps += _forward(shape)
    steps += _loss(shape)
    for l in range(shape.n_layers, 0, -1):
        steps += _backward(shape, l)
    lr = float(learning_rate)
    for l in range(1, shape.n_layers + 1):
        for place in layer_places(shape, l)["updated"]:
            old = place._replace(column="parameters")
            grad = Place("backward", l, GRADIENT[place.quantity], place.index)
            steps.append(Step(place, (old, grad), lambda p, g, lr=lr: p - lr * g,
                              f"{_n(old, shape)} - {_num_text(lr)}*{_n(grad, shape)}"))
    return tuple(steps)


def _n(place: Place, shape: Shape) -> str:
    return cell_name(place, shape.n_layers)


def _below(shape: Shape, layer: int, i: int) -> Place:
    """What unit i of the layer below ``layer`` outputs: x_i for layer 1, else f_i of layer − 1."""
    if layer == 1:
        return Place("parameters", None, "x", (i,))
    return Place("forward", layer - 1, "f", (i,))


def _forward(shape: Shape) -> list[Step]:
    steps = []
    for l in range(1, shape.n_layers + 1):
        ins, outs = range(1, shape.sizes[l - 1] + 1), range(1, shape.sizes[l] + 1)
        for j in outs:
            w = [Place("parameters", l, "w", (i, j)) for i in ins]
            x = [_below(shape, l, i) for i in ins]
            b = Place("parameters", l, "b", (j,))
            text = " + ".join(f"{_n(wi, shape)}*{_n(xi, shape)}" for wi, xi in zip(w, x)) + f" + {_n(b, shape)}"
            steps.append(Step(Place("forward", l, "s", (j,)), (*w, *x, b), _weighted_sum, text))
        activation = registry.activation(shape.activations[l - 1])
        for j in outs:
            s = Place("forward", l, "s", (j,))
            text = f"{activation.formula_names[0]}({_n(s, shape)})" if activation.formula_names else _n(s, shape)
            steps.append(Step(Place("forward", l, "f", (j,)), (s,), activation.scalar, text))
    return steps


def _output(shape: Shape, j: int) -> tuple[Place, Place]:
    """(y_j, f_j of the output layer)."""
    return Place("parameters", None, "y", (j,)), Place("forward", shape.n_layers, "f", (j,))


def _loss(shape: Shape) -> list[Step]:
    m = shape.n_outputs
    outs = range(1, m + 1)
    steps = []
    for place in loss_places(shape):
        if place.quantity == "y-f":
            y, f = _output(shape, place.index[0])
            steps.append(Step(place, (y, f), lambda y_, f_: y_ - f_, f"{_n(y, shape)} - {_n(f, shape)}"))
        elif place.quantity == "(y-f)^2":
            d = Place("forward", None, "y-f", place.index)
            y, f = _output(shape, place.index[0])
            steps.append(Step(place, (d,), _square, f"({_n(y, shape)} - {_n(f, shape)})^2"))
    loss = registry.loss(shape.loss)
    ys = tuple(_output(shape, j)[0] for j in outs)
    fs = tuple(_output(shape, j)[1] for j in outs)
    names = [(_n(y, shape), _n(f, shape)) for y, f in zip(ys, fs)]
    deps = tuple(Place("forward", None, "(y-f)^2", (j,)) for j in outs) if loss.squared else ys + fs
    steps.append(Step(Place("forward", None, "L", ()), deps, loss.total(m), loss.total_text(names, m)))
    return steps


def _output_slope(shape: Shape, j: int) -> Step:
    """dL/df_j of the output layer, from the loss."""
    y, f = _output(shape, j)
    place = Place("backward", shape.n_layers, "dL/df", (j,))
    loss = registry.loss(shape.loss)
    m = shape.n_outputs
    return Step(place, (f, y), loss.slope(m), loss.slope_text(_n(f, shape), _n(y, shape), m))


def _hidden_slope(shape: Shape, layer: int, j: int) -> Step:
    """dL/df_j of a hidden layer: Σ_k w_jk dL/ds_k of the layer above, with the round's weights."""
    above = range(1, shape.sizes[layer + 1] + 1)
    w = tuple(Place("parameters", layer + 1, "w", (j, k)) for k in above)
    g = tuple(Place("backward", layer + 1, "dL/ds", (k,)) for k in above)
    text = " + ".join(f"{_n(wk, shape)}*{_n(gk, shape)}" for wk, gk in zip(w, g))
    return Step(Place("backward", layer, "dL/df", (j,)), w + g, _dot, text)


def activation_slope(shape: Shape, layer: int, j: int) -> Step:
    """dL/ds_j = dL/df_j · act'(s_j), the derivative written from f (σ, tanh) or from s (ReLU)."""
    g = Place("backward", layer, "dL/df", (j,))
    f, s = Place("forward", layer, "f", (j,)), Place("forward", layer, "s", (j,))
    place = Place("backward", layer, "dL/ds", (j,))
    G, F, S = _n(g, shape), _n(f, shape), _n(s, shape)
    activation = registry.activation(shape.activations[layer - 1])
    text = f"{G} * {activation.slope_formula({'f': F, 's': S}.get(activation.slope_of or '', ''))}"
    if activation.slope_of is None:
        return Step(place, (g,), activation.times_slope, text)
    return Step(place, (g, f if activation.slope_of == "f" else s), activation.times_slope, text)


def _backward(shape: Shape, layer: int) -> list[Step]:
    outs = range(1, shape.sizes[layer] + 1)
    if layer == shape.n_layers:
        steps = [_output_slope(shape, j) for j in outs]
    else:
        steps = [_hidden_slope(shape, layer, j) for j in outs]
    steps += [activation_slope(shape, layer, j) for j in outs]
    for place in layer_places(shape, layer)["backward"]:
        g = Place("backward", layer, "dL/ds", (place.index[-1],))
        if place.quantity == "dL/db":
            steps.append(Step(place, (g,), _identity, f"{_n(g, shape)} * 1"))
        elif place.quantity == "dL/dw":
            x = _below(shape, layer, place.index[0])
            steps.append(Step(place, (g, x), lambda g_, x_: g_ * x_, f"{_n(g, shape)} * {_n(x, shape)}"))
    return steps
