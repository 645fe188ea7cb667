"""Q1 for issue 20's networks: one sample's rows, softmax and cross-entropy written as the course
writes them (the reference texts written out here)."""

from __future__ import annotations

from grading.engine import Shape, parse_spec
from grading.formulas.check import grade_formulas
from grading.formulas.rows import Q1_ROWS, reference_formulas
from tests.test_training import training_spec

SOFTMAX = {"layers": [{"weights": [[0.2, -0.1, 0.0], [0.1, 0.3, -0.2]], "biases": [0.0, 0.0, 0.0],
                       "activation": "softmax"}],
           "loss": "ce", "learning_rate": 0.5, "samples": [{"x": [1.0, 2.0], "y": [1, 0, 0]}]}


def test_softmax_rows_read_as_the_course_writes_them() -> None:
    shape = Shape.of(parse_spec(SOFTMAX))
    ref = reference_formulas(shape)
    assert ref["f2"] == "exp(s2)/(exp(s1) + exp(s2) + exp(s3))"
    assert ref["L"] == "-(y1*ln(f1) + y2*ln(f2) + y3*ln(f3))"
    assert ref["dL/df3"] == "-y3/f3"
    assert ref["dL/ds1"] == "f1 - y1"


def test_softmax_answers_written_another_way_are_equivalent_and_the_sigmoid_way_is_not() -> None:
    shape = Shape.of(parse_spec(SOFTMAX))
    answers = {"f1": "1/(1 + exp(s2 - s1) + exp(s3 - s1))", "L": "-y1*ln(f1) - y2*ln(f2) - y3*ln(f3)",
               "dL/ds2": "f2 - y2", "dL/ds3": "dL/df3*f3*(1 - f3)"}
    marks = {m.row: m for m in grade_formulas(answers, shape=shape, time_limit=20)}
    assert marks["f1"].status == "correct"
    assert marks["L"].status == "correct"
    assert marks["dL/ds2"].status == "correct"
    assert marks["dL/ds3"].status == "incorrect"


def test_a_batch_and_optimizer_spec_asks_one_samples_rows_then_the_update_rows() -> None:
    data = training_spec(2, optimizer={"kind": "adam"}, batch=3, n_layers=2)
    batch = Shape.of(parse_spec(data))
    plain = Shape.of(parse_spec({k: v for k, v in data.items() if k not in ("batch", "reduce", "optimizer")}
                                | {"samples": data["samples"][:3]}))
    n = len(Q1_ROWS(plain))
    assert Q1_ROWS(batch)[:n] == Q1_ROWS(plain)
    # issue 20: then "Update (one parameter)", for a generic parameter w
    assert Q1_ROWS(batch)[n:] == ["g", "m", "v", "mhat", "vhat", "Δw", "w"]
    assert all("(" not in row for row in Q1_ROWS(batch))
    marks = grade_formulas(reference_formulas(batch), shape=batch, time_limit=20,
                           learning_rate=data["learning_rate"])
    assert {m.status for m in marks} == {"correct"}
