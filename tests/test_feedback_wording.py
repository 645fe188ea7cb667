"""Feedback that explains: each wording fix of issue 11, with its values computed here."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from grading.engine import answer_key, parse_spec
from grading.formulas import grade_formulas
from grading.marking import mark_tables

SPEC = json.loads((Path(__file__).resolve().parent.parent / "grading" / "specs" / "homework-4.1.json").read_text())


def sigmoid(s: float) -> float:
    return 1 / (1 + math.exp(-s))


def round1() -> dict[str, float]:
    """Homework 4.1's round 1 by hand (weights[i][j] is w_{i+1,j+1})."""
    (w11, w12), (w21, w22) = SPEC["weights"]
    b1, b2 = SPEC["biases"]
    (x1, x2), (y1, y2) = SPEC["samples"][0]["x"], SPEC["samples"][0]["y"]
    s1, s2 = w11 * x1 + w21 * x2 + b1, w12 * x1 + w22 * x2 + b2
    f1, f2 = sigmoid(s1), sigmoid(s2)
    g1, g2 = f1 - y1, f2 - y2
    d1, d2 = g1 * f1 * (1 - f1), g2 * f2 * (1 - f2)
    v = {"s1": s1, "s2": s2, "f1": f1, "f2": f2, "y1-f1": y1 - f1, "y2-f2": y2 - f2,
         "(y1-f1)^2": (y1 - f1) ** 2, "(y2-f2)^2": (y2 - f2) ** 2,
         "L": ((y1 - f1) ** 2 + (y2 - f2) ** 2) / 2,
         "dL/df1": g1, "dL/df2": g2, "dL/ds1": d1, "dL/ds2": d2, "dL/db1": d1, "dL/db2": d2,
         "dL/dw11": d1 * x1, "dL/dw21": d1 * x2, "dL/dw12": d2 * x1, "dL/dw22": d2 * x2}
    for name, old, grad in (("w11", w11, "dL/dw11"), ("w12", w12, "dL/dw12"), ("w21", w21, "dL/dw21"),
                            ("w22", w22, "dL/dw22"), ("b1", b1, "dL/db1"), ("b2", b2, "dL/db2")):
        v["new " + name] = old - SPEC["learning_rate"] * v[grad]
    return v


FORWARD = ("s1", "s2", "f1", "f2", "y1-f1", "y2-f2", "(y1-f1)^2", "(y2-f2)^2", "L")
BACKWARD = ("dL/df1", "dL/df2", "dL/ds1", "dL/ds2", "dL/db1", "dL/db2", "dL/dw11", "dL/dw21", "dL/dw12", "dL/dw22")


def table(values: dict[str, float | str | None]) -> dict:
    """Round 1's answers: numbers rounded to 4 places, text as it is, None left out."""
    def text(v):
        return v if isinstance(v, str) else f"{v:.4f}"
    out = {"round": 1, "forward": {}, "backward": {}, "updated": {}}
    for name, v in values.items():
        if v is None:
            continue
        column = "forward" if name in FORWARD else "backward" if name in BACKWARD else "updated"
        out[column][name.removeprefix("new ")] = text(v)
    return out


def marks_of(*tables: dict, spec: dict = SPEC) -> dict[tuple[int, str], object]:
    marks = mark_tables(answer_key(parse_spec(spec)), {"rounds": list(tables)})
    return {(m.round, m.name if m.column != "updated" else "new " + m.name): m for m in marks}


def test_a_sign_flipped_dl_dw21_says_it_has_the_wrong_sign() -> None:
    """The issue's case: dL/dw21 typed with its sign flipped (everything else right) is called
    "wrong sign" in the table, as Q1 says it, not only "not within ±0.000051"."""
    v = round1()
    mark = marks_of(table({**v, "dL/dw21": -v["dL/dw21"]}))[(1, "dL/dw21")]
    assert mark.status == "incorrect" and "it has the wrong sign" in mark.message
    assert mark.mistake is None  # the student's dL/ds1 is right: the slip is this cell's own


def test_a_flip_carried_from_dl_df_is_named_where_it_lands() -> None:
    """dL/df typed right but the flip carried into dL/ds and the gradients (a student who
    flipped it on paper): dL/ds1 has "the wrong sign", and dL/dw21 is named the sign-flip mistake."""
    v = round1()
    flipped = {name: -v[name] for name in BACKWARD if not name.startswith("dL/df")}
    marks = marks_of(table({**v, **flipped}))
    assert "it has the wrong sign" in marks[(1, "dL/ds1")].message
    dw21 = marks[(1, "dL/dw21")]
    assert dw21.status == "incorrect" and dw21.mistake == "sign_flipped"
    assert "dL/df with the sign flipped, carried into dL/dw21 from dL/df1" in dw21.message


def test_a_missing_half_with_dl_df_left_blank_is_named_in_dl_ds() -> None:
    """dL/df left blank, dL/ds twice the right value (the ½ left out on paper): named "Loss without the ½"."""
    v = round1()
    mark = marks_of(table({**v, "dL/df1": None, "dL/ds1": 2 * v["dL/ds1"]}))[(1, "dL/ds1")]
    assert mark.mistake == "no_half" and "Loss without the ½, carried into dL/ds1 from dL/df1" in mark.message


def test_a_missing_sigmoid_derivative_with_dl_ds_left_blank_is_named_in_dl_dw() -> None:
    """dL/ds left blank, dL/dw11 = dL/df1 · x1 (σ′ left out): named "Sigmoid derivative left out"."""
    v = round1()
    x1 = SPEC["samples"][0]["x"][0]
    mark = marks_of(table({**v, "dL/ds1": None, "dL/dw11": v["dL/df1"] * x1}))[(1, "dL/dw11")]
    assert mark.mistake == "no_sigmoid_derivative"
    assert "Sigmoid derivative left out, carried into dL/dw11 from dL/ds1" in mark.message


def test_carried_parameter_cells_name_round_1_updated_values() -> None:
    """Round 2's w11 copied from a wrong round 1 update reads "your round 1 updated w11", not "your w11"."""
    v = round1()
    slipped = v["new w11"] + 0.01
    marks = marks_of(table({**v, "new w11": slipped}), {"round": 2, "parameters": {"w11": f"{slipped:.4f}"}})
    mark = marks[(2, "w11")]
    assert mark.status == "carried"
    assert mark.message == f"correct given your round 1 updated w11 = {slipped:.4f}"


def _one_unit(b: float) -> dict:
    return {"weights": [[0.5]], "biases": [b], "learning_rate": 1, "samples": [{"x": [0.5], "y": [0]}]}


def _truncation_case() -> tuple[dict, float]:
    """A 1×1 network whose f1 (= dL/df1, with y = 0) cut at 4 places is not f1 rounded."""
    for k in range(200):
        b = round(0.1 + 0.003 * k, 3)
        f1 = sigmoid(0.25 + b)
        if int(f1 * 1e5) % 10 >= 5:
            return _one_unit(b), f1
    raise AssertionError("no such bias")  # pragma: no cover


def test_no_truncation_hint_after_an_invalid_upstream_cell() -> None:
    """After an invalid f1, dL/df1 = f1 cut at 4 places gets no truncation hint: nothing of the
    student's own says what they rounded; with f1 typed in full, the same value is called truncated."""
    spec, f1 = _truncation_case()
    cut = math.floor(f1 * 1e4) / 1e4
    after_invalid = marks_of({"round": 1, "forward": {"f1": f"{f1:.4f}".replace(".", ",")},
                              "backward": {"dL/df1": f"{cut:.4f}"}}, spec=spec)[(1, "dL/df1")]
    assert after_invalid.status == "incorrect" and "truncated" not in after_invalid.message
    typed_in_full = marks_of({"round": 1, "forward": {"f1": f"{f1:.8f}"},
                              "backward": {"dL/df1": f"{cut:.4f}"}}, spec=spec)[(1, "dL/df1")]
    assert "looks truncated rather than rounded" in typed_in_full.message


@pytest.mark.parametrize(("row", "text", "says"), [
    ("dL/ds1", "(y1 - f1)*f1*(1 - f1)", "dL/df with the sign flipped, carried into dL/ds1 from dL/df1"),
    ("dL/dw21", "(y1 - f1)*f1*(1 - f1)*x2", "dL/df with the sign flipped, carried into dL/dw21 from dL/df1"),
    ("dL/ds1", "2*(f1 - y1)*f1*(1 - f1)", "Loss without the ½, carried into dL/ds1 from dL/df1"),
    ("f1", "1/(1 + e^s1)", "with −s1 in place of s1 it would be right"),
    ("s1", "w11*x1 + w21*x2 - b1", "with −b1 in place of b1 it would be right"),
])
def test_a_non_equivalent_q1_row_gets_the_named_mistake_or_a_hint(row: str, text: str, says: str) -> None:
    """A wrong Q1 row that carries a named mistake from an earlier row, or a flipped sign of one name, says so."""
    [mark] = [m for m in grade_formulas({row: text}) if m.row == row]
    assert mark.status == "incorrect" and says in mark.message


def test_a_flip_written_in_the_row_itself_is_not_called_carried() -> None:
    """-dL/ds1*x2 flips its own sign: "wrong sign", no mistake carried from dL/df1."""
    [mark] = [m for m in grade_formulas({"dL/dw21": "-dL/ds1*x2"}) if m.row == "dL/dw21"]
    assert "it has the wrong sign" in mark.message and "carried" not in mark.message


def test_the_key_never_prints_a_negative_zero() -> None:
    """A key value that rounds to zero prints 0.000000; a given -0.0 prints 0."""
    from grading.views.common import fmt_given, fmt_key

    assert fmt_key(-1e-9, 4) == "0.000000" and fmt_key(-0.0, 4) == "0.000000"
    assert fmt_key(-4e-9, 6) == "0.00000000" and fmt_key(-0.25, 4) == "-0.250000"
    assert fmt_given(-0.0) == "0"
