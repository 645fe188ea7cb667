"""A problem spec: a dense network, its initial parameters, its loss and its samples, validated.

No Django here. ``parse_spec`` is the one place a spec is checked, with messages fit to show
its author (the admin, the model field's validator and the commands all call it). Two forms:

* one sigmoid layer, Homework 4.1's form: ``{"weights", "biases", "learning_rate", "samples"}``;
  it means what it always meant (half-SSE loss, biases updated) and ``Spec.to_json`` gives it
  back unchanged, so stored specs do not change;
* any dense network: ``{"layers": [{"weights", "biases", "activation"}, ...], "loss",
  "learning_rate", "update_biases" (optional, true), "samples"}``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from grading.engine import registry
from grading.engine.registry import ACTIVATIONS, LOSSES
from grading.engine.text import Text, _
MAX_LAYERS = 4
MAX_UNITS = 9
MAX_ROUNDS = 12   # samples of a spec in the layers form
MAX_SAMPLES = 50  # samples of a spec in the single-layer form: its limit before layers existed
MAX_MAGNITUDE = 1e6

_SINGLE_KEYS = ("weights", "biases", "learning_rate", "samples")
_LAYERED_KEYS = ("layers", "loss", "learning_rate", "samples")
_LAYER_KEYS = ("weights", "biases", "activation")


class SpecError(ValueError):
    """A problem spec that cannot be used, with a message fit to show its author (a
    grading.engine.text.Text: ``str(exc)`` says it in the active language)."""


THE_SPEC = _("the spec")  # where a message is about the whole spec


@dataclass(frozen=True)
class Sample:
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Layer:
    """One dense layer: ``weights[i][j]`` goes from unit i+1 below to unit j+1 of this layer."""

    weights: tuple[tuple[float, ...], ...]
    biases: tuple[float, ...]
    activation: str = "sigmoid"

    @property
    def n_inputs(self) -> int:
        return len(self.weights)

    @property
    def n_outputs(self) -> int:
        return len(self.biases)


@dataclass(frozen=True)
class Spec:
    """A dense network, its initial parameters, its loss and its training samples (one a round)."""

    layers: tuple[Layer, ...]
    learning_rate: float
    samples: tuple[Sample, ...]
    loss: str = "half_sse"
    update_biases: bool = True

    @classmethod
    def single_layer(cls, *, weights: Any, biases: Any, learning_rate: float,
                     samples: Any) -> Spec:
        """A spec of Homework 4.1's kind: one sigmoid layer, half-SSE, biases updated."""
        layer = Layer(weights=tuple(tuple(map(float, row)) for row in weights),
                      biases=tuple(map(float, biases)))
        return cls(layers=(layer,), learning_rate=float(learning_rate),
                   samples=tuple(samples))

    @property
    def classic(self) -> bool:
        """One sigmoid layer, half-SSE loss, biases updated: what the single-layer form means."""
        return (len(self.layers) == 1 and self.layers[0].activation == "sigmoid"
                and self.loss == "half_sse" and self.update_biases)

    @property
    def sizes(self) -> tuple[int, ...]:
        """Units per layer, the inputs first: (2, 2, 2) for a 2-2-2 network."""
        return (self.layers[0].n_inputs, *(layer.n_outputs for layer in self.layers))

    @property
    def n_layers(self) -> int:
        return len(self.layers)

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_inputs

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_outputs

    @property
    def n_rounds(self) -> int:
        return len(self.samples)

    @property
    def weights(self) -> tuple[tuple[float, ...], ...]:
        """The weights of a single-layer spec (code written for one layer reads these)."""
        return self._only_layer("weights").weights

    @property
    def biases(self) -> tuple[float, ...]:
        """The biases of a single-layer spec (code written for one layer reads these)."""
        return self._only_layer("biases").biases

    def _only_layer(self, what: str) -> Layer:
        # Silently handing out layer 1 of a deeper network would grade the wrong numbers.
        if len(self.layers) != 1:
            raise ValueError(f"Spec.{what} is only defined for a single-layer spec; this one has "
                             f"{len(self.layers)} layers: read spec.layers")
        return self.layers[0]

    def to_json(self) -> dict[str, Any]:
        """The spec's JSON form: the single-layer form when it means the same, else the layers form."""
        samples = [{"x": list(s.x), "y": list(s.y)} for s in self.samples]
        if self.classic and len(self.samples) <= MAX_SAMPLES:
            return {
                "weights": [list(row) for row in self.weights],
                "biases": list(self.biases),
                "learning_rate": self.learning_rate,
                "samples": samples,
            }
        return {
            "layers": [{"weights": [list(row) for row in layer.weights],
                        "biases": list(layer.biases), "activation": layer.activation}
                       for layer in self.layers],
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "update_biases": self.update_biases,
            "samples": samples,
        }


# ---------------------------------------------------------------- spec parsing


def _number(value: Any, where: str) -> float:
    # bool is an int subclass: `true` in a spec is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(_("%(where)s must be a number, got %(value)s", where=where, value=json_repr(value)))
    # A JSON integer can have hundreds of digits: compare it before math.isfinite turns it into
    # a float (an OverflowError, not a message).
    if isinstance(value, float) and not math.isfinite(value):
        raise SpecError(_("%(where)s must be a finite number, got %(value)s", where=where, value=str(value)))
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(_("%(where)s is %(value)s; keep values within ±1e6", where=where,
                          value=json_repr(value)))
    return float(value)


def _vector(value: Any, where: str, length: int | None = None) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise SpecError(_("%(where)s must be a list of numbers, got %(value)s", where=where,
                          value=json_repr(value)))
    if length is not None and len(value) != length:
        raise SpecError(_("%(where)s has %(n)s values; expected %(expected)s", where=where, n=len(value),
                          expected=length))
    return tuple(_number(v, f"{where}[{k}]") for k, v in enumerate(value))


def json_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bounded_list(value: Any, where: str, items: str, counted: str, limit: int) -> list[Any]:
    """``value`` when it is a non-empty list of at most ``limit`` items, else a SpecError."""
    if not isinstance(value, list) or not value:
        raise SpecError(_("%(where)s must be a non-empty list of %(items)s", where=where, items=items))
    if len(value) > limit:
        raise SpecError(_("%(where)s has %(n)s %(counted)s; at most %(limit)s are supported", where=where,
                          n=len(value), counted=counted, limit=limit))
    return value


def _keys(data: dict[str, Any], where: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
          hint: str = "") -> None:
    missing = [k for k in required if k not in data]
    if missing:
        raise SpecError(_("%(where)s is missing %(keys)s", where=where, keys=", ".join(missing)))
    unknown = sorted(map(str, set(data) - set(required) - set(optional)))
    if unknown and hint:
        raise SpecError(_("%(where)s has unknown keys: %(keys)s (%(hint)s)", where=where,
                          keys=", ".join(unknown), hint=hint))
    if unknown:
        raise SpecError(_("%(where)s has unknown keys: %(keys)s", where=where, keys=", ".join(unknown)))


def _choice(value: Any, where: str, allowed: tuple[str, ...]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise SpecError(_("%(where)s must be one of %(allowed)s; got %(value)s", where=where,
                          allowed=", ".join(allowed), value=json_repr(value)))
    return value


def _learning_rate(value: Any) -> float:
    lr = _number(value, "learning_rate")
    if lr <= 0:
        raise SpecError(_("learning_rate must be positive, got %(value)s", value=str(lr)))
    return lr


def _samples(value: Any, n_in: int, n_out: int, limit: int) -> tuple[Sample, ...]:
    samples = _bounded_list(value, "samples", '{"x": [...], "y": [...]}', _("samples"), limit)
    parsed = []
    for k, sample in enumerate(samples):
        if not isinstance(sample, dict) or set(sample) != {"x", "y"}:
            raise SpecError(_("%(where)s must be an object with exactly the keys x and y", where=f"samples[{k}]"))
        parsed.append(Sample(x=_vector(sample["x"], f"samples[{k}].x", n_in),
                             y=_vector(sample["y"], f"samples[{k}].y", n_out)))
    return tuple(parsed)


def parse_spec(data: Any) -> Spec:
    """Validate a spec in its JSON form and return it, or raise SpecError saying what is wrong."""
    if not isinstance(data, dict):
        raise SpecError(_("the spec must be a JSON object with weights, biases, learning_rate and "
                          "samples (one sigmoid layer), or with layers, loss, learning_rate and samples"))
    if "layers" in data:
        return _parse_layered(data)
    _keys(data, THE_SPEC, _SINGLE_KEYS,
          hint=_("loss, update_biases and activations are written in the layers form"))
    weights = _bounded_list(data["weights"], "weights", _("rows, one per input"), _("rows (inputs)"), MAX_UNITS)
    biases = _bounded_list(data["biases"], "biases", _("values, one per output"), _("values (outputs)"),
                           MAX_UNITS)
    rows = tuple(_vector(row, f"weights[{i}]", len(biases)) for i, row in enumerate(weights))
    layer = Layer(weights=rows, biases=_vector(biases, "biases"))
    lr = _learning_rate(data["learning_rate"])
    samples = _samples(data["samples"], len(rows), len(biases), MAX_SAMPLES)
    return Spec(layers=(layer,), learning_rate=lr, samples=samples)


def _parse_layered(data: dict[str, Any]) -> Spec:
    _keys(data, THE_SPEC, _LAYERED_KEYS, ("update_biases",),
          hint=_("with layers, each layer holds its own weights, biases and activation"))
    raw = _bounded_list(data["layers"], "layers", _('layers, each {"weights", "biases", "activation"}'),
                        _("layers"), MAX_LAYERS)
    layers: list[Layer] = []
    for l, item in enumerate(raw):
        where = f"layers[{l}]"
        if not isinstance(item, dict):
            raise SpecError(_("%(where)s must be an object with the keys weights, biases and activation",
                              where=where))
        _keys(item, where, _LAYER_KEYS)
        weights = _bounded_list(item["weights"], f"{where}.weights", _("rows, one per unit below"),
                                _("rows (units below)"), MAX_UNITS)
        biases = _bounded_list(item["biases"], f"{where}.biases", _("values, one per unit"),
                               _("values (units)"), MAX_UNITS)
        if layers and len(weights) != layers[-1].n_outputs:
            raise SpecError(_("%(where)s has %(n)s rows; expected %(expected)s, one per unit of %(below)s",
                              where=f"{where}.weights", n=len(weights), expected=layers[-1].n_outputs,
                              below=f"layers[{l - 1}]"))
        rows = tuple(_vector(row, f"{where}.weights[{i}]", len(biases))
                     for i, row in enumerate(weights))
        layers.append(Layer(weights=rows, biases=_vector(biases, f"{where}.biases"),
                            activation=_choice(item["activation"], f"{where}.activation", ACTIVATIONS)))
    loss = _choice(data["loss"], "loss", LOSSES)
    if registry.loss(loss).output not in (None, layers[-1].activation):
        raise SpecError(_("loss bce needs a sigmoid output layer; %(where)s is %(activation)s",
                          where=f"layers[{len(layers) - 1}].activation", activation=layers[-1].activation))
    update_biases = data.get("update_biases", True)
    if not isinstance(update_biases, bool):
        raise SpecError(_("update_biases must be true or false, got %(value)s", value=json_repr(update_biases)))
    lr = _learning_rate(data["learning_rate"])
    samples = _samples(data["samples"], layers[0].n_inputs, layers[-1].n_outputs, MAX_ROUNDS)
    if registry.loss(loss).targets_in_unit:
        for k, sample in enumerate(samples):
            for j, y in enumerate(sample.y):
                if not 0 <= y <= 1:
                    raise SpecError(_("%(where)s is %(value)s; with loss bce every target must be between "
                                      "0 and 1", where=f"samples[{k}].y[{j}]", value=str(y)))
    return Spec(layers=tuple(layers), learning_rate=lr, samples=samples, loss=loss,
                update_biases=update_biases)
