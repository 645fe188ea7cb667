"""Issue 9's degeneracy rule on issue 20's networks: a softmax output outside [0.01, 0.99] is
degenerate as a sigmoid's is, a one-hot target's zero dL/df is not, and a round of several
samples names its cells by round and sample."""

from __future__ import annotations

import copy

import numpy as np

from grading.engine import parse_spec
from grading.engine.degenerate import degenerate_mask, degenerate_reasons
from grading.engine.network import stack, train

SOFTMAX = {"layers": [{"weights": [[0.2, -0.1, 0.0], [0.1, 0.3, -0.2]], "biases": [0.0, 0.0, 0.0],
                       "activation": "softmax"}],
           "loss": "ce", "learning_rate": 0.5, "batch": 2,
           "samples": [{"x": [1.0, 2.0], "y": [1, 0, 0]}, {"x": [0.5, -1.0], "y": [0, 0, 1]}]}


def test_a_one_hot_softmax_problem_is_not_degenerate() -> None:
    assert degenerate_reasons(parse_spec(SOFTMAX), decimals=4) == []


def test_a_softmax_output_below_0_01_is_degenerate_and_named_by_round_and_sample() -> None:
    data = copy.deepcopy(SOFTMAX)
    data["samples"][1]["x"] = [0.5, -9.0]  # sample 2: s3 far below the others, f3 near 0
    f = np.exp([0.5 * w0 - 9.0 * w1 for w0, w1 in zip(*data["layers"][0]["weights"])])
    f = f / f.sum()
    assert f.min() < 0.01  # worked here: softmax of sample 2's s
    reasons = degenerate_reasons(parse_spec(data), decimals=4)
    saturated = [r for r in reasons if r.rule == "saturated"]
    assert saturated and all(r.round == 1 for r in saturated)
    assert {r.name for r in saturated} == {f"f{j + 1}(2)" for j in range(3) if not 0.01 <= f[j] <= 0.99}
    assert degenerate_mask(train(stack([parse_spec(data), parse_spec(SOFTMAX)])), decimals=4).tolist() == [True, False]


def test_a_small_reduced_gradient_is_degenerate() -> None:
    """Two samples whose gradients cancel in the mean: the round's dL/dw21 and dL/db1 are 0."""
    data = {"layers": [{"weights": [[0.5], [0.0]], "biases": [0.0], "activation": "linear"}],
            "loss": "half_sse", "learning_rate": 0.1, "batch": 2, "reduce": "mean",
            "samples": [{"x": [1.0, 1.0], "y": [0.0]}, {"x": [-1.0, 1.0], "y": [0.0]}]}
    # sample 1: f = 0.5, dL/ds = 0.5; sample 2: f = −0.5, dL/ds = −0.5. dL/dw11 = 0.5·1 + (−0.5)·(−1)
    # does not cancel; dL/dw21 = 0.5·1 + (−0.5)·1 and dL/db1 = 0.5 − 0.5 do. No sample's cell is 0.
    reasons = degenerate_reasons(parse_spec(data), decimals=4)
    assert sorted((r.round, r.name) for r in reasons if r.rule == "small") == [(1, "dL/db1"), (1, "dL/dw21")]

