"""An independent reference for the tests of issue 20: plain-Python training of a dense network
with rounds of several samples, momentum, Adam, RMSProp and a softmax output with
cross-entropy, written from the issue's spec text (no numpy, nothing from grading.engine).

``trace(spec_json)`` returns {(round, column, quantity, layer, index, sample): value}: rounds,
layers, indices and samples 1-based as in a cell id; layer None for x, y, y-f, (y-f)^2 and L;
sample 0 for the round's own cells (parameters, the reduced gradient and loss, the optimizer's
cells, the update) and, where a round feeds one sample, for all of them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

ACT = {
    "sigmoid": (lambda s: 1 / (1 + math.exp(-s)), lambda s, f: f * (1 - f)),
    "tanh": (math.tanh, lambda s, f: 1 - f * f),
    "relu": (lambda s: max(s, 0.0), lambda s, f: 1.0 if s > 0 else 0.0),
    "leaky_relu": (lambda s: s if s > 0 else 0.01 * s, lambda s, f: 1.0 if s > 0 else 0.01),
    "linear": (lambda s: s, lambda s, f: 1.0),
}


def softmax(s: list[float]) -> list[float]:
    e = [math.exp(v) for v in s]
    return [v / sum(e) for v in e]


def forward(spec: dict[str, Any], W: list, B: list, x: list[float],
            nudge: tuple[int, str, int, float] | None = None) -> tuple[list, list, list]:
    """(inputs of each layer, s of each layer, f of each layer); ``nudge`` (layer 0-based, "s" or
    "f", unit 0-based, h) adds h to one s or f on the way (for finite differences)."""
    below, S, F = [list(map(float, x))], [], []
    for l, layer in enumerate(spec["layers"]):
        s = [sum(below[-1][i] * W[l][i][j] for i in range(len(W[l]))) + B[l][j] for j in range(len(B[l]))]
        if nudge and nudge[0] == l and nudge[1] == "s":
            s[nudge[2]] += nudge[3]
        f = softmax(s) if layer["activation"] == "softmax" else [ACT[layer["activation"]][0](v) for v in s]
        if nudge and nudge[0] == l and nudge[1] == "f":
            f[nudge[2]] += nudge[3]
        S.append(s), F.append(f), below.append(f)
    return below, S, F


def sample_loss(spec: dict[str, Any], f: list[float], y: list[float]) -> float:
    loss, m = spec["loss"], len(f)
    if loss == "ce":
        return -sum(yj * math.log(fj) for yj, fj in zip(y, f) if yj)
    if loss == "bce":
        return -sum(yj * math.log(fj) + (1 - yj) * math.log(1 - fj) for yj, fj in zip(y, f))
    return sum((yj - fj) ** 2 for yj, fj in zip(y, f)) * {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / m}[loss]


def loss_at(spec: dict[str, Any], W: list, B: list, sample: dict[str, Any],
            nudge: tuple[int, str, int, float] | None = None) -> float:
    """One sample's loss at the parameters W, B (for finite differences)."""
    _, _, F = forward(spec, W, B, sample["x"], nudge)
    return sample_loss(spec, F[-1], [float(v) for v in sample["y"]])


def trace(spec: dict[str, Any], keep: Callable[[tuple, float], float] | None = None) -> dict[tuple, float]:
    """Every cell of every round of ``spec``. ``keep(cell, value)``, where given, is what a
    student writes for a computed cell (rounded, with a slip): the rest is worked from that."""
    layers = spec["layers"]
    W = [[list(map(float, row)) for row in layer["weights"]] for layer in layers]
    B = [list(map(float, layer["biases"])) for layer in layers]
    acts = [layer["activation"] for layer in layers]
    lr, loss = float(spec["learning_rate"]), spec["loss"]
    batch, reduce = spec.get("batch", 1), spec.get("reduce", "mean")
    opt = {"kind": "sgd", **spec.get("optimizer", {})}
    kind = opt["kind"]
    update_biases = spec.get("update_biases", True)
    samples = spec["samples"]
    out: dict[tuple, float] = {}

    def rec(cell: tuple, value: float) -> float:
        out[cell] = value if keep is None else keep(cell, value)
        return out[cell]

    # the state of every parameter ("w"|"b", l, index): velocity, m, v
    state: dict[tuple, dict[str, float]] = {}
    for r in range(1, len(samples) // batch + 1):
        chunk = samples[(r - 1) * batch:r * batch]
        if r > 1:  # the parameters column: what the round before updated (as written, slips and all)
            for l in range(len(W)):
                for i in range(len(W[l])):
                    for j in range(len(W[l][0])):
                        W[l][i][j] = rec((r, "parameters", "w", l + 1, (i + 1, j + 1), 0), W[l][i][j])
                if update_biases:
                    for j in range(len(B[l])):
                        B[l][j] = rec((r, "parameters", "b", l + 1, (j + 1,), 0), B[l][j])
            for (q, l, index), st in state.items():
                for prefix in st:
                    st[prefix] = rec((r, "parameters", prefix + q, l + 1, index, 0), st[prefix])
        gw: dict[tuple, list[float]] = {}
        gb: dict[tuple, list[float]] = {}
        losses = []
        for n, sample in enumerate(chunk, start=1):
            k = n if batch > 1 else 0
            x, y = [float(v) for v in sample["x"]], [float(v) for v in sample["y"]]
            for i, v in enumerate(x):
                out[(r, "parameters", "x", None, (i + 1,), k)] = v
            for j, v in enumerate(y):
                out[(r, "parameters", "y", None, (j + 1,), k)] = v
            below, S, F = [x], [], []
            for l, layer in enumerate(layers):
                s = [rec((r, "forward", "s", l + 1, (j + 1,), k),
                         sum(below[-1][i] * W[l][i][j] for i in range(len(W[l]))) + B[l][j]) for j in range(len(B[l]))]
                f = softmax(s) if layer["activation"] == "softmax" else [ACT[layer["activation"]][0](v) for v in s]
                f = [rec((r, "forward", "f", l + 1, (j + 1,), k), v) for j, v in enumerate(f)]
                S.append(s), F.append(f), below.append(f)
            f_out, m = F[-1], len(F[-1])
            d = [rec((r, "forward", "y-f", None, (j + 1,), k), y[j] - f_out[j]) for j in range(m)]
            if loss == "ce":
                L = -sum(yj * math.log(fj) for yj, fj in zip(y, f_out) if yj)
            elif loss == "bce":
                L = -sum(yj * math.log(fj) + (1 - yj) * math.log(1 - fj) for yj, fj in zip(y, f_out))
            else:
                sq = [rec((r, "forward", "(y-f)^2", None, (j + 1,), k), v * v) for j, v in enumerate(d)]
                L = sum(sq) * {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / m}[loss]
            losses.append(rec((r, "forward", "L", None, (), k), L))
            if loss == "ce":
                dLdf = [-yj / fj for yj, fj in zip(y, f_out)]
            elif loss == "bce":
                dLdf = [-(yj / fj) + (1 - yj) / (1 - fj) for yj, fj in zip(y, f_out)]
            else:
                scale = {"half_sse": 1.0, "sse": 2.0, "mse": 2.0 / m}[loss]
                dLdf = [scale * (fj - yj) for yj, fj in zip(y, f_out)]
            for l in reversed(range(len(W))):
                dLdf = [rec((r, "backward", "dL/df", l + 1, (j + 1,), k), v) for j, v in enumerate(dLdf)]
                if acts[l] == "softmax":  # the Jacobian of softmax: df_i/ds_j = f_i (δij − f_j)
                    f = F[l]
                    dLds = [sum(dLdf[i] * f[i] * ((i == j) - f[j]) for i in range(len(f))) for j in range(len(f))]
                else:
                    dLds = [dLdf[j] * ACT[acts[l]][1](S[l][j], F[l][j]) for j in range(len(F[l]))]
                dLds = [rec((r, "backward", "dL/ds", l + 1, (j + 1,), k), v) for j, v in enumerate(dLds)]
                for j in range(len(F[l])):
                    if update_biases:
                        gb.setdefault((l, j), []).append(rec((r, "backward", "dL/db", l + 1, (j + 1,), k), dLds[j]))
                    for i in range(len(W[l])):
                        gw.setdefault((l, i, j), []).append(
                            rec((r, "backward", "dL/dw", l + 1, (i + 1, j + 1), k), below[l][i] * dLds[j]))
                dLdf = [sum(W[l][i][j] * dLds[j] for j in range(len(dLds))) for i in range(len(W[l]))]
        div = batch if reduce == "mean" else 1
        if batch > 1:
            rec((r, "forward", "L", None, (), 0), sum(losses) / div)
        new_w = [[row[:] for row in Wl] for Wl in W]
        new_b = [Bl[:] for Bl in B]
        for l in range(len(W)):
            params = [("w", (i + 1, j + 1)) for i in range(len(W[l])) for j in range(len(W[l][0]))]
            if update_biases:
                params += [("b", (j + 1,)) for j in range(len(B[l]))]
            for q, index in params:
                value = W[l][index[0] - 1][index[1] - 1] if q == "w" else B[l][index[0] - 1]
                parts = gw[(l, index[0] - 1, index[1] - 1)] if q == "w" else gb[(l, index[0] - 1)]
                g = sum(parts) / div
                out[(r, "parameters", q, l + 1, index, 0)] = value
                if batch > 1:
                    g = rec((r, "backward", "dL/d" + q, l + 1, index, 0), g)
                if kind == "sgd":
                    new = value - lr * g
                elif kind == "momentum":
                    st = state.setdefault((q, l, index), {"Δ": 0.0})
                    out[(r, "parameters", "Δ" + q, l + 1, index, 0)] = st["Δ"]
                    st["Δ"] = rec((r, "updated", "Δ" + q, l + 1, index, 0), -lr * g + opt.get("beta", 0.9) * st["Δ"])
                    new = value + st["Δ"]
                elif kind == "adam":
                    st = state.setdefault((q, l, index), {"m_": 0.0, "v_": 0.0})
                    b1, b2, eps = opt.get("beta1", 0.9), opt.get("beta2", 0.999), opt.get("eps", 1e-8)
                    out[(r, "parameters", "m_" + q, l + 1, index, 0)] = st["m_"]
                    out[(r, "parameters", "v_" + q, l + 1, index, 0)] = st["v_"]
                    st["m_"] = rec((r, "updated", "m_" + q, l + 1, index, 0), b1 * st["m_"] + (1 - b1) * g)
                    st["v_"] = rec((r, "updated", "v_" + q, l + 1, index, 0), b2 * st["v_"] + (1 - b2) * g * g)
                    mhat = rec((r, "updated", "mhat_" + q, l + 1, index, 0), st["m_"] / (1 - b1 ** r))
                    vhat = rec((r, "updated", "vhat_" + q, l + 1, index, 0), st["v_"] / (1 - b2 ** r))
                    step = rec((r, "updated", "Δ" + q, l + 1, index, 0), -lr * mhat / (math.sqrt(max(vhat, 0.0)) + eps))
                    new = value + step
                else:  # rmsprop
                    st = state.setdefault((q, l, index), {"v_": 0.0})
                    rho, eps = opt.get("rho", 0.9), opt.get("eps", 1e-8)
                    out[(r, "parameters", "v_" + q, l + 1, index, 0)] = st["v_"]
                    st["v_"] = rec((r, "updated", "v_" + q, l + 1, index, 0), rho * st["v_"] + (1 - rho) * g * g)
                    step = rec((r, "updated", "Δ" + q, l + 1, index, 0), -lr * g / (math.sqrt(max(st["v_"], 0.0)) + eps))
                    new = value + step
                new = rec((r, "updated", q, l + 1, index, 0), new)
                if q == "w":
                    new_w[l][index[0] - 1][index[1] - 1] = new
                else:
                    new_b[l][index[0] - 1] = new
        # every update of the round from the weights the round started with
        W, B = new_w, new_b
        if not update_biases:
            for l in range(len(B)):
                for j in range(len(B[l])):
                    out[(r, "parameters", "b", l + 1, (j + 1,), 0)] = B[l][j]
    return out
