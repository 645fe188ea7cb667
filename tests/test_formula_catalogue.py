"""A catalogue of student-style answers to Q1 and the verdict each must get (no database)."""

from __future__ import annotations

import time

import pytest

from grading.formulas import grade_formulas

C, NC, X, U, INV = "correct", "not_chained", "incorrect", "undecided", "invalid"

CATALOGUE: list[tuple[str, str, str, str]] = [
    # (row, answer, expected status, a fragment the message must contain)
    # --- correct, in several forms
    ("s1", "w11*x1 + w21*x2 + b1", C, "correct"),
    ("s1", "b1 + x2*w21 + x1*w11", C, "correct"),
    ("s1", "w11 x1 + w21 x2 + b1", C, "correct"),
    ("s1", "s1 = w11 × x1 + w21 × x2 + b1", C, "correct"),
    ("s2", "w_12*x_1 + w_22*x_2 + b_2", C, "correct"),
    ("s2", "w₁₂·x₁ + w₂₂·x₂ + b₂", C, "correct"),
    ("f1", "sigmoid(s1)", C, "correct"),
    ("f1", "σ(s1)", C, "correct"),
    ("f1", "1/(1+exp(-s1))", C, "correct"),
    ("f1", "1/(1 + e^(-s1))", C, "correct"),
    ("f1", "exp(s1)/(exp(s1) + 1)", C, "correct"),
    ("f2", "Sigmoid(s2)", C, "correct"),
    ("L", "(y1 - f1)^2/2 + (y2 - f2)^2/2", C, "correct"),
    ("L", "((y1-f1)**2 + (y2-f2)**2)/2", C, "correct"),
    ("L", "0.5*((f1 - y1)^2 + (f2 - y2)^2)", C, "correct"),
    ("L", "(y1 − f1)²/2 + (y2 − f2)²/2", C, "correct"),
    ("L", "1/2 (y1-f1)(y1-f1) + 1/2 (y2-f2)(y2-f2)", C, "correct"),
    ("L", "2^-1 (y1 - f1)^2 + 2^-1 (y2 - f2)^2", C, "correct"),
    ("L", "((y1 - f1)^2 + (y2 - f2)^2) / 2^1", C, "correct"),
    ("dL/df1", "f1 - y1", C, "correct"),
    ("dL/df1", "-(y1 - f1)", C, "correct"),
    ("dL/df1", "2*(1/2)*(f1 - y1)", C, "correct"),
    ("dL/ds1", "dL/df1 * f1 * (1 - f1)", C, "correct"),
    ("dL/ds1", "dL/df1*f1(1-f1)", C, "correct"),
    ("dL/ds1", "∂L/∂f1 × σ(s1)(1 − σ(s1))", C, "correct"),
    ("dL/ds1", "dL_df1 * (f1 - f1^2)", C, "correct"),
    ("dL/ds1", "dL/df1 * exp(-s1)/(1 + exp(-s1))^2", C, "correct"),
    ("dL/ds2", "dL/df2 × f2 × (1 − f2)", C, "correct"),
    ("dL/db1", "dL/ds1 * 1", C, "correct"),
    ("dL/db1", "dL/ds1", C, "correct"),
    ("dL/db2", "1 × ∂L/∂s2", C, "correct"),
    ("dL/dw11", "dL/ds1 * x1", C, "correct"),
    ("dL/dw11", "x1 dL/ds1", C, "correct"),
    ("dL/dw11", "dL/ds1 × χ1", C, "read 'χ1' as x1"),
    ("dL/dw21", "dL/ds1 * x2", C, "correct"),
    ("dL/dw12", "(dL/ds2)(x1)", C, "correct"),
    ("dL/dw22", "dL/ds2*x2*1", C, "correct"),
    # --- equivalent, but not chained
    ("f1", "1/(1 + exp(-(w11*x1 + w21*x2 + b1)))", NC, "in terms of s1"),
    ("L", "(y1 - sigmoid(s1))^2/2 + (y2 - f2)^2/2", NC, "in terms of f1"),
    ("dL/df1", "sigmoid(s1) - y1", NC, "in terms of f1"),
    ("dL/ds1", "(f1 - y1)*f1*(1 - f1)", NC, "in terms of dL/df1"),
    ("dL/ds1", "(f1 - y1)*f1*(1 - f1) + 0*dL/df1", NC, "in terms of dL/df1"),
    ("dL/db1", "dL/df1*f1*(1 - f1)", NC, "in terms of dL/ds1"),
    ("dL/dw11", "dL/df1*f1*(1-f1)*x1", NC, "in terms of dL/ds1"),
    ("dL/dw22", "(f2 - y2)*f2*(1 - f2)*x2", NC, "in terms of dL/ds2"),
    # --- wrong: sign, missing factor, wrong index, s for f, constants
    ("dL/df1", "y1 - f1", X, "wrong sign"),
    ("dL/ds1", "-dL/df1 * f1 * (1 - f1)", X, "wrong sign"),
    ("dL/ds1", "dL/df1 * f1", X, "not equivalent"),
    ("dL/ds1", "dL/df1 * (1 - f1)", X, "not equivalent"),
    ("dL/ds1", "dL/df1 * s1 * (1 - s1)", X, "f1 in place of s1"),
    ("dL/dw11", "dL/ds1 * x2", X, "x1 in place of x2"),
    ("dL/dw21", "dL/ds2 * x2", X, "dL/ds1 in place of dL/ds2"),
    ("s1", "w11*x1 + w12*x2 + b1", X, "w21 in place of w12"),
    ("s1", "w11*x1 + w21*x2", X, "not equivalent"),
    ("f1", "sigmoid(s2)", X, "s1 in place of s2"),
    ("L", "(y1 - f1)^2 + (y2 - f2)^2", X, "2 times"),
    ("L", "(y1 - f1)^2/2", X, "not equivalent"),
    ("dL/db1", "dL/ds1 * x1", X, "not equivalent"),
    ("dL/dw11", "dL/ds1 * x1 + 10^-20", X, "not equivalent"),
    # --- circular
    ("dL/ds1", "dL/ds1", X, "itself"),
    ("dL/ds1", "dL/dw11 / x1", X, "circular"),
    ("s1", "f1", X, "circular"),
    ("dL/df1", "dL/ds1/(f1*(1-f1))", X, "circular"),
    ("dL/ds1", "dL/ds2", X, "comes after"),
    # --- unknown names, malformed
    ("dL/dw11", "dL/ds1 * x3", INV, "unknown name 'x3'"),
    ("dL/dw11", "dL/dw13", INV, "unknown derivative"),
    ("s1", "w13*x1 + b1", INV, "w11..w22"),
    ("s1", "w11x1 + w21x2 + b1", C, "correct"),  # names run together: implicit products (issue 21)
    ("s1", "w11x1 + w21x3 + b1", INV, "unknown name 'w21x3'"),
    ("s1", "a*x1", INV, "unknown name 'a' at character 1"),
    ("f1", "sig(s1)", INV, "unknown function 'sig'"),
    ("f1", "sigmoid s1", INV, "parentheses"),
    ("f1", "sigmoid(s1", INV, "unclosed '(' at character 8"),
    ("f1", "sigmoid(s1))", INV, "unmatched ')' at character 12"),
    ("f1", "()", INV, "empty parentheses"),
    ("s1", "w11*x1 +", INV, "ends too early"),
    ("s1", "* x1", INV, "cannot start with '*'"),
    ("s1", "x1 2", INV, "missing operator"),
    ("s1", "1,5*x1", INV, "','"),
    ("s1", "f1 = sigmoid(s1)", INV, "right-hand side"),
    ("s1", "x1 = = x2", INV, "right-hand side"),
    ("s1", "w11*x1 + w21*x2 + b1 = s1", INV, "right-hand side"),
    ("s1", "   ", "blank", "no answer"),
    # --- hostile
    ("s1", "__import__('os').system('true')", INV, "unknown"),
    ("s1", "().__class__.__base__", INV, "unexpected '.'"),
    ("s1", "lambda: 1", INV, "unknown name 'lambda'"),
    ("s1", "factorial(10**7)", INV, "unknown function 'factorial'"),
    ("s1", "9^9^9", INV, "number too large to check: 9^9^9"),
    ("s1", "9**9**9**9", INV, "number too large to check"),
    ("s1", "exp(exp(exp(99)))", INV, "number too large to check"),
    ("s1", "10^10^10", INV, "number too large to check"),
    ("s1", "w11*x1 + w21*x2 + b1 + 2^(3^40)", INV, "exponent 3^40 is above 64"),
    ("f1", "1/(1 + exp(exp(100)))", INV, "number too large to check: exp(100)"),
    ("s1", "x1^(9^9)", INV, "number too large to check: x1^9^9"),
    ("s1", "(" * 10_000 + "x1" + ")" * 10_000, INV, "too long"),
    ("s1", "x1+" * 350_000 + "x1", INV, "too long"),
    ("s1", "(" * 51 + "x1" + ")" * 51, INV, "nested too deeply"),
    ("s1", "-" * 60 + "x1", INV, "nested too deeply"),
    ("s1", "w11*x1\x00", INV, "NUL character at character 7"),
    ("s1", "w11*x1 + \u202eb1", INV, "U+202E"),
    ("s1", "x1\u200b", INV, "U+200B"),
    ("s1", "1" * 40, INV, "more than 15 digits"),
    ("s1", "1e999", INV, "too large"),
    ("s1", "((w11+x1+w21+x2+b1+b2+y1+y2+w12+w22)^32 + 1)^2 - (w11+x1+w21+x2+b1+b2+y1+y2+w12+w22)^64"
           " - 2*(w11+x1+w21+x2+b1+b2+y1+y2+w12+w22)^32 - 1 + w11*x1 + w21*x2 + b1", U, "could not decide"),
    ("L", "1/(x1 - x1)", X, "divides by zero"),
]

HOSTILE_FROM = CATALOGUE.index(("s1", "__import__('os').system('true')", INV, "unknown"))


@pytest.mark.parametrize(("row", "answer", "status", "fragment"), CATALOGUE,
                         ids=[f"{k}-{r}-{a[:30]}" for k, (r, a, _, _) in enumerate(CATALOGUE)])
def test_catalogue_verdict(row: str, answer: str, status: str, fragment: str) -> None:
    """Each catalogued answer gets its verdict and a message saying why (the time limit has its
    own tests below and in test_formula_limits.py)."""
    marks = {m.row: m for m in grade_formulas({row: answer})}
    mark = marks[row]
    assert mark.status == status, mark.message
    assert fragment in mark.message
    assert mark.given == answer
    expected_credit = {C: 1.0, NC: 0.5}.get(status, 0.0)
    assert mark.credit == expected_credit
    if status in (INV, "blank"):
        assert mark.understood == "" and mark.mathml == ""
    else:
        assert mark.understood and mark.mathml.startswith("<math")


def test_every_hostile_answer_at_once_stays_within_the_time_limit() -> None:
    """A submission made only of hostile answers is answered (invalid/undecided): the call
    returns (the bound below is a hang guard with room for a busy machine, not a measure of
    speed: without the deadline these rows run for minutes)."""
    hostile = [a for _, a, _, _ in CATALOGUE[HOSTILE_FROM:]]
    rows = ["s1", "s2", "f1", "f2", "L", "dL/df1", "dL/df2", "dL/ds1", "dL/ds2", "dL/db1",
            "dL/db2", "dL/dw11", "dL/dw21", "dL/dw12", "dL/dw22"]
    answers = dict(zip(rows, hostile))
    start = time.monotonic()
    marks = grade_formulas(answers)
    assert time.monotonic() - start < 10
    assert all(m.status in (INV, U, X) for m in marks if m.row in answers)
