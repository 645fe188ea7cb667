"""The Interval type of follow-through: it always encloses the true value, and is tight.

Enclosure is checked against exact arithmetic (``fractions.Fraction``) and against mpmath at
60 digits on dense grids of points; tightness against the same brute-force ranges; a few bounds
are worked out by hand.
"""

from __future__ import annotations

import itertools
import json
import math
import random
from fractions import Fraction
from pathlib import Path

import mpmath
import pytest

from grading.engine import CellId, answer_key, parse_spec
from grading.marking.intervals import Interval, recompute, typed_interval
from grading.marking.numbers import hints, parse_number
from grading.mistakes import alternatives_by_cell

ROOT = Path(__file__).resolve().parent.parent
mpmath.mp.dps = 60


def random_intervals(seed: int, count: int) -> list[Interval]:
    """Intervals of many magnitudes, some spanning 0, some points, some very narrow."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        centre = rng.choice((-1, 1)) * 10 ** rng.uniform(-6, 2)
        width = rng.choice((0.0, 1e-12, 1e-4, 0.01, 1.0, 10.0)) * rng.random()
        out.append(Interval(centre - width, centre + width))
    return out


def grid(iv: Interval, n: int = 9, extra: tuple[float, ...] = ()) -> list[float]:
    """``n`` points evenly across the interval, its ends included, and any ``extra`` inside it."""
    pts = [iv.lo + (iv.hi - iv.lo) * t / (n - 1) for t in range(n)] + [iv.lo, iv.hi]
    return [p for p in pts if iv.lo <= p <= iv.hi] + [e for e in extra if iv.lo <= e <= iv.hi]


def assert_encloses_tightly(out: Interval, exact: list[Fraction]) -> None:
    lo, hi = Fraction(out.lo), Fraction(out.hi)
    assert all(lo <= e <= hi for e in exact), (out, float(min(exact)), float(max(exact)))
    scale = 1e-13 * (1 + float(max(abs(e) for e in exact)))
    assert float(min(exact) - lo) <= scale and float(hi - max(exact)) <= scale, out


# ------------------------------------------------------------------ arithmetic


OPS = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
}


@pytest.mark.parametrize("op", list(OPS))
def test_arithmetic_encloses_every_exact_result(op: str) -> None:
    """a ∘ b over two intervals holds the exact (rational) result at every pair of grid points,
    and is no wider than those results' range by more than a few ulps."""
    fn = OPS[op]
    ivs = random_intervals(seed=1, count=60)
    for a, b in zip(ivs, ivs[1:]):
        out = fn(a, b)
        exact = [fn(Fraction(x), Fraction(y)) for x in grid(a) for y in grid(b)]
        assert_encloses_tightly(out, exact)


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "r+", "r-", "r*", "neg"])
def test_scalar_arithmetic_encloses_every_exact_result(op: str) -> None:
    """Intervals mixed with plain numbers (either side), and negation, enclose the exact results."""
    rng = random.Random(2)
    for iv in random_intervals(seed=3, count=60):
        c = rng.choice((-1, 1)) * 10 ** rng.uniform(-3, 2)
        fn = {"+": lambda x: x + c, "-": lambda x: x - c, "*": lambda x: x * c, "/": lambda x: x / c,
              "r+": lambda x: c + x, "r-": lambda x: c - x, "r*": lambda x: c * x, "neg": lambda x: -x}[op]
        out = fn(iv)
        assert isinstance(out, Interval)
        exact = [fn(Fraction(x)) if op != "/" else Fraction(x) / Fraction(c) for x in grid(iv)]
        assert_encloses_tightly(out, exact)


def test_outward_rounding_holds_what_round_to_nearest_loses() -> None:
    """0.1 + 0.2 rounds up in floats; the interval still holds the exact sum of the two floats."""
    out = Interval.point(0.1) + Interval.point(0.2)
    exact = Fraction(0.1) + Fraction(0.2)
    assert Fraction(0.1 + 0.2) != exact
    assert Fraction(out.lo) <= exact <= Fraction(out.hi)
    assert out.hi - out.lo < 1e-15


# ------------------------------------------------------------------ functions


def mp_sigmoid(x: float) -> mpmath.mpf:
    return 1 / (1 + mpmath.exp(-mpmath.mpf(x)))


FUNCTIONS = {
    # name: (interval method, exact value at a point, turning points to include in the grid)
    "sigmoid": (Interval.sigmoid, mp_sigmoid, ()),
    "exp": (Interval.exp, lambda x: mpmath.exp(mpmath.mpf(x)), ()),
    "tanh": (Interval.tanh, lambda x: mpmath.tanh(mpmath.mpf(x)), ()),
    "relu": (Interval.relu, lambda x: max(mpmath.mpf(x), mpmath.mpf(0)), (0.0,)),
    "square": (Interval.square, lambda x: mpmath.mpf(x) ** 2, (0.0,)),
    "logistic_slope": (Interval.logistic_slope, lambda x: mpmath.mpf(x) * (1 - mpmath.mpf(x)), (0.5,)),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functions_enclose_dense_evaluation(name: str) -> None:
    """σ, exp, tanh, relu, x² and f(1 − f) over an interval hold the function's value (to 60
    digits) at 200 points across it, and are no wider than those values' range beyond 1e-13."""
    method, exact_at, turns = FUNCTIONS[name]
    ivs = random_intervals(seed=4, count=40) + [Interval(-0.3, 0.2), Interval(0.45, 0.7),
                                                Interval(-40.0, -30.0), Interval(0.2, 0.2)]
    for iv in ivs:
        if name == "exp" and iv.hi > 300:
            continue
        out = method(iv)
        values = [exact_at(x) for x in grid(iv, 200, turns)]
        lo, hi = mpmath.mpf(out.lo), mpmath.mpf(out.hi)
        assert all(lo <= v <= hi for v in values), (name, iv, out)
        scale = 1e-13 * (1 + float(max(abs(v) for v in values)))
        assert float(min(values) - lo) <= scale and float(hi - max(values)) <= scale, (name, iv, out)


def test_hand_computed_bounds() -> None:
    """Bounds worked out by hand, including where the naive product would be loose."""
    def close(iv: Interval, lo: float, hi: float) -> bool:
        return iv.lo <= lo <= iv.lo + 1e-14 and iv.hi - 1e-14 <= hi <= iv.hi

    assert close(Interval(-1.0, 2.0).square(), 0.0, 4.0) and Interval(-1.0, 2.0).square().lo == 0.0
    assert close(Interval(-3.0, -2.0).square(), 4.0, 9.0)
    assert close(Interval(0.2, 0.3) * Interval(-2.0, 1.0), -0.6, 0.3)
    assert close(Interval(0.1, 0.2) - Interval(0.5, 0.7), -0.6, -0.3)
    assert close(1 - Interval(0.25, 0.5), 0.5, 0.75)
    assert close(Interval(0.4, 0.6).logistic_slope(), 0.24, 0.25)
    assert close(Interval(0.1, 0.2).logistic_slope(), 0.09, 0.16)
    naive = Interval(0.1, 0.2) * (1 - Interval(0.1, 0.2))  # [0.1·0.8, 0.2·0.9]: looser
    assert naive.lo < 0.081 and naive.hi > 0.179
    assert close(Interval(-0.5, 0.5).sigmoid(), 0.3775406687981454, 0.6224593312018546)
    assert close(Interval(-1.0, 3.0).relu(), 0.0, 3.0)
    assert close(Interval(1.0, 3.0) / 2, 0.5, 1.5)
    assert Interval(-1.0, 1.0).distance(1.5) == 0.5 and Interval(-1.0, 1.0).distance(0.2) == 0.0


@pytest.mark.parametrize(("text", "lo", "hi"), [
    ("0.2367", "0.23665", "0.23675"),
    ("0.23670", "0.236695", "0.236705"),
    ("4.6e-1", "0.455", "0.465"),
    ("-0.0367", "-0.03675", "-0.03665"),
    ("12", "11.5", "12.5"),
])
def test_a_typed_value_stands_for_half_a_unit_of_its_last_place(text: str, lo: str, hi: str) -> None:
    """"0.2367" is [0.23665, 0.23675], "0.23670" a tenth of that, "4.6e-1" ± 0.005: the interval
    holds the exact decimal bounds and is wider by no more than a few ulps."""
    parsed = parse_number(text)
    iv = Interval.around(parsed.value, parsed.decimals)  # type: ignore[arg-type]
    assert Fraction(iv.lo) <= Fraction(lo) and Fraction(iv.hi) >= Fraction(hi)
    assert float(Fraction(lo) - Fraction(iv.lo)) < 1e-14 and float(Fraction(iv.hi) - Fraction(hi)) < 1e-14


def test_fewer_places_than_asked_buy_no_wider_interval() -> None:
    """A value typed with 2 places in a 4-place assignment stands for ± 0.00005, not ± 0.005."""
    assert typed_interval(0.47, 2, 4) == Interval.around(0.47, 4)
    assert typed_interval(0.47123, 5, 4) == Interval.around(0.47123, 5)


def test_no_empty_or_undefined_interval() -> None:
    """An interval's ends are ordered numbers; what has no bound says so rather than guessing."""
    with pytest.raises(ValueError):
        Interval(1.0, 0.0)
    with pytest.raises(ValueError):
        Interval(math.nan, 1.0)
    with pytest.raises(ZeroDivisionError):
        Interval(1.0, 2.0) / 0
    with pytest.raises(TypeError):
        Interval(1.0, 2.0) / Interval(1.0, 2.0)  # type: ignore[operator]
    huge = Interval(1e200, 1e200)
    assert recompute(lambda a, b: a * b * 0.0 - a * b, [huge, huge]) is None
    assert recompute(lambda a: a * a, [huge]) is None  # overflows: no finite bound


# ------------------------------------------------------------------ the cells' formulas


KEY = answer_key(parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())))


def box(deps: tuple[CellId, ...], half: float) -> list[Interval]:
    """Upstream intervals around the key: given cells exact, typed ones ± ``half``."""
    return [Interval.point(KEY.values[d]) if not KEY.graph[d].gradable
            else Interval(KEY.values[d] - half, KEY.values[d] + half) for d in deps]


def sampled(fn, ivs: list[Interval], rng: random.Random) -> list[float]:  # type: ignore[no-untyped-def]
    """The float formula at every corner of the box (with 0 and 1/2 where inside) and 200 random points."""
    choices = [[iv.lo, iv.hi] + [t for t in (0.0, 0.5) if iv.lo < t < iv.hi] for iv in ivs]
    points = list(itertools.product(*choices))
    points += [[rng.uniform(iv.lo, iv.hi) for iv in ivs] for _ in range(200)]
    return [fn(*p) for p in points]


@pytest.mark.parametrize("half", [0.0, 0.5e-4, 0.3, 0.8])
def test_every_cell_formula_on_intervals_encloses_and_is_tight(half: float) -> None:
    """Each computed cell's formula over upstream intervals holds its float value at the box's
    corners and at random points, and (the formulas being monotone in each input but for x² and
    f(1 − f)) is as narrow as the corner values allow."""
    rng = random.Random(5)
    for cell in KEY.graph.cells.values():
        if cell.given or cell.key.round > 2:
            continue
        ivs = box(cell.deps, half)
        out = recompute(cell.fn, ivs)  # type: ignore[arg-type]
        assert out is not None, cell.key
        values = sampled(cell.fn, ivs, rng)
        slack = 1e-12 * (1 + max(abs(v) for v in values))
        assert out.lo - slack <= min(values) and max(values) <= out.hi + slack, (cell.key, out)
        assert min(values) - out.lo <= slack and out.hi - max(values) <= slack, (cell.key, out)


def test_named_mistakes_formulas_on_intervals_enclose() -> None:
    """The mistaken formulas of ``grading.mistakes`` evaluate on intervals too, and enclose."""
    rng = random.Random(6)
    for (column, *_place), pairs in alternatives_by_cell(2, 2, 1.0).items():
        for _mistake, alt in pairs:
            name = alt.name
            deps = tuple(p.at(1) for p in alt.deps)
            ivs = box(deps, 0.01)
            out = recompute(alt.fn, ivs)
            assert out is not None, (column, name)
            values = sampled(alt.fn, ivs, rng)
            assert out.lo - 1e-12 <= min(values) and max(values) <= out.hi + 1e-12, (name, out)


# ------------------------------------------------------------------ hints


def test_the_rounding_of_a_point_of_the_range_is_not_called_truncated() -> None:
    """0.47 is 0.4751 truncated, but also 0.47495 (inside the recomputed range) rounded: no
    truncation hint then; without the range, the hint stays."""
    parsed = parse_number("0.47")
    assert any("truncated" in h for h in hints(parsed, 4, [0.4751]))
    assert not any("truncated" in h for h in hints(parsed, 4, [0.4751], [(0.47495, 0.47512)]))
    assert any("truncated" in h for h in hints(parsed, 4, [0.4751], [(0.4751, 0.4752)]))
