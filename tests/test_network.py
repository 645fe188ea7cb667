"""The numpy engine: Homework 4.1 as graph.py computes it, an independent implementation on random
networks of every activation and loss, finite differences, and batches equal to single passes."""

from __future__ import annotations

import dataclasses
import json
import math
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grading.engine import answer_key, cell_names, parse_spec, registry, single_layer_cell, w_name
from grading.engine.network import (QUANTITIES, Batch, architecture, quantities, stack, train,
                                    train_one)
from tests.test_engine import TYPOS, printed_cells

ROOT = Path(__file__).resolve().parent.parent
ACTIVATIONS = registry.ACTIVATIONS  # the expected values still come from act()/act_slope() below
SQUARED = ("half_sse", "sse", "mse")
# Activations registered after the first four come last: a random network's seed is its position
# in this list (tests/test_graph_layers.py), so the networks drawn before keep theirs.
ADDED_LATER = ("leaky_relu",)
COMBINATIONS = [(a, loss) for a in ACTIVATIONS if a not in ADDED_LATER for loss in SQUARED] + [("sigmoid", "bce")] \
    + [(a, loss) for a in ACTIVATIONS if a in ADDED_LATER for loss in SQUARED]


def hw() -> Any:
    return parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))


# ---------------------------------------------------------------- Homework 4.1 through both engines


def graph_cell_ids(n: int, m: int) -> dict[str, tuple[str, str, int | None, tuple[int, ...]]]:
    """graph.py's cell names of one round -> (column, quantity, layer, index), built from indices."""
    ins, outs = range(1, n + 1), range(1, m + 1)
    ids: dict[tuple[str, str], tuple[str, str, int | None, tuple[int, ...]]] = {}
    for i in ins:
        ids[("parameters", f"x{i}")] = ("parameters", "x", None, (i,))
    for j in outs:
        ids[("parameters", f"y{j}")] = ("parameters", "y", None, (j,))
        for column in ("parameters", "updated"):
            ids[(column, f"b{j}")] = (column, "b", 1, (j,))
        ids[("forward", f"s{j}")] = ("forward", "s", 1, (j,))
        ids[("forward", f"f{j}")] = ("forward", "f", 1, (j,))
        ids[("forward", f"y{j}-f{j}")] = ("forward", "y-f", None, (j,))
        ids[("forward", f"(y{j}-f{j})^2")] = ("forward", "(y-f)^2", None, (j,))
        for q in ("dL/df", "dL/ds", "dL/db"):
            ids[("backward", f"{q}{j}")] = ("backward", q, 1, (j,))
        for i in ins:
            for column in ("parameters", "updated"):
                ids[(column, w_name(i, j))] = (column, "w", 1, (i, j))
            ids[("backward", f"dL/d{w_name(i, j)}")] = ("backward", "dL/dw", 1, (i, j))
    ids[("forward", "L")] = ("forward", "L", None, ())
    return ids


def test_homework_equals_the_graph_engine_on_every_cell() -> None:
    """Every cell of Homework 4.1's four rounds equals graph.py's key to 1e-12."""
    spec = hw()
    key, trace = answer_key(spec), train_one(spec)
    ids = graph_cell_ids(2, 2)
    names = cell_names(2, 2)
    assert set(ids) == {(c, name) for c in names for name in names[c]}  # every cell is mapped
    assert len(key.values) == 4 * len(ids)
    for k, expected in key.values.items():
        column, quantity, layer, index = ids[(k.column, key.graph[k].name)]
        got = trace.value(k.round, column, quantity, layer, index)
        assert got == pytest.approx(expected, abs=1e-12, rel=0), k


def test_homework_matches_printed_values() -> None:
    """The new engine reproduces the homework's printed tables within the band, but its typos."""
    trace, ids = train_one(hw()), graph_cell_ids(2, 2)
    printed = printed_cells()
    names = answer_key(hw()).graph
    for k, v in printed.items():
        column, quantity, layer, index = ids[(k.column, names[k].name)]
        got = trace.value(k.round, column, quantity, layer, index)
        if k in TYPOS:
            assert abs(got - v) > 0.51e-4 and round(got, 6) == TYPOS[k], k
        else:
            assert abs(got - v) < 0.51e-4, f"{k}: printed {v}, engine {got}"
    # A few printed numbers spelled out (Homework 4.1's round 1 table).
    assert round(trace.value(1, "forward", "s", 1, (1,)), 4) == 0.4600
    assert round(trace.value(1, "forward", "L"), 6) == round(printed[single_layer_cell(1, "forward", "L")], 6)
    assert trace.value(4, "parameters", "w", 1, (2, 2)) == trace.value(3, "updated", "w", 1, (2, 2))


# ---------------------------------------------------------------- an independent implementation


def act(name: str, s: float) -> float:
    if name == "sigmoid":
        return 1 / (1 + math.exp(-s))
    if name == "tanh":
        return math.tanh(s)
    if name == "relu":
        return s if s > 0 else 0.0
    if name == "leaky_relu":
        return s if s > 0 else 0.01 * s
    if name != "linear":
        raise KeyError(name)  # an activation this implementation has not been taught
    return s


def act_slope(name: str, s: float) -> float:
    """The derivative written from s alone (the engine writes sigmoid's and tanh's through f)."""
    if name == "sigmoid":
        e = math.exp(-s)
        return e / (1 + e) ** 2
    if name == "tanh":
        return 1 / math.cosh(s) ** 2
    if name == "relu":
        return 1.0 if s > 0 else 0.0
    if name == "leaky_relu":
        return 1.0 if s > 0 else 0.01
    if name != "linear":
        raise KeyError(name)
    return 1.0


def forward(layers: list[dict], x: list[float]) -> tuple[list[list[float]], list[list[float]]]:
    """(s per layer, outputs per layer with the inputs first), with plain loops."""
    ss, fs = [], [list(x)]
    for layer in layers:
        below, W, b = fs[-1], layer["weights"], layer["biases"]
        s = [sum(below[i] * W[i][j] for i in range(len(below))) + b[j] for j in range(len(b))]
        ss.append(s)
        fs.append([act(layer["activation"], v) for v in s])
    return ss, fs


def loss_of(loss: str, y: list[float], f: list[float]) -> float:
    if loss == "bce":
        return -sum(yj * math.log(fj) + (1 - yj) * math.log(1 - fj) for yj, fj in zip(y, f))
    total = sum((yj - fj) ** 2 for yj, fj in zip(y, f))
    return {"half_sse": total / 2, "sse": total, "mse": total / len(y)}[loss]


def loss_slope(loss: str, y: list[float], f: list[float]) -> list[float]:
    if loss == "bce":
        return [-(yj / fj) + (1 - yj) / (1 - fj) for yj, fj in zip(y, f)]
    scale = {"half_sse": 1.0, "sse": 2.0, "mse": 2.0 / len(y)}[loss]
    return [scale * (fj - yj) for yj, fj in zip(y, f)]


def reference(data: dict) -> list[dict[tuple, float]]:
    """Every cell of every round, keyed (column, quantity, layer, index), by plain SGD in loops."""
    layers = [{"weights": [row[:] for row in layer["weights"]], "biases": layer["biases"][:],
               "activation": layer["activation"]} for layer in data["layers"]]
    lr, loss, update_b = data["learning_rate"], data["loss"], data.get("update_biases", True)
    rounds = []
    for sample in data["samples"]:
        x, y = sample["x"], sample["y"]
        cells: dict[tuple, float] = {}
        cells.update({("parameters", "x", None, (i + 1,)): v for i, v in enumerate(x)})
        cells.update({("parameters", "y", None, (j + 1,)): v for j, v in enumerate(y)})
        ss, fs = forward(layers, x)
        out = fs[-1]
        for l, layer in enumerate(layers, start=1):
            for i, row in enumerate(layer["weights"]):
                cells.update({("parameters", "w", l, (i + 1, j + 1)): v for j, v in enumerate(row)})
            cells.update({("parameters", "b", l, (j + 1,)): v for j, v in enumerate(layer["biases"])})
            cells.update({("forward", "s", l, (j + 1,)): v for j, v in enumerate(ss[l - 1])})
            cells.update({("forward", "f", l, (j + 1,)): v for j, v in enumerate(fs[l])})
        for j, (yj, fj) in enumerate(zip(y, out)):
            cells[("forward", "y-f", None, (j + 1,))] = yj - fj
            if loss != "bce":
                cells[("forward", "(y-f)^2", None, (j + 1,))] = (yj - fj) ** 2
        cells[("forward", "L", None, ())] = loss_of(loss, y, out)
        g = loss_slope(loss, y, out)  # dL/df of the layer being walked, top down
        grads = []
        for l in range(len(layers), 0, -1):
            layer = layers[l - 1]
            ds = [g[j] * act_slope(layer["activation"], ss[l - 1][j]) for j in range(len(g))]
            dw = [[fs[l - 1][i] * ds[j] for j in range(len(ds))] for i in range(len(fs[l - 1]))]
            for j in range(len(ds)):
                cells[("backward", "dL/df", l, (j + 1,))] = g[j]
                cells[("backward", "dL/ds", l, (j + 1,))] = ds[j]
                cells[("backward", "dL/db", l, (j + 1,))] = ds[j]
                for i in range(len(dw)):
                    cells[("backward", "dL/dw", l, (i + 1, j + 1))] = dw[i][j]
            grads.append((l, dw, ds))
            # Sum over every unit of this layer, through the weights of the round's start.
            g = [sum(layer["weights"][i][j] * ds[j] for j in range(len(ds))) for i in range(len(dw))]
        for l, dw, ds in grads:
            layer = layers[l - 1]
            for i, row in enumerate(layer["weights"]):
                for j in range(len(row)):
                    row[j] -= lr * dw[i][j]
                    cells[("updated", "w", l, (i + 1, j + 1))] = row[j]
            for j in range(len(layer["biases"])):
                if update_b:
                    layer["biases"][j] -= lr * ds[j]
                cells[("updated", "b", l, (j + 1,))] = layer["biases"][j]
        rounds.append(cells)
    return rounds


def random_network(seed: int, *, activation: str | None = None, loss: str | None = None,
                   n_layers: int | None = None, sizes: list[int] | None = None,
                   update_biases: bool | None = None, rounds: int | None = None) -> dict:
    """A random spec in the layers form (JSON), drawn from ``seed``."""
    rng = random.Random(seed)
    if sizes is None:
        n_layers = n_layers or rng.randint(1, 4)
        sizes = [rng.choice([1, 2, 2, 3, 4, 9]) for _ in range(n_layers + 1)]
    loss = loss or rng.choice(SQUARED + ("bce",))
    acts = [activation or rng.choice(ACTIVATIONS) for _ in range(len(sizes) - 1)]
    if loss == "bce":
        acts[-1] = "sigmoid"
    return {
        "layers": [{"weights": [[rng.uniform(-1, 1) for _ in range(sizes[l + 1])] for _ in range(sizes[l])],
                    "biases": [rng.uniform(-1, 1) for _ in range(sizes[l + 1])], "activation": acts[l]}
                   for l in range(len(sizes) - 1)],
        "loss": loss,
        "learning_rate": rng.choice([0.05, 0.1, 0.5, 1]),
        "update_biases": rng.random() < 0.7 if update_biases is None else update_biases,
        "samples": [{"x": [rng.uniform(-1, 1) for _ in range(sizes[0])],
                     "y": [rng.choice([0.0, 1.0, rng.random()]) for _ in range(sizes[-1])]}
                    for _ in range(rounds or rng.randint(1, 4))],
    }


def assert_matches_reference(data: dict) -> None:
    trace = train_one(parse_spec(data))
    for r, cells in enumerate(reference(data), start=1):
        for (column, quantity, layer, index), expected in cells.items():
            assert math.isfinite(expected)
            got = trace.value(r, column, quantity, layer, index)
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12), (r, column, quantity, layer, index)
        # And nothing more: the trace has exactly the reference's cells.
        count = sum(np.prod(trace.array(q.column, q.name, layer).shape[2:], dtype=int)
                    for q in quantities(data["loss"])
                    for layer in (range(1, len(data["layers"]) + 1) if q.per_layer else [None]))
        assert count == len(cells)


@pytest.mark.parametrize(("activation", "loss"), COMBINATIONS)
@pytest.mark.parametrize("seed", range(4))
def test_matches_an_independent_implementation(activation: str, loss: str, seed: int) -> None:
    """Every cell of random 1-4 layer networks of one activation and loss equals plain loops."""
    data = random_network(seed * 31 + len(activation) + len(loss), activation=activation, loss=loss,
                          update_biases=seed % 2 == 0)
    assert_matches_reference(data)


@pytest.mark.parametrize("seed", range(12))
def test_mixed_activations_match_the_independent_implementation(seed: int) -> None:
    """Networks mixing activations per layer, any loss, also equal the plain loops."""
    assert_matches_reference(random_network(1000 + seed))


def test_update_biases_false_keeps_every_bias() -> None:
    """With update_biases false every round's b (given and updated) is the initial one."""
    data = random_network(5, sizes=[2, 3, 2], activation="tanh", loss="mse", update_biases=False,
                          rounds=4)
    trace = train_one(parse_spec(data))
    for l, layer in enumerate(data["layers"], start=1):
        for column in ("parameters", "updated"):
            assert np.array_equal(trace.array(column, "b", l)[0], np.tile(layer["biases"], (4, 1)))
        assert not np.array_equal(trace.array("updated", "w", l)[0, 0], np.array(layer["weights"]))


def test_hidden_gradients_use_the_weights_before_the_update() -> None:
    """A hidden dL/df is Σ_k w_jk dL/ds_k with the round's starting w, not the updated one."""
    trace = train_one(parse_spec(random_network(8, sizes=[2, 3, 2], activation="sigmoid",
                                                loss="half_sse", rounds=2)))
    for r in (1, 2):
        w2, ds2 = trace.array("parameters", "w", 2)[0, r - 1], trace.array("backward", "dL/ds", 2)[0, r - 1]
        updated = trace.array("updated", "w", 2)[0, r - 1]
        hidden = trace.array("backward", "dL/df", 1)[0, r - 1]
        for j in range(3):
            assert hidden[j] == pytest.approx(sum(w2[j, k] * ds2[k] for k in range(2)), rel=1e-12)
            assert hidden[j] != pytest.approx(sum(updated[j, k] * ds2[k] for k in range(2)), rel=1e-6)


def test_bce_cells() -> None:
    """For bce, dL/df is -(y/f) + (1-y)/(1-f), dL/ds is f - y, and there is no (y-f)^2."""
    data = random_network(3, sizes=[2, 2, 3], loss="bce", rounds=2)
    trace = train_one(parse_spec(data))
    f, y = trace.array("forward", "f", 2)[0], trace.y[0]
    assert np.allclose(trace.array("backward", "dL/df", 2)[0], -(y / f) + (1 - y) / (1 - f), rtol=1e-12)
    assert np.allclose(trace.array("backward", "dL/ds", 2)[0], f - y, rtol=1e-12, atol=1e-15)
    assert trace.squared is None and ("forward", "(y-f)^2") not in {(q.column, q.name) for q in quantities("bce")}
    with pytest.raises(ValueError, match=r"no quantity '\(y-f\)\^2'"):
        trace.array("forward", "(y-f)^2")


# ---------------------------------------------------------------- finite differences


def round_loss(data: dict, sample: dict, weights: list, biases: list) -> float:
    layers = [{**layer, "weights": w, "biases": b} for layer, w, b in zip(data["layers"], weights, biases)]
    _, fs = forward(layers, sample["x"])
    return loss_of(data["loss"], sample["y"], fs[-1])


def relu_away_from_zero(data: dict, trace: Any, margin: float = 1e-3) -> bool:
    return all(abs(v) > margin for l, layer in enumerate(data["layers"], start=1)
               if layer["activation"] in ("relu", "leaky_relu") for v in trace.array("forward", "s", l).ravel())


@pytest.mark.parametrize(("activation", "loss"), COMBINATIONS)
@pytest.mark.parametrize("n_layers", [1, 2, 3, 4])
def test_gradients_match_central_differences(activation: str, loss: str, n_layers: int) -> None:
    """dL/dw and dL/db of every layer and round agree with central differences of the round's loss."""
    seed = 0
    while True:  # relu has a kink at 0: take a network whose every relu input stays clear of it
        data = random_network(500 + 7 * seed + n_layers, activation=activation, loss=loss,
                              n_layers=n_layers, rounds=2)
        trace = train_one(parse_spec(data))
        if relu_away_from_zero(data, trace):
            break
        seed += 1
    h = 1e-6
    for r, sample in enumerate(data["samples"], start=1):
        W = [trace.array("parameters", "w", l)[0, r - 1].tolist() for l in range(1, n_layers + 1)]
        B = [trace.array("parameters", "b", l)[0, r - 1].tolist() for l in range(1, n_layers + 1)]
        assert round_loss(data, sample, W, B) == pytest.approx(trace.value(r, "forward", "L"), rel=1e-10)
        for l in range(n_layers):
            for i in range(len(W[l])):
                for j in range(len(W[l][i])):
                    up, down = json.loads(json.dumps(W)), json.loads(json.dumps(W))
                    up[l][i][j] += h
                    down[l][i][j] -= h
                    fd = (round_loss(data, sample, up, B) - round_loss(data, sample, down, B)) / (2 * h)
                    got = trace.value(r, "backward", "dL/dw", l + 1, (i + 1, j + 1))
                    assert got == pytest.approx(fd, rel=1e-5, abs=1e-8), (r, l + 1, i + 1, j + 1)
            for j in range(len(B[l])):
                up, down = json.loads(json.dumps(B)), json.loads(json.dumps(B))
                up[l][j] += h
                down[l][j] -= h
                fd = (round_loss(data, sample, W, up) - round_loss(data, sample, W, down)) / (2 * h)
                got = trace.value(r, "backward", "dL/db", l + 1, (j + 1,))
                assert got == pytest.approx(fd, rel=1e-5, abs=1e-8), (r, l + 1, j + 1)


# ---------------------------------------------------------------- batches


def variants(n: int, sizes: list[int], **fixed: Any) -> list:
    """n specs of one architecture with different numbers (learning rates too)."""
    specs = []
    for k in range(n):
        data = random_network(2000 + k, sizes=sizes, **fixed)
        specs.append(parse_spec(data))
    return specs


@pytest.mark.parametrize(("sizes", "fixed"), [
    ([2, 2], {"activation": "sigmoid", "loss": "half_sse", "update_biases": True, "rounds": 4}),
    ([3, 4, 2, 2], {"activation": "tanh", "loss": "bce", "update_biases": False, "rounds": 3}),
    ([2, 3, 3, 2, 1], {"activation": "relu", "loss": "mse", "update_biases": True, "rounds": 2}),
])
def test_a_batch_equals_separate_passes(sizes: list[int], fixed: dict) -> None:
    """One vectorised pass over P problems gives each problem's single pass, array for array."""
    specs = variants(17, sizes, **fixed)
    assert len({s.learning_rate for s in specs}) > 1
    together = train(stack(specs))
    for p, spec in enumerate(specs):
        alone = train_one(spec)
        for q in quantities(spec.loss):
            for layer in (range(1, spec.n_layers + 1) if q.per_layer else [None]):
                a, b = together.array(q.column, q.name, layer)[p], alone.array(q.column, q.name, layer)[0]
                np.testing.assert_allclose(a, b, rtol=1e-14, atol=1e-15, err_msg=f"{p} {q} {layer}")


def test_stack_refuses_mixed_architectures() -> None:
    """Specs of different sizes, activations, losses, bias rules or rounds cannot share a batch."""
    base = random_network(1, sizes=[2, 2], activation="tanh", loss="sse", update_biases=True, rounds=2)
    changes = [
        {"loss": "mse"}, {"update_biases": False}, {"samples": base["samples"][:1]},
        {"layers": [{**base["layers"][0], "activation": "relu"}]},
        {"layers": [{**base["layers"][0], "weights": [[0.1, 0.2]] * 3}],
         "samples": [{"x": [0.1] * 3, "y": s["y"]} for s in base["samples"]]},
    ]
    for change in changes:
        with pytest.raises(ValueError, match=r"specs\[1\] has architecture"):
            stack([parse_spec(base), parse_spec({**base, **change})])
    with pytest.raises(ValueError, match="at least one spec"):
        stack([])


def test_batch_checks_its_shapes() -> None:
    """A batch built by hand with a wrongly shaped array is refused."""
    batch = stack(variants(3, [2, 2], activation="tanh", loss="sse", update_biases=True, rounds=2))
    with pytest.raises(ValueError, match=r"shape \(3, 2, 3\) where \(3, 2, 2\)"):
        dataclasses.replace(batch, x=np.zeros((3, 2, 3)))
    with pytest.raises(ValueError, match=r"shape \(3, 1\) where \(3,\)"):
        dataclasses.replace(batch, learning_rate=np.ones((3, 1)))
    with pytest.raises(ValueError, match="sigmoid output"):
        dataclasses.replace(batch, architecture=dataclasses.replace(
            batch.architecture, loss="bce", activations=("tanh",)))
    assert isinstance(batch, Batch) and architecture(parse_spec(random_network(1, sizes=[2, 2]))).sizes == (2, 2)


def test_trace_array_checks_layers() -> None:
    """A per-layer quantity needs a layer 1..L; x, y, y-f and L take none."""
    trace = train_one(hw())
    with pytest.raises(ValueError, match="needs a layer from 1 to 1"):
        trace.array("forward", "s", 2)
    with pytest.raises(ValueError, match="needs a layer"):
        trace.array("backward", "dL/dw")
    with pytest.raises(ValueError, match="belongs to no layer"):
        trace.array("forward", "L", 1)
    assert [(q.column, q.name) for q in QUANTITIES][:4] == [
        ("parameters", "x"), ("parameters", "y"), ("parameters", "w"), ("parameters", "b")]
    assert trace.array("forward", "L").shape == (1, 4)
    assert trace.array("backward", "dL/dw", 1).shape == (1, 4, 2, 2)
