"""When a problem is degenerate, and why: the rule of issue 9, for one problem or a whole batch.

No Django here. A problem is degenerate when a student could not do it by hand in a useful way:

* a backward cell smaller in magnitude than one unit of the asked decimals (10^-d): the student
  would write 0.0000 and learn nothing from that cell. In a problem without ranges, a first-layer
  dL/dw that an input given as exactly 0 makes 0 is not counted: the tables show it as a given
  value, so nobody types it or earns marks for it; drawn problems are drawn again instead;
* a sigmoid (or softmax) output outside [0.01, 0.99]: the unit is saturated and its slope
  f(1 - f) nearly 0;
* a ReLU unit inactive (s <= 0) in every round: its whole column of the table is 0;
* a value that is not a finite number (the training diverged).

``degenerate_mask`` answers for every problem of a batch at once (the variant draw redraws the
ones it marks); ``reasons`` lists every reason of one problem, each naming its cell.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np

from grading.engine import registry
from grading.engine.cells import Column, Place, QuantityName, cell_name
from grading.engine.network import Trace, quantities, train_one
from grading.engine.spec import Spec
from grading.engine.text import Text, _

SIGMOID_LOW, SIGMOID_HIGH = registry.activation("sigmoid").saturates  # type: ignore[misc]
# Why a problem is degenerate (a Reason's rule, stored in reports as this string).
Rule = Literal["small", "saturated", "inactive", "not_finite"]
BACKWARD = ("dL/df", "dL/ds", "dL/db", "dL/dw")


def display_name(quantity: QuantityName, layer: int | None, index: tuple[int, ...], n_layers: int) -> str:
    """A cell's name in the course notation: ``dL/dw21`` for one layer, ``dL/dw12[2]`` for several."""
    return cell_name(Place("backward", layer, quantity, index), n_layers)


@dataclass(frozen=True)
class Reason:
    """Why one problem is degenerate: a rule, the cell (or ReLU unit) it is about and its value."""

    rule: Rule
    round: int | None         # None for a ReLU unit inactive in every round
    column: Column
    quantity: QuantityName
    layer: int | None
    index: tuple[int, ...]
    name: str                 # the cell's display name
    value: float | None
    decimals: int
    n_layers: int

    @property
    def what(self) -> Text:
        """The reason without its value: the same words for every draw it happens in."""
        where = {"round": self.round, "name": self.name}
        if self.rule == "small":
            return _("round %(round)s %(name)s is below %(unit)s in magnitude", **where,
                     unit=_unit_text(self.decimals))
        if self.rule == "saturated":
            return _("round %(round)s %(name)s leaves [%(low)s, %(high)s]", **where, low=SIGMOID_LOW,
                     high=SIGMOID_HIGH)
        if self.rule == "inactive":
            return _("ReLU unit %(name)s is inactive in every round", name=self.name)
        return _("round %(round)s %(name)s is not a finite number", **where)

    @property
    def message(self) -> Text:
        """The reason in full, fit to show the problem's author."""
        d = self.decimals
        where = {"round": self.round, "name": self.name, "value": _value_text(self.value, d)}
        if self.rule == "small":
            return _("round %(round)s %(name)s = %(value)s is below one unit of %(decimals)s decimals "
                     "(%(unit)s) in magnitude: the student would write %(zero)s", **where, decimals=d,
                     unit=_unit_text(d), zero=f"{0:.{d}f}")
        if self.rule == "saturated":
            return _("round %(round)s %(name)s = %(value)s is outside [%(low)s, %(high)s]: the sigmoid is "
                     "saturated and its slope f(1 - f) nearly 0", **where, low=SIGMOID_LOW,
                     high=SIGMOID_HIGH)
        if self.rule == "inactive":
            s = display_name("s", self.layer, self.index, self.n_layers)
            return _("ReLU unit %(name)s is inactive in every round (%(s)s <= 0), so every gradient "
                     "through it is 0", name=self.name, s=s)
        return _("round %(round)s %(name)s is not a finite number: the training diverges",
                 round=self.round, name=self.name)


def _value_text(value: float | None, decimals: int) -> str:
    # Two places more than asked shows why a value rounds to 0; a far smaller one needs an exponent.
    if not value:
        return "0"
    return f"{value:.{decimals + 2}f}" if abs(value) >= 10.0 ** -(decimals + 2) else f"{value:.2e}"


def _unit_text(decimals: int) -> str:
    return f"{10.0 ** -decimals:.{decimals}f}"


def _cells(trace: Trace) -> Iterator[tuple[Column, QuantityName, int | None, np.ndarray]]:
    """(column, quantity, layer, array) of every computed quantity but the given x and y (a round
    of several samples: each sample's, rows by sample, then the round's reduced gradients). A
    softmax output's dL/df = −y/f is exactly 0 wherever the target is 0: a given fact, not a value
    too small to write, so those entries are left out (set to 1)."""
    n_layers = len(trace.layers)
    arch = trace.architecture
    for q in quantities(arch.loss):
        if q.column == "parameters" and q.name in ("x", "y"):
            continue
        for layer in (range(1, n_layers + 1) if q.per_layer else (None,)):
            array = trace.array(q.column, q.name, layer, reduced=False)
            if q.name == "dL/df" and layer == n_layers and registry.loss(arch.loss).targets_sum_to_one:
                array = np.where(trace.y == 0, 1.0, array)
            yield q.column, q.name, layer, array
    if arch.batch > 1:
        for (column, quantity, layer), array in trace.extra.items():
            if column == "backward":
                yield column, quantity, layer, array  # type: ignore[misc]


def _given_zero(trace: Trace, quantity: str, layer: int | None, array: np.ndarray) -> np.ndarray | None:
    """Where ``array`` (a quantity's, rows by sample or by round) holds a first-layer dL/dw that an
    input of exactly 0 makes 0: in that sample, or for a round's reduced gradient in every sample
    of the round (``grading.engine.cells.zero_input_gradients`` says the same of one spec's cells)."""
    if quantity != "dL/dw" or layer != 1:
        return None
    zero = trace.x == 0  # (P, samples, n_in)
    if array.shape[1] != zero.shape[1]:  # the rounds' reduced gradients
        p, samples, n_in = zero.shape
        zero = zero.reshape(p, array.shape[1], samples // array.shape[1], n_in).all(axis=2)
    return np.broadcast_to(zero[..., None], array.shape)


def degenerate_mask(trace: Trace, *, decimals: int, zero_inputs_given: bool = False) -> np.ndarray:
    """(P,) booleans: which problems of the batch are degenerate. ``zero_inputs_given``: a
    gradient an input of exactly 0 makes 0 is a given value, not a reason (a problem without
    ranges; a drawn problem is drawn again instead)."""
    unit = 10.0 ** -decimals
    p = trace.L.shape[0]
    bad = np.zeros(p, dtype=bool)
    for column, quantity, layer_no, array in _cells(trace):
        flat = array.reshape(p, -1)
        bad |= ~np.isfinite(flat).all(axis=1)
        if column == "backward":
            small = ~(np.abs(array) >= unit)
            given = _given_zero(trace, quantity, layer_no, array) if zero_inputs_given else None
            if given is not None:
                small &= ~given
            bad |= small.reshape(p, -1).any(axis=1)
    for name, layer in zip(trace.architecture.activations, trace.layers):
        activation = registry.activation(name)
        if activation.saturates is not None:
            low, high = activation.saturates
            f = layer.f.reshape(p, -1)
            bad |= ~((f >= low) & (f <= high)).all(axis=1)
        elif activation.can_be_inactive:
            # A dead unit's dL/ds is 0, so the first rule marks it already; stated for the record.
            bad |= np.any(np.all(layer.s <= 0, axis=1), axis=1)
    return bad


def reasons(trace: Trace, *, decimals: int, problem: int = 0, zero_inputs_given: bool = False) -> list[Reason]:
    """Every reason problem ``problem`` of the batch is degenerate; empty when it is not.
    ``zero_inputs_given`` as for ``degenerate_mask``."""
    unit = 10.0 ** -decimals
    n_layers = len(trace.layers)
    found: list[tuple[tuple[int, int, int], Reason]] = []

    def add(rule: Rule, round_no: int | None, column: Column, quantity: QuantityName, layer: int | None,
            index: tuple[int, ...], value: float | None, order: int, sample: int = 0) -> None:
        reason = Reason(rule=rule, round=round_no, column=column, quantity=quantity, layer=layer,
                        index=index, name=cell_name(Place(column, layer, quantity, index, sample), n_layers),
                        value=value, decimals=decimals, n_layers=n_layers)
        found.append(((round_no or 0, order, len(found)), reason))

    batch, rounds = trace.architecture.batch, trace.architecture.n_rounds

    def at(row: int, rows: int) -> tuple[int, int]:
        """(round, sample) of a row of an array by round (sample 0) or by sample."""
        if batch == 1 or rows == rounds:
            return row + 1, 0
        return row // batch + 1, row % batch + 1

    for order, (column, quantity, layer, array) in enumerate(_cells(trace)):
        rows = array.shape[1]
        given = _given_zero(trace, quantity, layer, array) if zero_inputs_given else None
        for position, value in np.ndenumerate(array[problem]):
            (round_no, sample), index = at(position[0], rows), tuple(k + 1 for k in position[1:])
            if not np.isfinite(value):
                add("not_finite", round_no, column, quantity, layer, index, None, order, sample)
            elif column == "backward" and abs(value) < unit and not (given is not None and given[problem][position]):
                add("small", round_no, column, quantity, layer, index, float(value), order, sample)
    for l, (name, layer_trace) in enumerate(zip(trace.architecture.activations, trace.layers), 1):
        activation = registry.activation(name)
        if activation.saturates is not None:
            low, high = activation.saturates
            rows = layer_trace.f.shape[1]
            for (r, j), f in np.ndenumerate(layer_trace.f[problem]):
                if np.isfinite(f) and not low <= f <= high:
                    round_no, sample = at(r, rows)
                    add("saturated", round_no, "forward", "f", l, (j + 1,), float(f), -1, sample)
        elif activation.can_be_inactive:
            for j in np.flatnonzero((layer_trace.s[problem] <= 0).all(axis=0)):
                add("inactive", None, "forward", "f", l, (int(j) + 1,), None, l)
    return [reason for _order, reason in sorted(found, key=lambda item: item[0])]


def degenerate_reasons(spec: Spec, *, decimals: int) -> list[Reason]:
    """Every reason one spec (a problem without ranges) is degenerate at ``decimals`` places;
    empty when it is not. A gradient that an input of exactly 0 makes 0 is no reason: the
    problem shows it as a given value (a textbook's exercise can be set as printed)."""
    return reasons(train_one(spec), decimals=decimals, zero_inputs_given=True)
