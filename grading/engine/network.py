"""Forward and backward passes of a dense network, layer by layer, for many problems at once.

No Django here. A ``Batch`` holds P problems of one architecture (layer sizes, activations,
loss, whether biases update, number of rounds), every array with a leading problem axis.
``train`` runs plain SGD, one sample per round, every gradient of a round taken at the
weights before that round's update, and returns every quantity of every round as a ``Trace``
whose arrays lead with (problem, round). Quantities are named as the cells of issue 8:
(column, quantity, layer), layers numbered 1..L as in a cell id, None where a quantity
belongs to no layer (x, y, y-f, (y-f)^2, L).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from grading.engine import registry
from grading.engine.cells import Column, QuantityName
from grading.engine.registry import SQUARED_LOSSES
from grading.engine.spec import SGD, OptimizerSetting, Spec


class Quantity(NamedTuple):
    """One kind of cell: its column, its quantity name and whether it has one per layer."""

    column: Column
    name: QuantityName
    per_layer: bool


# In the order of a round's table: parameters, forward, backward, updated.
QUANTITIES = (
    Quantity("parameters", "x", False), Quantity("parameters", "y", False),
    Quantity("parameters", "w", True), Quantity("parameters", "b", True),
    Quantity("forward", "s", True), Quantity("forward", "f", True),
    Quantity("forward", "y-f", False), Quantity("forward", "(y-f)^2", False),
    Quantity("forward", "L", False),
    Quantity("backward", "dL/df", True), Quantity("backward", "dL/ds", True),
    Quantity("backward", "dL/db", True), Quantity("backward", "dL/dw", True),
    Quantity("updated", "w", True), Quantity("updated", "b", True),
)


def quantities(loss: str) -> tuple[Quantity, ...]:
    """The quantities a round of this loss has: (y-f)^2 only for the squared losses."""
    return tuple(q for q in QUANTITIES if q.name != "(y-f)^2" or loss in SQUARED_LOSSES)


@dataclass(frozen=True)
class Architecture:
    """What problems must share to be computed in one batch."""

    sizes: tuple[int, ...]  # units per layer, the inputs first
    activations: tuple[str, ...]
    loss: str
    update_biases: bool
    n_rounds: int
    batch: int = 1               # samples a round feeds
    reduce: str = "mean"         # how a round's per-sample gradients combine
    optimizer: OptimizerSetting = SGD

    @property
    def n_layers(self) -> int:
        return len(self.activations)

    @property
    def n_samples(self) -> int:
        return self.n_rounds * self.batch


def architecture(spec: Spec) -> Architecture:
    """The architecture of one spec."""
    return Architecture(sizes=spec.sizes, activations=tuple(layer.activation for layer in spec.layers),
                        loss=spec.loss, update_biases=spec.update_biases, n_rounds=spec.n_rounds,
                        batch=spec.batch, reduce=spec.reduce, optimizer=spec.optimizer)


@dataclass(frozen=True, eq=False)
class Batch:
    """P problems of one architecture: weights[l] is (P, n_l, n_l+1), x is (P, samples, n_0)."""

    architecture: Architecture
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]
    learning_rate: np.ndarray  # (P,): variants may differ in it too
    x: np.ndarray
    y: np.ndarray

    def __post_init__(self) -> None:
        arch = self.architecture
        for name in arch.activations:
            registry.activation(name)  # UnknownName (a KeyError) for a name not registered
        needed = registry.loss(arch.loss).output
        if needed is not None and arch.activations[-1] != needed:
            raise ValueError(f"loss {arch.loss} needs a {needed} output layer")
        if len(arch.sizes) != arch.n_layers + 1 or len(self.weights) != arch.n_layers \
                or len(self.biases) != arch.n_layers:
            raise ValueError("one weight matrix and one bias vector per layer are needed")
        p = len(self.learning_rate)
        expected: list[tuple[np.ndarray, tuple[int, ...]]] = [
            (w, (p, arch.sizes[l], arch.sizes[l + 1])) for l, w in enumerate(self.weights)]
        expected += [(b, (p, arch.sizes[l + 1])) for l, b in enumerate(self.biases)]
        expected += [(self.x, (p, arch.n_samples, arch.sizes[0])),
                     (self.y, (p, arch.n_samples, arch.sizes[-1])), (self.learning_rate, (p,))]
        for array, shape in expected:
            if np.shape(array) != shape:
                raise ValueError(f"an array of shape {np.shape(array)} where {shape} is needed")

    @property
    def size(self) -> int:
        """P, the number of problems."""
        return len(self.learning_rate)


def stack(specs: Sequence[Spec]) -> Batch:
    """One batch of specs that share an architecture, in their order."""
    if not specs:
        raise ValueError("stack needs at least one spec")
    arch = architecture(specs[0])
    for k, spec in enumerate(specs):
        if architecture(spec) != arch:
            raise ValueError(f"specs[{k}] has architecture {architecture(spec)}; specs[0] has {arch}")
    return Batch(
        architecture=arch,
        weights=tuple(np.array([s.layers[l].weights for s in specs], dtype=float)
                      for l in range(arch.n_layers)),
        biases=tuple(np.array([s.layers[l].biases for s in specs], dtype=float)
                     for l in range(arch.n_layers)),
        learning_rate=np.array([s.learning_rate for s in specs], dtype=float),
        x=np.array([[sample.x for sample in s.samples] for s in specs], dtype=float),
        y=np.array([[sample.y for sample in s.samples] for s in specs], dtype=float),
    )


@dataclass(frozen=True, eq=False)
class LayerTrace:
    """One layer's quantities in every round, each array (P, rounds, ...); where a round feeds
    several samples, s, f and the gradients are per sample, (P, samples, ...)."""

    w: np.ndarray           # (P, R, n_in, n_out): at the start of the round
    b: np.ndarray           # (P, R, n_out)
    s: np.ndarray
    f: np.ndarray
    dL_df: np.ndarray
    dL_ds: np.ndarray
    dL_db: np.ndarray
    dL_dw: np.ndarray       # (P, R, n_in, n_out)
    w_updated: np.ndarray
    b_updated: np.ndarray


_LAYER_FIELDS = {
    ("parameters", "w"): "w", ("parameters", "b"): "b", ("forward", "s"): "s",
    ("forward", "f"): "f", ("backward", "dL/df"): "dL_df", ("backward", "dL/ds"): "dL_ds",
    ("backward", "dL/db"): "dL_db", ("backward", "dL/dw"): "dL_dw",
    ("updated", "w"): "w_updated", ("updated", "b"): "b_updated",
}


@dataclass(frozen=True, eq=False)
class Trace:
    """Every quantity of every round of P problems; arrays lead with (problem, round)."""

    architecture: Architecture
    x: np.ndarray           # (P, R, n_0)
    y: np.ndarray           # (P, R, n_L)
    y_minus_f: np.ndarray   # (P, R, n_L)
    squared: np.ndarray | None  # (P, R, n_L); None for bce
    L: np.ndarray           # (P, R)
    layers: tuple[LayerTrace, ...]  # layers[0] is layer 1
    # (column, quantity, layer) -> (P, R, ...): an optimizer's cells, and where a round feeds
    # several samples its reduced gradients and loss (x, y, s, f, the loss's cells and the
    # per-sample gradients are then (P, samples, ...), sample n of round r at (r − 1)·batch + n − 1).
    extra: dict[tuple[str, str, int | None], np.ndarray] = field(default_factory=dict)

    def array(self, column: str, quantity: str, layer: int | None = None, reduced: bool = True) -> np.ndarray:
        """The (P, R, ...) array of one quantity; ``layer`` is 1-based, None for x, y, y-f, L.
        ``reduced=False``: the per-sample array of a round of several samples."""
        if reduced and (column, quantity, layer) in self.extra:
            return self.extra[(column, quantity, layer)]
        if (column, quantity) in _LAYER_FIELDS:
            if not isinstance(layer, int) or not 1 <= layer <= len(self.layers):
                raise ValueError(f"{column} {quantity} needs a layer from 1 to {len(self.layers)}")
            found: np.ndarray = getattr(self.layers[layer - 1], _LAYER_FIELDS[(column, quantity)])
            return found
        arrays = {("parameters", "x"): self.x, ("parameters", "y"): self.y,
                  ("forward", "y-f"): self.y_minus_f, ("forward", "(y-f)^2"): self.squared,
                  ("forward", "L"): self.L}
        array = arrays.get((column, quantity))
        if array is None:
            raise ValueError(f"no quantity {quantity!r} in column {column!r} for loss "
                             f"{self.architecture.loss}")
        if layer is not None:
            raise ValueError(f"{column} {quantity} belongs to no layer; pass layer=None")
        return array

    def value(self, round_no: int, column: str, quantity: str, layer: int | None = None,
              index: tuple[int, ...] = (), problem: int = 0) -> float:
        """One cell's value: round and index 1-based, as in a cell id."""
        array = self.array(column, quantity, layer)[problem, round_no - 1]
        return float(array[tuple(k - 1 for k in index)])


# ---------------------------------------------------------------- the passes


def _activate(name: str, s: np.ndarray) -> np.ndarray:
    return registry.activation(name).numpy(s)


def _derivative(name: str, s: np.ndarray, f: np.ndarray) -> np.ndarray:
    """df/ds, written through f where the course writes it so (f(1-f), 1-f^2)."""
    return registry.activation(name).numpy_slope(s, f)


def _loss(loss: str, y: np.ndarray, f: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(L, dL/df) of one round's output; s is the output layer's net input (for bce)."""
    return registry.loss(loss).numpy(y, f, s)


def train(batch: Batch) -> Trace:
    """Every quantity of every round of every problem of ``batch``: a round feeds its samples at
    the weights it started with, combines their gradients (mean or sum) and updates by the
    architecture's optimizer (plain SGD, momentum, Adam or RMSProp)."""
    arch = batch.architecture
    p, rounds, n_layers, K = batch.size, arch.n_rounds, arch.n_layers, arch.batch
    N = arch.n_samples
    weights = [w.astype(float, copy=True) for w in batch.weights]
    biases = [b.astype(float, copy=True) for b in batch.biases]
    lr = batch.learning_rate[:, None]
    softmax_out = arch.activations[-1] == "softmax"
    squared_loss = registry.loss(arch.loss).squared

    def per_unit(l: int, n: int = N) -> np.ndarray:
        return np.empty((p, n, arch.sizes[l + 1]))

    def per_weight(l: int, n: int = N) -> np.ndarray:
        return np.empty((p, n, arch.sizes[l], arch.sizes[l + 1]))

    out = [{"w": per_weight(l, rounds), "b": per_unit(l, rounds), "s": per_unit(l), "f": per_unit(l),
            "dL_df": per_unit(l), "dL_ds": per_unit(l), "dL_db": per_unit(l), "dL_dw": per_weight(l),
            "w_updated": per_weight(l, rounds), "b_updated": per_unit(l, rounds)} for l in range(n_layers)]
    y_minus_f = np.empty((p, N, arch.sizes[-1]))
    losses = np.empty((p, N))
    extra: dict[tuple[str, str, int | None], np.ndarray] = {}
    opt = arch.optimizer
    kinds = [("w", True)] + ([("b", False)] if arch.update_biases else [])
    state: dict[tuple[str, str, int], np.ndarray] = {}  # (prefix, w|b, layer index) -> the state
    for l in range(n_layers):
        for name, is_w in kinds:
            shape = (p, arch.sizes[l], arch.sizes[l + 1]) if is_w else (p, arch.sizes[l + 1])
            for prefix in opt.cells:
                extra[("updated", prefix + name, l + 1)] = np.empty((p, rounds, *shape[1:]))
            for prefix in opt.state:
                extra[("parameters", prefix + name, l + 1)] = np.empty((p, rounds, *shape[1:]))
                state[(prefix, name, l)] = np.zeros(shape)
    if K > 1:
        extra[("forward", "L", None)] = np.empty((p, rounds))
        for l in range(n_layers):
            extra[("backward", "dL/dw", l + 1)] = per_weight(l, rounds)
            if arch.update_biases:
                extra[("backward", "dL/db", l + 1)] = per_unit(l, rounds)

    for r in range(rounds):
        for l in range(n_layers):
            out[l]["w"][:, r], out[l]["b"][:, r] = weights[l], biases[l]
        for n in range(r * K, (r + 1) * K):
            below = [batch.x[:, n]]  # below[l]: what feeds layer l+1 (the inputs, then each f)
            for l in range(n_layers):
                s = (below[l][:, None, :] @ weights[l])[:, 0, :] + biases[l]
                f = _activate(arch.activations[l], s)
                out[l]["s"][:, n], out[l]["f"][:, n] = s, f
                below.append(f)
            y, f_out = batch.y[:, n], below[-1]
            y_minus_f[:, n] = y - f_out
            losses[:, n], dL_df = _loss(arch.loss, y, f_out, out[-1]["s"][:, n])
            for l in reversed(range(n_layers)):
                s, f = out[l]["s"][:, n], out[l]["f"][:, n]
                if l == n_layers - 1 and softmax_out:
                    # f (dL/df − Σ f dL/df) with dL/df = −y/f is f·Σy − y: f − y, the targets
                    # summing to 1 (the spec checks it), finite as f nears 0
                    dL_ds = f - y
                elif l == n_layers - 1 and not squared_loss:
                    dL_ds = f - y  # dL/df * f(1-f), simplified so it stays finite as f nears 0 or 1
                else:
                    dL_ds = dL_df * _derivative(arch.activations[l], s, f)
                out[l]["dL_df"][:, n], out[l]["dL_ds"][:, n], out[l]["dL_db"][:, n] = dL_df, dL_ds, dL_ds
                out[l]["dL_dw"][:, n] = below[l][:, :, None] * dL_ds[:, None, :]
                # The layer below's dL/df sums over this layer's units, through the weights this
                # round started with: none is updated before the whole backward pass is done.
                dL_df = (weights[l] @ dL_ds[:, :, None])[:, :, 0]
        grads: list[dict[str, np.ndarray]] = []
        for l in range(n_layers):
            if K == 1:
                grads.append({"w": out[l]["dL_dw"][:, r], "b": out[l]["dL_db"][:, r]})
                continue
            scale = 1.0 / K if arch.reduce == "mean" else 1.0
            gw = np.sum(out[l]["dL_dw"][:, r * K:(r + 1) * K], axis=1) * scale
            gb = np.sum(out[l]["dL_db"][:, r * K:(r + 1) * K], axis=1) * scale
            extra[("backward", "dL/dw", l + 1)][:, r] = gw
            if arch.update_biases:
                extra[("backward", "dL/db", l + 1)][:, r] = gb
            grads.append({"w": gw, "b": gb})
        if K > 1:
            total = np.sum(losses[:, r * K:(r + 1) * K], axis=1)
            extra[("forward", "L", None)][:, r] = total / K if arch.reduce == "mean" else total
        for l in range(n_layers):
            params = {"w": weights[l], "b": biases[l]}
            for name, is_w in kinds:
                lr_ = lr[:, :, None] if is_w else lr
                step = _optimizer_step(opt, grads[l][name], lr_, r + 1, state, name, l, extra)
                params[name] = params[name] + step
            weights[l], biases[l] = params["w"], params["b"]
            out[l]["w_updated"][:, r], out[l]["b_updated"][:, r] = weights[l], biases[l]

    squared = y_minus_f ** 2 if arch.loss in SQUARED_LOSSES else None
    return Trace(architecture=arch, x=batch.x.astype(float), y=batch.y.astype(float),
                 y_minus_f=y_minus_f, squared=squared, L=losses,
                 layers=tuple(LayerTrace(**fields) for fields in out), extra=extra)


def _optimizer_step(opt: OptimizerSetting, g: np.ndarray, lr: np.ndarray, t: int,
                    state: dict[tuple[str, str, int], np.ndarray], name: str, l: int,
                    extra: dict[tuple[str, str, int | None], np.ndarray]) -> np.ndarray:
    """What round ``t`` adds to one layer's weights (``name`` "w") or biases ("b"), recording the
    optimizer's cells in ``extra`` and carrying its state in ``state``."""
    r = t - 1

    def record(column: str, prefix: str, value: np.ndarray) -> None:
        extra[(column, prefix + name, l + 1)][:, r] = value

    for prefix in opt.state:
        record("parameters", prefix, state[(prefix, name, l)])
    if opt.kind == "sgd":
        return -lr * g
    if opt.kind == "momentum":
        step = -lr * g + opt["beta"] * state[("Δ", name, l)]
        state[("Δ", name, l)] = step
        record("updated", "Δ", step)
        return step
    if opt.kind == "adam":
        b1, b2, eps = opt["beta1"], opt["beta2"], opt["eps"]
        m = b1 * state[("m_", name, l)] + (1 - b1) * g
        v = b2 * state[("v_", name, l)] + (1 - b2) * (g * g)
        mhat, vhat = m / (1.0 - b1 ** t), v / (1.0 - b2 ** t)
        step = (-lr * mhat) / (np.sqrt(vhat) + eps)
        state[("m_", name, l)], state[("v_", name, l)] = m, v
        for prefix, value in (("m_", m), ("v_", v), ("mhat_", mhat), ("vhat_", vhat), ("Δ", step)):
            record("updated", prefix, value)
        return step
    rho, eps = opt["rho"], opt["eps"]  # rmsprop
    v = rho * state[("v_", name, l)] + (1 - rho) * (g * g)
    step = (-lr * g) / (np.sqrt(v) + eps)
    state[("v_", name, l)] = v
    record("updated", "v_", v)
    record("updated", "Δ", step)
    return step


def train_one(spec: Spec) -> Trace:
    """The trace of one spec (P = 1: index its arrays with problem 0)."""
    return train(stack([spec]))
