"""Mistakes of issue 20's rounds: momentum, Adam, a round of several samples, softmax.

No Django here. Each builder returns the mistaken formulas of the cells a misconception changes,
over the round's own cells (sample 0: the round's; the per-sample copies of a mistake written for
one sample are made in ``grading.mistakes``).
"""

from __future__ import annotations

import math
from typing import Any

from grading.engine import GRADIENT, Place
from grading.mistakes.base import Alternative, Net, P, num


def _parameters(net: Net, layer: int) -> list[Place]:
    """Every updated parameter of one layer (its weights, then its biases where they update)."""
    out = [P("updated", layer, "w", i, j) for i in net.units(layer - 1) for j in net.units(layer)]
    if net.shape.update_biases:
        out += [P("updated", layer, "b", j) for j in net.units(layer)]
    return out


def _at(prefix: str, p: Place, column: str = "updated") -> Place:
    return Place(column, p.layer, prefix + p.quantity, p.index)  # type: ignore[arg-type]


def _grad(p: Place) -> Place:
    return Place("backward", p.layer, GRADIENT[p.quantity], p.index)


def momentum_sign(net: Net) -> list[Alternative]:
    """Δw = −η·g − β·Δw_prev: the velocity subtracted, as the gradient is."""
    opt = net.shape.optimizer
    if opt.kind != "momentum":
        return []
    lr, beta = net.lr, opt["beta"]
    out = []
    for l in net.layers:
        for p in _parameters(net, l):
            g, prev = _grad(p), _at("Δ", p, "parameters")
            out.append(net.alt(_at("Δ", p), (g, prev), lambda g_, d_, lr=lr, beta=beta: -lr * g_ - beta * d_,
                               f"-{num(lr)}*{net.n(g)} - {num(beta)}*{net.n(prev)}"))
    return out


def velocity_not_carried(net: Net) -> list[Alternative]:
    """Δw = −η·g: the round before's Δw left out (it only shows from round 2)."""
    if net.shape.optimizer.kind != "momentum":
        return []
    lr = net.lr
    return [net.alt(_at("Δ", p), (_grad(p),), lambda g_, lr=lr: -lr * g_, f"-{num(lr)}*{net.n(_grad(p))}")
            for l in net.layers for p in _parameters(net, l)]


def no_bias_correction(net: Net) -> list[Alternative]:
    """m̂ = m and v̂ = v: Adam's moments used without dividing by 1 − βᵗ."""
    if net.shape.optimizer.kind != "adam":
        return []
    out = []
    for l in net.layers:
        for p in _parameters(net, l):
            for hat in ("mhat_", "vhat_"):
                raw = _at(hat[0] + "_", p)
                out.append(net.alt(_at(hat, p), (raw,), lambda v_: v_, net.n(raw)))
    return out


def _reduced_places(net: Net) -> list[Place]:
    out = [P("forward", None, "L")]
    for l in net.layers:
        out += [P("backward", l, "dL/dw", i, j) for i in net.units(l - 1) for j in net.units(l)]
        if net.shape.update_biases:
            out += [P("backward", l, "dL/db", j) for j in net.units(l)]
    return out


def mean_for_sum(net: Net) -> list[Alternative]:
    """The round's loss and gradients averaged where the spec sums them, or summed where it averages."""
    shape = net.shape
    if shape.batch == 1:
        return []
    k = shape.batch
    out = []
    for place in _reduced_places(net):
        deps = tuple(place._replace(sample=n) for n in shape.samples)
        names = " + ".join(net.n(d) for d in deps)
        if shape.reduce == "sum":
            out.append(net.alt(place, deps, lambda *v, k=k: math.fsum(v) / k if _plain(v) else sum(v[1:], v[0]) / k,
                               f"({names})/{k}"))
        else:
            out.append(net.alt(place, deps, lambda *v: math.fsum(v) if _plain(v) else sum(v[1:], v[0]), names))
    return out


def _plain(values: tuple[Any, ...]) -> bool:
    return all(isinstance(v, (int, float)) for v in values)


def softmax_as_sigmoid(net: Net) -> list[Alternative]:
    """A softmax unit's dL/ds written as a sigmoid's, dL/df_j · f_j(1 − f_j), unit by unit."""
    top = net.top
    if net.shape.activations[top - 1] != "softmax":
        return []
    out = []
    for j in net.units(top):
        g, f = P("backward", top, "dL/df", j), P("forward", top, "f", j)
        out.append(net.alt(P("backward", top, "dL/ds", j), (g, f), lambda g_, f_: g_ * f_ * (1 - f_),
                           f"{net.n(g)} * {net.n(f)} * (1 - {net.n(f)})"))
    return out
