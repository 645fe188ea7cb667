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
from grading.engine.registry import LOSSES, OPTIMIZERS, OUTPUT_ACTIVATIONS
from grading.engine.text import Text, _
MAX_LAYERS = 4
MAX_UNITS = 9
MAX_ROUNDS = 12   # samples of a spec in the layers form
MAX_SAMPLES = 50  # samples of a spec in the single-layer form: its limit before layers existed
MAX_MAGNITUDE = 1e6
MAX_BATCH = 8            # samples a round feeds at once
MAX_BATCH_SAMPLES = 48   # samples of a spec whose rounds feed several (rounds stay <= MAX_ROUNDS)
REDUCTIONS = ("mean", "sum")

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
class OptimizerSetting:
    """An update rule and its settings: ``kind`` names a ``registry.optimizer``, ``settings`` its
    (name, value) pairs in the record's order (defaults filled in)."""

    kind: str = "sgd"
    settings: tuple[tuple[str, float], ...] = ()

    def __getitem__(self, name: str) -> float:
        return dict(self.settings)[name]

    @property
    def state(self) -> tuple[str, ...]:
        return registry.optimizer(self.kind).state

    @property
    def cells(self) -> tuple[str, ...]:
        return registry.optimizer(self.kind).cells

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **dict(self.settings)}


SGD = OptimizerSetting()


@dataclass(frozen=True)
class Spec:
    """A dense network, its initial parameters, its loss and its training samples (one a round)."""

    layers: tuple[Layer, ...]
    learning_rate: float
    samples: tuple[Sample, ...]
    loss: str = "half_sse"
    update_biases: bool = True
    batch: int = 1                 # samples a round feeds, all at the weights the round started with
    reduce: str = "mean"           # how a round's per-sample gradients combine: "mean" or "sum"
    optimizer: OptimizerSetting = SGD

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
                and self.loss == "half_sse" and self.update_biases and self.plain)

    @property
    def plain(self) -> bool:
        """One sample a round and plain SGD: what every spec meant before batches and optimizers."""
        return self.batch == 1 and self.optimizer.kind == "sgd"

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
        return len(self.samples) // self.batch

    def sample_of(self, round_no: int, sample: int = 0) -> Sample:
        """The sample a round feeds (``sample`` its place in the round, 1..batch; 0 when a round
        feeds one)."""
        return self.samples[(round_no - 1) * self.batch + max(sample, 1) - 1]

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
        out: dict[str, Any] = {
            "layers": [{"weights": [list(row) for row in layer.weights],
                        "biases": list(layer.biases), "activation": layer.activation}
                       for layer in self.layers],
            "loss": self.loss,
            "learning_rate": self.learning_rate,
            "update_biases": self.update_biases,
        }
        # Written only where they say something: a spec of one sample a round and plain SGD
        # keeps the JSON it always had.
        if self.batch != 1:
            out["batch"], out["reduce"] = self.batch, self.reduce
        if self.optimizer.kind != "sgd":
            out["optimizer"] = self.optimizer.to_json()
        out["samples"] = samples
        return out


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
    _keys(data, THE_SPEC, _LAYERED_KEYS, ("update_biases", "batch", "reduce", "optimizer"),
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
                            activation=_choice(item["activation"], f"{where}.activation", OUTPUT_ACTIVATIONS)))
    last = f"layers[{len(layers) - 1}].activation"
    for l, layer in enumerate(layers[:-1]):
        if registry.activation(layer.activation).output_only:
            raise SpecError(_("%(where)s is %(activation)s; only the output layer may be %(activation)s",
                              where=f"layers[{l}].activation", activation=layer.activation))
    loss = _choice(data["loss"], "loss", LOSSES)
    needed = registry.loss(loss).output
    if needed not in (None, layers[-1].activation):
        raise SpecError(_("loss %(loss)s needs a %(needed)s output layer; %(where)s is %(activation)s",
                          loss=loss, needed=needed, where=last, activation=layers[-1].activation))
    if registry.activation(layers[-1].activation).output_only:
        wanted = [name for name in LOSSES if registry.loss(name).output == layers[-1].activation]
        if loss not in wanted:
            raise SpecError(_("a %(activation)s output layer needs loss %(losses)s; loss is %(loss)s",
                              activation=layers[-1].activation, losses=" or ".join(wanted), loss=loss))
        if layers[-1].n_outputs < 2:
            raise SpecError(_("%(where)s is %(activation)s with one unit, whose output is always 1; "
                              "give it two units or more", where=last, activation=layers[-1].activation))
    update_biases = data.get("update_biases", True)
    if not isinstance(update_biases, bool):
        raise SpecError(_("update_biases must be true or false, got %(value)s", value=json_repr(update_biases)))
    lr = _learning_rate(data["learning_rate"])
    batch = _batch(data.get("batch", 1))
    reduce = _choice(data.get("reduce", "mean"), "reduce", REDUCTIONS)
    optimizer = _optimizer(data.get("optimizer", {"kind": "sgd"}))
    limit = MAX_ROUNDS if batch == 1 else min(MAX_BATCH_SAMPLES, MAX_ROUNDS * batch)
    samples = _samples(data["samples"], layers[0].n_inputs, layers[-1].n_outputs, limit)
    if len(samples) % batch:
        raise SpecError(_("samples has %(n)s samples, not a multiple of batch %(batch)s: every round "
                          "feeds %(batch)s", n=len(samples), batch=batch))
    if registry.loss(loss).targets_in_unit:
        for k, sample in enumerate(samples):
            for j, y in enumerate(sample.y):
                if not 0 <= y <= 1:
                    raise SpecError(_("%(where)s is %(value)s; with loss %(loss)s every target must be "
                                      "between 0 and 1", where=f"samples[{k}].y[{j}]", value=str(y), loss=loss))
    if registry.loss(loss).targets_sum_to_one:
        for k, sample in enumerate(samples):
            if abs(math.fsum(sample.y) - 1) > 1e-9:
                raise SpecError(_("%(where)s sums to %(total)s; with loss %(loss)s a sample's targets "
                                  "must sum to 1 (one-hot or soft targets)", where=f"samples[{k}].y",
                                  total=repr(math.fsum(sample.y)), loss=loss))
    return Spec(layers=tuple(layers), learning_rate=lr, samples=samples, loss=loss,
                update_biases=update_biases, batch=batch, reduce=reduce, optimizer=optimizer)


def _batch(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BATCH:
        raise SpecError(_("batch must be a whole number from 1 to %(limit)s (samples a round feeds), "
                          "got %(value)s", limit=MAX_BATCH, value=json_repr(value)))
    return value


def _optimizer(value: Any) -> OptimizerSetting:
    if not isinstance(value, dict) or "kind" not in value:
        raise SpecError(_('optimizer must be an object with a kind, e.g. {"kind": "momentum", "beta": 0.9}; '
                          'got %(value)s', value=json_repr(value)))
    kind = _choice(value["kind"], "optimizer.kind", OPTIMIZERS)
    record = registry.optimizer(kind)
    _keys(value, "optimizer", ("kind",), tuple(p.name for p in record.parameters))
    settings = []
    for p in record.parameters:
        where = f"optimizer.{p.name}"
        v = _number(value.get(p.name, p.default), where)
        if v < p.low or (p.low_open and v == p.low) or v >= p.high:
            raise SpecError(_("%(where)s is %(value)s; it must be %(range)s", where=where, value=repr(v),
                              range=p.words))
        settings.append((p.name, v))
    return OptimizerSetting(kind, tuple(settings))
