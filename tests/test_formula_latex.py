"""Q1 as students write it (issue 21, item 5): sigma(s1), simple LaTeX and names run together
read exactly as their plain forms, which the tests write out by hand; hostile LaTeX refused at
once with a message (no database, except the preview's view test)."""

from __future__ import annotations

import os
from fractions import Fraction

import pytest
from django.urls import reverse
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from grading.formulas import FormulaError, grade_formulas, parse_formula, to_mathml
from grading.formulas.names import split_names, vocabulary
from grading.formulas.nodes import BinOp, Call, E, Name, Neg, Num

# (row, as typed, the plain form a student could have typed instead, the verdict of that form)
FORMS: list[tuple[str, str, str, str]] = [
    ("f1", "sigma(s1)", "sigmoid(s1)", "correct"),
    ("f2", "Sigma(s2)", "σ(s2)", "correct"),
    ("f1", r"\sigma(s_1)", "σ(s1)", "correct"),
    ("f1", r"\sigma\left(s_1\right)", "sigmoid(s1)", "correct"),
    ("f1", r"\frac{1}{1 + e^{-s_1}}", "1/(1 + e^(-s1))", "correct"),
    ("f1", r"\dfrac{1}{1+\exp(-s_{1})}", "1/(1 + exp(-s1))", "correct"),
    ("s1", r"w_{11} x_1 + w_{21} x_2 + b_1", "w11*x1 + w21*x2 + b1", "correct"),
    ("s1", r"w_{11} \cdot x_1 + w_{21} \times x_2 + b_{1}", "w11*x1 + w21*x2 + b1", "correct"),
    ("s1", "w11x1 + w21x2 + b1", "w11*x1 + w21*x2 + b1", "correct"),
    ("s2", "x1w12 + x2w22 + b2", "x1*w12 + x2*w22 + b2", "correct"),
    ("s1", "w_11x_1 + w_21x_2 + b_1", "w11*x1 + w21*x2 + b1", "correct"),
    ("s1", "w11x1 + w21x2", "w11*x1 + w21*x2", "incorrect"),
    ("L", r"\frac{1}{2}(y_1 - f_1)^{2} + \frac{1}{2}\left(y_2 - f_2\right)^{2}",
     "(1/2)*(y1 - f1)^2 + (1/2)*(y2 - f2)^2", "correct"),
    ("L", r"\frac{(y_1 - f_1)^2 + (y_2 - f_2)^2}{2}", "((y1 - f1)^2 + (y2 - f2)^2)/2", "correct"),
    ("dL/df1", r"f_1 - y_1", "f1 - y1", "correct"),
    ("dL/ds1", r"\frac{dL}{df_1} \cdot f_1 (1 - f_1)", "dL/df1 * f1 * (1 - f1)", "correct"),
    ("dL/ds1", r"\frac{\partial L}{\partial f_1} f_1\left(1-f_1\right)", "dL/df1*f1*(1 - f1)", "correct"),
    ("dL/ds1", r"\frac{dL}{df_1}\sigma'(s_1)", "dL/df1 * (σ(s1)*(1 - σ(s1)))", "correct"),
    ("dL/ds1", "dL/df1 sigma'(s1)", "dL/df1 * (σ(s1)*(1 - σ(s1)))", "correct"),
    ("dL/ds1", r"(f_1 - y_1) f_1 (1 - f_1)", "(f1 - y1)*f1*(1 - f1)", "not_chained"),
    ("dL/dw11", "dL/ds1x1", "dL/ds1 * x1", "correct"),
    ("dL/dw11", r"\frac{dL}{ds_1} x_1", "dL/ds1 * x1", "correct"),
    ("dL/dw21", r"\frac{\partial L}{\partial s_{1}}\cdot x_{2}", "dL/ds1 * x2", "correct"),
    ("dL/dw21", "dL/ds1x1", "dL/ds1 * x1", "incorrect"),
    ("dL/db1", r"\frac{dL}{ds_1}", "dL/ds1", "correct"),
    ("s1", "2x1 + (x2)(w21) - x1 + w11x1 - x1 + b1", "2*x1 + x2*w21 - x1 + w11*x1 - x1 + b1", "correct"),
]


def _mark(row: str, answer: str):
    return next(m for m in grade_formulas({row: answer}) if m.row == row)


@pytest.mark.parametrize(("row", "typed", "plain", "verdict"), FORMS, ids=[f[1] for f in FORMS])
def test_the_form_students_write_gets_the_verdict_of_its_plain_form(row, typed, plain, verdict):
    """Same tree, same MathML, same verdict and credit as the plain form written out by hand."""
    assert parse_formula(typed) == parse_formula(plain)
    assert to_mathml(typed) == to_mathml(plain)
    typed_mark, plain_mark = _mark(row, typed), _mark(row, plain)
    assert plain_mark.status == verdict, plain_mark.message
    assert typed_mark.status == verdict, typed_mark.message
    assert typed_mark.credit == plain_mark.credit
    assert typed_mark.mathml == plain_mark.mathml and typed_mark.understood == plain_mark.understood
    assert typed_mark.given == typed


@pytest.mark.parametrize(("typed", "plain"), [
    ("x1w11[2]", "x1*w11[2]"),
    ("w11[2]f1[1] + w21[2]f2[1] + b1[2]", "w11[2]*f1[1] + w21[2]*f2[1] + b1[2]"),
    (r"\frac{dL}{ds_1^{[2]}}", "dL/ds1[2]"),
    (r"\frac{dL}{ds_1}^{[2]}", "dL/ds1[2]"),
    (r"\frac{\partial L}{\partial f_{1}[2]} \cdot f_1[2](1 - f_1[2])", "dL/df1[2] * f1[2]*(1 - f1[2])"),
    (r"\sigma(s_1^{[2]})", "sigmoid(s1[2])"),
])
def test_layers_read_in_the_forms_students_write(typed, plain):
    """In a network with a hidden layer the layer follows the name, in LaTeX as in plain text."""
    assert parse_formula(typed, sizes=(2, 2, 2)) == parse_formula(plain, sizes=(2, 2, 2))
    assert to_mathml(typed, sizes=(2, 2, 2)) == to_mathml(plain, sizes=(2, 2, 2))


def test_a_run_of_names_that_needs_a_layer_is_still_refused_saying_so():
    """x1w11 in a network of layers: w11 has no layer; the message lists the names."""
    with pytest.raises(FormulaError) as info:
        parse_formula("x1w11 + b1[2]", sizes=(2, 2, 2))
    assert "unknown name 'x1w11' at character 1" in info.value.message
    assert "w11[1]..w22[1]" in info.value.message


def test_a_number_run_into_names_is_not_a_name():
    """x12 in a 2×2 network is not x1·2 read silently: it is refused, naming x1..x2."""
    with pytest.raises(FormulaError) as info:
        parse_formula("w11x12 + b1")
    assert "unknown name 'w11x12' at character 1" in info.value.message


def test_longest_match_and_ambiguity():
    """The split itself: the one reading by known names, or two readings (ambiguous)."""
    names = {"x1", "x2", "w11", "w21", "b1"}
    assert split_names("w11x1", names, names) == [("w11", "x1")]
    assert split_names("x1x2b1", names, names) == [("x1", "x2", "b1")]
    assert split_names("w11x3", names, names) == []
    assert split_names("x1", names, names) == []  # one name is not a run
    # A vocabulary where a run reads two ways: both are reported, longest first.
    assert split_names("abc", {"a", "ab"}, {"bc", "c"}) == [("ab", "c"), ("a", "bc")]
    assert split_names("s1x1", {"s1"}, {"x1"}) == [("s1", "x1")]


@pytest.mark.parametrize(("text", "fragment", "position"), [
    (r"\alpha x_1", r"the LaTeX command '\alpha' at character 1 is not one Q1 reads", 0),
    (r"x_1 \cdot w_{13}", "unknown name 'w_{13}' at character 11", 10),
    (r"x_1 + \frac{dL}{dq_1}", r"unknown derivative '\frac{dL}{dq_1}' at character 7", 6),
    (r"\frac{x_1}", r"\frac at character 1 needs its two parts in braces: \frac{a}{b}", 0),
    (r"\frac x_1 x_2", r"\frac at character 1 needs its two parts in braces", 0),
    (r"\frac{x_1}{x_2", r"\frac at character 1 needs its two parts in braces", 0),
    ("\\", r"the LaTeX command '\' at character 1", 0),
    (r"\sigma(s_1) \cdotx_1", r"'\cdotx' at character 13", 12),
    (r"\left( x_1 \right", "unclosed '(' at character 6", 5),
])
def test_latex_that_cannot_be_read_says_what_and_where(text, fragment, position):
    """Positions count the characters as typed (a command is not shortened)."""
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert fragment in info.value.message
    assert info.value.position == position


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    """Counts the processes forked by grading (each fork appends here, in this process)."""
    count: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        count.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    return count


@pytest.mark.parametrize(("text", "fragment"), [
    ("\\frac{" * 40 + "x_1" + "}{2}" * 40, "nested too deeply"),
    ("\\left(" * 40 + "x_1" + "\\right)" * 40, "too long"),
    ("\\left(" * 51 + "x_1" + ")" * 51, "nested too deeply"),
    ("\\frac{1}{2}" * 60, "too long"),
    ("\\frac" * 100, "needs its two parts in braces"),
    ("\\frac{" * 80, "needs its two parts in braces"),
    ("\\frac{9}{1}^{\\frac{9}{1}^{\\frac{9}{1}}}", "number too large to check"),
    ("\\exp(\\exp(\\exp(99)))", "number too large to check"),
    ("\\" * 500, "LaTeX command"),
    ("w11x1" * 100 + "+", "too long"),
])
def test_hostile_latex_is_refused_at_once_with_a_message(forks, text, fragment):
    """Deep nesting, long \\frac chains, huge powers: invalid with a message, and no child process
    is started for them (decided while reading)."""
    mark = _mark("s1", text)
    assert mark.status == "invalid" and mark.credit == 0
    assert fragment in mark.message
    assert forks == []


def test_a_long_chain_of_fractions_within_the_length_limit_is_read():
    """Forty-five \\frac{1}{2} in a row (495 characters) are a product of halves, not an error."""
    text = "\\frac{1}{2}" * 45
    assert len(text) <= 500
    assert parse_formula(text) == parse_formula("*".join(["(1/2)"] * 45))


@pytest.mark.django_db
def test_the_preview_shows_latex_as_it_shows_the_plain_form(world):
    """The live preview (the student's page) draws \\frac{dL}{df_1}, sigma(s1) and w11x1 as it
    draws dL/df1, σ(s1) and w11*x1, and names a LaTeX command it does not read."""
    from tests.webtools import client_for

    client = client_for(world["alice"])
    url = reverse("grading:formula_preview")
    for typed, plain in [(r"\frac{dL}{df_1} \cdot f_1(1 - f_1)", "dL/df1 * f1 * (1 - f1)"),
                         ("sigma(s1)", "σ(s1)"), ("w11x1 + w21x2 + b1", "w11*x1 + w21*x2 + b1"),
                         ("s1 = w_{11}x_1 + w_{21}x_2 + b_1", "w11*x1 + w21*x2 + b1")]:
        shown = client.get(url, {"text": typed, "row": "s1", "n": 2, "m": 2}).json()
        expected = client.get(url, {"text": plain, "n": 2, "m": 2}).json()
        assert shown["error"] == "" and shown["mathml"].startswith("<math")
        assert shown["mathml"] == expected["mathml"]
    refused = client.get(url, {"text": r"\int{x_1}", "n": 2, "m": 2}).json()
    assert refused["mathml"] == "" and r"'\int'" in refused["error"]


def test_a_run_typed_with_chi_still_says_how_it_was_read():
    """χ1 inside a run of names is x1, and the note says so, as it does for χ1 alone."""
    from grading.formulas.parser import parse_with_notes

    expr, notes = parse_with_notes("w11χ1 + w21χ2 + b1")
    assert expr == parse_formula("w11*x1 + w21*x2 + b1")
    assert notes == ["read 'χ1' as x1", "read 'χ2' as x2"]


# ---------------------------------------------------------------- any tree, written in LaTeX (hypothesis)

def _latex_name(name: str, partial: bool) -> str:
    """A name as LaTeX writes it, written here without the app's code: w_{11}, \\frac{dL}{ds_{1}}."""
    if name.startswith("dL/d"):
        d = "\\partial " if partial else "d"
        return f"\\frac{{{d}L}}{{{d}{_latex_name(name[4:], partial)}}}"
    letter, digits = name[0], name[1:]
    return f"{letter}_{{{digits}}}" if digits else letter


def _latex(tree, style: int) -> tuple[str, int]:
    """(LaTeX text, nesting depth) of a tree; ``style`` picks between equivalent spellings."""
    from decimal import Decimal

    bit = style & 1
    if isinstance(tree, Num):
        value = Decimal(tree.value.numerator) / Decimal(tree.value.denominator)
        return format(value, "f"), 0
    if isinstance(tree, Name):
        return _latex_name(tree.name, bool(bit)), 2
    if isinstance(tree, E):
        return "e", 0
    if isinstance(tree, Neg):
        inner, depth = _latex(tree.operand, style >> 1)
        return f"-\\left({inner}\\right)", depth + 2
    if isinstance(tree, Call):
        inner, depth = _latex(tree.arg, style >> 1)
        func = {"sigmoid": "\\sigma" if bit else "sigma", "exp": "\\exp"}[tree.func]
        return f"{func}\\left({inner}\\right)", depth + 1
    left, dl = _latex(tree.left, style >> 1)
    right, dr = _latex(tree.right, style >> 2)
    depth = max(dl, dr) + 2
    if tree.op == "/":
        return (f"\\frac{{{left}}}{{{right}}}" if bit else f"\\dfrac{{{left}}}{{{right}}}"), depth
    if tree.op == "^":
        return f"\\left({left}\\right)^{{{right}}}", depth
    op = {"+": " + ", "-": " - ", "*": (" \\cdot " if bit else "")}[tree.op]
    return f"\\left({left}\\right){op}\\left({right}\\right)", depth


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.one_of(st.builds(lambda k, d: Num(Fraction(k, 10 ** d)), st.integers(0, 10 ** 5), st.integers(0, 3)),
              st.sampled_from(sorted(vocabulary(2, 2).all)).map(Name), st.just(E())),
    lambda children: st.one_of(st.builds(Neg, children),
                               st.builds(BinOp, st.sampled_from("+-*/^"), children, children),
                               st.builds(Call, st.sampled_from(["exp", "sigmoid"]), children)),
    max_leaves=8), st.integers(0, 2 ** 16))
def test_any_tree_written_in_latex_reads_as_that_tree(tree, style):
    """A tree written in LaTeX by the printer above (\\frac, \\cdot or juxtaposition, \\left( \\right),
    subscripts in braces, \\sigma) is read as that very tree, and previews as it does."""
    text, depth = _latex(tree, style)
    assume(len(text) <= 500 and depth <= 40)
    assert parse_formula(text) == tree, text
    assert to_mathml(text) == to_mathml(tree)
