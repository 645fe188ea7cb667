"""The engine: the seed's printed tables reproduced, gradients against finite differences, specs."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from grading.engine import (COLUMNS, CellId, SpecError, answer_key, build_graph, cell_names,
                            loss_at, parse_spec, round_formulas, single_layer_cell)

ROOT = Path(__file__).resolve().parent.parent
BAND = 0.51e-4

# Cells where the printed key is wrong, with the value the math gives (rounded to 6 places).
# How we know the printed f2 is wrong and the math right, in both rounds:
# * its own row: y2 - f2 is printed next to it and y2 = 1, so f2 = 1 - (y2 - f2) = 1 - 0.448435
#   = 0.551565 (round 3) and 1 - 0.406562 = 0.593438 (round 4): the math's value, not the
#   printed one; dL/df2 = f2 - y2 printed below agrees with the math too;
# * the digits: the math gives 0.5515654..., and 0.551654 is those digits with the fourth
#   decimal (5) skipped; 0.592438 is 0.593438 with one digit slipped (3 -> 2): transcription
#   slips, not another value;
# * every later cell (dL/ds2, the updates, the next round's parameters) agrees with the math.
# (Round 2's updated b2 is printed 0.106239 where the math gives 0.106279: within the band, so
# it counts as reproduced, but the printed value b2 - dL/db2 = 0.254305 - 0.148026 = 0.106279
# shows it is a slip of the same kind.)
TYPOS = {
    single_layer_cell(3, "forward", "f2"): 0.551565,
    single_layer_cell(4, "forward", "f2"): 0.593438,
}


def hw_spec():
    return parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))


def printed_cells() -> dict[CellId, float]:
    printed = json.loads((ROOT / "tests" / "data" / "printed_key_4_1.json").read_text())
    return {single_layer_cell(t["round"], column, name): float(v)
            for t in printed["rounds"] for column in COLUMNS for name, v in t[column].items()}


def test_printed_tables_reproduced() -> None:
    """Every number of the seed's four tables is reproduced within the band, but the typos."""
    key, printed = answer_key(hw_spec()), printed_cells()
    assert len(printed) == 4 * 35
    assert set(printed) == set(key.values)
    for k, v in printed.items():
        if k in TYPOS:
            continue
        assert abs(key.values[k] - v) < BAND, f"{k}: printed {v}, engine {key.values[k]}"


@pytest.mark.parametrize("cell", list(TYPOS), ids=str)
def test_typos_are_typos(cell: CellId) -> None:
    """At a typo the printed value is off, the math's value is the one listed, and the row agrees."""
    key, printed = answer_key(hw_spec()), printed_cells()
    assert abs(printed[cell] - key.values[cell]) > BAND
    assert round(key.values[cell], 6) == TYPOS[cell]
    r = cell.round
    y2 = printed[single_layer_cell(r, "parameters", "y2")]
    assert abs(y2 - printed[single_layer_cell(r, "forward", "y2-f2")] - key.values[cell]) < BAND
    assert abs(printed[single_layer_cell(r, "backward", "dL/df2")] + y2 - key.values[cell]) < BAND
    # The printed digits are the math's but for one (a transcription slip).
    a, b = f"{printed[cell]:.6f}", f"{TYPOS[cell]:.6f}"
    assert sum(x != y for x, y in zip(sorted(a), sorted(b))) <= 2


def test_key_json_shape() -> None:
    """The key's JSON has one table per round, the seed's cell names, and the losses."""
    key = answer_key(hw_spec()).to_json()
    names = cell_names(2, 2)
    assert [t["round"] for t in key["rounds"]] == [1, 2, 3, 4]
    for table in key["rounds"]:
        assert {c: list(table[c]) for c in COLUMNS} == names
    assert key["loss"] == [t["forward"]["L"] for t in key["rounds"]]


def random_spec(n: int, m: int, seed: int, rounds: int = 3):
    rng = random.Random(seed)
    return parse_spec({
        "weights": [[rng.uniform(-1, 1) for _ in range(m)] for _ in range(n)],
        "biases": [rng.uniform(-1, 1) for _ in range(m)],
        "learning_rate": rng.choice([1, 0.5, 0.1, 2]),
        "samples": [{"x": [rng.uniform(-1, 1) for _ in range(n)],
                     "y": [rng.choice([0, 1, rng.random()]) for _ in range(m)]} for _ in range(rounds)],
    })


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("n", "m"), [(1, 1), (2, 2), (3, 2), (9, 9)])
def test_gradients_match_finite_differences(n: int, m: int, seed: int) -> None:
    """dL/dw and dL/db of every round agree with central differences of that round's loss."""
    spec = random_spec(n, m, seed)
    key = answer_key(spec)
    h = 1e-6
    for r in range(1, spec.n_rounds + 1):
        W = [[key.value(r, "parameters", f"w{i}{j}") for j in range(1, m + 1)] for i in range(1, n + 1)]
        B = [key.value(r, "parameters", f"b{j}") for j in range(1, m + 1)]
        assert loss_at(spec, r, W, B) == pytest.approx(key.value(r, "forward", "L"), rel=1e-12)
        for i in range(n):
            for j in range(m):
                up = [row[:] for row in W]
                down = [row[:] for row in W]
                up[i][j] += h
                down[i][j] -= h
                fd = (loss_at(spec, r, up, B) - loss_at(spec, r, down, B)) / (2 * h)
                assert key.value(r, "backward", f"dL/dw{i + 1}{j + 1}") == pytest.approx(fd, rel=1e-5, abs=1e-9)
        for j in range(m):
            up, down = B[:], B[:]
            up[j] += h
            down[j] -= h
            fd = (loss_at(spec, r, W, up) - loss_at(spec, r, W, down)) / (2 * h)
            assert key.value(r, "backward", f"dL/db{j + 1}") == pytest.approx(fd, rel=1e-5, abs=1e-9)
        for i in range(n):
            for j in range(m):
                g = key.value(r, "backward", f"dL/dw{i + 1}{j + 1}")
                assert key.value(r, "updated", f"w{i + 1}{j + 1}") == pytest.approx(
                    W[i][j] - spec.learning_rate * g)
        if r < spec.n_rounds:
            assert key.value(r + 1, "parameters", "b1") == key.value(r, "updated", "b1")


@pytest.mark.parametrize(("n", "m"), [(1, 1), (2, 3), (9, 9)])
def test_graph_order_and_gradable(n: int, m: int) -> None:
    """Upstream cells come first; x, y and round-1 parameters are given, round ≥2 w and b gradable."""
    graph = build_graph(random_spec(n, m, 7))
    seen: set[CellId] = set()
    for k, cell in graph.cells.items():
        assert set(cell.deps) <= seen, k
        seen.add(k)
        if k.column == "parameters":
            expect_gradable = k.round >= 2 and cell.name[0] in "wb"
            assert cell.gradable == expect_gradable, k
    per_round = len(graph.gradable(2))
    # forward 4m + 1, backward 3m + nm, updated nm + m, and the parameters w, b again.
    assert per_round == (4 * m + 1) + (3 * m + n * m) + 2 * (n * m + m)


def test_overrides_hook_keeps_the_default() -> None:
    """build_graph's overrides replace a formula in every round; without them nothing changes."""
    spec = hw_spec()
    plain = build_graph(spec)
    assert [c.formula for c in plain.cells.values()] == [c.formula for c in build_graph(spec, overrides={}).cells.values()]
    doubled = build_graph(spec, overrides={("backward", "dL/df1"): (
        [("forward", "f1"), ("parameters", "y1")], lambda f, y: 2 * (f - y), "2*(f1 - y1)")})
    values = doubled.evaluate()
    for r in range(1, 5):
        cell = doubled[single_layer_cell(r, "backward", "dL/df1")]
        assert cell.formula == "2*(f1 - y1)"
        f1, y1 = values[single_layer_cell(r, "forward", "f1")], values[single_layer_cell(r, "parameters", "y1")]
        assert values[cell.key] == pytest.approx(2 * (f1 - y1))
    with pytest.raises(ValueError, match="not computed"):
        build_graph(spec, overrides={("parameters", "x1"): ([], lambda: 0.0, "0")})
    assert len(round_formulas(2, 2, 1.0)) == 9 + 10 + 6


def good_spec() -> dict[str, Any]:
    return {"weights": [[0.2, 0.3], [0.1, 0.5]], "biases": [0.3, 0.4], "learning_rate": 1,
            "samples": [{"x": [0.4, 0.8], "y": [1, 0]}]}


@pytest.mark.parametrize(("change", "says"), [
    (lambda s: [], "must be a JSON object"),
    (lambda s: {k: v for k, v in s.items() if k != "biases"}, "missing biases"),
    (lambda s: {**s, "momentum": 0.9}, "unknown keys: momentum"),
    (lambda s: {**s, "weights": []}, "weights must be a non-empty list"),
    (lambda s: {**s, "weights": [[0.1, 0.2]] * 10}, "at most 9"),
    (lambda s: {**s, "biases": [0.1] * 10}, "at most 9"),
    (lambda s: {**s, "weights": [[0.2, 0.3], [0.1]]}, "weights[1] has 1 values; expected 2"),
    (lambda s: {**s, "weights": [[0.2, "0.3"], [0.1, 0.5]]}, "weights[0][1] must be a number"),
    (lambda s: {**s, "weights": [[0.2, True], [0.1, 0.5]]}, "must be a number, got True"),
    (lambda s: {**s, "biases": [float("nan"), 0.4]}, "finite"),
    (lambda s: {**s, "biases": [1e7, 0.4]}, "within ±1e6"),
    (lambda s: {**s, "learning_rate": 0}, "learning_rate must be positive"),
    (lambda s: {**s, "learning_rate": "1"}, "learning_rate must be a number"),
    (lambda s: {**s, "samples": []}, "samples must be a non-empty list"),
    (lambda s: {**s, "samples": [{"x": [0.4, 0.8]}]}, "samples[0] must be an object with exactly the keys x and y"),
    (lambda s: {**s, "samples": [{"x": [0.4], "y": [1, 0]}]}, "samples[0].x has 1 values; expected 2"),
    (lambda s: {**s, "samples": [{"x": [0.4, 0.8], "y": [1]}]}, "samples[0].y has 1 values; expected 2"),
    (lambda s: {**s, "samples": [{"x": [0.4, 0.8], "y": [1, 0]}] * 51}, "at most 50"),
])
def test_spec_errors(change: Any, says: str) -> None:
    """A bad spec raises SpecError with a message that says what is wrong."""
    with pytest.raises(SpecError) as err:
        parse_spec(change(good_spec()))
    assert says in str(err.value)


def test_good_spec_round_trips() -> None:
    """A valid spec parses and its JSON form parses back to the same spec."""
    spec = parse_spec(good_spec())
    assert parse_spec(spec.to_json()) == spec
