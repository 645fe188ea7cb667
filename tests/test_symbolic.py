"""The symbolic equivalence check, run here in the test's own process (grading runs it in a forked
child, where it is observed only through its verdicts). Each expectation is the algebra done by
hand in the docstring of its case, not what the checker happens to say."""

from __future__ import annotations

import pytest

from grading.formulas.parser import parse_formula
from grading.formulas.rows import q1_table
from grading.formulas.symbolic import REASONS, equivalent, to_sympy, TooComplex

TABLE = q1_table(2, 2)


def verdict(row: str, text: str) -> tuple[str, str]:
    return equivalent(parse_formula(text), row, TABLE)


@pytest.mark.parametrize(("row", "text"), [
    ("s1", "w11*x1 + w21*x2 + b1"),                 # the definition itself
    ("s1", "x2*w21 + (b1 + x1*w11)"),               # reordered
    ("f1", "1/(1 + exp(-s1))"),                     # σ(s1) written out
    ("f1", "exp(s1)/(exp(s1) + 1)"),                # σ(s) = e^s / (e^s + 1)
    ("L", "((y1 - f1)^2 + (y2 - f2)^2)/2"),
    ("dL/ds1", "dL/df1*f1*(1 - f1)"),
    ("dL/ds1", "dL/df1*(f1 - f1^2)"),               # f(1 − f) expanded
    ("dL/dw11", "dL/ds1*x1"),
])
def test_equal_formulas_are_equal(row: str, text: str) -> None:
    assert verdict(row, text) == ("equal", "")


@pytest.mark.parametrize(("row", "text"), [
    ("f1", "1/(1 + exp(-(w11*x1 + w21*x2 + b1)))"),  # equal only once s1 is replaced by its definition
    ("dL/df1", "f1 - y1"),                          # the row's own definition, by name
])
def test_a_formula_equal_after_definitions_are_substituted_is_equal(row: str, text: str) -> None:
    assert verdict(row, text)[0] == "equal"


@pytest.mark.parametrize(("row", "text"), [
    ("s1", "w11*x1 + w21*x2"),                      # the bias left out
    ("dL/ds1", "dL/df1*f1"),                        # half the slope
    ("f1", "1/(1 + exp(s1))"),                      # the sign of the exponent: σ(−s1)
    ("L", "(y1 - f1)^2/2"),                         # one output only
])
def test_different_formulas_are_different(row: str, text: str) -> None:
    assert verdict(row, text) == ("different", "")


def test_tanh_goes_through_exp_exactly() -> None:
    """tanh(a) = (e^{2a} − 1)/(e^{2a} + 1): tanh(s1) and its exp form cancel exactly."""
    import sympy as sp

    a = parse_formula("tanh(s1)")
    b = parse_formula("(exp(2*s1) - 1)/(exp(2*s1) + 1)")
    assert sp.cancel(sp.together(to_sympy(a) - to_sympy(b))) == 0


def test_an_enormous_exponent_is_refused_before_sympy_computes_it() -> None:
    with pytest.raises(TooComplex):
        to_sympy(_power_tree(10**9))


def _power_tree(exponent: int):
    from fractions import Fraction

    from grading.formulas.nodes import BinOp, Name, Num

    return BinOp("^", Name("x1"), Num(Fraction(exponent)))


def test_a_verdict_it_cannot_reach_exactly_is_unknown_with_its_reason() -> None:
    """relu is kept as an uninterpreted function: relu(s1) against f1 (a sigmoid) has no exact
    zero test, so the answer is "unknown" (a human decides), never a guess."""
    assert verdict("f1", "relu(s1)") == ("unknown", "not_simplified")
    assert REASONS["not_simplified"]
