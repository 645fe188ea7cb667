"""The mistakes that only hidden layers, other activations or other losses can show.

No Django here. Each builder returns the mistaken formulas of the cells a misconception changes.
"""

from __future__ import annotations

from collections.abc import Callable

from grading.engine import Place, registry
from grading.mistakes.base import Alternative, Net, P, num


def _hidden(net: Net) -> list[tuple[int, int, range]]:
    """(layer, unit, units of the layer above) for every hidden unit."""
    return [(l, j, net.units(l + 1)) for l in net.layers if l < net.top for j in net.units(l)]


def updated_outer_weights(net: Net) -> list[Alternative]:
    # The student updated the layer above first and summed through the new weights:
    # Σ_k (w_jk − lr·dL/dw_jk)·dL/ds_k, written from the cells they had.
    lr, out = net.lr, []
    for l, j, above in _hidden(net):
        w = tuple(P("parameters", l + 1, "w", j, k) for k in above)
        gw = tuple(P("backward", l + 1, "dL/dw", j, k) for k in above)
        gs = tuple(P("backward", l + 1, "dL/ds", k) for k in above)

        def fn(*v: float, K: int = len(above), lr: float = lr) -> float:
            return sum((v[k] - lr * v[K + k]) * v[2 * K + k] for k in range(K))

        text = " + ".join(f"({net.n(a)} - {num(lr)}*{net.n(b)})*{net.n(c)}" for a, b, c in zip(w, gw, gs))
        out.append(net.alt(P("backward", l, "dL/df", j), (*w, *gw, *gs), fn, text))
    return out


def one_path(net: Net) -> list[Alternative]:
    # Any one unit above may be the path taken; the first is the one a mistaken table uses.
    out = []
    for l, j, above in _hidden(net):
        if len(above) < 2:
            continue
        for k in above:
            w, g = P("parameters", l + 1, "w", j, k), P("backward", l + 1, "dL/ds", k)
            out.append(net.alt(P("backward", l, "dL/df", j), (w, g), lambda w_, g_: w_ * g_,
                               f"{net.n(w)}*{net.n(g)}"))
    return out


def _slope_of(net: Net, layer: int, j: int) -> tuple[tuple[Place, ...], Callable[..., float], str] | None:
    """Layer ``layer``'s activation derivative at its unit j: (upstream, factor, text); None for linear."""
    activation = registry.activation(net.shape.activations[layer - 1])
    if activation.slope_of is None:
        return None
    v = P("forward", layer, activation.slope_of, j)
    return (v,), activation.slope, activation.slope_formula(net.n(v))


def wrong_layer_derivative(net: Net) -> list[Alternative]:
    # The derivative of the neighbouring layer's activation, at that layer's unit of the same
    # index: the output's f(1 − f) written into a hidden dL/ds, or the other way round.
    out = []
    for l in net.layers:
        for j in net.units(l):
            other = next((o for o in (l + 1, l - 1) if 1 <= o <= net.top and j <= net.shape.sizes[o]), None)
            slope = _slope_of(net, other, j) if other is not None else None
            if slope is None:
                continue
            deps, factor, text = slope
            g = P("backward", l, "dL/df", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g, *deps),
                               lambda g_, v_, factor=factor: g_ * factor(v_), f"{net.n(g)} * {text}"))
    return out


def derivative_as_sigmoid(net: Net) -> list[Alternative]:
    out = []
    for l in net.layers:
        if not registry.activation(net.shape.activations[l - 1]).mistaken_for_sigmoid:
            continue
        for j in net.units(l):
            g, f = P("backward", l, "dL/df", j), P("forward", l, "f", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g, f), lambda g_, f_: g_ * f_ * (1 - f_),
                               f"{net.n(g)} * {net.n(f)} * (1 - {net.n(f)})"))
    return out


def bce_squared_gradient(net: Net) -> list[Alternative]:
    if net.shape.loss != "bce":
        return []
    return [net.alt(P("backward", net.top, "dL/df", j), (f, y), lambda f_, y_: f_ - y_,
                    f"{net.n(f)} - {net.n(y)}") for j, f, y in net.outputs()]
