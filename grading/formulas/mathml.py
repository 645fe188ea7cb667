"""Presentation MathML of a formula tree, rendered on the server (browsers draw it natively)."""

from __future__ import annotations

import re
from html import escape

from .nodes import PREC, BinOp, Call, E, Expr, Name, Neg, Num, number_text, prec

_NS = "http://www.w3.org/1998/Math/MathML"
_INDEXED = re.compile(r"([a-zA-Z])(\d+)")


def to_mathml(text_or_expr: str | Expr, *, n_inputs: int = 2, n_outputs: int = 2) -> str:
    """``<math>`` markup of a formula (text is parsed first; FormulaError if it cannot be)."""
    if isinstance(text_or_expr, str):
        from .parser import parse_formula

        text_or_expr = parse_formula(text_or_expr, n_inputs=n_inputs, n_outputs=n_outputs)
    return f'<math xmlns="{_NS}" display="inline">{_render(text_or_expr)}</math>'


def _mi(text: str) -> str:
    return f"<mi>{escape(text)}</mi>"


def _mo(text: str) -> str:
    return f"<mo>{escape(text)}</mo>"


def _row(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def _name(name: str) -> str:
    if name.startswith("dL/d"):
        return ("<mfrac>" + _row(_mi("d"), _mi("L")) + _row(_mi("d"), _name(name[4:])) + "</mfrac>")
    match = _INDEXED.fullmatch(name)
    if match:
        return f"<msub>{_mi(match.group(1))}<mn>{escape(match.group(2))}</mn></msub>"
    return _mi(name)


def _parens(inner: str) -> str:
    return _row(_mo("("), inner, _mo(")"))


def _render(expr: Expr) -> str:
    if isinstance(expr, Num):
        return f"<mn>{escape(number_text(expr.value))}</mn>"
    if isinstance(expr, Name):
        return _name(expr.name)
    if isinstance(expr, E):
        return _mi("e")
    if isinstance(expr, Call):
        func = _mi("σ") if expr.func == "sigmoid" else _mi("exp")
        return _row(func, "<mo>&#x2061;</mo>", _parens(_render(expr.arg)))
    if isinstance(expr, Neg):
        inner = _render(expr.operand)
        return _row(_mo("−"), _parens(inner) if prec(expr.operand) < PREC["neg"] else inner)
    if expr.op == "/":
        # A fraction bar groups both sides: no parentheses needed inside.
        return f"<mfrac>{_row(_render(expr.left))}{_row(_render(expr.right))}</mfrac>"
    left, right = _render(expr.left), _render(expr.right)
    if expr.op == "^":
        base = _parens(left) if prec(expr.left) <= PREC["^"] or isinstance(expr.left, Call) else left
        return f"<msup>{_row(base)}{_row(right)}</msup>"
    p = PREC[expr.op]
    # A fraction operand renders as a visually grouped block, so it needs no parentheses.
    if prec(expr.left) < p and not _is_frac(expr.left):
        left = _parens(left)
    if prec(expr.right) <= p and not _is_frac(expr.right):
        right = _parens(right)
    symbol = {"+": "+", "-": "−", "*": "×"}[expr.op]
    return _row(left, _mo(symbol), right)


def _is_frac(expr: Expr) -> bool:
    return isinstance(expr, BinOp) and expr.op == "/"
