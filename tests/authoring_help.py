"""What an instructor types on the authoring page, as the form posts it."""
from __future__ import annotations

from typing import Any

HIDDEN_CELLS = {
    # Layer 1 (2 inputs -> 2 hidden units) with its first weight and a bias ranged.
    "w-1-1-1": "0.1..0.5 step 0.1", "w-1-1-2": "0.25", "w-1-2-1": "-0.2", "w-1-2-2": "0.3",
    "b-1-1": "{0.1, 0.2, 0.3}", "b-1-2": "0.1",
    # Layer 2 (2 hidden -> 2 outputs).
    "w-2-1-1": "0.4", "w-2-1-2": "-0.3", "w-2-2-1": "0.2", "w-2-2-2": "0.5",
    "b-2-1": "0.05", "b-2-2": "-0.05",
    "lr": "0.5",
    "x-1-1": "0.4", "x-1-2": "0.8", "y-1-1": "1", "y-1-2": "0",
    "x-2-1": "0.5", "x-2-2": "0.7", "y-2-1": "1", "y-2-2": "0",
}

# The spec those cells mean, written out by hand (the layers form: two layers).
HIDDEN_SPEC = {
    "layers": [
        {"weights": [[{"range": [0.1, 0.5], "step": 0.1}, 0.25], [-0.2, 0.3]],
         "biases": [{"choice": [0.1, 0.2, 0.3]}, 0.1], "activation": "sigmoid"},
        {"weights": [[0.4, -0.3], [0.2, 0.5]], "biases": [0.05, -0.05], "activation": "tanh"},
    ],
    "loss": "sse", "learning_rate": 0.5, "update_biases": True,
    "samples": [{"x": [0.4, 0.8], "y": [1, 0]}, {"x": [0.5, 0.7], "y": [1, 0]}],
}
HIDDEN_FREE = [
    (("layers", 0, "weights", 0, 0), [0.1, 0.2, 0.3, 0.4, 0.5]),
    (("layers", 0, "biases", 0), [0.1, 0.2, 0.3]),
]

STRUCTURE_2_2_2 = {"n_inputs": "2", "n_layers": "2", "units_1": "2", "activation_1": "sigmoid",
                   "units_2": "2", "activation_2": "tanh", "loss": "sse", "update_biases": "on",
                   "rounds": "2"}

SETTINGS = {"title": "Hidden layer, your own numbers", "slug": "hidden-own", "statement": "Train it.",
            "decimals": "4", "max_attempts": "3", "opens_at": "2026-01-05T08:00",
            "due_at": "2026-01-19T23:59", "grace_seconds": "120", "reveal": "after_due",
            "carried_credit": "1", "carried_cap": "1", "not_chained_credit": "0.5", "unexplained_roots": "review",
            "points-formulas": "20", "extra-formulas": "", "points-round-1": "40", "points-round-2": "40",
            "extra-round-2": "on", "points-plot": "5", "extra-plot": "on"}


def hidden_post(**changes: Any) -> dict[str, str]:
    """The whole form of the 2-2-2 network above (sigmoid then tanh, SSE, two rounds)."""
    data = {**SETTINGS, **STRUCTURE_2_2_2, **HIDDEN_CELLS}
    data.update({k: v for k, v in changes.items()})
    return {k: v for k, v in data.items() if v is not None}


def homework_post(cells: dict[str, str] | None = None, **changes: Any) -> dict[str, str]:
    """Homework 4.1's form: 2 inputs, 2 sigmoid outputs, half-SSE, four rounds, its numbers."""
    from tests.factories import SPEC_4_1

    data = {**SETTINGS, "title": "Homework 4.1", "slug": "hw41", "n_inputs": "2", "n_layers": "1",
            "units_1": "2", "activation_1": "sigmoid", "loss": "half_sse", "update_biases": "on",
            "rounds": "4", "lr": "1", "points-formulas": "30", "points-round-1": "35",
            "points-round-2": "35", "extra-round-2": "", "points-round-3": "35", "extra-round-3": "on",
            "points-round-4": "35", "extra-round-4": "on", "points-plot": "5", "extra-plot": "on"}
    for i, row in enumerate(SPEC_4_1["weights"], start=1):
        for j, v in enumerate(row, start=1):
            data[f"w-1-{i}-{j}"] = str(v)
    for j, v in enumerate(SPEC_4_1["biases"], start=1):
        data[f"b-1-{j}"] = str(v)
    for r, sample in enumerate(SPEC_4_1["samples"], start=1):
        data.update({f"x-{r}-{i}": str(v) for i, v in enumerate(sample["x"], start=1)})
        data.update({f"y-{r}-{j}": str(v) for j, v in enumerate(sample["y"], start=1)})
    data.update(cells or {})
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}
