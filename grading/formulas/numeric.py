"""Bounded numeric evaluation of formula trees at random points, in-process.

mpmath at 50 digits, with every intermediate kept within ±1e40: an expression that would need
more (``9^9^9``, ``exp(exp(99))``) stops at once with TooLarge instead of computing. A clear
difference at one point proves two formulas differ; agreement at every point is strong evidence,
which the symbolic check then confirms.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, TypeAlias

import mpmath

from grading.engine import registry
from grading.engine.text import Text, _

from .nodes import BinOp, Call, E, Expr, Name, Neg, Num
from .names import ROUND
from .rows import OLD, Table

# mpmath has no type information: its numbers (mpf) are Any to mypy; this names them.
Mpf: TypeAlias = Any

_ctx = mpmath.MPContext()
_ctx.dps = 50
mpf = _ctx.mpf
LOG_LIMIT = 92.0            # ln(1e40)
LIMIT = mpf(10) ** 40
EQUAL_TOL = mpf(10) ** -30
DIFFERENT_TOL = mpf(10) ** -15
N_POINTS = 5
SEED = 41


class Undefined(ArithmeticError):
    """The formula has no real value here (division by zero, root of a negative)."""


class TooLarge(ArithmeticError):
    """The formula's numbers are beyond what we evaluate."""


def message_of(exc: BaseException) -> object:
    """An exception's message as it was raised (a Text keeps its language open; str() would fix it)."""
    return exc.args[0] if exc.args else ""


def evaluate(expr: Expr, env: Mapping[str, Mpf], peak: list[Mpf] | None = None) -> Mpf:
    """The value of ``expr`` with names bound by ``env``; raises Undefined or TooLarge.

    ``peak``, if given, ends up holding the largest magnitude met on the way: a difference is
    only meaningful relative to it (``X^60 - X^60`` loses digits to cancellation).
    """
    peak = peak if peak is not None else [mpf(0)]
    return _eval(expr, env, peak)


def _eval(expr: Expr, env: Mapping[str, Mpf], peak: list[Mpf]) -> Mpf:
    if isinstance(expr, Num):
        return _bounded(mpf(expr.value.numerator) / expr.value.denominator, peak)
    if isinstance(expr, Name):
        return env[expr.name]
    if isinstance(expr, E):
        return _ctx.e
    if isinstance(expr, Neg):
        return -_eval(expr.operand, env, peak)
    if isinstance(expr, Call):
        arg = _eval(expr.arg, env, peak)
        return _bounded(_CALLS[expr.func](arg), peak)
    a, b = _eval(expr.left, env, peak), _eval(expr.right, env, peak)
    op = expr.op
    if op == "+":
        return _bounded(a + b, peak)
    if op == "-":
        return _bounded(a - b, peak)
    if op == "*":
        return _bounded(a * b, peak)
    if op == "/":
        if b == 0:
            raise Undefined(_("division by zero"))
        return _bounded(a / b, peak)
    return _bounded(_power(a, b), peak)


def _bounded(v: Mpf, peak: list[Mpf]) -> Mpf:
    if not _ctx.isfinite(v) or abs(v) > LIMIT:
        raise TooLarge(_("numbers too large"))
    if abs(v) > peak[0]:
        peak[0] = abs(v)
    return v


def _exp(a: Mpf) -> Mpf:
    if a > LOG_LIMIT:
        raise TooLarge(_("exp of a large number"))
    return _ctx.exp(a)


def _sigmoid(a: Mpf) -> Mpf:
    if a < -LOG_LIMIT:
        raise TooLarge(_("sigmoid of a large negative number"))
    return 1 / (1 + _ctx.exp(-a))


def _ln(a: Mpf) -> Mpf:
    if a <= 0:
        raise Undefined(_("the logarithm of a number that is not positive"))
    return _ctx.log(a)


# The activations as their registry records compute them in mpmath; the sigmoid guarded above.
_CALLS: dict[str, Callable[[Mpf], Mpf]] = {"exp": _exp, "ln": _ln, "step": lambda a: mpf(1) if a > 0 else mpf(0),
          **{a.formula_names[0]: (lambda x, a=a: a.mp_value(_ctx, x))  # type: ignore[misc]
             for a in registry.formula_activations()},
          "sigmoid": _sigmoid}


def _power(a: Mpf, b: Mpf) -> Mpf:
    if a == 0:
        if b > 0:
            return mpf(0)
        raise Undefined(_("zero to a power that is not positive"))
    integer = b == _ctx.nint(b)
    if a < 0 and not integer:
        raise Undefined(_("a negative number to a fractional power"))
    if abs(b) * abs(_ctx.log(abs(a))) > LOG_LIMIT:
        raise TooLarge(_("power too large"))
    return _ctx.power(a, int(b) if integer else b)


@dataclass(frozen=True)
class Comparison:
    verdict: str            # equal | different | undefined | unknown
    reason: str = ""  # a grading.engine.text.Text when there is one
    pairs: tuple[tuple[Mpf, Mpf], ...] = ()  # (answer, reference) at the usable points


@dataclass(frozen=True)
class Points:
    """Random values of the inputs, and every row's true value there."""

    envs: tuple[dict[str, Mpf], ...]


def random_points(table: Table, count: int = N_POINTS, seed: int = SEED) -> Points:
    """``count`` points where every row of ``table`` has a value (same seed, same points)."""
    rng = random.Random(seed)
    inputs = sorted(table.inputs)
    envs: list[dict[str, Mpf]] = []
    while len(envs) < count:
        env: dict[str, Mpf] = {name: _input_value(name, rng.randint(-1500, 1500)) for name in inputs}
        for row in table.rows:
            env[row.name] = evaluate(row.expr, env)
        envs.append(env)
    return Points(tuple(envs))


def _input_value(name: str, drawn: int) -> Mpf:
    """An input's value from a draw in -1500..1500: the round t a whole number 1..6, a second
    moment before the round (v, v̂) not negative, anything else drawn/1000."""
    if name == ROUND:
        return mpf(abs(drawn) % 6 + 1)
    if name in (OLD + "v", OLD + "vhat"):
        return mpf(abs(drawn)) / 1000
    return mpf(drawn) / 1000


def compare(answer: Expr, reference: Expr, points: Points) -> Comparison:
    """Compare two formulas over the rows' true values at ``points``."""
    pairs, undefined, too_large = [], 0, None
    for env in points.envs:
        peak: list[Mpf] = [mpf(1)]
        ref = evaluate(reference, env, peak)
        try:
            ans = evaluate(answer, env, peak)
        except Undefined:
            undefined += 1
            continue
        except TooLarge as exc:
            too_large = message_of(exc)
            continue
        scale = peak[0]
        if abs(ans - ref) > DIFFERENT_TOL * scale:
            return Comparison("different", pairs=((ans, ref),))
        pairs.append((ans, ref))
        if abs(ans - ref) > EQUAL_TOL * scale:
            return Comparison("unknown", _("the values agree only approximately"))
    if too_large is not None:
        return Comparison("unknown", _("could not evaluate: %(why)s", why=too_large))
    if undefined == len(points.envs):
        return Comparison("undefined", _("the formula is undefined (it divides by zero)"))
    if undefined:
        return Comparison("unknown", _("the formula is undefined at some points"))
    return Comparison("equal", pairs=tuple(pairs))


def hint_for(answer: Expr, reference: Expr, points: Points) -> Text | str:
    """A hint when a wrong answer is the truth times a constant (a sign, a factor of 2)."""
    ratios = []
    for env in points.envs:
        try:
            ans, ref = evaluate(answer, env), evaluate(reference, env)
        except ArithmeticError:
            return ""
        if abs(ref) < mpf(10) ** -12:
            return ""
        ratios.append(ans / ref)
    if not ratios or any(abs(r - ratios[0]) > mpf(10) ** -20 for r in ratios):
        return ""
    k = float(ratios[0])
    if abs(k + 1) < 1e-12:
        return _("it has the wrong sign")
    if k == 0:
        return _("it is always zero")
    shown = str(Fraction(k).limit_denominator(100)) if abs(k) < 1e6 else f"{k:.3g}"
    return _("it is %(factor)s times the right value: check the constant factors", factor=shown)


def depends_on(expr: Expr, name: str, names: list[str], seed: int = SEED) -> bool:
    """Whether ``expr`` really changes with ``name`` when every name is free (not ``0*dL/df1``).

    The last try moves ``name`` across 0, where ReLU's step(s) changes and nowhere else.
    """
    rng = random.Random(seed)
    for attempt in range(3):
        env = {n: mpf(rng.randint(100, 900)) / 1000 for n in names}
        try:
            if attempt == 2:
                env[name] = -env[name]
            before = evaluate(expr, env)
            env[name] = abs(env[name]) + mpf(rng.randint(100, 900)) / 1000
            after = evaluate(expr, env)
        except ArithmeticError:
            return True  # cannot tell: trust that a written name is used
        if abs(after - before) > mpf(10) ** -20 * max(1, abs(before)):
            return True
    return False


def substitute(expr: Expr, mapping: Mapping[str, Expr]) -> Expr:
    """``expr`` with names replaced (used to try 'x1 in place of x2' hints)."""
    if isinstance(expr, Name):
        return mapping.get(expr.name, expr)
    if isinstance(expr, Neg):
        return Neg(substitute(expr.operand, mapping))
    if isinstance(expr, Call):
        return Call(expr.func, substitute(expr.arg, mapping))
    if isinstance(expr, BinOp):
        return BinOp(expr.op, substitute(expr.left, mapping), substitute(expr.right, mapping))
    return expr

