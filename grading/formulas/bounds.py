"""Refuse numbers too large to check, from the parsed tree, before any evaluation or sympy.

``9^9^9`` has 370 million digits: the numeric check gives up on it and sympy would try to
build it, so such a row could only ever wait for a human. It is refused at once instead, with a
message. Two rules, both decided on constants alone (the parts of a formula that use no name):
a power whose exponent is a constant keeps that exponent within ``MAX_POWER`` (what the
symbolic check expands), and every constant part evaluates within the numeric check's bounds
(``numeric.evaluate`` stops at 10^40 without computing further). ``(y1 - f1)^2``, ``x1^2``,
``2^-1`` and ``e^(-s1)`` pass; ``9^9^9``, ``2^(3^40)``, ``exp(exp(100))``, ``x1^(9^9)`` do not.
"""

from __future__ import annotations

from grading.engine.text import _

from .nodes import BinOp, Call, Expr, FormulaError, Name, Neg, to_text
from .numeric import Mpf, TooLarge, Undefined, evaluate, message_of

MAX_POWER = 64   # |exponent| of a power with a constant exponent; the symbolic check's bound too
_SHOWN = 40      # characters of a sub-formula quoted in the message


def check_size(expr: Expr) -> None:
    """Raise FormulaError("number too large to check: ...") if a constant is beyond our checks."""
    constant = _constant_nodes(expr)
    stack: list[tuple[Expr, bool]] = [(expr, False)]
    while stack:  # parents first, so the message quotes the outermost culprit
        node, inside = stack.pop()
        if isinstance(node, BinOp) and node.op == "^" and id(node.right) in constant:
            exponent = _value(node.right, node)
            if exponent is not None and abs(exponent) > MAX_POWER:
                raise FormulaError(_("number too large to check: %(part)s (its exponent %(exponent)s is "
                                     "above %(max)s)", part=_shown(node), exponent=_shown(node.right),
                                     max=MAX_POWER))
        if id(node) in constant and not inside:  # each largest constant part evaluated once
            _value(node, node)
        inside = inside or id(node) in constant
        stack.extend((child, inside) for child in reversed(_children(node)))


def _value(node: Expr, shown: Expr) -> Mpf | None:
    """The constant's value; None when it has none (1/0: the numeric check says so later)."""
    try:
        return evaluate(node, {})
    except TooLarge as exc:
        culprit, reason = (shown, message_of(exc)) if shown is not node else _culprit(node, message_of(exc))
        raise FormulaError(_("number too large to check: %(part)s (%(reason)s)", part=_shown(culprit),
                             reason=reason)) from None
    except Undefined:
        return None


def _culprit(node: Expr, reason: object) -> tuple[Expr, object]:
    """The innermost part of a too-large constant that is too large itself, and why."""
    while True:
        for child in _children(node):
            why = _too_large(child)
            if why:
                node, reason = child, why
                break
        else:
            return node, reason


def _too_large(node: Expr) -> object:
    try:
        evaluate(node, {})
    except TooLarge as exc:
        return message_of(exc)
    except Undefined:
        pass
    return ""


def _children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, BinOp):
        return (node.left, node.right)
    if isinstance(node, Neg):
        return (node.operand,)
    if isinstance(node, Call):
        return (node.arg,)
    return ()


def _constant_nodes(expr: Expr) -> set[int]:
    """ids of the nodes with no name below them (iterative: trees can be a few hundred deep)."""
    order: list[Expr] = []
    stack = [expr]
    while stack:
        node = stack.pop()
        order.append(node)
        stack.extend(_children(node))
    constant: set[int] = set()
    for node in reversed(order):  # children before their parents
        if not isinstance(node, Name) and all(id(child) in constant for child in _children(node)):
            constant.add(id(node))
    return constant


def _shown(node: Expr) -> str:
    text = to_text(node)
    return text if len(text) <= _SHOWN else text[:_SHOWN - 1] + "…"
