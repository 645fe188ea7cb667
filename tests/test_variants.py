"""Per-student variants: ranged specs validated with positions, drawn deterministically and
spread over their ranges, redrawn while degenerate, refused with the reason when nothing works."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import os
import subprocess
import sys
import warnings
from collections import Counter
from pathlib import Path

import pytest

from grading.engine import SpecError, parse_spec
from grading.engine.ranges import MAX_POINTS, parse_template
from grading.engine.variants import MAX_DRAWS, VariantError, draw, draw_many
from tests import refnet

ROOT = Path(__file__).resolve().parent.parent
HW = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())


def R(lo, hi, step):
    return {"range": [lo, hi], "step": step}


def hw_template() -> dict:
    """Homework 4.1 with its initial weights, biases, round-1 inputs and a target ranged."""
    t = copy.deepcopy(HW)
    t["weights"] = [[R(0.1, 0.5, 0.1), R(0.1, 0.5, 0.1)], [R(-0.3, 0.3, 0.05), {"choice": [0.2, 0.5, 0.7]}]]
    t["biases"] = [R(0.1, 0.4, 0.1), 0.4]
    t["samples"][0]["x"] = [R(0.2, 0.8, 0.2), R(0, 1, 0.01)]
    t["samples"][1]["y"] = [{"choice": [0, 1]}, 0]
    t["learning_rate"] = {"choice": [0.5, 1, 2]}
    return t


# Where hw_template's ranged numbers sit, in the template's order, and the values each may take
# (written out by hand from the ranges above).
HW_FREE = [
    (("weights", 0, 0), [0.1, 0.2, 0.3, 0.4, 0.5]),
    (("weights", 0, 1), [0.1, 0.2, 0.3, 0.4, 0.5]),
    (("weights", 1, 0), [-0.3, -0.25, -0.2, -0.15, -0.1, -0.05, 0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]),
    (("weights", 1, 1), [0.2, 0.5, 0.7]),
    (("biases", 0), [0.1, 0.2, 0.3, 0.4]),
    (("learning_rate",), [0.5, 1.0, 2.0]),
    (("samples", 0, "x", 0), [0.2, 0.4, 0.6, 0.8]),
    (("samples", 0, "x", 1), [k / 100 for k in range(101)]),
    (("samples", 1, "y", 0), [0.0, 1.0]),
]


def get(data, path):
    for part in path:
        data = data[part]
    return data


def put(data, path, value):
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def by_the_scheme(template: dict, free: list, seed: int, key: str, attempt: int = 0,
                  redraw: int = 0) -> dict:
    """The documented draw, written out independently: SHAKE-256 of the JSON text, 8 bytes a number."""
    message = json.dumps(["backprop-variant-v1", seed, key, attempt, redraw], separators=(",", ":"))
    stream = hashlib.shake_256(message.encode()).digest(8 * len(free))
    concrete = copy.deepcopy(template)
    for k, (path, values) in enumerate(free):
        word = int.from_bytes(stream[8 * k:8 * k + 8], "big")
        put(concrete, path, values[word % len(values)])
    return concrete


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("change, message", [
    (lambda t: put(t, ("weights", 1, 0), R(0.1, 0.5, 0)), "weights[1][0]: range step must be positive, got 0"),
    (lambda t: put(t, ("weights", 1, 0), R(0.5, 0.1, 0.1)), "weights[1][0]: range lo 0.5 is above hi 0.1"),
    (lambda t: put(t, ("weights", 1, 0), R("a", 0.5, 0.1)), "weights[1][0]: range lo must be a number, got 'a'"),
    (lambda t: put(t, ("weights", 1, 0), R(0, float("nan"), 0.1)), "weights[1][0]: range hi must be a finite number"),
    (lambda t: put(t, ("biases", 1), R(0, 1, 1e-5)), f"biases[1]: range has more than {MAX_POINTS} points"),
    (lambda t: put(t, ("biases", 1), {"range": [0, 1]}), "biases[1]: a range is written"),
    (lambda t: put(t, ("biases", 1), {"range": [0, 1], "step": 0.1, "seed": 3}), "unknown keys: seed"),
    (lambda t: put(t, ("biases", 1), {"range": [0], "step": 0.1}), "biases[1]: range must be a list of two numbers"),
    (lambda t: put(t, ("biases", 1), R(0, 2e6, 1e5)), "biases[1]: range hi is 2000000.0; keep values within ±1e6"),
    (lambda t: put(t, ("biases", 1), R(0, 10 ** 400, 1)), "biases[1]: range hi is 1000000000"),
    (lambda t: put(t, ("samples", 2, "x", 1), {"choice": []}), "samples[2].x[1]: choice must be a non-empty list"),
    (lambda t: put(t, ("samples", 2, "x", 1), {"choice": [0.1, True]}), "samples[2].x[1]: choice value 2 must be a number"),
    (lambda t: put(t, ("samples", 2, "x", 1), {"choice": [0.1] * (MAX_POINTS + 1)}), "at most 10000"),
    (lambda t: put(t, ("learning_rate",), {"choice": [0, 1]}), "learning_rate: every value must be positive"),
    (lambda t: put(t, ("samples",), {"choice": [1, 2]}), "samples: a range or choice can only stand for a number"),
    (lambda t: put(t, ("weights", 0), [0.1, R(0, 1, 0.5), 0.3]), "weights[0] has 3 values; expected 2"),
])
def test_a_bad_template_is_refused_with_its_position(change, message) -> None:
    """Every way a range or choice can be wrong is a SpecError naming where it is."""
    template = copy.deepcopy(HW)
    change(template)
    with pytest.raises(SpecError) as caught:
        parse_template(template)
    assert message in str(caught.value)


@pytest.mark.parametrize("change, message", [
    (lambda t: put(t, ("layers", 0, "weights", 1, 0), R(0.1, 0.5, -0.1)),
     "layers[0].weights[1][0]: range step must be positive, got -0.1"),
    (lambda t: put(t, ("layers", 0, "activation"), {"choice": ["relu", "tanh"]}),
     "layers[0].activation: a range or choice can only stand for a number"),
    (lambda t: put(t, ("samples", 0, "y", 1), R(0, 2, 1)),
     "samples[0].y[1]: with loss bce every target must be between 0 and 1; the values reach 2"),
])
def test_a_bad_layered_template_is_refused_with_its_position(change, message) -> None:
    """The layers form: positions as parse_spec writes them, bce targets checked over the range."""
    template = {"layers": [{"weights": [[0.1, 0.2], [0.3, 0.4]], "biases": [0.1, 0.2], "activation": "tanh"},
                           {"weights": [[0.5, 0.6], [0.7, 0.8]], "biases": [0.3, 0.4], "activation": "sigmoid"}],
                "loss": "bce", "learning_rate": 0.5, "samples": [{"x": [0.2, 0.9], "y": [1, 0]}]}
    parse_template(template)  # valid as it is
    change(template)
    with pytest.raises(SpecError) as caught:
        parse_template(template)
    assert message in str(caught.value)


def test_parsing_leaves_the_template_unchanged() -> None:
    """The template JSON is read, never written (the assignment keeps it as typed)."""
    template = hw_template()
    before = json.dumps(template)
    draw(template, 1, "a")
    assert json.dumps(template) == before


# ---------------------------------------------------------------- the draw


def test_a_spec_without_ranges_is_its_own_only_variant() -> None:
    """Homework 4.1 without ranges: every seed and student get Homework 4.1 itself."""
    spec = parse_spec(HW)
    assert {draw(HW, seed, key) == spec for seed in (0, 1, 99) for key in ("", "a", "b")} == {True}


def test_the_draw_is_the_documented_scheme() -> None:
    """Each student's numbers are those the documented SHAKE-256 scheme picks (computed here apart)."""
    template = hw_template()
    for key in ("alice", "bob", "17", "ünï"):
        for seed in (0, 41, 2 ** 70):
            expected = by_the_scheme(template, HW_FREE, seed, key)
            if refnet.degenerate_cells(expected, 4):
                continue  # redrawn: checked by its own test
            assert draw(template, seed, key) == parse_spec(expected), (key, seed)


def test_the_draw_is_the_same_in_another_process() -> None:
    """Another interpreter with another hash seed draws the same numbers (no hash(), no global state)."""
    code = ("import json, sys; from grading.engine.variants import draw; from tests.test_variants import "
            "hw_template; print(json.dumps([draw(hw_template(), 7, k).to_json() for k in sys.argv[1:]]))")
    keys = ["alice", "bob", "carol"]
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        result = subprocess.run([sys.executable, "-c", code, *keys], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        outputs.append(json.loads(result.stdout))
    assert outputs[0] == outputs[1] == [draw(hw_template(), 7, k).to_json() for k in keys]


def test_seed_student_and_attempt_each_change_the_numbers() -> None:
    """Other seeds, other students and other attempts (practice mode) get other numbers."""
    template = hw_template()
    base = [draw(template, 5, f"s{k}") for k in range(40)]
    assert len({json.dumps(s.to_json()) for s in base}) == 40
    assert sum(a != b for a, b in zip(base, [draw(template, 6, f"s{k}") for k in range(40)])) >= 38
    assert sum(a != b for a, b in zip(base, [draw(template, 5, f"s{k}", 1) for k in range(40)])) >= 38


def test_the_class_draw_equals_each_students_draw() -> None:
    """draw_many gives every student exactly what draw gives them alone, redraws included."""
    template = copy.deepcopy(HW)
    template["samples"][0]["x"] = [{"choice": [0, 0.4]}, R(0.2, 0.8, 0.2)]  # x1 = 0 is degenerate
    keys = [f"student{k}" for k in range(60)]
    together = draw_many(template, 3, keys)
    assert together == [draw(template, 3, key) for key in keys]


def test_a_degenerate_draw_is_drawn_again_with_the_next_counter() -> None:
    """x1 = 0 makes dL/dw11 and dL/dw12 zero: such a draw is redrawn, and the result is the first
    of the student's draws (redraw 0, 1, ...) that is not degenerate."""
    template = copy.deepcopy(HW)
    template["samples"][0]["x"] = [{"choice": [0, 0.4]}, 0.8]
    free = [(("samples", 0, "x", 0), [0, 0.4])]
    redrawn = 0
    for k in range(100):
        key = f"s{k}"
        first = next(r for r in range(MAX_DRAWS)
                     if get(by_the_scheme(template, free, 11, key, redraw=r), free[0][0]) == 0.4)
        redrawn += first > 0
        assert draw(template, 11, key) == parse_spec(by_the_scheme(template, free, 11, key, redraw=first))
    assert 30 < redrawn < 70  # about half the students drew x1 = 0 first


def test_no_variant_is_degenerate() -> None:
    """Wide ranges where many draws are degenerate: no student gets one (the reference checks)."""
    template = copy.deepcopy(HW)
    template["weights"] = [[R(-3, 3, 0.5), R(-3, 3, 0.5)], [R(-3, 3, 0.5), R(-3, 3, 0.5)]]
    template["samples"][0]["x"] = [R(0, 0.4, 0.1), R(0, 0.4, 0.1)]
    free = [(("weights", i, j), [k / 2 for k in range(-6, 7)]) for i in range(2) for j in range(2)]
    free += [(("samples", 0, "x", i), [0, 0.1, 0.2, 0.3, 0.4]) for i in range(2)]
    keys = [f"s{k}" for k in range(300)]
    first_draws_degenerate = sum(bool(refnet.degenerate_cells(by_the_scheme(template, free, 1, k), 4))
                                 for k in keys)
    assert first_draws_degenerate > 60  # the redraw is really exercised
    for spec in draw_many(template, 1, keys):
        assert refnet.degenerate_cells(spec.to_json(), 4) == set()


def test_ranges_that_admit_nothing_are_refused_with_the_reason() -> None:
    """x1 can only be 0: after MAX_DRAWS draws the error names the cell and how often it failed."""
    template = copy.deepcopy(HW)
    template["samples"][0]["x"] = [{"choice": [0, 0.0]}, R(0.2, 0.8, 0.2)]
    with pytest.raises(VariantError) as caught:
        draw(template, 1, "s1")
    assert str(caught.value).startswith(
        f"after {MAX_DRAWS} draws no non-degenerate problem at 4 decimals: e.g. round 1 dL/dw11 "
        f"is below 0.0001 in magnitude in {MAX_DRAWS} of {MAX_DRAWS} draws")
    assert isinstance(caught.value, SpecError)  # a form showing SpecErrors shows this one too


def test_a_degenerate_spec_without_ranges_is_refused_with_the_reason() -> None:
    """A spec with no range that is degenerate is refused at once, naming its cells; an input of
    exactly 0 is not a reason there (its weights' gradients are given values: issue 20's
    library; before, this test refused x1 = 0 itself)."""
    template = copy.deepcopy(HW)
    template["samples"][0]["x"] = [0.00001, 0.8]
    with pytest.raises(VariantError, match=r"^the problem is degenerate: round 1 dL/dw11 = \S+ is below"):
        draw(template, 1, "s1")
    template["samples"][0]["x"] = [0, 0.8]
    assert draw(template, 1, "s1") == parse_spec(template)


def test_decimals_decide_what_is_degenerate() -> None:
    """Homework 4.1's smallest backward cell is 0.0111: fine at 2 decimals, and at 1 decimal every
    backward cell below 0.1 is a reason (the first five shown, the count of the rest)."""
    assert draw(HW, 0, "s", decimals=2) == parse_spec(HW)
    below = [v for k, v in refnet.trace(HW).items() if k[1] == "backward" and abs(v) < 0.1]
    with pytest.raises(VariantError) as caught:
        draw(HW, 0, "s", decimals=1)
    message = str(caught.value)
    assert message.startswith("the problem is degenerate: round 1 dL/ds1 = -0.092 is below one "
                              "unit of 1 decimals (0.1) in magnitude: the student would write 0.0; ")
    assert message.endswith(f"(and {len(below) - 5} more)")


def test_the_layers_form_draws_too() -> None:
    """Ranges in a 2-2-2 network's layers and samples: the concrete spec is the substituted one."""
    template = {"layers": [{"weights": [[R(-1, 1, 0.25), 0.2], [0.3, R(-1, 1, 0.25)]],
                            "biases": [0.1, {"choice": [-0.2, 0.2]}], "activation": "tanh"},
                           {"weights": [[0.5, R(0.1, 0.9, 0.2)], [0.7, 0.8]], "biases": [0.3, 0.4],
                            "activation": "sigmoid"}],
                "loss": "half_sse", "learning_rate": {"choice": [0.5, 1]},
                "samples": [{"x": [R(0.1, 0.9, 0.1), 0.9], "y": [1, 0]}, {"x": [0.4, 0.6], "y": [0, 1]}]}
    free = [(("layers", 0, "weights", 0, 0), [k / 4 for k in range(-4, 5)]),
            (("layers", 0, "weights", 1, 1), [k / 4 for k in range(-4, 5)]),
            (("layers", 0, "biases", 1), [-0.2, 0.2]),
            (("layers", 1, "weights", 0, 1), [0.1, 0.3, 0.5, 0.7, 0.9]),
            (("learning_rate",), [0.5, 1]),
            (("samples", 0, "x", 0), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])]
    checked = 0
    for k in range(30):
        expected = by_the_scheme(template, free, 8, f"s{k}")
        if refnet.degenerate_cells(expected, 4):
            continue
        checked += 1
        assert draw(template, 8, f"s{k}") == parse_spec(expected)
    assert checked >= 10


def test_a_draw_that_diverges_is_redrawn_without_a_warning() -> None:
    """A learning rate of 1e6 on a linear network overflows: that draw is degenerate (its values
    are not finite) and redrawn, silently; every student gets the learning rate 1e-15."""
    template = {"layers": [{"weights": [[1000.0]], "biases": [0], "activation": "linear"},
                           {"weights": [[1000.0]], "biases": [0], "activation": "linear"}],
                "loss": "sse", "learning_rate": {"choice": [1e6, 1e-15]},
                "samples": [{"x": [1000.0], "y": [0]}] * 4}
    assert any(k[1] == "updated" and not math.isfinite(v) for k, v in refnet_or_inf(
        {**template, "learning_rate": 1e6}).items())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        specs = draw_many(template, 0, [f"s{k}" for k in range(20)])
    assert {s.learning_rate for s in specs} == {1e-15}


def refnet_or_inf(spec: dict) -> dict:
    """The reference's cells, with an overflow standing for an infinite value."""
    try:
        return refnet.trace(spec)
    except OverflowError:
        return {(1, "updated", "w", 1, (1, 1)): math.inf}


def test_bad_arguments_are_refused() -> None:
    """A seed must be an integer (not True), a student key a string, an attempt 0 or more, the
    decimals an integer from 0 to 12."""
    with pytest.raises(TypeError):
        draw(HW, True, "s")
    with pytest.raises(TypeError):
        draw(HW, 1.5, "s")
    with pytest.raises(TypeError):
        draw(HW, 1, 17)
    with pytest.raises(TypeError):
        draw(HW, 1, "s", -1)
    with pytest.raises(TypeError):
        draw(HW, 1, "s", decimals=4.0)


# ---------------------------------------------------------------- spread


def values_over(template: dict, path: tuple, draws) -> Counter:
    return Counter(get(spec.to_json(), path) for spec in draws)


def test_every_grid_point_is_reached_evenly_over_students() -> None:
    """600 students of one seed: each ranged number takes every value of its grid or choice, each
    between half and one and a half times its share (fixed keys: the counts cannot flake)."""
    template = hw_template()
    specs = draw_many(template, 2024, [f"student-{k}" for k in range(600)])
    for path, values in HW_FREE:
        counts = values_over(template, path, specs)
        # Exactly the grid, nothing off it, nothing missed; but round 1's x2 = 0 makes dL/dw21
        # and dL/dw22 zero, so that one point is always redrawn.
        expected = set(values) - {0.0} if path == ("samples", 0, "x", 1) else set(values)
        assert set(counts) == expected, path
        if len(values) <= 13:
            share = 600 / len(values)
            assert all(0.5 * share <= counts[v] <= 1.5 * share for v in values), (path, counts)


def test_a_fine_range_is_covered_decile_by_decile_over_seeds() -> None:
    """300 seeds for one student: x2 of round 1 (101 points in [0, 1]) lands in every tenth of its range."""
    template = hw_template()
    specs = [draw(template, seed, "one-student") for seed in range(300)]
    counts = values_over(template, ("samples", 0, "x", 1), specs)
    deciles = Counter(min(int(v * 10), 9) for v in counts.elements())
    assert sorted(deciles) == list(range(10))
    assert all(10 <= deciles[d] <= 50 for d in range(10)), deciles
    assert len(counts) > 80  # most of the 101 points


def test_two_ranged_numbers_vary_independently() -> None:
    """Every pair of values of two ranged numbers occurs: one does not follow the other."""
    template = hw_template()
    specs = draw_many(template, 7, [f"k{k}" for k in range(400)])
    pairs = Counter((get(s.to_json(), ("weights", 1, 1)), get(s.to_json(), ("learning_rate",)))
                    for s in specs)
    assert len(pairs) == 9 and min(pairs.values()) >= 20


def test_grid_values_are_exact_decimals() -> None:
    """The grid's points are the decimals lo + k*step (0.3, not 0.30000000000000004); hi off the
    grid ends it at its last point below; a tiny step far below 1e-22 still gives exact points."""
    template = copy.deepcopy(HW)
    template["biases"] = [R(0.1, 0.35, 0.1), R(0.3, 0.3, 0.5)]
    template["weights"][0][0] = R(1e-30, 3e-30, 1e-30)
    specs = draw_many(template, 0, [str(k) for k in range(200)])
    assert set(values_over(template, ("biases", 0), specs)) == {0.1, 0.2, 0.3}
    assert set(values_over(template, ("biases", 1), specs)) == {0.3}
    assert set(values_over(template, ("weights", 0, 0), specs)) == {1e-30, 2e-30, 3e-30}


def test_the_order_of_the_json_keys_does_not_change_a_draw():
    """A template whose keys are stored in another order (as PostgreSQL's jsonb sorts them: by
    length) draws the same numbers for every student, in one layer and in several."""
    def reordered(data):
        if isinstance(data, dict):
            return {k: reordered(data[k]) for k in sorted(data, key=lambda k: (len(k), k))}
        if isinstance(data, list):
            return [reordered(v) for v in data]
        return data

    layered = {"layers": [{"weights": [[R(0.1, 0.5, 0.1), 0.2], [0.3, R(-0.5, -0.1, 0.1)]],
                           "biases": [R(0.1, 0.3, 0.1), 0.1], "activation": "tanh"},
                          {"weights": [[0.4], [R(0.2, 0.6, 0.2)]], "biases": [0.05], "activation": "sigmoid"}],
               "loss": "half_sse", "learning_rate": {"choice": [0.5, 1]},
               "samples": [{"x": [R(0.2, 0.8, 0.2), 0.5], "y": [{"choice": [0, 1]}]}, {"x": [0.4, 0.9], "y": [1]}]}
    for template in (hw_template(), layered):
        moved = reordered(template)
        assert list(moved) != list(template)
        for key in ("1", "2", "17", "alice"):
            assert draw(moved, 41, key) == draw(template, 41, key)
