"""Symbolic equivalence with sympy, built from our tree (never from text).

Both sides are compared with the rows' names as free symbols first; only if that fails is each
row name replaced by its definition, one level at a time, down to the inputs. Every ``exp(a)`` is
then rewritten as a product of powers of one symbol per monomial of ``a``, which turns the
difference into a rational function whose zero test (``cancel``) is exact. This module runs in
the child process that the sandbox kills on timeout.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from grading.engine import registry
from grading.engine.text import _

from .bounds import MAX_POWER
from .nodes import Call, E, Expr, Name, Neg, Num
from .rows import Table

MAX_EXPONENT = MAX_POWER  # formulas with larger constant exponents are refused before this
# Why a check gave no verdict. The child reports the key (the sandbox returns plain data only);
# the parent reads the message here, so it keeps its structure and the reader's language.
REASONS = {
    "": "",
    "too_complex": _("could not evaluate: %(why)s", why=_("an exponent is too large")),
    "not_simplified": _("sympy could not simplify the difference"),
}


_SYMPY = {a.formula_names[0]: a.sympy_value for a in registry.formula_activations() if a.sympy_value}

class TooComplex(ArithmeticError):
    """Building this expression would mean computing enormous numbers."""


def to_sympy(expr: Expr) -> sp.Expr:
    """The sympy object for ``expr``, with guards on numeric powers."""
    if isinstance(expr, Num):
        return sp.Rational(expr.value.numerator, expr.value.denominator)
    if isinstance(expr, Name):
        return sp.Symbol(expr.name)
    if isinstance(expr, E):
        return sp.E
    if isinstance(expr, Neg):
        return -to_sympy(expr.operand)
    if isinstance(expr, Call):
        arg = to_sympy(expr.arg)
        if expr.func == "exp":
            return sp.exp(arg)
        if expr.func == "ln":
            return sp.log(arg)
        # An activation as its registry record writes it in sympy (sigmoid and tanh through exp,
        # so that the exact rewriting below covers them). relu, step and the like are kept as
        # functions of their argument (the same argument cancels; any other difference is not
        # decided exactly, so it goes to a human).
        written = _SYMPY.get(expr.func)
        return written(sp, arg) if written is not None else sp.Function(expr.func)(arg)
    a, b = to_sympy(expr.left), to_sympy(expr.right)
    if expr.op == "+":
        return a + b
    if expr.op == "-":
        return a - b
    if expr.op == "*":
        return a * b
    if expr.op == "/":
        return a / b
    if b.is_Number:
        if not b.is_Rational or abs(b.p) > MAX_EXPONENT or b.q > MAX_EXPONENT:
            raise TooComplex(_("an exponent is too large"))
    return a ** b


class _Canon:
    """Rewrites exp(c1*m1 + c2*m2 + ...) as E[m1]^c1 * E[m2]^c2 * ...; notes what is not exact."""

    def __init__(self) -> None:
        self.exact = True

    def __call__(self, expr: sp.Expr) -> sp.Expr:
        # exp first: sympy's subs would turn exp(a) into E[1]**a if E were replaced first.
        expr = expr.replace(lambda e: isinstance(e, sp.exp), self._exp)
        return expr.xreplace({sp.E: sp.Symbol("E[1]")})

    def _exp(self, node: sp.exp) -> sp.Expr:
        arg = sp.expand(node.args[0])
        out = sp.Integer(1)
        for mono, coeff in arg.as_coefficients_dict().items():
            if not coeff.is_Rational or abs(coeff) > MAX_EXPONENT:
                self.exact = False
                out *= sp.exp(coeff * mono)
                continue
            if mono != 1 and (not mono.is_polynomial() or any(str(s).startswith("E[") for s in mono.free_symbols)):
                self.exact = False
            out *= sp.Symbol(f"E[{sp.srepr(mono) if mono != 1 else 1}]") ** coeff
        return out

    def check_powers(self, expr: sp.Expr) -> None:
        for node in sp.preorder_traversal(expr):
            if isinstance(node, sp.Pow) and not node.exp.is_Integer:
                self.exact = False
            elif isinstance(node, sp.Function) or node in (sp.nan, sp.zoo, sp.oo, -sp.oo):
                self.exact = False


def _is_zero(diff: sp.Expr) -> tuple[bool, bool]:
    """(is zero, the answer is exact) for a difference of two formulas."""
    if diff == 0:
        return True, True
    canon = _Canon()
    rational = canon(diff)
    if rational.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return False, False
    reduced = sp.cancel(sp.together(rational))
    canon.check_powers(reduced)
    return reduced == 0, canon.exact


@lru_cache(maxsize=128)  # one entry per network shape in use
def definitions(table: Table) -> dict[str, sp.Expr]:
    """Each row's reference formula as sympy (built in the parent, so forked children share it)."""
    return {r.name: to_sympy(r.expr) for r in table.rows}


def equivalent(answer: Expr, row: str, table: Table) -> tuple[str, str]:
    """("equal" | "different" | "unknown", reason) for an answer to ``row``; the reason is a key
    of ``REASONS`` ("" when there is none)."""
    defs = definitions(table)
    try:
        lhs, rhs = to_sympy(answer), defs[row]
    except TooComplex:
        return "unknown", "too_complex"
    rows = {sp.Symbol(name): value for name, value in defs.items()}
    for _level in range(len(table.rows) + 1):
        zero, exact = _is_zero(lhs - rhs)
        if zero:
            return "equal", ""
        if not (lhs.free_symbols | rhs.free_symbols) & rows.keys():
            return ("different", "") if exact else ("unknown", "not_simplified")
        lhs, rhs = lhs.xreplace(rows), rhs.xreplace(rows)
    return "unknown", "not_simplified"
