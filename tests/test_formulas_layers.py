"""Q1 for networks with hidden layers, other activations and losses: the layered names, the
rows read off the graph, the chained form through the next layer, MathML and the verdict cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading.engine import Shape, answer_key, parse_spec
from grading.formulas import (Q1_ROWS, VerdictCache, grade_formulas, parse_formula, reference_formulas,
                              to_mathml, to_text)
from grading.formulas.nodes import FormulaError
from grading.formulas.numeric import evaluate, mpf
from tests.test_network import COMBINATIONS, random_network

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = parse_spec(json.loads((ROOT / "grading" / "specs" / "hidden-layer-2-2-2.json").read_text()))
SHAPE = Shape.of(HIDDEN)
SIZES = (2, 2, 2)

# The hidden-layer homework's answer column, written here rather than read from the code.
GOOD = {
    "s1[1]": "w11[1]*x1 + w21[1]*x2 + b1[1]", "s2[1]": "w12[1]*x1 + w22[1]*x2 + b2[1]",
    "f1[1]": "sigmoid(s1[1])", "f2[1]": "1/(1 + exp(-s2[1]))",
    "s1[2]": "w11[2]*f1[1] + w21[2]*f2[1] + b1[2]", "s2[2]": "w12[2] f1[1] + w22[2] f2[1] + b2[2]",
    "f1[2]": "σ(s1^[2])", "f2[2]": "sigmoid(s2[2])",
    "L": "(y1 − f1[2])²/2 + (y2 − f2[2])²/2",
    "dL/df1[2]": "f1[2] - y1", "dL/df2[2]": "f2[2] - y2",
    "dL/ds1[2]": "dL/df1[2] * f1[2] * (1 - f1[2])", "dL/ds2[2]": "dL/df2[2] × σ'(s2[2])",
    "dL/db1[2]": "dL/ds1[2]", "dL/db2[2]": "dL/ds2[2] * 1",
    "dL/dw11[2]": "dL/ds1[2] * f1[1]", "dL/dw21[2]": "dL/ds1[2] * f2[1]",
    "dL/dw12[2]": "dL/ds2[2] * f1[1]", "dL/dw22[2]": "dL/ds2[2] * f2[1]",
    "dL/df1[1]": "w11[2]*dL/ds1[2] + w12[2]*dL/ds2[2]", "dL/df2[1]": "dL/ds1[2]*w21[2] + dL/ds2[2]*w22[2]",
    "dL/ds1[1]": "dL/df1[1] * f1[1] * (1 - f1[1])", "dL/ds2[1]": "dL/df2[1] * f2[1] * (1 - f2[1])",
    "dL/db1[1]": "dL/ds1[1]", "dL/db2[1]": "dL/ds2[1]",
    "dL/dw11[1]": "dL/ds1[1] * x1", "dL/dw21[1]": "dL/ds1[1] * x2",
    "dL/dw12[1]": "dL/ds2[1] * x1", "dL/dw22[1]": "dL/ds2[1] * x2",
}


# CPU seconds for each check: the verdicts are under test here, not the budget. The expanded
# hidden-layer gradient takes about 9 s of sympy, 15 s under coverage's tracing (which the forked
# checker inherits); 20 s left a busy CI run "undecided".
ROOMY = 60


def test_rows_are_forward_by_layer_then_l_then_backward_from_the_top() -> None:
    """The 29 rows of a 2-2-2 network: s and f per layer, L, then each layer's dL/df, dL/ds,
    dL/db, dL/dw from the output layer down."""
    backward = lambda l: [f"dL/df1[{l}]", f"dL/df2[{l}]", f"dL/ds1[{l}]", f"dL/ds2[{l}]", f"dL/db1[{l}]",  # noqa: E731
                          f"dL/db2[{l}]", f"dL/dw11[{l}]", f"dL/dw21[{l}]", f"dL/dw12[{l}]", f"dL/dw22[{l}]"]
    assert Q1_ROWS(SHAPE) == ["s1[1]", "s2[1]", "f1[1]", "f2[1]", "s1[2]", "s2[2]", "f1[2]", "f2[2]", "L",
                              *backward(2), *backward(1)]
    assert set(GOOD) == set(Q1_ROWS(SHAPE))


def test_the_answer_column_is_correct() -> None:
    """The hidden-layer answers, typed with ×, −, ², σ, σ', implicit products and ^[2]: all correct."""
    marks = grade_formulas(GOOD, shape=SHAPE, time_limit=ROOMY)
    assert {m.row: m.status for m in marks} == {row: "correct" for row in GOOD}, \
        [(m.row, m.message) for m in marks if m.status != "correct"]


def test_a_hidden_gradient_must_be_chained_through_the_next_layer() -> None:
    """dL/df1[1] expanded down to f and y (not through dL/ds[2]) is equivalent but not chained;
    one path only is wrong and named; dL/dw[2] written with the output's f for f[1] gets the hint."""
    expanded = ("w11[2]*(f1[2] - y1)*f1[2]*(1 - f1[2]) + w12[2]*(f2[2] - y2)*f2[2]*(1 - f2[2])")
    answers = {"dL/df1[1]": expanded, "dL/df2[1]": "w21[2]*dL/ds1[2]", "dL/dw11[2]": "dL/ds1[2] * f1[2]"}
    marks = {m.row: m for m in grade_formulas(answers, shape=SHAPE, time_limit=ROOMY)}
    assert marks["dL/df1[1]"].status == "not_chained" and marks["dL/df1[1]"].credit == 0.5
    assert "in terms of dL/ds1[2] and dL/ds2[2]" in marks["dL/df1[1]"].message
    assert marks["dL/df2[1]"].status == "incorrect"
    assert "Only one path in a hidden dL/df" in marks["dL/df2[1]"].message
    assert marks["dL/dw11[2]"].status == "incorrect"
    assert "with f1[1] in place of f1[2] it would be right" in marks["dL/dw11[2]"].message


@pytest.mark.parametrize(("text", "message"), [
    ("s1", "this network has 2 layers: write the layer in brackets, e.g. s1[1] or s1[2]"),
    ("w11[3] * x1", "unknown name 'w11[3]'"),
    ("x1[2]", "x1 belongs to no layer"),
    ("L[1] + 1", "L belongs to no layer"),
    ("foo(s1[1])", "the functions are exp, ln, sigmoid, tanh, relu, leaky_relu and step"),
])
def test_names_must_be_the_networks(text: str, message: str) -> None:
    """A name without its layer, a layer the network lacks, a layer on x or L: a clear message."""
    with pytest.raises(FormulaError) as info:
        parse_formula(text, sizes=SIZES)
    assert message in info.value.message


def test_layer_suffixes_read_as_one_name() -> None:
    """s1[2], s1^[2] and s_1^{[2]} are the one name s1[2]; dL/dw12^[1] is dL/dw12[1]; in a single
    layer, a bracket after a name still groups (w11[2] is w11·2, as before)."""
    assert {to_text(parse_formula(t, sizes=SIZES)) for t in ("s1[2]", "s1^[2]", "s_1^{[2]}")} == {"s1[2]"}
    assert to_text(parse_formula("dL/dw12^[1] * x2", sizes=SIZES)) == "dL/dw12[1] * x2"
    assert to_text(parse_formula("w11[2]")) == "w11*2"


def test_mathml_draws_the_layer_as_a_bracketed_superscript() -> None:
    """s1[2] is s₁ with [2] above; dL/ds1[2] a fraction with it in the denominator; 4.1's names as before."""
    markup = to_mathml("dL/ds1[2] * f2[1]", sizes=SIZES)
    assert ("<mfrac><mrow><mi>d</mi><mi>L</mi></mrow><mrow><mi>d</mi><msubsup><mi>s</mi><mn>1</mn>"
            "<mrow><mo>[</mo><mn>2</mn><mo>]</mo></mrow></msubsup></mrow></mfrac>") in markup
    assert "<msubsup><mi>f</mi><mn>2</mn><mrow><mo>[</mo><mn>1</mn><mo>]</mo></mrow></msubsup>" in markup
    assert "<msub><mi>w</mi><mn>12</mn></msub>" in to_mathml("w12")


def _update_biases(data: dict) -> dict:
    return {**data, "update_biases": True}


@pytest.mark.parametrize(("activation", "loss"), COMBINATIONS)
def test_every_reference_formula_reproduces_the_engine(activation: str, loss: str) -> None:
    """Each Q1 reference formula of a random network, evaluated at a round's values, equals the
    engine's cell there (every activation and loss, 1-4 layers)."""
    spec = parse_spec(_update_biases(random_network(len(activation) * 7 + len(loss), activation=activation,
                                                    loss=loss, rounds=2)))
    key, shape = answer_key(spec), Shape.of(spec)
    for r in (1, 2):
        env = {cell.name: mpf(key.values[k]) for k, cell in key.graph.cells.items()
               if k.round == r and k.column != "updated"}
        for row, text in reference_formulas(shape).items():
            got = evaluate(parse_formula(text, sizes=spec.sizes), env)
            assert abs(float(got) - float(env[row])) < 1e-9 * max(1, abs(float(env[row]))), (row, text)


def test_other_activations_and_losses_are_written_with_their_functions() -> None:
    """tanh, ReLU (with its step) and cross-entropy rows: the reference formulas, and the
    derivatives typed with tanh'(s) and relu'(s), are correct."""
    shape = Shape((2, 2, 1), ("tanh", "relu"), "sse")
    refs = reference_formulas(shape)
    assert refs["f1[1]"] == "tanh(s1[1])" and refs["dL/ds1[2]"] == "dL/df1[2] * step(s1[2])"
    assert refs["dL/ds2[1]"] == "dL/df2[1] * (1 - f2[1]^2)" and refs["L"] == "(y1 - f1[2])^2"
    typed = {**refs, "dL/ds2[1]": "dL/df2[1] * tanh'(s2[1])", "dL/ds1[2]": "dL/df1[2] * relu'(s1[2])"}
    assert {m.status for m in grade_formulas(typed, shape=shape, time_limit=ROOMY)} == {"correct"}
    bce = Shape((2, 1), ("sigmoid",), "bce")
    refs = reference_formulas(bce)
    assert refs["L"] == "-(y1*ln(f1) + (1 - y1)*ln(1 - f1))"
    assert refs["dL/df1"] == "-y1/f1 + (1 - y1)/(1 - f1)"
    typed = {**refs, "L": "-y1*log(f1) - (1 - y1)*ln(1 - f1)", "dL/df1": "(f1 - y1)/(f1*(1 - f1))"}
    marks = {m.row: m for m in grade_formulas(typed, shape=bce, time_limit=ROOMY)}
    assert marks["L"].status == "correct" and marks["dL/df1"].status == "correct", marks


def test_the_verdict_cache_keys_on_activations_and_loss() -> None:
    """The same text for the same row of same-sized networks is checked again when an activation
    or the loss differs: sigmoid(s1[1]) is right for a sigmoid layer, wrong for a tanh one."""
    cache = VerdictCache()
    answer = {"f1[1]": "sigmoid(s1[1])"}
    sig = next(m for m in grade_formulas(answer, shape=SHAPE, cache=cache) if m.row == "f1[1]")
    tanh = Shape(SIZES, ("tanh", "sigmoid"))
    other = next(m for m in grade_formulas(answer, shape=tanh, cache=cache) if m.row == "f1[1]")
    assert (sig.status, other.status, cache.hits) == ("correct", "incorrect", 0)
    bce = Shape(SIZES, ("sigmoid", "sigmoid"), "bce")
    again = next(m for m in grade_formulas(answer, shape=bce, cache=cache) if m.row == "f1[1]")
    assert again.status == "correct" and cache.hits == 0
    same = next(m for m in grade_formulas(answer, shape=SHAPE, cache=cache) if m.row == "f1[1]")
    assert same.status == "correct" and cache.hits == 1
