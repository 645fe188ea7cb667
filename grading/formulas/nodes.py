"""The formula AST, its error type and its canonical text form.

The tree is tiny on purpose: numbers, the homework's names, Euler's e, unary minus, the five
binary operators and calls of the allowed functions (exp, ln and the activations with ReLU's
step). Nothing else can be represented, so
nothing else can be evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Union

from grading.engine import registry

# exp, ln, the activations of grading.engine.registry that have a function, and step(a): 1 for a > 0, else 0
FUNCTIONS = ("exp", "ln", *(a.formula_names[0] for a in registry.formula_activations()), "step")


class FormulaError(ValueError):
    """A formula that cannot be read, with a message fit for the student (a grading.engine.text.Text:
    ``str(exc)`` says it in the active language) and a 0-based position."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


@dataclass(frozen=True)
class Num:
    value: Fraction


@dataclass(frozen=True)
class Name:
    name: str  # canonical: "x1", "w21", "L", "dL/ds1"; with layers "s1[2]", "dL/dw12[2]"


@dataclass(frozen=True)
class E:
    """Euler's number."""


@dataclass(frozen=True)
class Neg:
    operand: "Expr"


@dataclass(frozen=True)
class BinOp:
    op: str  # one of + - * / ^
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True)
class Call:
    func: str  # one of FUNCTIONS
    arg: "Expr"


Expr = Union[Num, Name, E, Neg, BinOp, Call]

# Binding strength, used by the text and MathML printers alike.
PREC = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3, "^": 4, "atom": 5}


def prec(expr: Expr) -> int:
    if isinstance(expr, BinOp):
        return PREC[expr.op]
    if isinstance(expr, Neg):
        return PREC["neg"]
    return PREC["atom"]


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of the tree, parents first (iterative: trees can be a few hundred deep)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, BinOp):
            stack.extend((node.right, node.left))
        elif isinstance(node, (Neg, Call)):
            stack.append(node.operand if isinstance(node, Neg) else node.arg)


def names_in(expr: Expr) -> list[str]:
    """The distinct names used, in order of first appearance."""
    seen: dict[str, None] = {}
    for node in walk(expr):
        if isinstance(node, Name):
            seen.setdefault(node.name, None)
    return list(seen)


def number_text(value: Fraction) -> str:
    """Exact decimal text of a number the parser can produce (denominator 2^a 5^b)."""
    if value.denominator == 1:
        return str(value.numerator)
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den, twos = den // 2, twos + 1
    while den % 5 == 0:
        den, fives = den // 5, fives + 1
    if den != 1:  # not from the parser; keep it exact rather than pretty
        return f"({value.numerator}/{value.denominator})"
    places = max(twos, fives)
    scaled = value * 10 ** places
    sign = "-" if scaled < 0 else ""
    digits = str(abs(scaled.numerator)).rjust(places + 1, "0")
    return f"{sign}{digits[:-places]}.{digits[-places:]}"


def to_text(expr: Expr) -> str:
    """Canonical text: explicit operators, minimal parentheses; parses back to the same tree."""
    if isinstance(expr, Num):
        return number_text(expr.value)
    if isinstance(expr, Name):
        return expr.name
    if isinstance(expr, E):
        return "e"
    if isinstance(expr, Call):
        return f"{expr.func}({to_text(expr.arg)})"
    if isinstance(expr, Neg):
        inner = to_text(expr.operand)
        return "-" + (f"({inner})" if prec(expr.operand) < PREC["neg"] else inner)
    op, p = expr.op, PREC[expr.op]
    if op == "^" and expr.right == Num(Fraction(1, 2)):
        return f"sqrt({to_text(expr.left)})"  # parses back to the same tree
    left, right = to_text(expr.left), to_text(expr.right)
    if op == "^":
        # The base is a primary; the exponent is parsed as a unary expression.
        if prec(expr.left) <= p:
            left = f"({left})"
        if prec(expr.right) < PREC["neg"]:
            right = f"({right})"
        return f"{left}^{right}"
    if prec(expr.left) < p:
        left = f"({left})"
    if prec(expr.right) <= p:
        right = f"({right})"
    if op in "+-":
        return f"{left} {op} {right}"
    if op == "*" and ("dL/" in left or "dL/" in right):
        return f"{left} * {right}"  # "dL/df1 * f1" reads better than "dL/df1*f1"
    return f"{left}{op}{right}"
