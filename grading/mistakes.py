"""Classic single mistakes of backpropagation by hand, as data.

Each mistake replaces the formula of some cells of every round by the formula a student with
that misconception would use, for any dense network (``MISTAKES``: those a single sigmoid layer
can show, Homework 4.1's; ``NETWORK_MISTAKES``: those only hidden layers, other activations or
other losses bring). Cells are named by structure (``engine.Place``); the formulas are written
in the course's notation. Marking uses the alternatives to label a wrong cell ("you left the
sigmoid derivative out") when, from the student's own upstream values, the alternative
reproduces what they typed and differs from the right formula; ``mistake_key`` builds the whole
tables such a student would hand in.

No Django here; the list is meant to be shown as is on an assignment page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grading.engine import (GRADIENT, CellId, Graph, Place, Shape, Spec, answer_key, build_graph,
                            cell_name, column_places)


@dataclass(frozen=True)
class Alternative:
    """The mistaken formula of one cell (same place in every round), over same-round cells."""

    cell: Place
    deps: tuple[Place, ...]
    fn: Callable[..., float]
    formula: str
    name: str  # the cell's display name, for people reading the list

    @property
    def column(self) -> str:
        return self.cell.column


class _Net:
    """What a mistake's formulas are written for: the network's shape and learning rate."""

    def __init__(self, shape: Shape, lr: float) -> None:
        self.shape, self.lr = shape, lr
        self.layers = range(1, shape.n_layers + 1)
        self.top = shape.n_layers

    def n(self, place: Place) -> str:
        return cell_name(place, self.shape.n_layers)

    def units(self, layer: int) -> range:
        return range(1, self.shape.sizes[layer] + 1)

    def alt(self, cell: Place, deps: tuple[Place, ...], fn: Callable[..., float], formula: str) -> Alternative:
        return Alternative(cell, deps, fn, formula, self.n(cell))

    def has(self, place: Place) -> bool:
        return place in self.places

    @property
    def places(self) -> set[Place]:
        return {p for ps in column_places(self.shape).values() for p in ps}

    def below(self, layer: int, i: int) -> Place:
        """x_i for layer 1, else f_i of the layer below."""
        return P("parameters", None, "x", i) if layer == 1 else P("forward", layer - 1, "f", i)


def P(column: str, layer: int | None, quantity: str, *index: int) -> Place:
    return Place(column, layer, quantity, tuple(index))


@dataclass(frozen=True)
class Mistake:
    """A named misconception: what it is, the right idea, and the cells it changes."""

    id: str
    title: str
    explanation: str
    build: Callable[[_Net], list[Alternative]]

    def alternatives(self, *network: Any) -> tuple[Alternative, ...]:
        """The mistaken formulas for ``(shape, learning_rate)`` or a single layer's
        ``(n_inputs, n_outputs, learning_rate)``; empty where the network cannot show it."""
        return _alternatives(self.id, *_network(network))

    def to_json(self, *network: Any) -> dict[str, Any]:
        """What an instructor reads: title, explanation and the mistaken formulas."""
        return {
            "id": self.id, "title": self.title, "explanation": self.explanation,
            "formulas": [{"column": a.column, "name": a.name, "formula": a.formula}
                         for a in self.alternatives(*network)],
        }


def _network(network: tuple[Any, ...]) -> tuple[Shape, float]:
    if isinstance(network[0], Shape):
        shape, lr = network
        return shape, float(lr)
    n, m, lr = network
    return Shape.single(n, m), float(lr)


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


# ---------------------------------------------------------------- Homework 4.1's mistakes


def _output_pairs(net: _Net) -> list[tuple[int, Place, Place]]:
    """(j, f_j of the output layer, y_j) for every output."""
    return [(j, P("forward", net.top, "f", j), P("parameters", None, "y", j)) for j in net.units(net.top)]


def _no_half(net: _Net) -> list[Alternative]:
    if net.shape.loss != "half_sse":
        return []
    return [net.alt(P("backward", net.top, "dL/df", j), (f, y), lambda f_, y_: 2 * (f_ - y_),
                    f"2*({net.n(f)} - {net.n(y)})") for j, f, y in _output_pairs(net)]


def _sign_flipped(net: _Net) -> list[Alternative]:
    if net.shape.loss != "half_sse":
        return []
    return [net.alt(P("backward", net.top, "dL/df", j), (f, y), lambda f_, y_: y_ - f_,
                    f"{net.n(y)} - {net.n(f)}") for j, f, y in _output_pairs(net)]


def _sigmoid_layers(net: _Net) -> list[int]:
    return [l for l in net.layers if net.shape.activations[l - 1] == "sigmoid"]


def _no_sigmoid_derivative(net: _Net) -> list[Alternative]:
    out = []
    for l in _sigmoid_layers(net):
        for j in net.units(l):
            g = P("backward", l, "dL/df", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g,), lambda g_: g_, net.n(g)))
    return out


def _derivative_from_s(net: _Net) -> list[Alternative]:
    out = []
    for l in _sigmoid_layers(net):
        for j in net.units(l):
            g, s = P("backward", l, "dL/df", j), P("forward", l, "s", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g, s), lambda g_, s_: g_ * s_ * (1 - s_),
                               f"{net.n(g)} * {net.n(s)} * (1 - {net.n(s)})"))
    return out


def _updates(net: _Net) -> list[tuple[Place, Place, Place]]:
    """(updated cell, its old value, its gradient) for every parameter that is updated."""
    return [(p, p._replace(column="parameters"), P("backward", p.layer, GRADIENT[p.quantity], *p.index))
            for p in column_places(net.shape)["updated"]]


def _gradient_added(net: _Net) -> list[Alternative]:
    lr = net.lr
    return [net.alt(new, (old, g), lambda p_, g_, lr=lr: p_ + lr * g_, f"{net.n(old)} + {_num(lr)}*{net.n(g)}")
            for new, old, g in _updates(net)]


def _no_learning_rate(net: _Net) -> list[Alternative]:
    return [net.alt(new, (old, g), lambda p_, g_: p_ - g_, f"{net.n(old)} - {net.n(g)}")
            for new, old, g in _updates(net)]


def _weighted(*values: float) -> float:
    k = len(values) // 2
    return sum(values[t] * values[k + t] for t in range(k)) + (values[-1] if len(values) % 2 else 0.0)


def _index_swapped(net: _Net) -> list[Alternative]:
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
                g, x = P("backward", l, "dL/ds", i), net.below(l, j)
                out.append(net.alt(P("backward", l, "dL/dw", i, j), (g, x), lambda g_, x_: g_ * x_,
                                   f"{net.n(g)} * {net.n(x)}"))
    return out


def _no_bias(net: _Net) -> list[Alternative]:
    out = []
    for l in net.layers:
        ins = net.units(l - 1)
        for j in net.units(l):
            w = tuple(P("parameters", l, "w", i, j) for i in ins)
            x = tuple(net.below(l, i) for i in ins)
            out.append(net.alt(P("forward", l, "s", j), (*w, *x), _weighted,
                               " + ".join(f"{net.n(wi)}*{net.n(xi)}" for wi, xi in zip(w, x))))
    return out


def _wrong_input(net: _Net) -> list[Alternative]:
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


def _difference_reversed(net: _Net) -> list[Alternative]:
    return [net.alt(P("forward", None, "y-f", j), (y, f), lambda y_, f_: f_ - y_, f"{net.n(f)} - {net.n(y)}")
            for j, f, y in _output_pairs(net)]


def _loss_no_half(net: _Net) -> list[Alternative]:
    if net.shape.loss != "half_sse":
        return []
    deps = tuple(P("forward", None, "(y-f)^2", j) for j in net.units(net.top))
    return [net.alt(P("forward", None, "L", ), deps, lambda *squares: sum(squares),
                    " + ".join(f"({net.n(y)} - {net.n(f)})^2" for _, f, y in _output_pairs(net)))]


def _bias_gradient_times_x(net: _Net) -> list[Alternative]:
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


def _not_updated(net: _Net) -> list[Alternative]:
    return [net.alt(new, (old,), lambda p_: p_, net.n(old)) for new, old, _ in _updates(net)]


# ---------------------------------------------------------------- what deeper networks bring


def _hidden(net: _Net) -> list[tuple[int, int, range]]:
    """(layer, unit, units of the layer above) for every hidden unit."""
    return [(l, j, net.units(l + 1)) for l in net.layers if l < net.top for j in net.units(l)]


def _updated_outer_weights(net: _Net) -> list[Alternative]:
    # The student updated the layer above first and summed through the new weights:
    # Σ_k (w_jk − lr·dL/dw_jk)·dL/ds_k, written from the cells they had.
    lr, out = net.lr, []
    for l, j, above in _hidden(net):
        w = tuple(P("parameters", l + 1, "w", j, k) for k in above)
        gw = tuple(P("backward", l + 1, "dL/dw", j, k) for k in above)
        gs = tuple(P("backward", l + 1, "dL/ds", k) for k in above)

        def fn(*v: float, K: int = len(above), lr: float = lr) -> float:
            return sum((v[k] - lr * v[K + k]) * v[2 * K + k] for k in range(K))

        text = " + ".join(f"({net.n(a)} - {_num(lr)}*{net.n(b)})*{net.n(c)}" for a, b, c in zip(w, gw, gs))
        out.append(net.alt(P("backward", l, "dL/df", j), (*w, *gw, *gs), fn, text))
    return out


def _one_path(net: _Net) -> list[Alternative]:
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


def _slope_of(net: _Net, layer: int, j: int) -> tuple[tuple[Place, ...], Callable[..., float], str] | None:
    """Layer ``layer``'s activation derivative at its unit j: (upstream, factor, text); None for linear."""
    activation = net.shape.activations[layer - 1]
    f, s = P("forward", layer, "f", j), P("forward", layer, "s", j)
    if activation == "sigmoid":
        return (f,), lambda f_: f_ * (1 - f_), f"{net.n(f)} * (1 - {net.n(f)})"
    if activation == "tanh":
        return (f,), lambda f_: 1 - f_ * f_, f"(1 - {net.n(f)}^2)"
    if activation == "relu":
        return (s,), lambda s_: 1.0 if s_ > 0 else 0.0, f"step({net.n(s)})"
    return None


def _wrong_layer_derivative(net: _Net) -> list[Alternative]:
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


def _derivative_as_sigmoid(net: _Net) -> list[Alternative]:
    out = []
    for l in net.layers:
        if net.shape.activations[l - 1] not in ("tanh", "relu"):
            continue
        for j in net.units(l):
            g, f = P("backward", l, "dL/df", j), P("forward", l, "f", j)
            out.append(net.alt(P("backward", l, "dL/ds", j), (g, f), lambda g_, f_: g_ * f_ * (1 - f_),
                               f"{net.n(g)} * {net.n(f)} * (1 - {net.n(f)})"))
    return out


def _bce_squared_gradient(net: _Net) -> list[Alternative]:
    if net.shape.loss != "bce":
        return []
    return [net.alt(P("backward", net.top, "dL/df", j), (f, y), lambda f_, y_: f_ - y_,
                    f"{net.n(f)} - {net.n(y)}") for j, f, y in _output_pairs(net)]


MISTAKES: tuple[Mistake, ...] = (
    Mistake("no_half", "Loss without the ½",
            "L = Σ(y − f)²/2, and the ½ cancels the 2 that the square brings down, so dL/df = f − y.",
            _no_half),
    Mistake("sign_flipped", "dL/df with the sign flipped",
            "Differentiating (y − f)²/2 by f brings a −1 from the inner y − f, so dL/df = f − y, not y − f.",
            _sign_flipped),
    Mistake("no_sigmoid_derivative", "Sigmoid derivative left out",
            "f = σ(s), so the chain rule multiplies by σ'(s) = f(1 − f): dL/ds = dL/df · f(1 − f).",
            _no_sigmoid_derivative),
    Mistake("derivative_from_s", "Sigmoid derivative taken from s",
            "σ'(s) = σ(s)(1 − σ(s)) = f(1 − f): use the output f, not the input s.",
            _derivative_from_s),
    Mistake("gradient_added", "Gradient added instead of subtracted",
            "Gradient descent steps against the gradient: new = old − learning rate × gradient.",
            _gradient_added),
    Mistake("no_learning_rate", "Learning rate left out",
            "The step is the gradient scaled by the learning rate: new = old − learning rate × gradient.",
            _no_learning_rate),
    Mistake("index_swapped", "w12 and w21 swapped",
            "w_ij goes from input i to output j, so s_j = Σ_i w_ij·x_i and dL/dw_ij = dL/ds_j · x_i.",
            _index_swapped),
    Mistake("no_bias", "Bias left out of s",
            "Each output adds its bias to the weighted sum: s_j = Σ_i w_ij·x_i + b_j.",
            _no_bias),
    Mistake("wrong_input", "dL/dw with the wrong input",
            "w_ij multiplies x_i, so its gradient is dL/ds_j times that same input: dL/dw_ij = dL/ds_j · x_i.",
            _wrong_input),
    Mistake("difference_reversed", "y − f written as f − y",
            "The cell is the target minus the output: y − f (its square is the same either way).",
            _difference_reversed),
    Mistake("loss_no_half", "L without the ½",
            "The loss is half the sum of the squared errors: L = Σ(y − f)²/2.",
            _loss_no_half),
    Mistake("bias_gradient_times_x", "dL/db multiplied by an input",
            "The bias is added to s with weight 1, so dL/db = dL/ds · 1, with no input x.",
            _bias_gradient_times_x),
    Mistake("not_updated", "Parameter not updated",
            "Every weight and bias takes a step each round: new = old − learning rate × its gradient.",
            _not_updated),
)

NETWORK_MISTAKES: tuple[Mistake, ...] = (
    Mistake("updated_outer_weights", "Hidden dL/df from updated weights",
            "Every gradient of a round is taken at the weights the round started with: a hidden "
            "dL/df sums w·dL/ds over the layer above with those weights, not the updated ones.",
            _updated_outer_weights),
    Mistake("one_path", "Only one path in a hidden dL/df",
            "A hidden unit feeds every unit of the layer above, so its dL/df sums over all of "
            "them: dL/df_j = Σ_k w_jk · dL/ds_k.",
            _one_path),
    Mistake("wrong_layer_derivative", "Another layer's activation derivative",
            "Each layer's dL/ds multiplies by the derivative of its own activation at its own "
            "units: dL/ds_j = dL/df_j · act'(s_j) of that layer.",
            _wrong_layer_derivative),
    Mistake("derivative_as_sigmoid", "Sigmoid's derivative used for tanh or ReLU",
            "f(1 − f) is the sigmoid's derivative only: tanh's is 1 − f², and ReLU's is 1 where "
            "s > 0 and 0 elsewhere.",
            _derivative_as_sigmoid),
    Mistake("bce_squared_gradient", "Squared-loss gradient with cross-entropy",
            "With L = −Σ[y ln f + (1 − y) ln(1 − f)], dL/df = −y/f + (1 − y)/(1 − f); f − y is "
            "what dL/ds becomes once the sigmoid's f(1 − f) multiplies it.",
            _bce_squared_gradient),
)

CATALOGUE: tuple[Mistake, ...] = MISTAKES + NETWORK_MISTAKES
_BY_ID = {m.id: m for m in CATALOGUE}


def get_mistake(mistake_id: str) -> Mistake:
    """The mistake with this id, or ValueError naming the known ones."""
    try:
        return _BY_ID[mistake_id]
    except KeyError:
        raise ValueError(f"unknown mistake {mistake_id!r}; known: {', '.join(_BY_ID)}") from None


@lru_cache(maxsize=512)
def _alternatives(mistake_id: str, shape: Shape, lr: float) -> tuple[Alternative, ...]:
    net = _Net(shape, lr)
    places = net.places
    # A mistake is only written over cells the network's tables have.
    return tuple(a for a in _BY_ID[mistake_id].build(net)
                 if a.cell in places and all(d in places for d in a.deps))


def catalogue(*network: Any) -> tuple[Mistake, ...]:
    """The mistakes that ``(shape, learning_rate)`` (or ``(n, m, lr)``) can show, in catalogue order."""
    shape, lr = _network(network)
    return tuple(m for m in CATALOGUE if _alternatives(m.id, shape, lr))


@lru_cache(maxsize=64)
def _by_cell(shape: Shape, lr: float) -> dict[Place, tuple[tuple[Mistake, Alternative], ...]]:
    table: dict[Place, list[tuple[Mistake, Alternative]]] = {}
    for mistake in CATALOGUE:
        for alt in _alternatives(mistake.id, shape, lr):
            table.setdefault(alt.cell, []).append((mistake, alt))
    return {k: tuple(v) for k, v in table.items()}


def alternatives_by_cell(*network: Any) -> dict[Place, tuple[tuple[Mistake, Alternative], ...]]:
    """Every mistaken formula of a network, by place, in catalogue order: for ``(shape, lr)``
    or a single layer's ``(n_inputs, n_outputs, lr)``."""
    return _by_cell(*_network(network))


def mistake_graph(spec: Spec, mistake_id: str) -> Graph:
    """The graph of ``spec`` with this mistake's formulas in place of the right ones (where a
    mistake has several for one cell, its first)."""
    mistake = get_mistake(mistake_id)
    overrides: dict[Place, Any] = {}
    for a in mistake.alternatives(Shape.of(spec), spec.learning_rate):
        overrides.setdefault(a.cell, (list(a.deps), a.fn, a.formula))
    return build_graph(spec, overrides=overrides)


def mistake_key(spec: Spec, mistake_id: str) -> dict[CellId, float]:
    """Every cell of the tables a student with only this mistake would hand in (full precision;
    exactly the key's values wherever the mistake changes nothing)."""
    return mistake_graph(spec, mistake_id).evaluate(like=answer_key(spec).values)
