"""Homework 4.1's mistakes, for any dense network: a single sigmoid layer shows them all.

No Django here. Each builder returns the mistaken formulas of the cells a misconception changes.
"""

from __future__ import annotations

from grading.engine import GRADIENT, Place, column_places
from grading.mistakes.base import Alternative, Net, P, num


def no_half(net: Net) -> list[Alternative]:
    """The loss without its ½: L = Σ(y − f)² in the forward table, and dL/df = 2(f − y), its
    derivative, in the backward one (a student may show either or both)."""
    if net.shape.loss != "half_sse":
        return []
    return [*loss_no_half(net),
            *(net.alt(P("backward", net.top, "dL/df", j), (f, y), lambda f_, y_: 2 * (f_ - y_),
                      f"2*({net.n(f)} - {net.n(y)})") for j, f, y in net.outputs())]


def sign_flipped(net: Net) -> list[Alternative]:
    if net.shape.loss != "half_sse":
        return []
    return [net.alt(P("backward", net.top, "dL/df", j), (f, y), lambda f_, y_: y_ - f_,
                    f"{net.n(y)} - {net.n(f)}") for j, f, y in net.outputs()]


def _sigmoid_layers(net: Net) -> list[int]:
    return [l for l in net.layers if net.shape.activations[l - 1] == "sigmoid"]


def no_sigmoid_derivative(net: Net) -> list[Alternative]:
    out = []
    for l in _sigmoid_layers(net):
        for j in net.units(l):
            g = P("backward", l, "dL/df", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g,), lambda g_: g_, net.n(g)))
    return out


def derivative_from_s(net: Net) -> list[Alternative]:
    out = []
    for l in _sigmoid_layers(net):
        for j in net.units(l):
            g, s = P("backward", l, "dL/df", j), P("forward", l, "s", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g, s), lambda g_, s_: g_ * s_ * (1 - s_),
                               f"{net.n(g)} * {net.n(s)} * (1 - {net.n(s)})"))
    return out


def _updates(net: Net) -> list[tuple[Place, Place, Place]]:
    """(updated cell, its old value, its gradient) for every parameter that is updated."""
    return [(p, p._replace(column="parameters"), P("backward", p.layer, GRADIENT[p.quantity], *p.index))
            for p in column_places(net.shape)["updated"] if p.quantity in GRADIENT]


def gradient_added(net: Net) -> list[Alternative]:
    if net.shape.optimizer.kind != "sgd":  # the others step by their Δ cells (see momentum_sign)
        return []
    lr = net.lr
    return [net.alt(new, (old, g), lambda p_, g_, lr=lr: p_ + lr * g_, f"{net.n(old)} + {num(lr)}*{net.n(g)}")
            for new, old, g in _updates(net)]


def no_learning_rate(net: Net) -> list[Alternative]:
    if net.shape.optimizer.kind != "sgd":
        return []
    return [net.alt(new, (old, g), lambda p_, g_: p_ - g_, f"{net.n(old)} - {net.n(g)}")
            for new, old, g in _updates(net)]


def _weighted(*values: float) -> float:
    k = len(values) // 2
    return sum(values[t] * values[k + t] for t in range(k)) + (values[-1] if len(values) % 2 else 0.0)


def index_swapped(net: Net) -> list[Alternative]:
    # Only a square layer has a w_ji for every w_ij; elsewhere this mistake cannot be written.
    out = []
    for l in net.layers:
        if net.shape.sizes[l - 1] != net.shape.sizes[l]:
            continue
        ins = net.units(l)
        for j in ins:
            w = tuple(P("parameters", l, "w", j, i) for i in ins)
            x = tuple(net.below(l, i) for i in ins)
            b = P("parameters", l, "b", j)
            text = " + ".join(f"{net.n(wi)}*{net.n(xi)}" for wi, xi in zip(w, x)) + f" + {net.n(b)}"
            out.append(net.alt(P("forward", l, "s", j), (*w, *x, b), _weighted, text))
        for j in ins:
            for i in ins:
                g, below = P("backward", l, "dL/ds", i), net.below(l, j)
                out.append(net.alt(P("backward", l, "dL/dw", i, j), (g, below), lambda g_, x_: g_ * x_,
                                   f"{net.n(g)} * {net.n(below)}"))
    return out


def no_bias(net: Net) -> list[Alternative]:
    out = []
    for l in net.layers:
        ins = net.units(l - 1)
        for j in net.units(l):
            w = tuple(P("parameters", l, "w", i, j) for i in ins)
            x = tuple(net.below(l, i) for i in ins)
            out.append(net.alt(P("forward", l, "s", j), (*w, *x), _weighted,
                               " + ".join(f"{net.n(wi)}*{net.n(xi)}" for wi, xi in zip(w, x))))
    return out


def wrong_input(net: Net) -> list[Alternative]:
    # The next input in turn (x2 for w11, x1 for w21 when n = 2): one formula per cell, so
    # that a whole mistaken table is well defined.
    out = []
    for l in net.layers:
        n = net.shape.sizes[l - 1]
        if n < 2:
            continue
        for j in net.units(l):
            for i in net.units(l - 1):
                g, x = P("backward", l, "dL/ds", j), net.below(l, i % n + 1)
                out.append(net.alt(P("backward", l, "dL/dw", i, j), (g, x), lambda g_, x_: g_ * x_,
                                   f"{net.n(g)} * {net.n(x)}"))
    return out


def difference_reversed(net: Net) -> list[Alternative]:
    return [net.alt(P("forward", None, "y-f", j), (y, f), lambda y_, f_: f_ - y_, f"{net.n(f)} - {net.n(y)}")
            for j, f, y in net.outputs()]


def loss_no_half(net: Net) -> list[Alternative]:
    """L without its ½ (part of ``no_half``)."""
    if net.shape.loss != "half_sse":
        return []
    deps = tuple(P("forward", None, "(y-f)^2", j) for j in net.units(net.top))
    return [net.alt(P("forward", None, "L", ), deps, lambda *squares: sum(squares),
                    " + ".join(f"({net.n(y)} - {net.n(f)})^2" for _, f, y in net.outputs()))]


def bias_gradient_times_x(net: Net) -> list[Alternative]:
    # The input that sits beside b_j in the student's eye: x_j (x1 for b1), wrapping for m > n.
    if not net.shape.update_biases:
        return []
    out = []
    for l in net.layers:
        n = net.shape.sizes[l - 1]
        for j in net.units(l):
            g, x = P("backward", l, "dL/ds", j), net.below(l, (j - 1) % n + 1)
            out.append(net.alt(P("backward", l, "dL/db", j), (g, x), lambda g_, x_: g_ * x_,
                               f"{net.n(g)} * {net.n(x)}"))
    return out


def not_updated(net: Net) -> list[Alternative]:
    return [net.alt(new, (old,), lambda p_: p_, net.n(old)) for new, old, _ in _updates(net)]
