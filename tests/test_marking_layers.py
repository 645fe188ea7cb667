"""Marking networks with hidden layers: rounding, slips and follow-through, named mistakes, and
the anti-gaming rules, with students simulated here in plain Python (not with the engine)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from grading.grade import grader
from grading.engine import CellId, answer_key, parse_spec
from grading.marking import mark_tables
from grading.marking.plausible import implausible
from tests.test_graph_layers import notation
from tests.test_network import random_network
from tests.test_textbook_examples import MAZUR

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = json.loads((ROOT / "grading" / "specs" / "hidden-layer-2-2-2.json").read_text())
TOL = 0.51e-4

Cell = tuple[int, str, str]  # (round, column, name) as a student's sheet has it


def act(name: str, s: float) -> float:
    return {"sigmoid": lambda: 1 / (1 + math.exp(-s)), "tanh": lambda: math.tanh(s),
            "relu": lambda: max(s, 0.0), "linear": lambda: s}[name]()


def slope(name: str, s: float, f: float) -> float:
    return {"sigmoid": f * (1 - f), "tanh": 1 - f * f, "relu": 1.0 if s > 0 else 0.0, "linear": 1.0}[name]


def work(data: dict, *, places: int = 4, carry: str = "rounded", slip: tuple[Cell, float] | None = None,
         instead: Callable[[Cell, dict[Cell, float]], float | None] | None = None) -> dict[Cell, str]:
    """Every cell a student types, worked in the course's order from their own values: each
    value written to ``places`` decimals, computed on from what was written ("rounded") or from
    the unrounded value ("full", a spreadsheet). ``slip`` adds to one cell; ``instead(cell,
    own values)`` may return what a student with a misconception computes there."""
    layers = [{"w": [row[:] for row in l["weights"]], "b": l["biases"][:], "act": l["activation"]}
              for l in data["layers"]]
    L, lr, loss = len(layers), data["learning_rate"], data["loss"]
    fixed = not data.get("update_biases", True)
    own: dict[Cell, float] = {}
    typed: dict[Cell, str] = {}

    def n(column: str, quantity: str, layer: int | None, *index: int) -> str:
        return notation(column, quantity, layer, index, L)

    def keep(cell: Cell, value: float) -> float:
        changed = instead(cell, own) if instead else None
        value = value if changed is None else changed
        if slip is not None and cell == slip[0]:
            value += slip[1]
        typed[cell] = f"{value:.{places}f}"
        own[cell] = float(typed[cell]) if carry == "rounded" else value
        return own[cell]

    for r, sample in enumerate(data["samples"], start=1):
        x, y = sample["x"], sample["y"]
        def copy(values: list[float], k: int, name: str) -> None:
            """A parameter of round 2+: the student's own updated value of the round before."""
            cell = (r, "parameters", name)
            if slip is not None and cell == slip[0]:
                values[k] += slip[1]
                typed[cell] = f"{values[k]:.{places}f}"
                values[k] = float(typed[cell]) if carry == "rounded" else values[k]
            else:
                typed[cell] = typed[(r - 1, "updated", name)]
            own[cell] = values[k]

        for l, layer in enumerate(layers, start=1):  # the parameters: the last round's updates
            for i, row in enumerate(layer["w"], start=1):
                for j in range(1, len(row) + 1):
                    if r > 1:
                        copy(row, j - 1, n("", "w", l, i, j))
                    own[(r, "parameters", n("", "w", l, i, j))] = row[j - 1]
            for j in range(1, len(layer["b"]) + 1):
                if r > 1 and not fixed:
                    copy(layer["b"], j - 1, n("", "b", l, j))
                own[(r, "parameters", n("", "b", l, j))] = layer["b"][j - 1]
        below, ss, fs = list(x), [], []
        for l, layer in enumerate(layers, start=1):
            s = [keep((r, "forward", n("", "s", l, j + 1)),
                      sum(layer["w"][i][j] * below[i] for i in range(len(below))) + layer["b"][j])
                 for j in range(len(layer["b"]))]
            f = [keep((r, "forward", n("", "f", l, j + 1)), act(layer["act"], v)) for j, v in enumerate(s)]
            ss.append(s)
            fs.append(below)
            below = f
        out = below
        d = [keep((r, "forward", n("", "y-f", None, j + 1)), y[j] - out[j]) for j in range(len(y))]
        if loss == "bce":
            keep((r, "forward", "L"), -sum(y[j] * math.log(out[j]) + (1 - y[j]) * math.log(1 - out[j])
                                           for j in range(len(y))))
            g = [keep((r, "backward", n("", "dL/df", L, j + 1)), -y[j] / out[j] + (1 - y[j]) / (1 - out[j]))
                 for j in range(len(y))]
        else:
            sq = [keep((r, "forward", n("", "(y-f)^2", None, j + 1)), v * v) for j, v in enumerate(d)]
            scale = {"half_sse": 0.5, "sse": 1.0, "mse": 1.0 / len(y)}[loss]
            keep((r, "forward", "L"), scale * sum(sq))
            g = [keep((r, "backward", n("", "dL/df", L, j + 1)), 2 * scale * (out[j] - y[j])) for j in range(len(y))]
        grads = []
        for l in range(L, 0, -1):
            layer, s, f, below = layers[l - 1], ss[l - 1], None, fs[l - 1]
            f = [own[(r, "forward", n("", "f", l, j + 1))] for j in range(len(s))]
            ds = [keep((r, "backward", n("", "dL/ds", l, j + 1)), g[j] * slope(layer["act"], s[j], f[j]))
                  for j in range(len(s))]
            db = [] if fixed else [keep((r, "backward", n("", "dL/db", l, j + 1)), v) for j, v in enumerate(ds)]
            dw = {(i, j): keep((r, "backward", n("", "dL/dw", l, i + 1, j + 1)), ds[j] * below[i])
                  for j in range(len(ds)) for i in range(len(below))}
            grads.append((l, dw, db))
            if l > 1:
                g = [keep((r, "backward", n("", "dL/df", l - 1, i + 1)),
                          sum(layer["w"][i][k] * ds[k] for k in range(len(ds)))) for i in range(len(below))]
        for l, dw, db in sorted(grads):
            layer = layers[l - 1]
            for (i, j), v in sorted(dw.items()):
                layer["w"][i][j] = keep((r, "updated", n("", "w", l, i + 1, j + 1)), layer["w"][i][j] - lr * v)
            for j, v in enumerate(db):
                layer["b"][j] = keep((r, "updated", n("", "b", l, j + 1)), layer["b"][j] - lr * v)
    return typed


def answers_of(typed: dict[Cell, str]) -> dict[str, Any]:
    rounds: dict[int, dict[str, Any]] = {}
    for (r, column, name), text in typed.items():
        rounds.setdefault(r, {"round": r}).setdefault(column, {})[name] = text
    return {"rounds": [rounds[r] for r in sorted(rounds)]}


def marks(data: dict, typed: dict[Cell, str]) -> dict[Cell, Any]:
    return {(m.round, m.column, m.name): m for m in mark_tables(answer_key(parse_spec(data)), answers_of(typed))}


TABLES = ("rounded", "full")


@pytest.mark.parametrize("data", [HIDDEN, MAZUR], ids=["hidden-layer demo", "Mazur"])
@pytest.mark.parametrize("carry", TABLES)
def test_rounding_every_cell_to_4_places_earns_full_marks(data: dict, carry: str) -> None:
    """A student who rounds every cell of a 2-2-2 problem to 4 decimals, carrying the rounded
    values (or, in a spreadsheet, the unrounded ones), earns every point of every table."""
    spec = parse_spec(data)
    typed = work(data, carry=carry)
    config = grader.GradingConfig(questions=tuple(q for q in grader.default_questions(spec) if q.kind != "formulas"))
    report = grader.grade_submission(spec, answers_of(typed), config)
    assert {c.status for c in report.cells} <= {"correct", "carried"}, \
        [(c.id, c.status, c.message) for c in report.cells if c.status not in ("correct", "carried")]
    assert all(q.score == q.max for q in report.questions)
    assert len(report.cells) == len(answer_key(spec).graph.gradable())


# Hidden-layer cells a slip may hit, with a slip that keeps the value believable.
SLIPS = [((1, "forward", "s2[1]"), 0.01), ((1, "forward", "f1[1]"), -0.004), ((2, "backward", "dL/df1[1]"), 0.003),
         ((2, "backward", "dL/ds2[1]"), 0.002), ((1, "updated", "w21[1]"), 0.02), ((3, "updated", "b1[1]"), -0.01),
         ((2, "backward", "dL/dw12[1]"), 0.001), ((3, "parameters", "w22[1]"), 0.005)]


@pytest.mark.parametrize(("slip", "size"), SLIPS, ids=[f"r{c[0]} {c[2]}" for c, _ in SLIPS])
@pytest.mark.parametrize("carry", TABLES)
def test_a_slip_in_a_hidden_cell_is_the_only_wrong_cell(slip: Cell, size: float, carry: str) -> None:
    """One slip in a hidden-layer cell: that cell is the only one marked wrong, and every cell
    after it that the slip moved is carried, from rounded values or a spreadsheet's."""
    typed = work(HIDDEN, carry=carry, slip=(slip, size))
    got = marks(HIDDEN, typed)
    wrong = {cell for cell, m in got.items() if m.status not in ("correct", "carried")}
    assert wrong == {slip}, [(c, got[c].message) for c in wrong]
    moved = [cell for cell, m in got.items() if cell != slip and abs(float(m.given) - m.expected) >= TOL]
    assert moved, "the slip must move some later cell"
    assert all(got[cell].status == "carried" for cell in moved)
    assert all(got[cell].credit == 1.0 for cell in moved)
    assert got[slip].message.startswith("not within ±0.000051 of the expected value")


# ---------------------------------------------------------------- named mistakes of deeper networks


def _values(data: dict) -> dict[Cell, float]:
    """The exact value of every cell, by (round, column, name), from a student who makes no slip."""
    return {cell: float(text) for cell, text in work(data, places=15, carry="full").items()}


def _with(data: dict, changes: dict[Cell, float]) -> dict[Cell, str]:
    typed = work(data)
    typed.update({cell: f"{v:.4f}" for cell, v in changes.items()})
    return typed


def test_hidden_deltas_from_the_updated_outer_weights_are_named() -> None:
    """dL/df^[1] summed through the already updated w^[2] (Mazur's slip) is named so."""
    v, lr = _values(HIDDEN), HIDDEN["learning_rate"]
    changes = {}
    for j in (1, 2):
        changes[(1, "backward", f"dL/df{j}[1]")] = sum(
            v[(1, "updated", f"w{j}{k}[2]")] * v[(1, "backward", f"dL/ds{k}[2]")] for k in (1, 2))
        assert abs(changes[(1, "backward", f"dL/df{j}[1]")] - v[(1, "backward", f"dL/df{j}[1]")]) > 10 * TOL
    got = marks(HIDDEN, _with(HIDDEN, changes))
    for cell in changes:
        assert got[cell].status == "incorrect" and got[cell].mistake == "updated_outer_weights"
    del lr


@pytest.mark.parametrize("k", [1, 2])
def test_one_path_in_a_hidden_delta_is_named(k: int) -> None:
    """dL/df1^[1] = w1k^[2]·dL/dsk^[2], one unit above only, either one: "only one path"."""
    v = _values(HIDDEN)
    cell = (2, "backward", "dL/df1[1]")
    got = marks(HIDDEN, _with(HIDDEN, {cell: v[(2, "parameters", f"w1{k}[2]")] * v[(2, "backward", f"dL/ds{k}[2]")]}))
    assert got[cell].mistake == "one_path"
    assert "sums over all of them" in got[cell].message


def test_the_derivative_of_the_wrong_layer_is_named() -> None:
    """A hidden dL/ds multiplied by the output's f(1 − f) is "another layer's activation derivative"."""
    v = _values(HIDDEN)
    cell = (1, "backward", "dL/ds2[1]")
    f = v[(1, "forward", "f2[2]")]
    got = marks(HIDDEN, _with(HIDDEN, {cell: v[(1, "backward", "dL/df2[1]")] * f * (1 - f)}))
    assert got[cell].mistake == "wrong_layer_derivative"


def test_a_hidden_sigmoid_derivative_left_out_is_named() -> None:
    """Homework 4.1's "sigmoid derivative left out", in the hidden layer too."""
    v = _values(HIDDEN)
    cell = (3, "backward", "dL/ds1[1]")
    got = marks(HIDDEN, _with(HIDDEN, {cell: v[(3, "backward", "dL/df1[1]")]}))
    assert got[cell].mistake == "no_sigmoid_derivative"


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tanh_or_relu_derivative_written_as_the_sigmoids_is_named(activation: str) -> None:
    """f(1 − f) in a tanh (or ReLU) layer's dL/ds is "sigmoid's derivative used for tanh or ReLU"."""
    data = {**HIDDEN, "layers": [{**HIDDEN["layers"][0], "activation": activation}, HIDDEN["layers"][1]]}
    v = _values(data)
    cell = (2, "backward", "dL/ds2[1]")
    f, other = v[(2, "forward", "f2[1]")], v[(2, "forward", "f2[2]")]
    assert f > 0.05  # a ReLU unit that is on
    assert abs(f * (1 - f) - other * (1 - other)) > 0.01  # and not the output's slope by chance
    got = marks(data, _with(data, {cell: v[(2, "backward", "dL/df2[1]")] * f * (1 - f)}))
    assert got[cell].mistake == "derivative_as_sigmoid"


def test_the_squared_loss_gradient_with_cross_entropy_is_named() -> None:
    """With bce, dL/df = f − y (the squared loss's) is named, and what follows from it carries."""
    data = {**HIDDEN, "loss": "bce"}
    v = _values(data)
    cell = (1, "backward", "dL/df1[2]")
    typed = work(data, instead=lambda c, own: own[(1, "forward", "f1[2]")] - 1.0 if c == cell else None)
    got = marks(data, typed)
    assert got[cell].mistake == "bce_squared_gradient"
    assert got[(1, "backward", "dL/ds1[2]")].status == "carried"
    del v


# ---------------------------------------------------------------- anti-gaming, every layer


def test_gamers_earn_no_carried_credit_in_any_layer() -> None:
    """Zeros everywhere, one number everywhere, or outputs copied from y with honest work after
    them: no carried credit at all. Hidden outputs σ(0) = 0.5: nothing worked from them is carried."""
    base = work(HIDDEN)
    zeros = {cell: "0" for cell in base}
    same = {cell: "0.2500" for cell in base}
    copied = work(HIDDEN, instead=lambda c, own: float(HIDDEN["samples"][c[0] - 1]["y"][int(c[2][1]) - 1])
                  if c[1] == "forward" and c[2] in ("f1[2]", "f2[2]") else None)
    for typed in (zeros, same, copied):
        got = marks(HIDDEN, typed)
        assert not [c for c, m in got.items() if m.status == "carried"], \
            [(c, m.message) for c, m in got.items() if m.status == "carried"][:3]
    half = work(HIDDEN, instead=lambda c, own: 0.5 if c[1] == "forward" and c[2] in ("f1[1]", "f2[1]") else None)
    got = marks(HIDDEN, half)
    # Everything computed from a hidden f: layer 2's s, layer 1's dL/ds and layer 2's dL/dw.
    direct = [c for c in got if c[2].startswith(("s1[2]", "s2[2]", "dL/ds1[1]", "dL/ds2[1]")) or
              (c[2].startswith("dL/dw") and c[2].endswith("[2]"))]
    assert len(direct) == 4 * 8 and all(got[c].status == "incorrect" for c in direct)
    assert all("σ(0) = 0.5" in got[c].message for c in direct if c[2].startswith("s"))


def test_plausibility_follows_the_activation_and_the_loss() -> None:
    """f must lie in its activation's range (σ: (0, 1), tanh: (−1, 1), ReLU: not negative, linear:
    any); with bce and a 0/1 target, dL/df must have the sign of f − y."""
    def why(data: dict, cell: CellId, value: float) -> str | None:
        key = answer_key(parse_spec(data))
        return implausible(cell, value, {}, key.values, TOL, set(), key.graph)

    f1 = CellId(1, "forward", 1, "f", (1,))
    for activation, outside, inside in [("sigmoid", -0.2, 0.9), ("tanh", 1.2, -0.4), ("relu", -0.1, 1.7),
                                        ("linear", None, -1.3)]:
        data = random_network(6, sizes=[2, 2, 2], activation=activation, loss="half_sse", rounds=1)
        if outside is not None:
            assert "is not a" in why(data, f1, outside)
        assert why(data, f1, inside) is None, activation
    bce = random_network(6, sizes=[2, 2, 2], activation="sigmoid", loss="bce", rounds=1)
    bce["samples"][0]["y"] = [1.0, 0.0]
    g1, g2 = CellId(1, "backward", 2, "dL/df", (1,)), CellId(1, "backward", 2, "dL/df", (2,))
    assert "does not have the sign" in why(bce, g1, 0.3) and "does not have the sign" in why(bce, g2, -0.3)
    assert why(bce, g1, -1.7) is None and why(bce, g1, -0.3) is None  # f − y, the squared-loss slip, is believable
