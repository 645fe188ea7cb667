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
from grading.engine.cells import (GRADIENT, PER_SAMPLE, Place, Shape, cell_name, layer_places, loss_places,
                                  optimizer_places)
from grading.engine.registry import identity as _identity
from grading.engine.registry import sigmoid, tanh, relu  # noqa: F401  (steps.sigmoid, as before)


@dataclass(frozen=True)
class Step:
    """One computed cell of every round: place, upstream places, function and formula text."""

    place: Place
    deps: tuple[Place, ...]
    fn: Callable[..., Any]
    formula: str
    # A cell whose formula depends on the round (Adam's bias correction): round -> (fn, formula);
    # ``fn`` and ``formula`` are then round 1's.
    by_round: Callable[[int], tuple[Callable[..., Any], str]] | None = None

    def at_round(self, round_no: int) -> tuple[Callable[..., Any], str]:
        """(fn, formula) of this cell in round ``round_no``."""
        return (self.fn, self.formula) if self.by_round is None else self.by_round(round_no)


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


def _reciprocal(v: Any) -> Any:
    return 1.0 / v if _number(v) else v.reciprocal()


def _divide(a: Any, b: Any) -> Any:
    return a / b if _number(a) and _number(b) else a * _reciprocal(b)


def _sqrt(v: Any) -> Any:
    return math.sqrt(v) if _number(v) else v.sqrt()


def _softmax_unit(j: int) -> Callable[..., Any]:
    """f_j of a softmax layer from every s of the layer (j 0-based), as 1/(1 + Σ_k≠j exp(s_k − s_j)):
    on numbers the same value as exp(s_j)/Σ exp(s_k), on intervals a tighter bound."""
    def fn(*s: Any) -> Any:
        if all(_number(v) for v in s):
            top = max(s)
            e = [math.exp(v - top) for v in s]
            return e[j] / math.fsum(e)
        total: Any = 1.0
        for k, v in enumerate(s):
            if k != j:
                total = (v - s[j]).exp() + total
        return _reciprocal(total)
    return fn


def _reduced(how: str) -> Callable[..., Any]:
    def fn(*values: Any) -> Any:
        if all(_number(v) for v in values):
            total = math.fsum(values)
        else:
            total = sum(values[1:], values[0])
        return total / len(values) if how == "mean" else total
    return fn


def _num_text(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


# ---------------------------------------------------------------- the steps of a round


@lru_cache(maxsize=256)
def round_steps(shape: Shape, learning_rate: float) -> tuple[Step, ...]:
    """Every computed cell of one round of ``shape`` in graph order (upstream cells first):
    forward layer by layer, the loss, backward from the output layer down (each of these once
    per sample when a round feeds several), the reduced gradients, then the updates.

    Parameter cells are not steps: they are given (round 1; x, y in every round; fixed biases)
    or copied from the previous round's updated column (``build_graph``).
    """
    steps: list[Step] = []
    for k in shape.samples:
        steps += _forward(shape, k)
        steps += _loss(shape, k)
        for l in range(shape.n_layers, 0, -1):
            steps += _backward(shape, l, k)
    if shape.batch > 1:
        steps += _reduce(shape)
    lr = float(learning_rate)
    for l in range(1, shape.n_layers + 1):
        steps += _update(shape, l, lr)
    return tuple(steps)


def _tag(place: Place, k: int) -> Place:
    """``place`` of sample k of a round (a per-sample quantity's; a parameter's stays as it is)."""
    if k and place.quantity in PER_SAMPLE and not (place.column == "parameters" and place.quantity in ("w", "b")):
        return place._replace(sample=k)
    return place


def _n(place: Place, shape: Shape) -> str:
    return cell_name(place, shape.n_layers)


def _below(shape: Shape, layer: int, i: int, k: int = 0) -> Place:
    """What unit i of the layer below ``layer`` outputs: x_i for layer 1, else f_i of layer − 1."""
    if layer == 1:
        return _tag(Place("parameters", None, "x", (i,)), k)
    return _tag(Place("forward", layer - 1, "f", (i,)), k)


def _forward(shape: Shape, k: int = 0) -> list[Step]:
    steps = []
    for l in range(1, shape.n_layers + 1):
        ins, outs = range(1, shape.sizes[l - 1] + 1), range(1, shape.sizes[l] + 1)
        for j in outs:
            w = [Place("parameters", l, "w", (i, j)) for i in ins]
            x = [_below(shape, l, i, k) for i in ins]
            b = Place("parameters", l, "b", (j,))
            text = " + ".join(f"{_n(wi, shape)}*{_n(xi, shape)}" for wi, xi in zip(w, x)) + f" + {_n(b, shape)}"
            steps.append(Step(_tag(Place("forward", l, "s", (j,)), k), (*w, *x, b), _weighted_sum, text))
        activation = registry.activation(shape.activations[l - 1])
        if activation.name == "softmax":
            s_all = tuple(_tag(Place("forward", l, "s", (j,)), k) for j in outs)
            for j in outs:
                total = " + ".join(f"exp({_n(s, shape)})" for s in s_all)
                steps.append(Step(_tag(Place("forward", l, "f", (j,)), k), s_all, _softmax_unit(j - 1),
                                  f"exp({_n(s_all[j - 1], shape)}) / ({total})"))
            continue
        for j in outs:
            s = _tag(Place("forward", l, "s", (j,)), k)
            text = f"{activation.formula_names[0]}({_n(s, shape)})" if activation.formula_names else _n(s, shape)
            steps.append(Step(_tag(Place("forward", l, "f", (j,)), k), (s,), activation.scalar, text))
    return steps


def _output(shape: Shape, j: int, k: int = 0) -> tuple[Place, Place]:
    """(y_j, f_j of the output layer)."""
    return _tag(Place("parameters", None, "y", (j,)), k), _tag(Place("forward", shape.n_layers, "f", (j,)), k)


def _loss(shape: Shape, k: int = 0) -> list[Step]:
    m = shape.n_outputs
    outs = range(1, m + 1)
    steps = []
    for place in loss_places(shape):
        if place.sample != k:
            continue
        if place.quantity == "y-f":
            y, f = _output(shape, place.index[0], k)
            steps.append(Step(place, (y, f), lambda y_, f_: y_ - f_, f"{_n(y, shape)} - {_n(f, shape)}"))
        elif place.quantity == "(y-f)^2":
            d = _tag(Place("forward", None, "y-f", place.index), k)
            y, f = _output(shape, place.index[0], k)
            steps.append(Step(place, (d,), _square, f"({_n(y, shape)} - {_n(f, shape)})^2"))
    loss = registry.loss(shape.loss)
    ys = tuple(_output(shape, j, k)[0] for j in outs)
    fs = tuple(_output(shape, j, k)[1] for j in outs)
    names = [(_n(y, shape), _n(f, shape)) for y, f in zip(ys, fs)]
    deps = tuple(_tag(Place("forward", None, "(y-f)^2", (j,)), k) for j in outs) if loss.squared else ys + fs
    steps.append(Step(_tag(Place("forward", None, "L", ()), k), deps, loss.total(m), loss.total_text(names, m)))
    return steps


def _output_slope(shape: Shape, j: int, k: int = 0) -> Step:
    """dL/df_j of the output layer, from the loss."""
    y, f = _output(shape, j, k)
    place = _tag(Place("backward", shape.n_layers, "dL/df", (j,)), k)
    loss = registry.loss(shape.loss)
    m = shape.n_outputs
    return Step(place, (f, y), loss.slope(m), loss.slope_text(_n(f, shape), _n(y, shape), m))


def _hidden_slope(shape: Shape, layer: int, j: int, k: int = 0) -> Step:
    """dL/df_j of a hidden layer: Σ_k w_jk dL/ds_k of the layer above, with the round's weights."""
    above = range(1, shape.sizes[layer + 1] + 1)
    w = tuple(Place("parameters", layer + 1, "w", (j, u)) for u in above)
    g = tuple(_tag(Place("backward", layer + 1, "dL/ds", (u,)), k) for u in above)
    text = " + ".join(f"{_n(wk, shape)}*{_n(gk, shape)}" for wk, gk in zip(w, g))
    return Step(_tag(Place("backward", layer, "dL/df", (j,)), k), w + g, _dot, text)


def activation_slope(shape: Shape, layer: int, j: int, k: int = 0) -> Step:
    """dL/ds_j = dL/df_j · act'(s_j), the derivative written from f (σ, tanh) or from s (ReLU);
    a softmax output's (with cross-entropy) f_j − y_j, the chain rule over the whole layer."""
    g = _tag(Place("backward", layer, "dL/df", (j,)), k)
    f, s = _tag(Place("forward", layer, "f", (j,)), k), _tag(Place("forward", layer, "s", (j,)), k)
    place = _tag(Place("backward", layer, "dL/ds", (j,)), k)
    G, F, S = _n(g, shape), _n(f, shape), _n(s, shape)
    activation = registry.activation(shape.activations[layer - 1])
    if activation.name == "softmax":
        # f_j (dL/df_j − Σ_k f_k dL/df_k) with dL/df = −y/f is f_j·Σy − y_j: f_j − y_j, the targets
        # summing to 1 (the spec checks it). Written so, as the course writes it.
        y = _tag(Place("parameters", None, "y", (j,)), k)
        return Step(place, (f, y), lambda f_, y_: f_ - y_, f"{F} - {_n(y, shape)}")
    text = f"{G} * {activation.slope_formula({'f': F, 's': S}.get(activation.slope_of or '', ''))}"
    if activation.slope_of is None:
        return Step(place, (g,), activation.times_slope, text)
    return Step(place, (g, f if activation.slope_of == "f" else s), activation.times_slope, text)


def _backward(shape: Shape, layer: int, k: int = 0) -> list[Step]:
    outs = range(1, shape.sizes[layer] + 1)
    if layer == shape.n_layers:
        steps = [_output_slope(shape, j, k) for j in outs]
    else:
        steps = [_hidden_slope(shape, layer, j, k) for j in outs]
    steps += [activation_slope(shape, layer, j, k) for j in outs]
    for place in layer_places(shape, layer)["backward"]:
        if place.sample != k or place.quantity not in ("dL/db", "dL/dw"):
            continue
        g = _tag(Place("backward", layer, "dL/ds", (place.index[-1],)), k)
        if place.quantity == "dL/db":
            steps.append(Step(place, (g,), _identity, f"{_n(g, shape)} * 1"))
        else:
            x = _below(shape, layer, place.index[0], k)
            steps.append(Step(place, (g, x), lambda g_, x_: g_ * x_, f"{_n(g, shape)} * {_n(x, shape)}"))
    return steps


def _reduce(shape: Shape) -> list[Step]:
    """A round of several samples: its loss and each gradient, the mean or sum of its samples'."""
    steps = []
    fn = _reduced(shape.reduce)
    for place in [Place("forward", None, "L", ())] + [
            p for l in range(1, shape.n_layers + 1) for p in layer_places(shape, l)["backward"]
            if p.sample == 0]:
        deps = tuple(place._replace(sample=k) for k in shape.samples)
        text = " + ".join(_n(d, shape) for d in deps)
        steps.append(Step(place, deps, fn, f"({text})/{shape.batch}" if shape.reduce == "mean" else text))
    return steps


def _update(shape: Shape, layer: int, lr: float) -> list[Step]:
    """The optimizer's cells of one layer, then its updated parameters."""
    kind, opt = shape.optimizer.kind, shape.optimizer
    steps = []
    if kind == "sgd":
        for place in layer_places(shape, layer)["updated"]:
            old = place._replace(column="parameters")
            gradient = Place("backward", layer, GRADIENT[place.quantity], place.index)
            steps.append(Step(place, (old, gradient), lambda p, g, lr=lr: p - lr * g,
                              f"{_n(old, shape)} - {_num_text(lr)}*{_n(gradient, shape)}"))
        return steps
    # The same rule for each parameter, weights then biases, quantity by quantity.
    params = [p for p in layer_places(shape, layer)["updated"] if p.quantity in ("w", "b")]

    def at(prefix: str, p: Place, column: str = "updated") -> Place:
        return Place(column, layer, prefix + p.quantity, p.index)  # type: ignore[arg-type]

    def grad(p: Place) -> Place:
        return Place("backward", layer, GRADIENT[p.quantity], p.index)

    LR = _num_text(lr)

    def n(q: Place) -> str:
        return _n(q, shape)

    for prefix in opt.cells:
        for p in params:
            g = grad(p)
            place = at(prefix, p)
            if kind == "momentum":
                beta, prev = opt["beta"], at("Δ", p, "parameters")
                steps.append(Step(place, (g, prev), lambda g_, d_, lr=lr, beta=beta: -lr * g_ + beta * d_,
                                  f"-{LR}*{n(g)} + {_num_text(beta)}*{n(prev)}"))
            elif prefix == "m_":
                b1, prev = opt["beta1"], at("m_", p, "parameters")
                steps.append(Step(place, (prev, g), lambda m_, g_, b1=b1: b1 * m_ + (1 - b1) * g_,
                                  f"{_num_text(b1)}*{n(prev)} + (1 - {_num_text(b1)})*{n(g)}"))
            elif prefix == "v_":
                rate = opt["beta2"] if kind == "adam" else opt["rho"]
                prev = at("v_", p, "parameters")
                steps.append(Step(place, (prev, g), lambda v_, g_, b2=rate: b2 * v_ + (1 - b2) * _square(g_),
                                  f"{_num_text(rate)}*{n(prev)} + (1 - {_num_text(rate)})*{n(g)}^2"))
            elif prefix in ("mhat_", "vhat_"):
                beta = opt["beta1"] if prefix == "mhat_" else opt["beta2"]
                raw = at(prefix[0] + "_", p)
                steps.append(_bias_corrected(place, raw, beta, n(raw)))
            elif kind == "adam":  # Δ
                mhat, vhat, eps = at("mhat_", p), at("vhat_", p), opt["eps"]
                steps.append(Step(place, (mhat, vhat),
                                  lambda m_, v_, lr=lr, eps=eps: _divide(-lr * m_, _sqrt(v_) + eps),
                                  f"-{LR}*{n(mhat)}/(sqrt({n(vhat)}) + {_num_text(eps)})"))
            else:  # rmsprop's Δ
                v, eps = at("v_", p), opt["eps"]
                steps.append(Step(place, (g, v),
                                  lambda g_, v_, lr=lr, eps=eps: _divide(-lr * g_, _sqrt(v_) + eps),
                                  f"-{LR}*{n(g)}/(sqrt({n(v)}) + {_num_text(eps)})"))
    for p in params:
        old, step = p._replace(column="parameters"), at("Δ", p)
        steps.append(Step(p, (old, step), lambda w_, d_: w_ + d_, f"{_n(old, shape)} + {_n(step, shape)}"))
    return steps


def _bias_corrected(place: Place, raw: Place, beta: float, raw_name: str) -> Step:
    """m̂ = m/(1 − β₁ᵗ) or v̂ = v/(1 − β₂ᵗ), t the round."""
    def at(t: int) -> tuple[Callable[..., Any], str]:
        denominator = 1.0 - beta ** t
        return (lambda v, d=denominator: v / d), f"{raw_name}/(1 - {_num_text(beta)}^{t})"
    fn, text = at(1)
    return Step(place, (raw,), fn, text, by_round=at)
