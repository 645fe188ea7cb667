"""The registry of activations and losses (grading/engine/registry.py): every record agrees with
itself (numpy, scalar step, interval, Q1's derivative), an unknown name raises, and leaky_relu
works end to end (key against tests/refnet.py's own table, answerkey, Q1, authoring)."""

from __future__ import annotations

import json
import subprocess
import sys
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from grading.engine import Shape, answer_key, parse_spec, registry
from grading.engine.network import Batch, architecture
from grading.formulas import grade_formulas, parse_formula, reference_formulas
from grading.formulas.numeric import evaluate, mpf
from grading.marking.intervals import Interval
from tests import refnet

ROOT = Path(__file__).resolve().parent.parent
POINTS = (-2.3, -0.7, -0.05, 0.04, 0.4, 1.9)  # away from 0, where ReLU's kinks are
RECORDS = tuple(a for a in registry.activations() if not a.output_only)  # softmax is not unit by unit


def _ids(record: registry.Activation) -> str:
    return record.name


@pytest.mark.parametrize("record", RECORDS, ids=_ids)
def test_numpy_derivative_matches_central_differences(record: registry.Activation) -> None:
    s = np.array(POINTS)
    h = 1e-6
    numeric = (record.numpy(s + h) - record.numpy(s - h)) / (2 * h)
    assert np.allclose(record.numpy_slope(s, record.numpy(s)), numeric, atol=1e-6)


@pytest.mark.parametrize("record", RECORDS, ids=_ids)
def test_scalar_step_and_slope_equal_numpy(record: registry.Activation) -> None:
    s = np.array(POINTS)
    f, slope = record.numpy(s), record.numpy_slope(s, record.numpy(s))
    for k, v in enumerate(POINTS):
        assert record.scalar(v) == pytest.approx(f[k], abs=1e-15)
        at = {"f": f[k], "s": v}.get(record.slope_of or "")
        got = record.times_slope(2.0, at) if at is not None else record.times_slope(2.0)
        assert got == pytest.approx(2.0 * slope[k], abs=1e-15)
        if at is not None:
            assert record.slope(at) == pytest.approx(slope[k], abs=1e-15)


@pytest.mark.parametrize("record", RECORDS, ids=_ids)
def test_interval_bounds_contain_the_point_values(record: registry.Activation) -> None:
    for lo, hi in ((-2.3, -0.7), (-0.7, 0.4), (0.04, 1.9), (-0.05, -0.05)):
        box = record.scalar(Interval(lo, hi))
        for v in np.linspace(lo, hi, 9):
            assert box.lo <= record.scalar(float(v)) <= box.hi, (lo, hi, v)
        if record.slope_of == "s":
            slope = record.times_slope(Interval(1.0, 1.0), Interval(lo, hi))
            for v in np.linspace(lo, hi, 9):
                assert slope.lo <= record.slope(float(v)) <= slope.hi, (lo, hi, v)


@pytest.mark.parametrize("record", registry.formula_activations(), ids=_ids)
def test_q1_derivative_reading_equals_the_derivative(record: registry.Activation) -> None:
    """name'(s1) as Q1 reads it, at many s1, is the numpy derivative there (for each alias)."""
    for typed in record.formula_names:
        expr = parse_formula(f"{typed}'(s1)")
        value = parse_formula(f"{typed}(s1)")
        for v in POINTS:
            want = record.numpy_slope(np.array([v]), record.numpy(np.array([v])))[0]
            assert float(evaluate(expr, {"s1": mpf(v)})) == pytest.approx(want, abs=1e-12), (typed, v)
            assert float(evaluate(value, {"s1": mpf(v)})) == pytest.approx(record.scalar(v), abs=1e-12)


def test_an_unknown_name_raises_everywhere() -> None:
    with pytest.raises(registry.UnknownName, match="known: sigmoid, tanh, relu, leaky_relu, linear"):
        registry.activation("swish")
    with pytest.raises(KeyError):
        registry.loss("hinge")
    spec = parse_spec(_spec("tanh"))
    arch = architecture(spec)
    bad = arch.__class__(**{**arch.__dict__, "activations": ("swish", "sigmoid")})
    with pytest.raises(KeyError):  # no silent linear network
        Batch(bad, (np.zeros((1, 2, 2)), np.zeros((1, 2, 1))), (np.zeros((1, 2)), np.zeros((1, 1))),
              np.ones(1), np.zeros((1, 2, 2)), np.zeros((1, 2, 1)))
    with pytest.raises(KeyError):
        reference_formulas(Shape((2, 2, 1), ("swish", "sigmoid")))


# ---------------------------------------------------------------- leaky_relu end to end


def _spec(activation: str) -> dict:
    return {"layers": [{"weights": [[0.5, -0.4], [-0.3, 0.8]], "biases": [0.1, -0.2], "activation": activation},
                       {"weights": [[0.7, -0.2], [-0.6, 0.9]], "biases": [0.05, -0.1], "activation": "sigmoid"}],
            "loss": "half_sse", "learning_rate": 0.5,
            "samples": [{"x": [1.0, -2.0], "y": [0.9, 0.1]}, {"x": [-1.5, 0.5], "y": [0.2, 0.7]}]}


def test_leaky_relu_key_equals_an_independent_computation() -> None:
    """A 2-2-2 network with a leaky ReLU hidden layer whose units go negative: every cell of the
    key equals tests/refnet.py's plain-Python SGD (its own activation table)."""
    data = _spec("leaky_relu")
    key = answer_key(parse_spec(data))
    ref = refnet.trace(data)
    hidden_s = [v for (r, c, q, l, i), v in ref.items() if q == "s" and l == 1]
    assert min(hidden_s) < 0 < max(hidden_s)  # both branches are exercised
    compared = 0
    for cell, value in key.values.items():
        want = ref.get((cell.round, cell.column, cell.quantity, cell.layer, cell.index))
        if want is not None:
            assert value == pytest.approx(want, rel=1e-12, abs=1e-14), cell
            compared += 1
    assert compared >= 40
    # Not a linear network's key: the leak shows in f of the negative hidden unit.
    linear = answer_key(parse_spec(_spec("linear")))
    assert any(abs(linear.values[c] - v) > 1e-6 for c, v in key.values.items() if c.quantity == "f")


def test_answerkey_prints_the_leaky_relu_key(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_spec("leaky_relu")))
    out = StringIO()
    call_command("answerkey", str(path), stdout=out)
    printed = json.loads(out.getvalue())
    assert printed == json.loads(json.dumps(answer_key(parse_spec(_spec("leaky_relu"))).to_json()))


def test_answerkey_names_the_known_activations_in_one_line_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(_spec("swish")))
    done = subprocess.run([sys.executable, "manage.py", "answerkey", str(path)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "swish" in lines[0] and "sigmoid, tanh, relu, leaky_relu, linear" in lines[0]


def test_q1_accepts_lrelu_as_a_leaky_relu_row() -> None:
    shape = Shape((2, 2, 1), ("leaky_relu", "sigmoid"), "half_sse")
    refs = reference_formulas(shape)
    assert refs["f1[1]"] == "leaky_relu(s1[1])"
    typed = {**refs, "f1[1]": "lrelu(s1[1])", "dL/ds2[1]": "dL/df2[1] * lrelu'(s2[1])",
             "dL/ds1[1]": "dL/df1[1] * leaky_relu'(s1[1])"}
    marks = {m.row: m.status for m in grade_formulas(typed, shape=shape, time_limit=20)}
    assert set(marks.values()) == {"correct"}, marks
    wrong = {**refs, "f1[1]": "relu(s1[1])"}
    assert {m.row: m.status for m in grade_formulas(wrong, shape=shape, time_limit=20)}["f1[1]"] != "correct"


def test_the_authoring_page_offers_leaky_relu() -> None:
    from grading.authoring_form import AuthoringForm

    choices = [value for value, _label in AuthoringForm.base_fields["activation_1"].choices]
    # every activation, softmax too (only an output layer's: the spec refuses it elsewhere)
    assert choices == list(registry.OUTPUT_ACTIVATIONS) and "leaky_relu" in choices and "softmax" in choices
