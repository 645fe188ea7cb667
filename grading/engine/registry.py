"""The one registry of activations and losses: every fact about one of them, in one record.

No Django here, and nothing of marking, formulas or mistakes: a record holds plain data and
numpy/math callables. Where a consumer needs a tool it owns (an interval, mpmath, sympy), the
record's callable takes that tool as an argument or asks the value for a method by name, so the
engine never imports it. Consumers look a name up with ``activation(name)`` / ``loss(name)``,
which raise ``UnknownName`` (a KeyError) for a name not registered: nothing falls through to a
default. Adding an activation is adding one record to ``_ACTIVATIONS`` (and its words where the
pages need them).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from grading.engine.text import Text, _


class UnknownName(KeyError, ValueError):
    """An activation or loss the registry does not know; ``str()`` names the known ones. A
    ValueError too, as the engine's other complaints about its arguments are."""

    def __init__(self, kind: str, name: object, known: tuple[str, ...]) -> None:
        super().__init__(name)
        self.kind, self.name, self.known = kind, name, known

    def __str__(self) -> str:
        return f'unknown {self.kind} "{self.name}"; known: {", ".join(self.known)}'


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) or isinstance(v, numbers.Real)  # numpy scalars too


# ---------------------------------------------------------------- scalar functions (numbers or intervals)


def sigmoid(z: Any) -> Any:
    """The logistic function, written to avoid overflow for large |z|."""
    if not _number(z):
        return z.sigmoid()
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


def tanh(z: Any) -> Any:
    return math.tanh(z) if _number(z) else z.tanh()


def relu(z: Any) -> Any:
    if not _number(z):
        return z.relu()
    return z if z > 0 else 0.0


LEAKY_SLOPE = 0.01  # leaky_relu's slope below 0


def _leaky(z: float) -> float:
    return z if z > 0 else LEAKY_SLOPE * z


def leaky_relu(z: Any) -> Any:
    # Increasing: an interval's image is its ends' images, widened by a few ulps.
    return _leaky(z) if _number(z) else z.monotone(_leaky)


def identity(v: Any) -> Any:
    return v


def _times_sigmoid_slope(g: Any, f: Any) -> Any:
    # f * (1 - f) over an interval of f is bounded as one piece (it peaks at f = 1/2).
    return g * f * (1 - f) if _number(f) else g * f.logistic_slope()


def _times_tanh_slope(g: Any, f: Any) -> Any:
    return g * (1 - f * f) if _number(f) else g * (1 - f.square())


def _times_relu_slope(g: Any, s: Any) -> Any:
    # ReLU's derivative is 0 at s <= 0, as the spec format says.
    if _number(s):
        return g * (1.0 if s > 0 else 0.0)
    return g * s.relu_slope()


def _times_leaky_slope(g: Any, s: Any) -> Any:
    # leaky_relu's derivative is 0.01 at s <= 0, as ReLU's is 0 there.
    if _number(s):
        return g * (1.0 if s > 0 else LEAKY_SLOPE)
    return g * (s.relu_slope() * (1 - LEAKY_SLOPE) + LEAKY_SLOPE)


def _times_one(g: Any) -> Any:
    return g * 1.0 if _number(g) else g


# ---------------------------------------------------------------- numpy


def _np_sigmoid(s: np.ndarray) -> np.ndarray:
    # Written as sigmoid is, so neither branch overflows for large |s|.
    e = np.exp(-np.abs(s))
    out: np.ndarray = np.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return out


def _np_softmax(s: np.ndarray) -> np.ndarray:
    e = np.exp(s - np.max(s, axis=-1, keepdims=True))
    out: np.ndarray = e / np.sum(e, axis=-1, keepdims=True)
    return out


# ---------------------------------------------------------------- activations


@dataclass(frozen=True)
class Activation:
    """Everything the engine, marking, Q1 and the pages need to know of one activation.

    ``derivative`` is Q1's reading of ``name'(a)`` as a tree of tuples: ``"a"`` the argument,
    a number, ``(function, x)`` a call, ``(op, x, y)`` an operation of ``+ - * / ^``.
    """

    name: str
    numpy: Callable[[np.ndarray], np.ndarray]
    numpy_slope: Callable[[np.ndarray, np.ndarray], np.ndarray]  # (s, f) -> df/ds
    scalar: Callable[[Any], Any]                 # f of a number, or of an interval (its method)
    slope_of: Literal["f", "s"] | None           # what df/ds is written from; None: 1
    slope: Callable[[float], float]              # df/ds of that number
    times_slope: Callable[..., Any]              # (dL/df, f or s) -> dL/ds, numbers or intervals
    slope_text: str                              # df/ds as the course writes it, "{v}" its f or s
    range: tuple[float, float]                   # outputs lie strictly inside (or from ``low_closed``)
    low_closed: bool = False
    slope_at_most_one: bool = False              # slopes in (0, 1]: |dL/ds| <= |dL/df| (plausibility)
    saturates: tuple[float, float] | None = None  # degenerate: an f outside these bounds
    can_be_inactive: bool = False                # degenerate: s <= 0 in every round kills the unit
    formula_names: tuple[str, ...] = ()          # Q1: the function's name, then its aliases
    derivative: Any = None                       # Q1: name'(a), a tree (see above)
    derivative_reading: str = ""                 # Q1: the note "read name'(a) as ..."
    mp_value: Callable[[Any, Any], Any] | None = None  # (mpmath context, a) -> value
    sympy_value: Callable[[Any, Any], Any] | None = None  # (sympy, a) -> expression; None: opaque
    listing: str = ""                            # Q1: how the list of functions names it (else its name)
    mathml: str = ""                             # the function's name in MathML
    symbol: tuple[str, int, int] = ("", 12, 4)   # the drawing's node: (text, font size, dy)
    words: str = ""                              # the drawing's caption (a Text where translated)
    not_output: Text | None = None               # plausibility: why a value is not an output
    slope_words: Callable[[str], Text] = lambda f: Text()  # plausibility: why dL/ds cannot be it
    mistaken_for_sigmoid: bool = False           # named mistake "derivative_as_sigmoid" applies
    output_only: bool = False                    # only an output layer may have it (softmax)

    def slope_formula(self, v: str) -> str:
        return self.slope_text.replace("{v}", v)


_ACTIVATIONS: tuple[Activation, ...] = (
    Activation(
        "sigmoid", _np_sigmoid, lambda s, f: f * (1 - f), sigmoid, "f", lambda f: f * (1 - f),
        _times_sigmoid_slope, "{v} * (1 - {v})", (0.0, 1.0), slope_at_most_one=True,
        saturates=(0.01, 0.99), formula_names=("sigmoid", "sigma"),
        derivative=("*", ("sigmoid", "a"), ("-", 1, ("sigmoid", "a"))),
        derivative_reading="sigmoid(a)*(1 - sigmoid(a))",
        mp_value=lambda ctx, a: 1 / (1 + ctx.exp(-a)), sympy_value=lambda sp, a: 1 / (1 + sp.exp(-a)),
        listing="sigmoid (σ, sigma)", mathml="σ", symbol=("σ", 20, 7), words=_("the sigmoid (σ)"),
        not_output=_("is not a sigmoid output (those lie between 0 and 1)"),
        slope_words=lambda f: _("%(f)s(1 − %(f)s) is positive and below 1", f=f)),
    Activation(
        "tanh", np.tanh, lambda s, f: 1 - f * f, tanh, "f", lambda f: 1 - f * f,
        _times_tanh_slope, "(1 - {v}^2)", (-1.0, 1.0), slope_at_most_one=True,
        formula_names=("tanh",), derivative=("-", 1, ("^", ("tanh", "a"), 2)),
        derivative_reading="1 - tanh(a)^2", mp_value=lambda ctx, a: ctx.tanh(a),
        # through exp, so that the exact rewriting of symbolic covers it
        sympy_value=lambda sp, a: (sp.exp(2 * a) - 1) / (sp.exp(2 * a) + 1),
        mathml="tanh", symbol=("tanh", 12, 4), words="tanh", mistaken_for_sigmoid=True,
        not_output=_("is not a tanh output (those lie between −1 and 1)"),
        slope_words=lambda f: _("1 − %(f)s² is positive and at most 1", f=f)),
    Activation(
        "relu", lambda s: np.where(s > 0, s, 0.0),
        lambda s, f: np.where(s > 0, 1.0, 0.0),  # 0 at s = 0, as the spec format says
        relu, "s", lambda s: 1.0 if s > 0 else 0.0, _times_relu_slope, "step({v})",
        (0.0, math.inf), low_closed=True, can_be_inactive=True, formula_names=("relu",),
        derivative=("step", "a"), derivative_reading="step(a)",
        mp_value=lambda ctx, a: a if a > 0 else ctx.mpf(0), mathml="ReLU", symbol=("ReLU", 11, 4),
        words="ReLU", mistaken_for_sigmoid=True,
        not_output=_("is not a ReLU output (those are never negative)"),
        slope_words=lambda f: _("ReLU's slope is never negative")),
    Activation(
        "leaky_relu", lambda s: np.where(s > 0, s, LEAKY_SLOPE * s),
        lambda s, f: np.where(s > 0, 1.0, LEAKY_SLOPE),  # 0.01 at s = 0, as ReLU's is 0 there
        leaky_relu, "s", lambda s: 1.0 if s > 0 else LEAKY_SLOPE, _times_leaky_slope,
        "(0.01 + 0.99*step({v}))", (-math.inf, math.inf), formula_names=("leaky_relu", "lrelu"),
        derivative=("+", 0.01, ("*", 0.99, ("step", "a"))), derivative_reading="0.01 + 0.99*step(a)",
        mp_value=lambda ctx, a: a if a > 0 else a / 100,
        listing="leaky_relu (lrelu; leaky_relu'(a) is 0.01 + 0.99*step(a))", mathml="LReLU",
        symbol=("LReLU", 9, 3), words=_("leaky ReLU (slope 0.01 below 0)"),
        slope_words=lambda f: _("leaky ReLU's slope is 0.01 or 1, never negative")),
    Activation(
        "linear", lambda s: s.copy(), lambda s, f: np.ones_like(s), identity, None, lambda v: 1.0,
        _times_one, "1", (-math.inf, math.inf), symbol=("lin", 12, 4),
        words=_("no activation (linear)"), slope_words=lambda f: _("a linear unit's slope is 1")),
    Activation(
        # Only an output layer's, and only with loss "ce" (the spec checks it): a unit's f depends
        # on every s of its layer, so the cell graph writes its forward and backward steps itself
        # (grading.engine.steps); ``scalar`` and ``times_slope`` are never called for it.
        "softmax", lambda s: _np_softmax(s), lambda s, f: f * (1 - f), identity, "f",
        lambda f: f * (1 - f), _times_sigmoid_slope, "{v} * (1 - {v})", (0.0, 1.0),
        slope_at_most_one=False, saturates=(0.01, 0.99), symbol=("soft", 11, 4),
        words=_("softmax (the output layer's units share one normalisation)"),
        not_output=_("is not a softmax output (those lie between 0 and 1)"), output_only=True),
)

# Every layer's choices; an output layer may also be one of OUTPUT_ACTIVATIONS (softmax).
ACTIVATIONS: tuple[str, ...] = tuple(a.name for a in _ACTIVATIONS if not a.output_only)
OUTPUT_ACTIVATIONS: tuple[str, ...] = tuple(a.name for a in _ACTIVATIONS)
_BY_NAME = {a.name: a for a in _ACTIVATIONS}


def activation(name: str) -> Activation:
    """The record of activation ``name``; UnknownName (a KeyError) for any other name."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownName("activation", name, OUTPUT_ACTIVATIONS) from None


def activations() -> tuple[Activation, ...]:
    """Every activation, in the order the choices list them."""
    return _ACTIVATIONS


def formula_activations() -> tuple[Activation, ...]:
    """The activations Q1 has a function for (all but linear)."""
    return tuple(a for a in _ACTIVATIONS if a.formula_names)


# ---------------------------------------------------------------- losses


def _half_sum(*squares: Any) -> Any:
    if all(_number(v) for v in squares):
        return math.fsum(squares) / 2
    return sum(squares[1:], squares[0]) / 2


def _sum(*squares: Any) -> Any:
    if all(_number(v) for v in squares):
        return math.fsum(squares)
    return sum(squares[1:], squares[0])


def _mean(*squares: Any) -> Any:
    return _sum(*squares) / len(squares)


def _ln(v: Any) -> Any:
    return math.log(v) if _number(v) else v.log()


def _cross_entropy(*values: Any) -> Any:
    # values = y_1..y_m, f_1..f_m: -Σ [y ln f + (1 - y) ln(1 - f)]
    m = len(values) // 2
    terms = [values[j] * _ln(values[m + j]) + (1 - values[j]) * _ln(1 - values[m + j]) for j in range(m)]
    if all(_number(t) for t in terms):
        return -math.fsum(terms)
    return -sum(terms[1:], terms[0])


def _cross_entropy_slope(f: Any, y: Any) -> Any:
    # -y/f + (1 - y)/(1 - f) rises with f and falls with y: an interval bounds it at its corners.
    if _number(f) and _number(y):
        return -(y / f) + (1 - y) / (1 - f)
    return f.cross_entropy_slope(y)


def _np_bce(y: np.ndarray, f: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # ln f = -softplus(-s) and ln(1-f) = -softplus(s): finite even where f rounds to 0 or 1.
    L = np.sum(y * np.logaddexp(0.0, -s) + (1 - y) * np.logaddexp(0.0, s), axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return L, -(y / f) + (1 - y) / (1 - f)



def _reciprocal(v: Any) -> Any:
    """1/v of a number, or of an interval (which must not reach 0)."""
    return 1.0 / v if _number(v) else v.reciprocal()


def _softmax_cross_entropy(*values: Any) -> Any:
    # values = y_1..y_m, f_1..f_m: -Σ y ln f (a target of 0 adds nothing, whatever its f)
    m = len(values) // 2
    terms = [values[j] * _ln(values[m + j]) for j in range(m) if not (_number(values[j]) and values[j] == 0)]
    if not terms:
        return 0.0
    if all(_number(t) for t in terms):
        return -math.fsum(terms)
    return -sum(terms[1:], terms[0])


def _softmax_cross_entropy_slope(f: Any, y: Any) -> Any:
    # dL/df = -y/f
    return -(y * _reciprocal(f))


def _np_ce(y: np.ndarray, f: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # ln f = s - logsumexp(s): finite even where f rounds to 0.
    top = np.max(s, axis=-1, keepdims=True)
    log_f = s - (top + np.log(np.sum(np.exp(s - top), axis=-1, keepdims=True)))
    L = -np.sum(y * log_f, axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return L, -(y / f)


def _mse_slope(m: int) -> Callable[[Any, Any], Any]:
    """dL/df of the mean squared error over ``m`` outputs, for numbers or intervals."""
    def slope(f: Any, y: Any) -> Any:
        return 2 * (f - y) / m
    return slope

def _np_squared(per: Callable[[np.ndarray, int], np.ndarray],
                slope: Callable[[np.ndarray, np.ndarray, int], np.ndarray]
                ) -> Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    def loss(y: np.ndarray, f: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        d = y - f
        total = np.sum(d * d, axis=-1)
        m = y.shape[-1]
        return per(total, m), slope(f, y, m)
    return loss


@dataclass(frozen=True)
class Loss:
    """Everything the engine, marking and the pages need to know of one loss.

    A squared loss sums the (y − f)² cells; the others (bce) take y and f themselves.
    """

    name: str
    squared: bool
    numpy: Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]  # (y, f, s) -> (L, dL/df)
    total: Callable[[int], Callable[..., Any]]   # m -> L of the squares (squared) or of y..., f...
    total_text: Callable[[list[tuple[str, str]], int], str]  # ((y_j, f_j) names, m) -> L's formula
    slope: Callable[[int], Callable[[Any, Any], Any]]  # m -> dL/df of (f, y)
    slope_text: Callable[[str, str, int], str]   # (f, y, m) -> dL/df as the course writes it
    slope_scale: Callable[[int], float] | None = None  # dL/df = scale · (f − y); None: not so
    output: str | None = None                    # the output activation it needs, if any
    targets_in_unit: bool = False                # every target between 0 and 1
    targets_sum_to_one: bool = False             # a sample's targets sum to 1 (ce: one-hot or soft)
    words: str = ""                              # the drawing's loss (HTML; %(m)s the outputs)


def _squares(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"({y} - {f})^2" for y, f in pairs]


_LOSSES: tuple[Loss, ...] = (
    Loss("half_sse", True, _np_squared(lambda t, m: t / 2, lambda f, y, m: f - y),
         lambda m: _half_sum, lambda pairs, m: " + ".join(t + "/2" for t in _squares(pairs)),
         lambda m: lambda f_, y_: f_ - y_, lambda f, y, m: f"{f} - {y}", lambda m: 1.0,
         words=_("Loss (MSE): L = Σ<sub>n</sub> (y<sub>n</sub> − f<sub>n</sub>)<sup>2</sup> / 2.")),
    Loss("sse", True, _np_squared(lambda t, m: t, lambda f, y, m: 2 * (f - y)),
         lambda m: _sum, lambda pairs, m: " + ".join(_squares(pairs)),
         lambda m: lambda f_, y_: 2 * (f_ - y_), lambda f, y, m: f"2*({f} - {y})", lambda m: 2.0,
         words=_("Loss (sum of squared errors): L = Σ<sub>n</sub> (y<sub>n</sub> − f<sub>n</sub>)<sup>2</sup>.")),
    Loss("mse", True, _np_squared(lambda t, m: t / m, lambda f, y, m: 2 * (f - y) / m),
         lambda m: _mean, lambda pairs, m: f"({' + '.join(_squares(pairs))})/{m}",
         _mse_slope, lambda f, y, m: f"2*({f} - {y})/{m}",
         lambda m: 2.0 / m,
         words=_("Loss (mean squared error): L = Σ<sub>n</sub> (y<sub>n</sub> − f<sub>n</sub>)<sup>2</sup> / %(m)s, "
                 "the mean over the %(m)s outputs.")),
    Loss("bce", False, _np_bce, lambda m: _cross_entropy,
         lambda pairs, m: "-" + " - ".join(f"({y}*ln({f}) + (1 - {y})*ln(1 - {f}))"
                                           for y, f in pairs),
         lambda m: _cross_entropy_slope, lambda f, y, m: f"-{y}/{f} + (1 - {y})/(1 - {f})",
         output="sigmoid", targets_in_unit=True,
         words=_("Loss (binary cross-entropy): L = −Σ<sub>n</sub> [y<sub>n</sub> ln f<sub>n</sub> + "
                 "(1 − y<sub>n</sub>) ln(1 − f<sub>n</sub>)].")),
    Loss("ce", False, _np_ce, lambda m: _softmax_cross_entropy,
         lambda pairs, m: "-(" + " + ".join(f"{y}*ln({f})" for y, f in pairs) + ")",
         lambda m: _softmax_cross_entropy_slope, lambda f, y, m: f"-{y}/{f}",
         output="softmax", targets_in_unit=True, targets_sum_to_one=True,
         words=_("Loss (cross-entropy of a softmax output): L = −Σ<sub>n</sub> y<sub>n</sub> ln f<sub>n</sub>.")),
)

LOSSES: tuple[str, ...] = tuple(loss_.name for loss_ in _LOSSES)
SQUARED_LOSSES: tuple[str, ...] = tuple(loss_.name for loss_ in _LOSSES if loss_.squared)
_LOSS_BY_NAME = {loss_.name: loss_ for loss_ in _LOSSES}


def loss(name: str) -> Loss:
    """The record of loss ``name``; UnknownName (a KeyError) for any other name."""
    try:
        return _LOSS_BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownName("loss", name, LOSSES) from None


def derivative_fraction(value: Any) -> Fraction:
    """A number of a derivative tree as an exact fraction (0.01 is 1/100, not its float)."""
    return Fraction(str(value)) if isinstance(value, float) else Fraction(value)


# ---------------------------------------------------------------- optimizers


@dataclass(frozen=True)
class OptimizerParameter:
    """One setting of an optimizer: its name, default and the range it must lie in."""

    name: str
    default: float
    low: float                  # the value must be >= low (> low where ``low_open``)
    high: float                 # ... and < high
    low_open: bool = False
    words: str = ""             # how a message names the range


@dataclass(frozen=True)
class Optimizer:
    """Everything the engine needs to know of one update rule.

    ``state`` are the per-parameter quantities carried from one round to the next (written in
    the next round's parameters column, 0 before round 1); ``cells`` every per-parameter
    quantity of the updated column before the updated parameter itself, in the order a
    round computes them. A quantity's name is a prefix joined to the parameter's: "Δ" gives
    Δw and Δb, "m_" gives m_w and m_b.
    """

    name: str
    parameters: tuple[OptimizerParameter, ...] = ()
    state: tuple[str, ...] = ()
    cells: tuple[str, ...] = ()
    words: str = ""


_BETA = _("from 0 up to (not including) 1")
_EPS = _("above 0 and below 1")
_OPTIMIZERS: tuple[Optimizer, ...] = (
    Optimizer("sgd", words=_("plain gradient descent: w ← w − η·g")),
    Optimizer("momentum", (OptimizerParameter("beta", 0.9, 0.0, 1.0, words=_BETA),),
              state=("Δ",), cells=("Δ",),
              words=_("momentum (Mitchell's form): Δw = −η·g + β·Δw of the round before, w ← w + Δw")),
    Optimizer("adam", (OptimizerParameter("beta1", 0.9, 0.0, 1.0, words=_BETA),
                       OptimizerParameter("beta2", 0.999, 0.0, 1.0, words=_BETA),
                       OptimizerParameter("eps", 1e-8, 0.0, 1.0, low_open=True, words=_EPS)),
              state=("m_", "v_"), cells=("m_", "v_", "mhat_", "vhat_", "Δ"),
              words=_("Adam (Kingma and Ba): m = β₁m + (1 − β₁)g, v = β₂v + (1 − β₂)g², "
                      "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ), Δw = −η·m̂/(√v̂ + ε), w ← w + Δw")),
    Optimizer("rmsprop", (OptimizerParameter("rho", 0.9, 0.0, 1.0, words=_BETA),
                          OptimizerParameter("eps", 1e-8, 0.0, 1.0, low_open=True, words=_EPS)),
              state=("v_",), cells=("v_", "Δ"),
              words=_("RMSProp: v = ρv + (1 − ρ)g², Δw = −η·g/(√v + ε), w ← w + Δw")),
)

OPTIMIZERS: tuple[str, ...] = tuple(o.name for o in _OPTIMIZERS)
_OPTIMIZER_BY_NAME = {o.name: o for o in _OPTIMIZERS}


def optimizer(name: str) -> Optimizer:
    """The record of optimizer ``name``; UnknownName (a KeyError) for any other name."""
    try:
        return _OPTIMIZER_BY_NAME[name]
    except (KeyError, TypeError):
        raise UnknownName("optimizer", name, OPTIMIZERS) from None


def optimizers() -> tuple[Optimizer, ...]:
    return _OPTIMIZERS
