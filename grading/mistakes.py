"""Classic single mistakes of backpropagation by hand, as data.

Each mistake replaces the formula of some cells of every round by the formula a student with
that misconception would use, for a network of any n inputs × m outputs. Marking uses the
alternatives to label a wrong cell ("you left the sigmoid derivative out") when, from the
student's own upstream values, the alternative reproduces what they typed and differs from the
right formula; ``mistake_key`` builds the whole tables such a student would hand in.

No Django here; the list is meant to be shown as is on an assignment page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grading.engine import CellKey, Graph, Spec, build_graph, w_name


@dataclass(frozen=True)
class Alternative:
    """The mistaken formula of one cell (same name in every round), over same-round cells."""

    column: str
    name: str
    deps: tuple[tuple[str, str], ...]
    fn: Callable[..., float]
    formula: str


@dataclass(frozen=True)
class Mistake:
    """A named misconception: what it is, the right idea, and the cells it changes."""

    id: str
    title: str
    explanation: str
    build: Callable[[int, int, float], list[Alternative]]

    def alternatives(self, n_inputs: int, n_outputs: int, learning_rate: float) -> tuple[Alternative, ...]:
        """The mistaken formulas of this mistake for an n×m network."""
        return _alternatives(self.id, n_inputs, n_outputs, float(learning_rate))

    def to_json(self, n_inputs: int, n_outputs: int, learning_rate: float) -> dict[str, Any]:
        """What an instructor reads: title, explanation and the mistaken formulas."""
        return {
            "id": self.id, "title": self.title, "explanation": self.explanation,
            "formulas": [{"column": a.column, "name": a.name, "formula": a.formula}
                         for a in self.alternatives(n_inputs, n_outputs, learning_rate)],
        }


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else repr(v)


def _outs(m: int) -> range:
    return range(1, m + 1)


def _no_half(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("backward", f"dL/df{j}", (("forward", f"f{j}"), ("parameters", f"y{j}")),
                        lambda f, y: 2 * (f - y), f"2*(f{j} - y{j})") for j in _outs(m)]


def _sign_flipped(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("backward", f"dL/df{j}", (("forward", f"f{j}"), ("parameters", f"y{j}")),
                        lambda f, y: y - f, f"y{j} - f{j}") for j in _outs(m)]


def _no_sigmoid_derivative(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("backward", f"dL/ds{j}", (("backward", f"dL/df{j}"),),
                        lambda g: g, f"dL/df{j}") for j in _outs(m)]


def _derivative_from_s(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("backward", f"dL/ds{j}", (("backward", f"dL/df{j}"), ("forward", f"s{j}")),
                        lambda g, s: g * s * (1 - s), f"dL/df{j} * s{j} * (1 - s{j})")
            for j in _outs(m)]


def _updates(n: int, m: int) -> list[tuple[str, str]]:
    return [(w_name(i, j), f"dL/d{w_name(i, j)}") for i in range(1, n + 1) for j in _outs(m)] + [
        (f"b{j}", f"dL/db{j}") for j in _outs(m)]


def _gradient_added(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("updated", p, (("parameters", p), ("backward", g)),
                        lambda p_, g_, lr=lr: p_ + lr * g_, f"{p} + {_num(lr)}*{g}")
            for p, g in _updates(n, m)]


def _no_learning_rate(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("updated", p, (("parameters", p), ("backward", g)),
                        lambda p_, g_: p_ - g_, f"{p} - {g}") for p, g in _updates(n, m)]


def _weighted(*values: float) -> float:
    k = len(values) // 2
    return sum(values[t] * values[k + t] for t in range(k)) + (values[-1] if len(values) % 2 else 0.0)


def _index_swapped(n: int, m: int, lr: float) -> list[Alternative]:
    # Only a square layer has a w_ji for every w_ij; elsewhere this mistake cannot be written.
    if n != m:
        return []
    ins = range(1, n + 1)
    alts = []
    for j in _outs(m):
        deps = tuple(("parameters", w_name(j, i)) for i in ins) + tuple(
            ("parameters", f"x{i}") for i in ins) + (("parameters", f"b{j}"),)
        alts.append(Alternative("forward", f"s{j}", deps, _weighted,
                                " + ".join(f"{w_name(j, i)}*x{i}" for i in ins) + f" + b{j}"))
    for j in _outs(m):
        for i in ins:
            alts.append(Alternative("backward", f"dL/d{w_name(i, j)}",
                                    (("backward", f"dL/ds{i}"), ("parameters", f"x{j}")),
                                    lambda g, x: g * x, f"dL/ds{i} * x{j}"))
    return alts


def _no_bias(n: int, m: int, lr: float) -> list[Alternative]:
    ins = range(1, n + 1)
    return [Alternative("forward", f"s{j}",
                        tuple(("parameters", w_name(i, j)) for i in ins)
                        + tuple(("parameters", f"x{i}") for i in ins),
                        _weighted, " + ".join(f"{w_name(i, j)}*x{i}" for i in ins))
            for j in _outs(m)]


def _wrong_input(n: int, m: int, lr: float) -> list[Alternative]:
    # The next input in turn (x2 for w11, x1 for w21 when n = 2): one formula per cell, so
    # that a whole mistaken table is well defined.
    if n < 2:
        return []
    return [Alternative("backward", f"dL/d{w_name(i, j)}",
                        (("backward", f"dL/ds{j}"), ("parameters", f"x{i % n + 1}")),
                        lambda g, x: g * x, f"dL/ds{j} * x{i % n + 1}")
            for j in _outs(m) for i in range(1, n + 1)]


def _difference_reversed(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("forward", f"y{j}-f{j}", (("parameters", f"y{j}"), ("forward", f"f{j}")),
                        lambda y, f: f - y, f"f{j} - y{j}") for j in _outs(m)]


def _loss_no_half(n: int, m: int, lr: float) -> list[Alternative]:
    deps = tuple(("forward", f"(y{j}-f{j})^2") for j in _outs(m))
    return [Alternative("forward", "L", deps, lambda *squares: sum(squares),
                        " + ".join(f"(y{j} - f{j})^2" for j in _outs(m)))]


def _bias_gradient_times_x(n: int, m: int, lr: float) -> list[Alternative]:
    # The input that sits beside b_j in the student's eye: x_j (x1 for b1), wrapping for m > n.
    return [Alternative("backward", f"dL/db{j}", (("backward", f"dL/ds{j}"), ("parameters", f"x{(j - 1) % n + 1}")),
                        lambda g, x: g * x, f"dL/ds{j} * x{(j - 1) % n + 1}") for j in _outs(m)]


def _not_updated(n: int, m: int, lr: float) -> list[Alternative]:
    return [Alternative("updated", p, (("parameters", p),), lambda p_: p_, p) for p, _ in _updates(n, m)]


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

_BY_ID = {m.id: m for m in MISTAKES}


def get_mistake(mistake_id: str) -> Mistake:
    """The mistake with this id, or ValueError naming the known ones."""
    try:
        return _BY_ID[mistake_id]
    except KeyError:
        raise ValueError(f"unknown mistake {mistake_id!r}; known: {', '.join(_BY_ID)}") from None


@lru_cache(maxsize=256)
def _alternatives(mistake_id: str, n: int, m: int, lr: float) -> tuple[Alternative, ...]:
    return tuple(_BY_ID[mistake_id].build(n, m, lr))


@lru_cache(maxsize=64)
def alternatives_by_cell(n: int, m: int, lr: float) -> dict[tuple[str, str], tuple[tuple[Mistake, Alternative], ...]]:
    """Every mistaken formula of an n×m network, by (column, name), in MISTAKES order."""
    table: dict[tuple[str, str], list[tuple[Mistake, Alternative]]] = {}
    for mistake in MISTAKES:
        for alt in mistake.alternatives(n, m, lr):
            table.setdefault((alt.column, alt.name), []).append((mistake, alt))
    return {k: tuple(v) for k, v in table.items()}


def mistake_graph(spec: Spec, mistake_id: str) -> Graph:
    """The graph of ``spec`` with this mistake's formulas in place of the right ones."""
    mistake = get_mistake(mistake_id)
    overrides = {(a.column, a.name): (list(a.deps), a.fn, a.formula)
                 for a in mistake.alternatives(spec.n_inputs, spec.n_outputs, spec.learning_rate)}
    return build_graph(spec, overrides=overrides)


def mistake_key(spec: Spec, mistake_id: str) -> dict[CellKey, float]:
    """Every cell of the tables a student with only this mistake would hand in (full precision)."""
    return mistake_graph(spec, mistake_id).evaluate()
