"""The named mistakes of issue 20: each written into an honest student's table (its value worked
here from the student's own cells) is named, and only where it changes the value."""

from __future__ import annotations

from typing import Any

import pytest

from grading.engine import answer_key, parse_spec
from grading.marking import mark_tables
from grading.mistakes import get_mistake
from tests.test_marking_training import student
from tests.test_training import training_spec


def _table(answers: dict[str, Any]) -> dict[tuple[int, str, str], float]:
    return {(t["round"], column, name): float(text) for t in answers["rounds"] for column, cells in t.items()
            if column != "round" for name, text in cells.items()}


def _marked(data: dict, answers: dict[str, Any], cell: tuple[int, str, str], value: float) -> Any:
    answers["rounds"][cell[0] - 1][cell[1]][cell[2]] = f"{value:.4f}"
    marks = {(m.round, m.column, m.name): m for m in mark_tables(answer_key(parse_spec(data)), answers)}
    return marks[cell]


def _spec(optimizer: dict, batch: int = 1, reduce: str = "mean", loss: str = "half_sse") -> dict:
    return training_spec(3, optimizer=optimizer, batch=batch, reduce=reduce, loss=loss, n_layers=2)


def test_momentums_velocity_subtracted_is_named() -> None:
    data = _spec({"kind": "momentum", "beta": 0.9})
    answers = student(data)
    v, lr = _table(answers), data["learning_rate"]
    wrong = -lr * v[(2, "backward", "dL/dw11[2]")] - 0.9 * v[(2, "parameters", "Δw11[2]")]
    mark = _marked(data, answers, (2, "updated", "Δw11[2]"), wrong)
    assert mark.status == "incorrect" and mark.mistake == "momentum_sign"
    assert str(get_mistake("momentum_sign").title) in mark.message


def test_velocity_not_carried_is_named() -> None:
    data = _spec({"kind": "momentum", "beta": 0.9})
    answers = student(data)
    v, lr = _table(answers), data["learning_rate"]
    mark = _marked(data, answers, (3, "updated", "Δb1[1]"), -lr * v[(3, "backward", "dL/db1[1]")])
    assert mark.status == "incorrect" and mark.mistake == "velocity_not_carried"


def test_adam_without_bias_correction_is_named() -> None:
    data = _spec({"kind": "adam"})
    answers = student(data)
    v = _table(answers)
    mark = _marked(data, answers, (1, "updated", "mhat_w21[2]"), v[(1, "updated", "m_w21[2]")])
    assert mark.status == "incorrect" and mark.mistake == "no_bias_correction"


@pytest.mark.parametrize(("reduce", "factor"), [("sum", 1 / 3), ("mean", 3)])
def test_mean_where_the_sum_was_asked_and_the_reverse_are_named(reduce: str, factor: float) -> None:
    data = _spec({"kind": "sgd"}, batch=3, reduce=reduce)
    answers = student(data)
    v = _table(answers)
    total = sum(v[(2, "backward", f"dL/dw12[1]({k})")] for k in (1, 2, 3))
    right = total if reduce == "sum" else total / 3
    mark = _marked(data, answers, (2, "backward", "dL/dw12[1]"), right * factor)
    assert abs(right * factor - right) > 1e-3
    assert mark.status == "incorrect" and mark.mistake == "mean_for_sum"


def test_softmax_derivative_taken_as_the_sigmoids_is_named() -> None:
    data = _spec({"kind": "sgd"}, batch=2, loss="ce")
    m = len(data["layers"][-1]["biases"])
    for n, sample in enumerate(data["samples"]):  # soft targets: no unit's dL/df is 0
        raw = [1 + (n + j) % 3 for j in range(m)]
        sample["y"] = [v / sum(raw) for v in raw[:-1]] + [1 - sum(v / sum(raw) for v in raw[:-1])]
    answers = student(data)
    v = _table(answers)
    cells = [(k, j) for k in (1, 2) for j in range(1, len(data["layers"][-1]["biases"]) + 1)]

    def sigmoid_way(k: int, j: int) -> float:
        g, f = v[(1, "backward", f"dL/df{j}[2]({k})")], v[(1, "forward", f"f{j}[2]({k})")]
        return g * f * (1 - f)

    # With a one-hot target the two agree on the target's unit (−(1/f)·f(1 − f) = f − 1): the
    # mistake shows on the others (and with soft targets).
    k, j = next((k, j) for k, j in cells if abs(sigmoid_way(k, j) - v[(1, "backward", f"dL/ds{j}[2]({k})")]) > 1e-3)
    g, f = v[(1, "backward", f"dL/df{j}[2]({k})")], v[(1, "forward", f"f{j}[2]({k})")]
    mark = _marked(data, answers, (1, "backward", f"dL/ds{j}[2]({k})"), g * f * (1 - f))
    assert mark.status == "incorrect" and mark.mistake == "softmax_as_sigmoid"


def test_an_older_mistake_is_named_in_a_sample_of_a_batch_round() -> None:
    """y − f written as f − y in sample 2 of a round: the classic mistake, found per sample."""
    data = _spec({"kind": "sgd"}, batch=2)
    answers = student(data)
    v = _table(answers)
    mark = _marked(data, answers, (1, "forward", "y1-f1(2)"), -v[(1, "forward", "y1-f1(2)")])
    assert mark.status == "incorrect" and mark.mistake == "difference_reversed"
