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

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from grading.engine import CellId, Graph, Override, Place, Shape, Spec, answer_key, build_graph
from grading.engine.cells import PER_SAMPLE
from grading.engine.graph import Where
from grading.mistakes import classic, deeper, training
from grading.mistakes.base import Alternative, Net
from grading.engine.text import _


@dataclass(frozen=True)
class Mistake:
    """A named misconception: what it is, the right idea, and the cells it changes.

    ``title`` and ``explanation`` are ``grading.engine.text.Text``: English as strings, shown in the
    reader's language where Django renders them.
    """

    id: str
    title: str
    explanation: str
    build: Callable[[Net], list[Alternative]]

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



MISTAKES: tuple[Mistake, ...] = (
    # One misconception, one entry: the loss taken without its ½ shows in L itself and in the
    # dL/df it is differentiated into (it was two entries, "no_half" and "loss_no_half", which
    # analytics counted apart); ``LEGACY_IDS`` reads reports graded under the old id.
    Mistake("no_half", _("Loss without the ½"),
            _("The loss is half the sum of the squared errors, L = Σ(y − f)²/2, and the ½ cancels the 2 "
              "that the square brings down, so dL/df = f − y."),
            classic.no_half),
    Mistake("sign_flipped", _("dL/df with the sign flipped"),
            _("Differentiating (y − f)²/2 by f brings a −1 from the inner y − f, so dL/df = f − y, not y − f."),
            classic.sign_flipped),
    Mistake("no_sigmoid_derivative", _("Sigmoid derivative left out"),
            _("f = σ(s), so the chain rule multiplies by σ'(s) = f(1 − f): dL/ds = dL/df · f(1 − f)."),
            classic.no_sigmoid_derivative),
    Mistake("derivative_from_s", _("Sigmoid derivative taken from s"),
            _("σ'(s) = σ(s)(1 − σ(s)) = f(1 − f): use the output f, not the input s."),
            classic.derivative_from_s),
    Mistake("gradient_added", _("Gradient added instead of subtracted"),
            _("Gradient descent steps against the gradient: new = old − learning rate × gradient."),
            classic.gradient_added),
    Mistake("no_learning_rate", _("Learning rate left out"),
            _("The step is the gradient scaled by the learning rate: new = old − learning rate × gradient."),
            classic.no_learning_rate),
    Mistake("index_swapped", _("w12 and w21 swapped"),
            _("w_ij goes from input i to output j, so s_j = Σ_i w_ij·x_i and dL/dw_ij = dL/ds_j · x_i."),
            classic.index_swapped),
    Mistake("no_bias", _("Bias left out of s"),
            _("Each output adds its bias to the weighted sum: s_j = Σ_i w_ij·x_i + b_j."),
            classic.no_bias),
    Mistake("wrong_input", _("dL/dw with the wrong input"),
            _("w_ij multiplies x_i, so its gradient is dL/ds_j times that same input: dL/dw_ij = dL/ds_j · x_i."),
            classic.wrong_input),
    Mistake("difference_reversed", _("y − f written as f − y"),
            _("The cell is the target minus the output: y − f (its square is the same either way)."),
            classic.difference_reversed),
    Mistake("bias_gradient_times_x", _("dL/db multiplied by an input"),
            _("The bias is added to s with weight 1, so dL/db = dL/ds · 1, with no input x."),
            classic.bias_gradient_times_x),
    Mistake("not_updated", _("Parameter not updated"),
            _("Every weight and bias takes a step each round: new = old − learning rate × its gradient."),
            classic.not_updated),
)

NETWORK_MISTAKES: tuple[Mistake, ...] = (
    Mistake("updated_outer_weights", _("Hidden dL/df from updated weights"),
            _("Every gradient of a round is taken at the weights the round started with: a hidden "
             "dL/df sums w·dL/ds over the layer above with those weights, not the updated ones."),
            deeper.updated_outer_weights),
    Mistake("one_path", _("Only one path in a hidden dL/df"),
            _("A hidden unit feeds every unit of the layer above, so its dL/df sums over all of "
             "them: dL/df_j = Σ_k w_jk · dL/ds_k."),
            deeper.one_path),
    Mistake("wrong_layer_derivative", _("Another layer's activation derivative"),
            _("Each layer's dL/ds multiplies by the derivative of its own activation at its own "
             "units: dL/ds_j = dL/df_j · act'(s_j) of that layer."),
            deeper.wrong_layer_derivative),
    Mistake("derivative_as_sigmoid", _("Sigmoid's derivative used for tanh or ReLU"),
            _("f(1 − f) is the sigmoid's derivative only: tanh's is 1 − f², and ReLU's is 1 where "
             "s > 0 and 0 elsewhere."),
            deeper.derivative_as_sigmoid),
    Mistake("bce_squared_gradient", _("Squared-loss gradient with cross-entropy"),
            _("With L = −Σ[y ln f + (1 − y) ln(1 − f)], dL/df = −y/f + (1 − y)/(1 − f); f − y is "
             "what dL/ds becomes once the sigmoid's f(1 − f) multiplies it."),
            deeper.bce_squared_gradient),
)

TRAINING_MISTAKES: tuple[Mistake, ...] = (
    Mistake("momentum_sign", _("Momentum's velocity subtracted"),
            _("With momentum the step keeps going the way it went: Δw = −η·dL/dw + β·Δw of the round "
              "before, the velocity added, not subtracted."),
            training.momentum_sign),
    Mistake("velocity_not_carried", _("Velocity not carried"),
            _("Momentum adds β times the round before's Δw to this round's step: Δw = −η·dL/dw + β·Δw "
              "of the round before (0 only before round 1)."),
            training.velocity_not_carried),
    Mistake("no_bias_correction", _("Adam without bias correction"),
            _("m and v start at 0, so Adam divides them by 1 − β₁ᵗ and 1 − β₂ᵗ in round t: "
              "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)."),
            training.no_bias_correction),
    Mistake("mean_for_sum", _("Mean and sum of the samples confused"),
            _("A round of several samples combines their gradients (and losses) as the problem says: "
              "the mean divides the sum by the number of samples, the sum does not."),
            training.mean_for_sum),
    Mistake("softmax_as_sigmoid", _("Softmax derivative taken as the sigmoid's"),
            _("Each softmax output depends on every s of its layer, so dL/ds_j = f_j(dL/df_j − Σ_k f_k·dL/df_k), "
              "which is f_j − y_j with cross-entropy; dL/df_j · f_j(1 − f_j) leaves the other units out."),
            training.softmax_as_sigmoid),
)

CATALOGUE: tuple[Mistake, ...] = MISTAKES + NETWORK_MISTAKES + TRAINING_MISTAKES
_BY_ID = {m.id: m for m in CATALOGUE}
# Ids of entries merged into another (reports graded before the merge still carry them).
LEGACY_IDS: dict[str, str] = {"loss_no_half": "no_half"}


def canonical_id(mistake_id: str) -> str:
    """The catalogue's id for ``mistake_id`` (a merged entry's old id gives the entry it joined)."""
    return LEGACY_IDS.get(mistake_id, mistake_id)


def get_mistake(mistake_id: str) -> Mistake:
    """The mistake with this id (or an old id of it), or ValueError naming the known ones."""
    try:
        return _BY_ID[canonical_id(mistake_id)]
    except KeyError:
        raise ValueError(f"unknown mistake {mistake_id!r}; known: {', '.join(_BY_ID)}") from None


@lru_cache(maxsize=512)
def _alternatives(mistake_id: str, shape: Shape, lr: float) -> tuple[Alternative, ...]:
    net = Net(shape, lr)
    places = net.places
    built = _BY_ID[mistake_id].build(net)
    if shape.batch > 1:  # a mistake of one sample's cells is made in each sample's
        built += [per_sample(a, k, net) for a in built for k in shape.samples
                  if not (a.cell in places and all(d in places for d in a.deps))]
    # A mistake is only written over cells the network's tables have.
    return tuple(a for a in built if a.cell in places and all(d in places for d in a.deps))


def per_sample(alt: Alternative, k: int, net: Net) -> Alternative:
    """``alt`` written over sample k's cells of a round (its parameters stay the round's)."""
    tagged = {p: _tag(p, k) for p in (alt.cell, *alt.deps)}
    names = {net.n(p): net.n(q) for p, q in tagged.items() if p != q}
    formula = alt.formula
    if names:
        # One pass, longest names first, and a name only where it is not the tail of a longer
        # one (s1[2] inside dL/ds1[2]).
        pattern = re.compile(r"(?<![\w/])(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
                             + r")(?![\w\[(])")
        formula = pattern.sub(lambda m: names[m.group(1)], formula)
    cell = tagged[alt.cell]
    return Alternative(cell, tuple(tagged[d] for d in alt.deps), alt.fn, formula, net.n(cell))


def _tag(place: Place, k: int) -> Place:
    if place.quantity in PER_SAMPLE and not (place.column == "parameters" and place.quantity in ("w", "b")):
        return place._replace(sample=k)
    return place


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
    overrides: dict[Where, Override] = {}
    for a in mistake.alternatives(Shape.of(spec), spec.learning_rate):
        overrides.setdefault(a.cell, (list(a.deps), a.fn, a.formula))
    return build_graph(spec, overrides=overrides)


def mistake_key(spec: Spec, mistake_id: str) -> dict[CellId, float]:
    """Every cell of the tables a student with only this mistake would hand in (full precision;
    exactly the key's values wherever the mistake changes nothing)."""
    return mistake_graph(spec, mistake_id).evaluate(like=answer_key(spec).values)
