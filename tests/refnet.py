"""An independent reference for the tests: plain-Python SGD of a dense network, written from the
spec format of issue 8 (no numpy, nothing from grading.engine).

``trace(spec_json)`` returns {(round, column, quantity, layer, index): value}, rounds, layers and
indices 1-based as in a cell id; layer None for y-f and L.
"""

from __future__ import annotations

import math
from typing import Any

ACT = {
    "sigmoid": (lambda s: 1 / (1 + math.exp(-s)), lambda s, f: f * (1 - f)),
    "tanh": (math.tanh, lambda s, f: 1 - f * f),
    "relu": (lambda s: max(s, 0.0), lambda s, f: 1.0 if s > 0 else 0.0),
    "leaky_relu": (lambda s: s if s > 0 else 0.01 * s, lambda s, f: 1.0 if s > 0 else 0.01),
    "linear": (lambda s: s, lambda s, f: 1.0),
}


def layers_of(spec: dict[str, Any]) -> tuple[list[dict[str, Any]], str, bool]:
    """(layers, loss, update_biases) of either spec form."""
    if "layers" in spec:
        return spec["layers"], spec["loss"], spec.get("update_biases", True)
    return [{"weights": spec["weights"], "biases": spec["biases"], "activation": "sigmoid"}], \
        "half_sse", True


def trace(spec: dict[str, Any]) -> dict[tuple, float]:
    """Every cell of every round of ``spec`` by plain SGD, one sample a round."""
    layers, loss, update_biases = layers_of(spec)
    W = [[list(map(float, row)) for row in layer["weights"]] for layer in layers]
    B = [list(map(float, layer["biases"])) for layer in layers]
    acts = [layer["activation"] for layer in layers]
    lr = float(spec["learning_rate"])
    out: dict[tuple, float] = {}
    for r, sample in enumerate(spec["samples"], start=1):
        below, S, F = [list(map(float, sample["x"]))], [], []
        for l in range(len(W)):
            s = [sum(below[-1][i] * W[l][i][j] for i in range(len(W[l]))) + B[l][j]
                 for j in range(len(B[l]))]
            f = [ACT[acts[l]][0](v) for v in s]
            S.append(s), F.append(f), below.append(f)
        y, f_out, m = [float(v) for v in sample["y"]], F[-1], len(F[-1])
        if loss == "bce":
            dLdf = [-(yj / fj) + (1 - yj) / (1 - fj) for yj, fj in zip(y, f_out)]
            L = -sum(yj * math.log(fj) + (1 - yj) * math.log(1 - fj) for yj, fj in zip(y, f_out))
        else:
            scale = {"half_sse": 1.0, "sse": 2.0, "mse": 2.0 / m}[loss]
            dLdf = [scale * (fj - yj) for yj, fj in zip(y, f_out)]
            L = sum((yj - fj) ** 2 for yj, fj in zip(y, f_out)) * {"half_sse": 0.5, "sse": 1.0,
                                                                     "mse": 1.0 / m}[loss]
        out[(r, "forward", "L", None, ())] = L
        for j in range(m):
            out[(r, "forward", "y-f", None, (j + 1,))] = y[j] - f_out[j]
        grads = []
        for l in reversed(range(len(W))):
            dLds = [dLdf[j] * ACT[acts[l]][1](S[l][j], F[l][j]) for j in range(len(F[l]))]
            for j in range(len(F[l])):
                out[(r, "forward", "s", l + 1, (j + 1,))] = S[l][j]
                out[(r, "forward", "f", l + 1, (j + 1,))] = F[l][j]
                out[(r, "backward", "dL/df", l + 1, (j + 1,))] = dLdf[j]
                out[(r, "backward", "dL/ds", l + 1, (j + 1,))] = dLds[j]
                out[(r, "backward", "dL/db", l + 1, (j + 1,))] = dLds[j]
                for i in range(len(W[l])):
                    out[(r, "backward", "dL/dw", l + 1, (i + 1, j + 1))] = below[l][i] * dLds[j]
            grads.append((l, dLds))
            dLdf = [sum(W[l][i][j] * dLds[j] for j in range(len(dLds))) for i in range(len(W[l]))]
        for l, dLds in grads:
            for j in range(len(dLds)):
                for i in range(len(W[l])):
                    W[l][i][j] -= lr * below[l][i] * dLds[j]
                    out[(r, "updated", "w", l + 1, (i + 1, j + 1))] = W[l][i][j]
                if update_biases:
                    B[l][j] -= lr * dLds[j]
                out[(r, "updated", "b", l + 1, (j + 1,))] = B[l][j]
    return out


def degenerate_cells(spec: dict[str, Any], decimals: int, zero_inputs_given: bool = False) -> set[tuple]:
    """The rule of issue 9, written out: (rule, round, quantity, layer, index) of every reason.
    ``zero_inputs_given`` (a problem without ranges): a first-layer dL/dw_ij of a round whose
    input x_i is exactly 0 is a given 0, not a reason."""
    cells, found = trace(spec), set()
    layers, _, _ = layers_of(spec)
    for (r, column, quantity, layer, index), v in cells.items():
        if (zero_inputs_given and quantity == "dL/dw" and layer == 1
                and spec["samples"][r - 1]["x"][index[0] - 1] == 0):
            continue
        if column == "backward" and abs(v) < 10 ** -decimals:
            found.add(("small", r, quantity, layer, index))
        if column == "forward" and quantity == "f" and layers[layer - 1]["activation"] == "sigmoid" \
                and not 0.01 <= v <= 0.99:
            found.add(("saturated", r, quantity, layer, index))
    for l, layer in enumerate(layers, start=1):
        if layer["activation"] == "relu":
            for j in range(len(layer["biases"])):
                if all(cells[(r, "forward", "s", l, (j + 1,))] <= 0
                       for r in range(1, len(spec["samples"]) + 1)):
                    found.add(("inactive", None, "f", l, (j + 1,)))
    return found
