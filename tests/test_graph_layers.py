"""The cell graph of any dense network: its names, its formulas against the numpy engine and
against plain loops written here, on floats and on intervals, and the round's table layout."""

from __future__ import annotations

import itertools
import json
import math
import random
from pathlib import Path

import pytest

from grading.engine import (CellId, Place, Shape, answer_key, build_graph, cell_id_text, cell_name,
                            cell_names, names_table, parse_spec, single_layer_cell, table_layout)
from grading.marking.intervals import Interval, recompute
from tests.test_network import COMBINATIONS, random_network, reference

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = json.loads((ROOT / "grading" / "specs" / "hidden-layer-2-2-2.json").read_text())


def notation(column: str, quantity: str, layer: int | None, index: tuple[int, ...], n_layers: int) -> str:
    """The course's notation, written out here from the README (not from the engine)."""
    digits = "".join(map(str, index))
    plain = {"L": "L", "y-f": f"y{digits}-f{digits}", "(y-f)^2": f"(y{digits}-f{digits})^2"}.get(
        quantity, f"{quantity}{digits}")
    return plain if n_layers == 1 or layer is None else f"{plain}[{layer}]"


def expected_cells(data: dict) -> list[dict[tuple, float]]:
    """The plain loops' cells per round, without what fixed biases do not have."""
    rounds = reference(data)
    if data.get("update_biases", True):
        return rounds
    return [{k: v for k, v in cells.items() if k[1] != "dL/db" and k[:2] != ("updated", "b")}
            for cells in rounds]


SPECS = [random_network(seed * 17 + k, activation=a, loss=loss, update_biases=seed % 2 == 1)
         for k, (a, loss) in enumerate(COMBINATIONS) for seed in range(3)]


@pytest.mark.parametrize("data", SPECS, ids=lambda d: f"{len(d['layers'])}L-{d['layers'][0]['activation']}-{d['loss']}")
def test_the_key_is_the_plain_loops_cell_by_cell(data: dict) -> None:
    """Every cell of every round of random 1-4 layer networks (every activation and loss, biases
    updated or fixed) has the value of the plain loops, and the graph has no other cells."""
    key = answer_key(parse_spec(data))
    n_layers = len(data["layers"])
    for r, cells in enumerate(expected_cells(data), start=1):
        mine = {(k.column, k.quantity, k.layer, k.index): v for k, v in key.values.items() if k.round == r}
        assert set(mine) == set(cells)
        for place, value in cells.items():
            assert mine[place] == pytest.approx(value, rel=1e-9, abs=1e-12), (r, place)
            column, quantity, layer, index = place
            assert key.graph[CellId(r, column, layer, quantity, index)].name == notation(*place, n_layers)


@pytest.mark.parametrize("data", SPECS, ids=lambda d: f"{len(d['layers'])}L-{d['layers'][0]['activation']}-{d['loss']}")
def test_the_graphs_formulas_agree_with_the_numpy_engine(data: dict) -> None:
    """Evaluating every cell's one-step formula in graph order gives the numpy engine's key."""
    key = answer_key(parse_spec(data))
    values = key.graph.evaluate()
    for k, v in values.items():
        assert v == pytest.approx(key.values[k], rel=1e-9, abs=1e-12), k


def test_every_cell_comes_after_its_upstream_cells() -> None:
    """Graph order is a computing order, also across layers: a hidden dL/df after the layer above."""
    graph = build_graph(parse_spec(random_network(4, sizes=[3, 4, 3, 2], rounds=2)))
    seen: set[CellId] = set()
    for k, cell in graph.cells.items():
        assert set(cell.deps) <= seen, k
        seen.add(k)


def test_hidden_df_sums_over_the_layer_above_with_the_rounds_weights() -> None:
    """dL/df_j^[1] of a 2-3-2 network is Σ_k w_jk^[2]·dL/ds_k^[2] over that round's w^[2]
    (the parameters, not the updated ones), computed from whatever values it is given."""
    spec = parse_spec(random_network(8, sizes=[2, 3, 2], rounds=2))
    graph = build_graph(spec)
    cell = graph[CellId(2, "backward", 1, "dL/df", (3,))]
    assert cell.deps == (CellId(2, "parameters", 2, "w", (3, 1)), CellId(2, "parameters", 2, "w", (3, 2)),
                         CellId(2, "backward", 2, "dL/ds", (1,)), CellId(2, "backward", 2, "dL/ds", (2,)))
    assert cell.formula == "w31[2]*dL/ds1[2] + w32[2]*dL/ds2[2]"
    assert cell.compute([0.5, -2.0, 0.1, 0.3]) == pytest.approx(0.5 * 0.1 - 2.0 * 0.3)


def test_names_and_ids_in_the_course_notation() -> None:
    """One layer keeps Homework 4.1's names; with layers, the layer follows in brackets."""
    one = build_graph(parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())))
    assert [one[single_layer_cell(2, c, n)].id for c, n in [("forward", "s1"), ("backward", "dL/dw12"),
                                                             ("forward", "(y1-f1)^2"), ("forward", "L")]] == [
        "r2.forward.s1", "r2.backward.dL/dw12", "r2.forward.(y1-f1)^2", "r2.forward.L"]
    two = build_graph(parse_spec(HIDDEN))
    examples = {CellId(2, "forward", 2, "s", (1,)): ("s1[2]", "r2.forward.s1[2]"),
                CellId(1, "updated", 2, "w", (1, 2)): ("w12[2]", "r1.updated.w12[2]"),
                CellId(3, "backward", 1, "dL/dw", (2, 1)): ("dL/dw21[1]", "r3.backward.dL/dw21[1]"),
                CellId(1, "forward", None, "y-f", (2,)): ("y2-f2", "r1.forward.y2-f2"),
                CellId(4, "forward", None, "L", ()): ("L", "r4.forward.L"),
                CellId(1, "parameters", None, "x", (1,)): ("x1", "r1.parameters.x1")}
    for k, (name, ident) in examples.items():
        assert (two[k].name, two[k].id) == (name, ident)
        assert cell_id_text(k, 2) == ident and cell_name(k, 2) == name
    # Within a round and column every name is one cell's: the table the answers are read with.
    shape = Shape.of(parse_spec(HIDDEN))
    places = [p for k, p in ((k, k.place) for k in two.cells) if k.round == 1]
    assert len(names_table(shape)) == len(places) == len(set(places))
    assert all(names_table(shape)[(p.column, cell_name(p, 2))] == p for p in places)


def test_fixed_biases_are_given_every_round_without_gradient_or_update() -> None:
    """With update_biases false, b is given in every round and has no dL/db or updated cell."""
    data = random_network(5, sizes=[2, 3, 2], activation="tanh", loss="mse", update_biases=False, rounds=3)
    graph = build_graph(parse_spec(data))
    quantities = {(k.column, k.quantity) for k in graph.cells}
    assert ("backward", "dL/db") not in quantities and ("updated", "b") not in quantities
    for k, cell in graph.cells.items():
        if k.quantity == "b":
            assert cell.given and cell.value == data["layers"][k.layer - 1]["biases"][k.index[0] - 1]
        if k.quantity == "w" and k.column == "parameters":
            assert cell.given == (k.round == 1)


def test_key_json_lists_every_cell_with_its_structure() -> None:
    """answerkey's "cells": round, column, layer, quantity, index, name and value of each cell,
    beside the per-round tables keyed by name."""
    key = answer_key(parse_spec(HIDDEN)).to_json()
    rounds = reference(HIDDEN)
    assert len(key["cells"]) == sum(len(cells) for cells in rounds)
    for cell in key["cells"]:
        place = (cell["column"], cell["quantity"], cell["layer"], tuple(cell["index"]))
        assert cell["value"] == pytest.approx(rounds[cell["round"] - 1][place], rel=1e-12, abs=1e-15)
        assert cell["name"] == notation(*place, 2)
        assert key["rounds"][cell["round"] - 1][cell["column"]][cell["name"]] == cell["value"]
    assert set(key) == {"rounds", "loss", "cells"}


def test_table_layout_bands_by_layer() -> None:
    """One layer: Homework 4.1's four columns; 2-2-2: a band per layer (x with layer 1), then y and the loss."""
    (only,) = table_layout(Shape.single(2, 2))
    assert only.title == "" and {c: [cell_name(p, 1) for p in only.column(c)] for c in cell_names(2, 2)} == cell_names(2, 2)
    bands = table_layout(Shape.of(parse_spec(HIDDEN)))
    assert [b.title for b in bands] == ["Layer 1 (hidden)", "Layer 2 (output)", "Loss"]
    names = [[cell_name(p, 2) for p in b.column("parameters")] for b in bands]
    assert names == [["x1", "x2", "w11[1]", "w12[1]", "w21[1]", "w22[1]", "b1[1]", "b2[1]"],
                     ["w11[2]", "w12[2]", "w21[2]", "w22[2]", "b1[2]", "b2[2]"], ["y1", "y2"]]
    assert [cell_name(p, 2) for p in bands[1].column("backward")] == [
        "dL/df1[2]", "dL/df2[2]", "dL/ds1[2]", "dL/ds2[2]", "dL/db1[2]", "dL/db2[2]",
        "dL/dw11[2]", "dL/dw21[2]", "dL/dw12[2]", "dL/dw22[2]"]
    assert [cell_name(p, 2) for p in bands[2].column("forward")] == ["y1-f1", "y2-f2", "(y1-f1)^2", "(y2-f2)^2", "L"]


# ---------------------------------------------------------------- formulas on intervals


def _box(key, deps: tuple[CellId, ...], half: float) -> list[Interval]:
    return [Interval.point(key.values[d]) if not key.graph[d].gradable
            else Interval(key.values[d] - half, key.values[d] + half) for d in deps]


@pytest.mark.parametrize(("activation", "loss"), COMBINATIONS)
def test_cell_formulas_on_intervals_enclose_every_point(activation: str, loss: str) -> None:
    """Over upstream intervals (±1e-4 around the key), each cell's formula of a 3-layer network
    holds the float formula at every corner and at random points: follow-through from the
    rounding of typed values works across layers, activations and losses."""
    data = random_network(21, sizes=[2, 3, 2, 2], activation=activation, loss=loss, rounds=2)
    key = answer_key(parse_spec(data))
    rng = random.Random(3)
    for cell in key.graph.cells.values():
        if cell.given or cell.round > 1:
            continue
        ivs = _box(key, cell.deps, 1e-4)
        out = recompute(cell.fn, ivs)  # type: ignore[arg-type]
        assert out is not None, cell.key
        corners = itertools.islice(itertools.product(*[(iv.lo, iv.hi) for iv in ivs]), 512)
        points = list(corners) + [[rng.uniform(iv.lo, iv.hi) for iv in ivs] for _ in range(100)]
        for p in points:
            v = cell.fn(*p)  # type: ignore[misc]
            assert out.lo - 1e-12 <= v <= out.hi + 1e-12, (cell.name, out, v)
        assert math.isfinite(out.lo) and out.hi - out.lo < 1.0, cell.name


def test_a_place_is_a_cell_without_its_round() -> None:
    """Place.at and CellId.place are inverse: the structure is the same in every round."""
    k = CellId(3, "backward", 2, "dL/dw", (1, 2))
    assert k.place == Place("backward", 2, "dL/dw", (1, 2)) and k.place.at(3) == k
