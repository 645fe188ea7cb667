"""Closed intervals of floats, rounded outward: what a typed value stands for, through a formula.

"0.2367" stands for any number in [0.23665, 0.23675]. Follow-through recomputes a cell from
the student's own upstream cells; a student who kept more digits than they typed computed from
some point of those intervals, so the marker recomputes the cell over the intervals. Every
operation rounds its bounds outward (one step of ``math.nextafter`` after +, −, ×, a few ulps
after a transcendental function), so the true value over any points of the inputs is always
inside the result. The cells' formulas (``grading.engine.steps``) are written with operators
and helpers that dispatch on this type, so the same formula evaluates floats and intervals.

No sampling and no Django: bounds come from monotone pieces only (sums, signed products, σ,
exp, ln, tanh, relu and its step, the square, the sigmoid slope f(1 − f) taken tightly, and
the cross-entropy slope −y/f + (1 − y)/(1 − f)).
"""

from __future__ import annotations

import math
from collections.abc import Callable

_INF = math.inf
_FN_ULPS = 8  # the error of exp-based functions in float64 is a few ulps; 8 is ample


def _down(x: float) -> float:
    return math.nextafter(x, -_INF)


def _up(x: float) -> float:
    return math.nextafter(x, _INF)


def _below(x: float, ulps: int) -> float:
    return x - ulps * math.ulp(x) if math.isfinite(x) else x


def _above(x: float, ulps: int) -> float:
    return x + ulps * math.ulp(x) if math.isfinite(x) else x


def _logistic(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def _exp(z: float) -> float:
    try:
        return math.exp(z)
    except OverflowError:
        return _INF


class Interval:
    """The closed interval [lo, hi] of reals; arithmetic with intervals and plain numbers."""

    __slots__ = ("hi", "lo")

    def __init__(self, lo: float, hi: float) -> None:
        if not lo <= hi:  # also refuses NaN, so no operation can return an empty interval
            raise ValueError(f"not an interval: [{lo}, {hi}]")
        self.lo, self.hi = lo, hi

    @classmethod
    def point(cls, value: float) -> Interval:
        """The exact value itself (a given number of the spec)."""
        v = float(value)
        return cls(v, v)

    @classmethod
    def around(cls, value: float, places: int) -> Interval:
        """What a value typed with ``places`` decimals stands for: ± half a unit of its last place."""
        v = float(value)
        half = 0.5 * 10.0 ** -places
        # The typed decimal is not exactly ``v``, nor is ``half`` exact: a few ulps of both cover it.
        slack = half + 4 * (math.ulp(v) + math.ulp(half))
        return cls(_down(v - slack), _up(v + slack))

    # -------------------------------------------------------------- reading

    @property
    def finite(self) -> bool:
        return math.isfinite(self.lo) and math.isfinite(self.hi)

    def __contains__(self, value: float) -> bool:
        return self.lo <= value <= self.hi

    def distance(self, value: float) -> float:
        """How far ``value`` lies outside the interval (0 inside)."""
        return max(self.lo - value, value - self.hi, 0.0)

    def __repr__(self) -> str:
        return f"Interval({self.lo!r}, {self.hi!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Interval) and (self.lo, self.hi) == (other.lo, other.hi)

    def __hash__(self) -> int:
        return hash((self.lo, self.hi))

    # -------------------------------------------------------------- arithmetic

    @staticmethod
    def _of(other: object) -> Interval | None:
        if isinstance(other, Interval):
            return other
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return Interval.point(other)
        return None

    def __neg__(self) -> Interval:
        return Interval(-self.hi, -self.lo)

    def __pos__(self) -> Interval:
        return self

    def __add__(self, other: object) -> Interval:
        o = self._of(other)
        if o is None:
            return NotImplemented
        return Interval(_down(self.lo + o.lo), _up(self.hi + o.hi))

    __radd__ = __add__

    def __sub__(self, other: object) -> Interval:
        o = self._of(other)
        if o is None:
            return NotImplemented
        return Interval(_down(self.lo - o.hi), _up(self.hi - o.lo))

    def __rsub__(self, other: object) -> Interval:
        o = self._of(other)
        if o is None:
            return NotImplemented
        return o - self

    def __mul__(self, other: object) -> Interval:
        o = self._of(other)
        if o is None:
            return NotImplemented
        a, b, c, d = self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi
        if math.isnan(a + b + c + d):  # 0 × ∞, or ∞ − ∞ in the check: no bound to give
            raise ValueError("interval product is undefined")
        return Interval(_down(min(a, b, c, d)), _up(max(a, b, c, d)))

    __rmul__ = __mul__

    def __truediv__(self, other: object) -> Interval:
        # Only by a nonzero number: no formula of these tables divides by a cell.
        if isinstance(other, bool) or not isinstance(other, (int, float)):
            return NotImplemented
        if other == 0:
            raise ZeroDivisionError("interval divided by zero")
        a, b = self.lo / other, self.hi / other
        return Interval(_down(min(a, b)), _up(max(a, b)))

    # -------------------------------------------------------------- functions

    def square(self) -> Interval:
        """{x² : x in the interval}: from 0 when it spans 0, not the product's [lo·hi, ...]."""
        lo, hi = self.lo, self.hi
        if lo >= 0:
            a, b = lo * lo, hi * hi
        elif hi <= 0:
            a, b = hi * hi, lo * lo
        else:
            a, b = 0.0, max(lo * lo, hi * hi)
        return Interval(max(0.0, _down(a)), _up(b))

    def monotone(self, fn: Callable[[float], float], ulps: int = _FN_ULPS) -> Interval:
        """The image under a nondecreasing ``fn`` accurate to a few ulps: [fn(lo), fn(hi)] widened."""
        return Interval(_below(fn(self.lo), ulps), _above(fn(self.hi), ulps))

    def sigmoid(self) -> Interval:
        """σ over the interval (σ is increasing and lies in [0, 1])."""
        out = self.monotone(_logistic)
        return Interval(max(0.0, out.lo), min(1.0, out.hi))

    def exp(self) -> Interval:
        out = self.monotone(_exp)
        return Interval(max(0.0, out.lo), out.hi)

    def tanh(self) -> Interval:
        out = self.monotone(math.tanh)
        return Interval(max(-1.0, out.lo), min(1.0, out.hi))

    def relu(self) -> Interval:
        return Interval(max(0.0, self.lo), max(0.0, self.hi))

    def log(self) -> Interval:
        """The natural logarithm (increasing); only of a positive interval."""
        if not self.lo > 0:
            raise ValueError("logarithm of an interval reaching 0 or below")
        return self.monotone(math.log)

    def reciprocal(self) -> Interval:
        """1/x over an interval that does not reach 0 (a softmax's sum, Adam's √v̂ + ε)."""
        if self.lo <= 0 <= self.hi:
            raise ZeroDivisionError("reciprocal of an interval reaching 0")
        return Interval(_down(1.0 / self.hi), _up(1.0 / self.lo))

    def sqrt(self) -> Interval:
        """√x (increasing); only of an interval not below 0 (a rounded v may reach just below)."""
        if self.hi < 0:
            raise ValueError("square root of a negative interval")
        lo = _below(math.sqrt(self.lo), 2) if self.lo > 0 else 0.0
        return Interval(max(0.0, lo), _above(math.sqrt(self.hi), 2))

    def relu_slope(self) -> Interval:
        """ReLU's derivative over the interval: 0 at s <= 0, 1 above, both where it spans 0."""
        return Interval(0.0 if self.lo <= 0 else 1.0, 1.0 if self.hi > 0 else 0.0)

    def cross_entropy_slope(self, y: Interval) -> Interval:
        """{−y/f + (1 − y)/(1 − f)} for f in this interval (within (0, 1)) and y in [0, 1]:
        it rises with f and falls with y, so its corners bound it."""
        if not (0 < self.lo and self.hi < 1 and 0 <= y.lo and y.hi <= 1):
            raise ValueError("cross-entropy slope needs f inside (0, 1) and y in [0, 1]")

        def g(f: float, t: float) -> float:
            return -(t / f) + (1 - t) / (1 - f)

        # Three roundings at each corner; eight ulps outward cover them.
        return Interval(_below(g(self.lo, y.hi), _FN_ULPS), _above(g(self.hi, y.lo), _FN_ULPS))

    def logistic_slope(self) -> Interval:
        """{f(1 − f) : f in the interval}, tightly: f(1 − f) rises to 1/4 at f = 1/2, then falls."""
        def g(f: float) -> float:
            return f * (1.0 - f)

        lo, hi = self.lo, self.hi
        top = 0.25 if lo <= 0.5 <= hi else max(g(lo), g(hi))
        # Two roundings (1 − f, then the product) at each end; four ulps outward cover them.
        return Interval(_below(min(g(lo), g(hi)), 4), _above(top, 4))


def typed_interval(value: float, places: int, decimals: int) -> Interval:
    """What a value typed with ``places`` decimals stands for, never wider than ``decimals`` allow.

    A value typed with fewer places than the assignment asks for (0.47 for 0.4712) is read as
    if written out to the asked places: fewer digits must not buy a wider check downstream.
    """
    return Interval.around(value, max(places, decimals))


def recompute(fn: Callable[..., object], upstream: list[Interval]) -> Interval | None:
    """``fn`` over the upstream intervals, or None where it has no finite bound."""
    try:
        out = fn(*upstream)
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return None
    return out if isinstance(out, Interval) and out.finite else None


__all__ = ["Interval", "recompute", "typed_interval"]
