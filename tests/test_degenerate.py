"""The degeneracy rule of issue 9: every reason named by its cell, for one problem and a batch."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from grading.engine import CellId, answer_key, parse_spec, stack, train, train_one
from grading.engine.degenerate import degenerate_mask, degenerate_reasons, reasons
from tests import refnet

ROOT = Path(__file__).resolve().parent.parent
HW = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())


def found(spec_json: dict, decimals: int) -> set[tuple]:
    return {(r.rule, r.round, r.quantity, r.layer, r.index)
            for r in degenerate_reasons(parse_spec(spec_json), decimals=decimals)}


def test_homework_4_1_is_not_degenerate_at_4_decimals() -> None:
    """Homework 4.1 as printed passes the rule: its smallest backward cell is round 3's dL/dw12."""
    cells = refnet.trace(HW)
    smallest = min(abs(v) for k, v in cells.items() if k[1] == "backward")
    assert 0.011 < smallest < 0.0111  # printed -0.01109: far above 0.0001
    assert degenerate_reasons(parse_spec(HW), decimals=4) == []


def test_small_backward_cells_are_named_at_coarse_decimals() -> None:
    """At 2 decimals the cells below 0.01 in magnitude are exactly the reasons, with today's names."""
    expected = {("small", k[0], k[2], k[3], k[4]) for k, v in refnet.trace(HW).items()
                if k[1] == "backward" and abs(v) < 0.01}
    assert expected == set()  # at 2 decimals Homework 4.1 is still fine: 0.011 >= 0.01
    hw = {**HW, "samples": [*HW["samples"][:2], {"x": [0.01, 0.3], "y": [0, 1]}, HW["samples"][3]]}
    expected = {("small", k[0], k[2], k[3], k[4]) for k, v in refnet.trace(hw).items()
                if k[1] == "backward" and abs(v) < 0.01}
    assert expected == {("small", 3, "dL/dw", 1, (1, 1)), ("small", 3, "dL/dw", 1, (1, 2))}
    assert found(hw, 2) == expected
    names = [r.message for r in degenerate_reasons(parse_spec(hw), decimals=2)]
    assert names[0].startswith("round 3 dL/dw11 = ") and "below one unit of 2 decimals (0.01)" in names[0]
    assert names[1].startswith("round 3 dL/dw12 = ")


def test_an_input_of_zero_makes_its_weight_gradients_zero() -> None:
    """x1 = 0 in round 1: dL/dw11 and dL/dw12 are 0. Drawn problems count them (a draw is drawn
    again, and the message says the student would write 0.0000); a problem without ranges shows
    them as given values instead, so they are no reason and nobody types them for marks.
    (Issue 20's library: before, this test pinned them as reasons of the problem itself.)"""
    hw = {**HW, "samples": [{"x": [0, 0.8], "y": [1, 0]}, *HW["samples"][1:]]}
    zeros = {("small", 1, "dL/dw", 1, (1, 1)), ("small", 1, "dL/dw", 1, (1, 2))}
    drawn = reasons(train_one(parse_spec(hw)), decimals=4)
    assert {(r.rule, r.round, r.quantity, r.layer, r.index) for r in drawn} == zeros
    assert drawn[0].message == ("round 1 dL/dw11 = 0 is below one unit of 4 decimals (0.0001) in magnitude: "
                                "the student would write 0.0000")
    assert degenerate_mask(train_one(parse_spec(hw)), decimals=4).tolist() == [True]
    assert found(hw, 4) == set() == refnet.degenerate_cells(hw, 4, zero_inputs_given=True)
    assert refnet.degenerate_cells(hw, 4) == zeros
    graph = answer_key(parse_spec(hw)).graph
    given = {c.key for c in graph.cells.values() if not c.gradable and c.key.column == "backward"}
    assert given == {CellId(1, "backward", 1, "dL/dw", (1, 1)), CellId(1, "backward", 1, "dL/dw", (1, 2))}
    assert all(answer_key(parse_spec(hw)).values[k] == 0 for k in given)


def test_an_input_near_zero_is_still_a_reason() -> None:
    """Only an input of exactly 0 makes a given value: x1 = 0.00001 leaves dL/dw11 and dL/dw12
    below 0.0001 but something to compute, so the problem is degenerate as before."""
    hw = {**HW, "samples": [{"x": [0.00001, 0.8], "y": [1, 0]}, *HW["samples"][1:]]}
    assert found(hw, 4) == {("small", 1, "dL/dw", 1, (1, 1)), ("small", 1, "dL/dw", 1, (1, 2))}
    assert all(c.gradable for c in answer_key(parse_spec(hw)).graph.cells.values() if c.key.column == "backward")


def test_saturated_sigmoid_outputs_are_named() -> None:
    """Large weights push f outside [0.01, 0.99]: each such f is a reason, as the reference finds."""
    spec = {"weights": [[4.0, -3.0], [3.0, 0.1]], "biases": [1.0, -2.5], "learning_rate": 1,
            "samples": [{"x": [0.9, 0.8], "y": [1, 0]}, {"x": [0.1, 0.2], "y": [0, 1]}]}
    expected = refnet.degenerate_cells(spec, 4)
    assert ("saturated", 1, "f", 1, (1,)) in expected  # s1 = 7.0: f1 = 0.9991
    assert found(spec, 4) == expected
    saturated = [r for r in degenerate_reasons(parse_spec(spec), decimals=4) if r.rule == "saturated"]
    assert saturated[0].message.startswith("round 1 f1 = 0.999089 is outside")
    assert "outside [0.01, 0.99]" in saturated[0].message


def test_a_relu_unit_dead_in_every_round_is_named_in_the_layer_notation() -> None:
    """A hidden ReLU unit with s <= 0 in every round is one reason, named f2[1]; names carry [layer]."""
    spec = {"layers": [{"weights": [[0.5, -0.4], [0.3, -0.6]], "biases": [0.1, -0.2], "activation": "relu"},
                       {"weights": [[0.7, -0.5], [0.2, 0.4]], "biases": [0.1, 0.2], "activation": "sigmoid"}],
            "loss": "half_sse", "learning_rate": 0.5,
            "samples": [{"x": [0.5, 0.4], "y": [1, 0]}, {"x": [0.9, 0.1], "y": [0, 1]}]}
    expected = refnet.degenerate_cells(spec, 4)
    assert ("inactive", None, "f", 1, (2,)) in expected
    assert found(spec, 4) == expected
    messages = [r.message for r in degenerate_reasons(parse_spec(spec), decimals=4)]
    assert messages[0] == ("ReLU unit f2[1] is inactive in every round (s2[1] <= 0), so every "
                           "gradient through it is 0")
    # The dead unit's gradients are 0 too, each named with its layer.
    assert any(m.startswith("round 1 dL/ds2[1] = 0 ") for m in messages)
    assert any(m.startswith("round 1 dL/dw12[1] = 0 ") for m in messages)


def test_a_relu_unit_at_exactly_zero_is_inactive() -> None:
    """s = 0 is inactive (the spec format gives ReLU the derivative 0 there): zero weights and bias."""
    spec = {"layers": [{"weights": [[0.5, 0.0], [0.3, 0.0]], "biases": [0.1, 0.0], "activation": "relu"},
                       {"weights": [[0.7, -0.5], [0.2, 0.4]], "biases": [0.1, 0.2], "activation": "sigmoid"}],
            "loss": "half_sse", "learning_rate": 0.5,
            "samples": [{"x": [0.5, 0.4], "y": [1, 0]}, {"x": [0.9, 0.1], "y": [0, 1]}]}
    assert ("inactive", None, "f", 1, (2,)) in found(spec, 4) == refnet.degenerate_cells(spec, 4)


def test_a_relu_unit_active_in_one_round_is_not_dead() -> None:
    """One round with s > 0 is enough for a ReLU unit to count as alive."""
    spec = {"layers": [{"weights": [[1.0]], "biases": [-0.5], "activation": "relu"},
                       {"weights": [[0.8]], "biases": [0.1], "activation": "sigmoid"}],
            "loss": "half_sse", "learning_rate": 0.5,
            "samples": [{"x": [0.2], "y": [1]}, {"x": [0.9], "y": [0]}]}
    assert ("inactive", None, "f", 1, (1,)) not in found(spec, 4)
    assert not any(r.rule == "inactive" for r in degenerate_reasons(parse_spec(spec), decimals=4))


def test_a_diverging_problem_is_degenerate() -> None:
    """Values that overflow are reasons too (not finite), and the batch mask marks the problem."""
    spec = parse_spec({"layers": [{"weights": [[1e6]], "biases": [0], "activation": "linear"},
                                  {"weights": [[1e6]], "biases": [0], "activation": "linear"}],
                       "loss": "sse", "learning_rate": 1e6,
                       "samples": [{"x": [1e6], "y": [0]}] * 6})
    with np.errstate(all="ignore"):
        trace = train_one(spec)
        found_rules = {r.rule for r in reasons(trace, decimals=4)}
        assert degenerate_mask(trace, decimals=4).tolist() == [True]
    assert "not_finite" in found_rules


def random_spec(rng: random.Random, acts: list[str], loss: str) -> dict:
    sizes = [rng.randint(1, 3) for _ in range(len(acts) + 1)]
    return {"layers": [{"weights": [[round(rng.uniform(-2, 2), 1) for _ in range(sizes[l + 1])]
                                    for _ in range(sizes[l])],
                        "biases": [round(rng.uniform(-1, 1), 1) for _ in range(sizes[l + 1])],
                        "activation": acts[l]} for l in range(len(acts))],
            "loss": loss, "learning_rate": 0.5,
            "samples": [{"x": [round(rng.uniform(-1, 1), 1) for _ in range(sizes[0])],
                         "y": [rng.choice([0, 1]) for _ in range(sizes[-1])]} for _ in range(3)]}


@pytest.mark.parametrize("seed", range(6))
def test_reasons_match_the_reference_on_random_networks(seed: int) -> None:
    """On random networks of every activation the reasons are the rule applied by the reference."""
    rng = random.Random(seed)
    acts = [rng.choice(["sigmoid", "tanh", "relu", "linear"]) for _ in range(rng.randint(1, 3))]
    loss = rng.choice(["half_sse", "sse", "mse"])
    for _ in range(10):
        spec = random_spec(rng, acts, loss)
        decimals = rng.choice([2, 3, 4])
        assert found(spec, decimals) == refnet.degenerate_cells(spec, decimals, zero_inputs_given=True), spec
        drawn = {(r.rule, r.round, r.quantity, r.layer, r.index)
                 for r in reasons(train_one(parse_spec(spec)), decimals=decimals)}
        assert drawn == refnet.degenerate_cells(spec, decimals), spec


def test_the_batch_mask_agrees_with_each_problems_reasons() -> None:
    """degenerate_mask over a batch marks exactly the problems that have a reason."""
    rng = random.Random(9)
    acts = ["tanh", "sigmoid"]
    specs = [parse_spec(random_spec_fixed(rng, acts)) for _ in range(60)]
    trace = train(stack(specs))
    mask = degenerate_mask(trace, decimals=3)
    per_problem = [bool(reasons(trace, decimals=3, problem=p)) for p in range(len(specs))]
    assert mask.tolist() == per_problem
    assert 5 < sum(per_problem) < 55  # both kinds are present, so the comparison means something
    assert per_problem == [bool(refnet.degenerate_cells(s.to_json(), 3)) for s in specs]


def random_spec_fixed(rng: random.Random, acts: list[str]) -> dict:
    """A 2-2-2 network (one architecture, so the specs stack into one batch)."""
    return {"layers": [{"weights": [[round(rng.uniform(-2, 2), 1) for _ in range(2)] for _ in range(2)],
                        "biases": [round(rng.uniform(-1, 1), 1) for _ in range(2)],
                        "activation": act} for act in acts],
            "loss": "half_sse", "learning_rate": 0.5,
            "samples": [{"x": [round(rng.uniform(-1, 1), 1) for _ in range(2)],
                         "y": [rng.choice([0, 1]) for _ in range(2)]} for _ in range(3)]}


@pytest.mark.parametrize("batch", [1, 2, 3])
def test_the_given_zeros_of_the_tables_are_exactly_what_the_rule_leaves_out(batch: int) -> None:
    """An input of 0 in some samples (x2 in every sample of round 1, x1 in one sample of round 2):
    the cells the tables show as given are exactly the reasons a drawn problem has and a problem
    without ranges does not, per sample and for the round's mean, named alike."""
    from tests.test_training import training_spec

    data = training_spec(5, optimizer={"kind": "momentum", "beta": 0.9}, batch=batch, n_layers=2)
    for k, sample in enumerate(data["samples"]):
        sample["x"] = [0.5 + 0.1 * k] + [0.3] * (len(sample["x"]) - 1)
        if k < batch and len(sample["x"]) > 1:
            sample["x"][1] = 0  # x2 = 0 in round 1, every sample
        if k == batch:
            sample["x"][0] = 0  # x1 = 0 in one sample of round 2
    spec = parse_spec(data)
    trace = train_one(spec)
    drawn = {(r.round, r.name) for r in reasons(trace, decimals=4)}
    authored = {(r.round, r.name) for r in reasons(trace, decimals=4, zero_inputs_given=True)}
    graph = answer_key(spec).graph
    given = {(c.key.round, c.name) for c in graph.cells.values() if not c.gradable and c.key.column == "backward"}
    assert given and given == drawn - authored
    # The rule written out in the README's notation: dL/dw{i}{j}[1](k) for sample k of a round
    # whose x_i is 0 (no "(k)" with one sample a round), and the round's dL/dw{i}{j}[1] when x_i
    # is 0 in every sample of it.
    expected = set()
    for r in (1, 2):
        mine = data["samples"][(r - 1) * batch:r * batch]
        for i in range(1, len(mine[0]["x"]) + 1):
            zero = [k for k, sample in enumerate(mine, 1) if sample["x"][i - 1] == 0]
            for j in range(1, spec.sizes[1] + 1):
                expected |= {(r, f"dL/dw{i}{j}[1]" + (f"({k})" if batch > 1 else "")) for k in zero}
                if batch > 1 and len(zero) == batch:
                    expected.add((r, f"dL/dw{i}{j}[1]"))
    assert given == expected
