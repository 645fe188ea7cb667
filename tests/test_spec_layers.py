"""Spec parsing of both forms: the single-layer form unchanged, the layers form and its bounds."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from grading.engine import SpecError, parse_spec
from grading.engine.spec import Layer, Sample, Spec

ROOT = Path(__file__).resolve().parent.parent
HW_FILE = ROOT / "grading" / "specs" / "homework-4.1.json"


def layered() -> dict[str, Any]:
    """A valid 2-3-1 network in the layers form."""
    return {
        "layers": [
            {"weights": [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]], "biases": [0.1, 0.2, 0.3], "activation": "tanh"},
            {"weights": [[0.7], [0.8], [0.9]], "biases": [0.5], "activation": "sigmoid"},
        ],
        "loss": "bce", "learning_rate": 0.5, "update_biases": False,
        "samples": [{"x": [0.4, 0.8], "y": [1]}, {"x": [0.1, 0.2], "y": [0]}],
    }


def test_homework_file_to_json_is_the_file() -> None:
    """Homework 4.1's spec gives back exactly its file's JSON, key order and all, as before layers."""
    data = json.loads(HW_FILE.read_text())
    spec = parse_spec(data)
    assert spec.to_json() == data
    assert list(spec.to_json()) == ["weights", "biases", "learning_rate", "samples"]
    # The serialised text is what the single-layer Spec wrote before layers existed (numbers as floats).
    assert json.dumps(spec.to_json()) == (
        '{"weights": [[0.2, 0.3], [0.1, 0.5]], "biases": [0.3, 0.4], "learning_rate": 1.0, '
        '"samples": [{"x": [0.4, 0.8], "y": [1.0, 0.0]}, {"x": [0.5, 0.7], "y": [1.0, 0.0]}, '
        '{"x": [0.1, 0.3], "y": [0.0, 1.0]}, {"x": [0.2, 0.4], "y": [0.0, 1.0]}]}')


def test_single_layer_form_means_one_sigmoid_layer() -> None:
    """The single-layer form is one sigmoid layer, half-SSE, biases updated, with the old properties."""
    spec = parse_spec(json.loads(HW_FILE.read_text()))
    assert spec.layers == (Layer(weights=((0.2, 0.3), (0.1, 0.5)), biases=(0.3, 0.4), activation="sigmoid"),)
    assert (spec.loss, spec.update_biases, spec.classic) == ("half_sse", True, True)
    assert spec.weights == ((0.2, 0.3), (0.1, 0.5)) and spec.biases == (0.3, 0.4)
    assert (spec.n_inputs, spec.n_outputs, spec.n_rounds, spec.n_layers) == (2, 2, 4, 1)
    assert spec.sizes == (2, 2) and spec.learning_rate == 1.0
    assert spec.samples[0] == Sample(x=(0.4, 0.8), y=(1.0, 0.0))
    assert spec == Spec.single_layer(weights=[[0.2, 0.3], [0.1, 0.5]], biases=[0.3, 0.4],
                                     learning_rate=1, samples=spec.samples)


def test_same_network_in_the_layers_form_is_the_same_spec() -> None:
    """Homework 4.1 written in the layers form is equal to it and serialises in the old form."""
    data = json.loads(HW_FILE.read_text())
    as_layers = {"layers": [{"weights": data["weights"], "biases": data["biases"], "activation": "sigmoid"}],
                 "loss": "half_sse", "learning_rate": 1, "samples": data["samples"]}
    spec = parse_spec(as_layers)
    assert spec == parse_spec(data) and hash(spec) == hash(parse_spec(data))
    assert spec.to_json() == data


def test_layered_form_parses() -> None:
    """The layers form gives the layers, sizes, loss and bias rule it says."""
    spec = parse_spec(layered())
    assert spec.sizes == (2, 3, 1) and spec.n_layers == 2
    assert [layer.activation for layer in spec.layers] == ["tanh", "sigmoid"]
    assert spec.layers[1].weights == ((0.7,), (0.8,), (0.9,))
    assert (spec.loss, spec.update_biases, spec.learning_rate, spec.classic) == ("bce", False, 0.5, False)
    assert (spec.n_inputs, spec.n_outputs, spec.n_rounds) == (2, 1, 2)


def test_layered_round_trip_and_default_update_biases() -> None:
    """The layers form round-trips; update_biases defaults to true and is written out."""
    data = layered()
    spec = parse_spec(data)
    assert parse_spec(spec.to_json()) == spec
    assert spec.to_json()["layers"][0]["activation"] == "tanh"
    del data["update_biases"]
    again = parse_spec(data)
    assert again.update_biases is True and again.to_json()["update_biases"] is True


def test_single_layer_properties_refuse_a_deeper_network() -> None:
    """weights and biases of a 2-layer spec raise instead of handing out layer 1 silently."""
    spec = parse_spec(layered())
    for name in ("weights", "biases"):
        with pytest.raises(ValueError, match="only defined for a single-layer spec; this one has 2 layers"):
            getattr(spec, name)


def _change(path: str, value: Any) -> Any:
    """A change that sets one key of the layered spec (dotted path, list indices as numbers)."""
    def apply(data: dict) -> dict:
        data = copy.deepcopy(data)
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        node = data
        for key in parents:
            node = node[key]
        if value is _DELETE:
            del node[last]
        else:
            node[last] = value
        return data
    return apply


_DELETE = object()
UNIT = {"weights": [[0.1]], "biases": [0.1], "activation": "sigmoid"}


@pytest.mark.parametrize(("change", "says"), [
    (_change("loss", _DELETE), "the spec is missing loss"),
    (_change("learning_rate", _DELETE), "the spec is missing learning_rate"),
    (_change("weights", [[1]]), "the spec has unknown keys: weights (with layers, each layer holds"),
    (_change("momentum", 0.9), "unknown keys: momentum"),
    (_change("layers", []), "layers must be a non-empty list of layers"),
    (_change("layers", {"weights": []}), "layers must be a non-empty list"),
    (_change("layers", [UNIT] * 5), "layers has 5 layers; at most 4 are supported"),
    (_change("layers.0", [1, 2]), "layers[0] must be an object with the keys weights, biases and activation"),
    (_change("layers.1.activation", _DELETE), "layers[1] is missing activation"),
    (_change("layers.1.dropout", 0.5), "layers[1] has unknown keys: dropout"),
    (_change("layers.0.activation", "softmax"), "layers[0].activation is softmax; only the output layer may be softmax"),
    (_change("layers.0.activation", "swish"), "layers[0].activation must be one of sigmoid, tanh, relu, leaky_relu, linear, softmax; got 'swish'"),
    (_change("layers.0.activation", ["tanh"]), "layers[0].activation must be one of"),
    (_change("layers.0.weights", []), "layers[0].weights must be a non-empty list of rows"),
    (_change("layers.0.weights", [[0.1, 0.2, 0.3]] * 10), "layers[0].weights has 10 rows (units below); at most 9"),
    (_change("layers.0.biases", [0.1] * 10), "layers[0].biases has 10 values (units); at most 9 are supported"),
    (_change("layers.0.weights.1", [0.4, 0.5]), "layers[0].weights[1] has 2 values; expected 3"),
    (_change("layers.1.weights", [[0.7], [0.8]]), "layers[1].weights has 2 rows; expected 3, one per unit of layers[0]"),
    (_change("layers.1.weights.2", [0.9, 1.0]), "layers[1].weights[2] has 2 values; expected 1"),
    (_change("layers.1.weights.2.0", "0.9"), "layers[1].weights[2][0] must be a number, got '0.9'"),
    (_change("layers.1.weights.2.0", True), "layers[1].weights[2][0] must be a number, got True"),
    (_change("layers.0.biases.1", float("inf")), "layers[0].biases[1] must be a finite number"),
    (_change("layers.0.biases.1", -2e6), "layers[0].biases[1] is -2000000.0; keep values within ±1e6"),
    (_change("loss", "hinge"), "loss must be one of half_sse, sse, mse, bce, ce; got 'hinge'"),
    (_change("layers.1.activation", "tanh"), "loss bce needs a sigmoid output layer; layers[1].activation is tanh"),
    (_change("update_biases", "no"), "update_biases must be true or false, got 'no'"),
    (_change("update_biases", 0), "update_biases must be true or false, got 0"),
    (_change("learning_rate", -0.1), "learning_rate must be positive"),
    (_change("samples", []), "samples must be a non-empty list"),
    (_change("samples", [{"x": [0.1, 0.2], "y": [1]}] * 13), "samples has 13 samples; at most 12 are supported"),
    (_change("samples.1", {"x": [0.1, 0.2]}), "samples[1] must be an object with exactly the keys x and y"),
    (_change("samples.1.x", [0.1]), "samples[1].x has 1 values; expected 2"),
    (_change("samples.1.y", [0, 1]), "samples[1].y has 2 values; expected 1"),
    (_change("samples.1.y", [1.5]), "samples[1].y[0] is 1.5; with loss bce every target must be between 0 and 1"),
])
def test_layered_spec_errors(change: Any, says: str) -> None:
    """A bad spec in the layers form raises SpecError saying where and what."""
    with pytest.raises(SpecError) as err:
        parse_spec(change(layered()))
    assert says in str(err.value)


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: {**s, "loss": "sse"}, "unknown keys: loss (loss, update_biases and activations are written in the layers form)"),
    (lambda s: {**s, "samples": s["samples"] * 13}, None),  # 52 samples: over the old form's limit of 50
    (lambda s: {**s, "samples": s["samples"] * 12 + s["samples"][:2]}, "ok"),  # 50: still accepted
    (lambda s: 3, "must be a JSON object with weights, biases, learning_rate and samples (one sigmoid layer), or with layers"),
])
def test_single_layer_form_keeps_its_limits(change: Any, says: str | None) -> None:
    """The single-layer form keeps its own limit of 50 samples; layer options need the layers form."""
    data = change(json.loads(HW_FILE.read_text()))
    if says == "ok":
        assert parse_spec(data).n_rounds == 50
        return
    with pytest.raises(SpecError) as err:
        parse_spec(data)
    assert (says or "samples has 52 samples; at most 50 are supported") in str(err.value)


@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
@pytest.mark.parametrize("units", [1, 9])
def test_bounds_are_inclusive(n_layers: int, units: int) -> None:
    """1 to 4 layers of 1 to 9 units and 1 to 12 rounds are all accepted."""
    layers = [{"weights": [[0.1] * units for _ in range(units)], "biases": [0.0] * units, "activation": "relu"}
              for _ in range(n_layers)]
    for rounds in (1, 12):
        spec = parse_spec({"layers": layers, "loss": "mse", "learning_rate": 1e6,
                           "samples": [{"x": [1e6] * units, "y": [-1e6] * units}] * rounds})
        assert spec.sizes == (units,) * (n_layers + 1) and spec.n_rounds == rounds
