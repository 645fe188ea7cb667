"""One parser, one verdict: the live preview and the grader accept exactly the same Q1 texts."""

from __future__ import annotations

import pytest
from django.urls import reverse

from grading.engine import Shape
from grading.formulas import grade_formulas
from tests.webtools import client_for

# (row, text): answers a student may type, in every form the two could disagree on.
CATALOGUE_4_1 = [
    ("s1", "w11*x1 + w21*x2 + b1"),
    ("s1", "s1 = w11*x1 + w21*x2 + b1"),
    ("s1", "s1=w11*x1 + w21*x2 + b1"),
    ("s1", "   s1    =   w11*x1 + w21*x2 + b1"),
    ("s1", "s_1 = w11*x1 + w21*x2 + b1"),
    ("s1", "f1 = w11*x1 + w21*x2 + b1"),
    ("s1", "s2 = w11*x1 + w21*x2 + b1"),
    ("s1", "s1 = "),
    ("s1", "= w11*x1"),
    ("s1", "s1 = w11*x1 = b1"),
    ("s1", "S1 = w11*x1 + w21*x2 + b1"),
    ("s1", r"\frac{dL}{ds_1} = w11"),
    ("s1", "w12*x1 + w22*x2 + b1"),
    ("s1", "9^9^9"),
    ("s1", "x1^(9^9)"),
    ("s1", ")("),
    ("s1", "w11*x1 +"),
    ("s1", "__import__('os')"),
    ("f1", "f1 = sigmoid(s1)"),
    ("f1", "σ(s1)"),
    ("f1", "f1 = 1/(1 + e^(-s1))"),
    ("f1", "s1 = sigmoid(s1)"),
    ("L", "L = ((y1 - f1)^2 + (y2 - f2)^2)/2"),
    ("L", "(y1 - f1)² / 2 + (y2 - f2)² / 2"),
    ("dL/df1", "dL/df1 = f1 - y1"),
    ("dL/df1", "dL / df1 = f1 - y1"),
    ("dL/df1", "dl/df1 = f1 - y1"),
    ("dL/df1", "dL/df2 = f1 - y1"),
    ("dL/df1", "y1 - f1"),
    ("dL/ds1", "dL/ds1 = dL/df1 * f1 * (1 - f1)"),
    ("dL/ds1", "dL/df1 * σ'(s1)"),
    ("dL/ds1", "dL/ds1 == dL/df1"),
    ("dL/dw11", "dL/dw11 = dL/ds1 * x1"),
    ("dL/dw11", "dL/dw21 = dL/ds1 * x1"),
    ("dL/db1", "dL/db1 = dL/ds1"),
    ("dL/db1", "dL/db1 = dL/ds1 = dL/ds1*1"),
    ("dL/db1", "x" * 501),
]

CATALOGUE_LAYERS = [
    ("s1[2]", "s1[2] = w11[2]*f1[1] + w21[2]*f2[1] + b1[2]"),
    ("s1[2]", "s1[1] = w11[2]*f1[1] + w21[2]*f2[1] + b1[2]"),
    ("s1[2]", "s1 = w11[2]*f1[1] + w21[2]*f2[1] + b1[2]"),
    ("dL/df1[1]", "dL/df1[1] = w11[2]*dL/ds1[2] + w12[2]*dL/ds2[2]"),
    ("dL/df1[1]", "w11[2]*dL/ds1[2] + w12[2]*dL/ds2[2]"),
    ("f2[1]", "f2[1] = sigmoid(s2[1])"),
]


def _agree(client, sizes: tuple[int, ...], shape: Shape, row: str, text: str) -> None:
    query = {"text": text, "row": row, "n": sizes[0], "m": sizes[-1]}
    if len(sizes) > 2:
        query["sizes"] = "-".join(map(str, sizes))
    preview = client.get(reverse("grading:formula_preview"), query).json()
    mark = next(m for m in grade_formulas({row: text}, shape=shape, time_limit=10) if m.row == row)
    if mark.status == "invalid":
        assert preview["mathml"] == "" and preview["error"] == mark.message, (row, text, preview, mark)
    else:
        assert preview["error"] == "" and preview["mathml"].startswith("<math"), (row, text, preview, mark)


@pytest.mark.parametrize(("row", "text"), CATALOGUE_4_1)
def test_preview_and_grader_agree_on_homework_4_1(world, row: str, text: str) -> None:
    """Homework 4.1: the preview shows an error exactly when the grader calls the row invalid,
    with the grader's own message; a leading "s1 =" of the row's own name is fine in both."""
    _agree(client_for(world["alice"]), (2, 2), Shape.single(2, 2), row, text)


@pytest.mark.parametrize(("row", "text"), CATALOGUE_LAYERS)
def test_preview_and_grader_agree_with_hidden_layers(world, row: str, text: str) -> None:
    """A 2-2-2 network: the same agreement for layered names."""
    _agree(client_for(world["alice"]), (2, 2, 2), Shape((2, 2, 2), ("sigmoid", "sigmoid")), row, text)


def test_own_left_hand_side_is_fine_and_another_is_refused_with_one_message(world) -> None:
    """'s1 = …' previews and is graded correct for row s1; 'f1 = …' is refused by both, saying which row it is."""
    client = client_for(world["alice"])
    url = reverse("grading:formula_preview")
    ok = client.get(url, {"text": "s1 = w11*x1 + w21*x2 + b1", "row": "s1"}).json()
    assert ok["error"] == "" and "<msub><mi>w</mi><mn>11</mn></msub>" in ok["mathml"]
    [mark] = [m for m in grade_formulas({"s1": "s1 = w11*x1 + w21*x2 + b1"}) if m.row == "s1"]
    assert mark.status == "correct"
    refused = client.get(url, {"text": "f1 = w11*x1 + w21*x2 + b1", "row": "s1"}).json()
    [wrong] = [m for m in grade_formulas({"s1": "f1 = w11*x1 + w21*x2 + b1"}) if m.row == "s1"]
    assert wrong.status == "invalid"
    assert refused["error"] == wrong.message == ("this row is s1, but the answer starts with 'f1 =': "
                                                 "write only the right-hand side")
