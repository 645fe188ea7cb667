"""Issue 20 in the engine: rounds of several samples (mean or sum), momentum, Adam, RMSProp and a
softmax output with cross-entropy. The key against a plain-Python reference written from the
issue (tests/refnet_train.py), every gradient cell against central differences, the graph's
one-step formulas against the key on numbers and on intervals, the spec's checks and the
``answerkey`` command."""

from __future__ import annotations

import copy
import json
import math
import random
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from grading.engine import CellId, answer_key, build_graph, parse_spec
from grading.engine.registry import ACTIVATIONS
from grading.engine.spec import SpecError
from grading.marking.intervals import Interval, recompute
from tests import refnet_train

OPTIMIZERS = [{"kind": "sgd"}, {"kind": "momentum", "beta": 0.9}, {"kind": "momentum", "beta": 0.5},
              {"kind": "adam"}, {"kind": "adam", "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
              {"kind": "rmsprop"}, {"kind": "rmsprop", "rho": 0.5, "eps": 1e-4}]


def training_spec(seed: int, *, optimizer: dict, batch: int, reduce: str = "mean", loss: str = "half_sse",
                  n_layers: int | None = None, rounds: int = 3, update_biases: bool = True) -> dict:
    """A random spec of the issue's kinds, drawn from ``seed``."""
    rng = random.Random(seed)
    n_layers = n_layers or rng.randint(1, 3)
    sizes = [rng.choice([1, 2, 3]) for _ in range(n_layers + 1)]
    acts = [rng.choice([a for a in ACTIVATIONS if a != "relu"]) for _ in range(n_layers)]
    if loss == "ce":
        sizes[-1] = max(sizes[-1], 2)
        acts[-1] = "softmax"
    elif loss == "bce":
        acts[-1] = "sigmoid"
    samples = []
    for _ in range(rounds * batch):
        x = [round(rng.uniform(-1, 1), 2) for _ in range(sizes[0])]
        if loss == "ce":
            if rng.random() < 0.5:
                y = [0.0] * sizes[-1]
                y[rng.randrange(sizes[-1])] = 1.0
            else:
                raw = [rng.randint(1, 5) for _ in range(sizes[-1])]
                y = [v / sum(raw) for v in raw]
                y[-1] = 1.0 - math.fsum(y[:-1])
        else:
            y = [round(rng.uniform(0.05, 0.95), 2) for _ in range(sizes[-1])]
        samples.append({"x": x, "y": y})
    spec = {
        "layers": [{"weights": [[round(rng.uniform(-1, 1), 2) for _ in range(sizes[l + 1])] for _ in range(sizes[l])],
                    "biases": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(sizes[l + 1])],
                    "activation": acts[l]} for l in range(n_layers)],
        "loss": loss, "learning_rate": round(rng.uniform(0.05, 0.8), 2), "update_biases": update_biases,
        "batch": batch, "reduce": reduce, "optimizer": optimizer, "samples": samples,
    }
    return spec


KINDS = [(opt, batch, reduce, loss) for opt in OPTIMIZERS for batch in (1, 3) for reduce in ("mean", "sum")
         for loss in ("half_sse", "ce") if batch > 1 or reduce == "mean"]
KINDS += [({"kind": "adam"}, 2, "mean", "bce"), ({"kind": "momentum", "beta": 0.9}, 2, "sum", "mse")]


def _id(kind: tuple) -> str:
    opt, batch, reduce, loss = kind
    return f"{'-'.join(str(v) for v in opt.values())}-b{batch}-{reduce}-{loss}"


def _spec(kind: tuple, seed: int, **more: object) -> dict:
    opt, batch, reduce, loss = kind
    return training_spec(seed, optimizer=opt, batch=batch, reduce=reduce, loss=loss, **more)  # type: ignore[arg-type]


def _cells(key) -> dict[tuple, float]:
    return {(k.round, k.column, k.quantity, k.layer, k.index, k.sample): v for k, v in key.values.items()}


@pytest.mark.parametrize("kind", KINDS, ids=_id)
def test_the_key_is_the_plain_reference_cell_by_cell(kind: tuple) -> None:
    """Every cell of every round equals the plain-Python reference, and the graph has exactly
    the reference's cells (biases updated, and fixed in a second network)."""
    for seed, update_biases in ((1, True), (2, False)):
        data = _spec(kind, seed * 101 + len(_id(kind)), update_biases=update_biases)
        mine, theirs = _cells(answer_key(parse_spec(data))), refnet_train.trace(data)
        assert set(mine) == set(theirs)
        for cell, value in theirs.items():
            assert mine[cell] == pytest.approx(value, rel=1e-9, abs=1e-12), cell


@pytest.mark.parametrize("kind", KINDS, ids=_id)
def test_the_graphs_formulas_agree_with_the_key(kind: tuple) -> None:
    """Recomputing every cell by its one-step formula from the key's upstream values gives the key."""
    key = answer_key(parse_spec(_spec(kind, 7)))
    for k, cell in key.graph.cells.items():
        if not cell.given:
            again = cell.compute(key.values[d] for d in cell.deps)
            assert again == pytest.approx(key.values[k], rel=1e-9, abs=1e-12), (cell.name, cell.formula)


@pytest.mark.parametrize("kind", [k for k in KINDS if k[0]["kind"] != "sgd"][:12] + KINDS[:4], ids=_id)
def test_formulas_on_intervals_enclose_every_point(kind: tuple) -> None:
    """Each new formula over small intervals around its inputs contains its value at points drawn in them."""
    key = answer_key(parse_spec(_spec(kind, 11)))
    rng = random.Random(5)
    for k, cell in key.graph.cells.items():
        if cell.given:
            continue
        ups = [key.values[d] for d in cell.deps]
        spans = [Interval(v - 5e-5, v + 5e-5) for v in ups]
        span = recompute(cell.fn, spans)  # type: ignore[arg-type]
        if span is None:  # no finite bound (e.g. a square root reaching below 0): nothing to check
            continue
        for _ in range(3):
            point = [rng.uniform(s.lo, s.hi) for s in spans]
            try:
                value = cell.fn(*point)  # type: ignore[misc]
            except (ValueError, ZeroDivisionError):
                continue
            assert span.lo <= value <= span.hi, (cell.name, cell.formula, span, value)


def _nudged(data: dict, layer: int, q: str, index: tuple[int, ...], h: float, W: list, B: list) -> tuple[list, list]:
    W2, B2 = copy.deepcopy(W), copy.deepcopy(B)
    if q == "w":
        W2[layer - 1][index[0] - 1][index[1] - 1] += h
    else:
        B2[layer - 1][index[0] - 1] += h
    return W2, B2


@pytest.mark.parametrize("kind", [k for k in KINDS if k[1] > 1 or k[3] == "ce"], ids=_id)
def test_every_gradient_cell_matches_central_differences(kind: tuple) -> None:
    """Every dL/dw, dL/db (a sample's and the round's reduced one), dL/ds and dL/df of every
    round equals central differences of the loss it differentiates, at the round's weights."""
    data = _spec(kind, 23, rounds=2)
    key = answer_key(parse_spec(data))
    batch, reduce = data["batch"], data["reduce"]
    h = 1e-6
    checked = 0
    for k, value in key.values.items():
        if k.column != "backward":
            continue
        r = k.round
        W = [[[key.values[CellId(r, "parameters", l + 1, "w", (i + 1, j + 1))] for j in range(len(layer["biases"]))]
              for i in range(len(layer["weights"]))] for l, layer in enumerate(data["layers"])]
        B = [[key.values[CellId(r, "parameters", l + 1, "b", (j + 1,))] for j in range(len(layer["biases"]))]
             for l, layer in enumerate(data["layers"])]
        chunk = data["samples"][(r - 1) * batch:r * batch]
        if k.sample:
            chunk = [chunk[k.sample - 1]]
        div = batch if (reduce == "mean" and not k.sample and batch > 1) else 1

        def loss(W_: list, B_: list, nudge: tuple | None = None) -> float:
            return sum(refnet_train.loss_at(data, W_, B_, s, nudge) for s in chunk) / div

        if k.quantity in ("dL/dw", "dL/db"):
            q = k.quantity[-1]
            numeric = (loss(*_nudged(data, k.layer, q, k.index, h, W, B))  # type: ignore[arg-type]
                       - loss(*_nudged(data, k.layer, q, k.index, -h, W, B))) / (2 * h)  # type: ignore[arg-type]
        else:
            what = k.quantity[-1]  # dL/ds or dL/df of one sample
            numeric = (loss(W, B, (k.layer - 1, what, k.index[0] - 1, h))  # type: ignore[operator]
                       - loss(W, B, (k.layer - 1, what, k.index[0] - 1, -h))) / (2 * h)  # type: ignore[operator]
            if what == "f" and k.layer == len(data["layers"]) and data["loss"] == "ce":
                # f of a softmax output is nudged alone (the others held): L = −Σ y ln f differentiates
                # to −y/f, which is what the cell says
                pass
        assert value == pytest.approx(numeric, rel=1e-5, abs=1e-7), (str(k), key.graph[k].name)
        checked += 1
    assert checked > 0


def test_names_carry_the_sample_and_the_optimizers_cells() -> None:
    """Sample k of a round is written after the layer, s1[2](3); the round's reduced gradient and
    loss carry none; the optimizer's cells are named after the parameter, the round before's in the
    parameters column."""
    data = training_spec(3, optimizer={"kind": "adam"}, batch=3, n_layers=2, loss="ce")
    graph = build_graph(parse_spec(data))
    names = {c.id for c in graph.cells.values()}
    for ident in ("r1.forward.s1[2](3)", "r1.parameters.x1(2)", "r1.parameters.y2(1)", "r1.forward.L(3)",
                  "r1.forward.L", "r1.backward.dL/dw11[2](3)", "r1.backward.dL/dw11[2]", "r2.parameters.m_w11[1]",
                  "r2.parameters.v_b1[2]", "r2.updated.mhat_w11[2]", "r2.updated.vhat_b2[2]", "r2.updated.Δw11[1]",
                  "r2.updated.w11[1]"):
        assert ident in names, ident
    assert graph.find(1, "forward", "s1[2](3)") == CellId(1, "forward", 2, "s", (1,), 3)
    assert graph[CellId(2, "updated", 1, "mhat_w", (1, 1))].formula == "m_w11[1]/(1 - 0.9^2)"
    assert graph[CellId(3, "updated", 1, "mhat_w", (1, 1))].formula == "m_w11[1]/(1 - 0.9^3)"
    momentum = build_graph(parse_spec(training_spec(3, optimizer={"kind": "momentum", "beta": 0.9}, batch=1,
                                                    n_layers=1)))
    lr = momentum.spec.learning_rate
    assert momentum[CellId(1, "updated", 1, "Δw", (1, 1))].formula == f"-{lr}*dL/dw11 + 0.9*Δw11"
    assert momentum[CellId(2, "parameters", 1, "Δw", (1, 1))].deps == (CellId(1, "updated", 1, "Δw", (1, 1)),)
    assert momentum[CellId(1, "parameters", 1, "Δw", (1, 1))].value == 0.0


def test_a_spec_of_one_sample_a_round_and_sgd_is_what_it_was() -> None:
    """batch 1, reduce and sgd written out or left out: the same cells, values and JSON."""
    data = training_spec(9, optimizer={"kind": "sgd"}, batch=1, n_layers=2)
    plain = {k: v for k, v in data.items() if k not in ("batch", "reduce", "optimizer")}
    a, b = answer_key(parse_spec(data)), answer_key(parse_spec(plain))
    assert a.values == b.values
    assert parse_spec(data).to_json() == parse_spec(plain).to_json()
    assert "batch" not in parse_spec(plain).to_json() and "optimizer" not in parse_spec(plain).to_json()
    assert all(k.sample == 0 for k in a.values)


def test_the_spec_json_round_trips_with_defaults_written() -> None:
    data = training_spec(4, optimizer={"kind": "rmsprop"}, batch=2, reduce="sum", loss="ce")
    again = parse_spec(data).to_json()
    assert again["optimizer"] == {"kind": "rmsprop", "rho": 0.9, "eps": 1e-8}
    assert again["batch"] == 2 and again["reduce"] == "sum"
    assert parse_spec(again) == parse_spec(data)


BASE = training_spec(5, optimizer={"kind": "sgd"}, batch=2, n_layers=2, loss="ce")


def _with(**changes: object) -> dict:
    data = copy.deepcopy(BASE)
    for k, v in changes.items():
        if v is None:
            data.pop(k, None)
        else:
            data[k] = v
    return data


@pytest.mark.parametrize(("data", "message"), [
    (_with(batch=0), "batch must be a whole number from 1 to 8 (samples a round feeds), got 0"),
    (_with(batch=True), "batch must be a whole number from 1 to 8"),
    (_with(batch=4), "samples has 6 samples, not a multiple of batch 4: every round feeds 4"),
    (_with(reduce="max"), "reduce must be one of mean, sum; got 'max'"),
    (_with(optimizer="adam"), 'optimizer must be an object with a kind, e.g. {"kind": "momentum", "beta": 0.9}'),
    (_with(optimizer={"kind": "nesterov"}), "optimizer.kind must be one of sgd, momentum, adam, rmsprop; got 'nesterov'"),
    (_with(optimizer={"kind": "momentum", "beta": 1.0}), "optimizer.beta is 1.0; it must be from 0 up to (not including) 1"),
    (_with(optimizer={"kind": "adam", "eps": 0}), "optimizer.eps is 0.0; it must be above 0 and below 1"),
    (_with(optimizer={"kind": "adam", "rho": 0.9}), "optimizer has unknown keys: rho"),
    (_with(optimizer={"kind": "momentum", "beta": "0.9"}), "optimizer.beta must be a number"),
    (_with(loss="half_sse"), "a softmax output layer needs loss ce; loss is half_sse"),
])
def test_spec_errors_say_what_is_wrong(data: dict, message: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_spec(data)
    assert message in str(info.value)


def test_softmax_and_cross_entropy_checks() -> None:
    hidden = copy.deepcopy(BASE)
    hidden["layers"][0]["activation"] = "softmax"
    with pytest.raises(SpecError, match=r"layers\[0\].activation is softmax; only the output layer may be softmax"):
        parse_spec(hidden)
    sigmoid = copy.deepcopy(BASE)
    sigmoid["layers"][-1]["activation"] = "sigmoid"
    with pytest.raises(SpecError, match=r"loss ce needs a softmax output layer; layers\[1\].activation is sigmoid"):
        parse_spec(sigmoid)
    uneven = copy.deepcopy(BASE)
    uneven["samples"][1]["y"] = [0.5] * len(uneven["samples"][1]["y"]) if len(uneven["samples"][1]["y"]) > 2 \
        else [0.5, 0.6]
    with pytest.raises(SpecError, match=r"samples\[1\].y sums to .*; with loss ce a sample's targets must sum to 1"):
        parse_spec(uneven)
    one = {"layers": [{"weights": [[0.1]], "biases": [0.0], "activation": "softmax"}], "loss": "ce",
           "learning_rate": 0.1, "samples": [{"x": [1], "y": [1]}]}
    with pytest.raises(SpecError, match="softmax with one unit, whose output is always 1"):
        parse_spec(one)


def test_answerkey_prints_the_new_cells_with_their_sample(tmp_path: Path) -> None:
    data = training_spec(8, optimizer={"kind": "momentum", "beta": 0.9}, batch=2, n_layers=1, loss="ce")
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(data))
    out = StringIO()
    call_command("answerkey", str(path), stdout=out)
    printed = json.loads(out.getvalue())
    reference = refnet_train.trace(data)
    assert len(printed["cells"]) == len(reference)
    for cell in printed["cells"]:
        expected = reference[(cell["round"], cell["column"], cell["quantity"], cell["layer"], tuple(cell["index"]),
                              cell["sample"])]
        assert cell["value"] == pytest.approx(expected, rel=1e-9, abs=1e-12)
        assert set(cell) == {"round", "column", "layer", "quantity", "index", "name", "value", "sample"}
    assert printed["rounds"][0]["updated"]["Δw11"] == pytest.approx(reference[(1, "updated", "Δw", 1, (1, 1), 0)])
    assert printed["loss"] == pytest.approx([reference[(r, "forward", "L", None, (), 0)] for r in (1, 2, 3)])


def test_cell_across_a_batch_of_problems_is_each_problems_key() -> None:
    """engine.cell_across (the class's spread, the copying index) reads each problem's own value of
    a cell of a batch round or an optimizer, as its key has it."""
    from grading.engine import cell_across, stack, train
    specs = [parse_spec(training_spec(seed, optimizer={"kind": "adam"}, batch=2, n_layers=2)) for seed in (5, 5)]
    specs[1] = parse_spec({**specs[0].to_json(), "learning_rate": 0.33})
    trace = train(stack(specs))
    keys = [answer_key(s) for s in specs]
    for k in keys[0].values:
        values = cell_across(trace, k)
        assert values[0] == pytest.approx(keys[0].values[k], rel=1e-12, abs=1e-15)
        assert values[1] == pytest.approx(keys[1].values[k], rel=1e-12, abs=1e-15)


def test_a_ranged_template_of_a_batch_momentum_spec_draws_specs_of_its_kind() -> None:
    """Per-student variants keep the batch, the reduction and the optimizer; each draw's key is
    the key of the spec it stands for."""
    from grading.engine.ranges import parse_template
    from grading.engine.variants import draw
    data = training_spec(12, optimizer={"kind": "momentum", "beta": 0.8}, batch=2, reduce="sum", n_layers=1)
    data["layers"][0]["weights"][0][0] = {"range": [0.1, 0.5], "step": 0.1}
    template = parse_template(data)
    drawn = draw(template, 7, "alice")
    assert drawn.batch == 2 and drawn.reduce == "sum" and drawn.optimizer.kind == "momentum"
    assert drawn.optimizer["beta"] == 0.8
    assert drawn.layers[0].weights[0][0] in (0.1, 0.2, 0.3, 0.4, 0.5)
    mine = answer_key(drawn).values
    again = answer_key(parse_spec(drawn.to_json())).values
    assert mine == again
