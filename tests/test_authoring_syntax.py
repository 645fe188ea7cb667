"""The authoring grids' cell syntax and layout (grading/engine/grids.py, pure): numbers, ranges and
choices read and written back, a spec's grids and back, and engine messages placed on cells."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import grading.engine.grids as authoring
from grading.engine.grids import CellError, cell_text, parse_cell, position_field
from grading.engine import SpecError
from grading.engine.ranges import parse_template
from tests.factories import SPEC_4_1

HIDDEN = json.loads((Path(__file__).resolve().parent.parent / "grading" / "specs"
                     / "hidden-layer-2-2-2.json").read_text())


@pytest.mark.parametrize("text, value", [
    ("0.25", 0.25), ("1", 1), ("-3", -3), (" .5 ", 0.5), ("2e-3", 0.002), ("\u22120.4", -0.4),
    ("0.1..0.9 step 0.1", {"range": [0.1, 0.9], "step": 0.1}),
    ("-1 .. 1 STEP 0.25", {"range": [-1, 1], "step": 0.25}),
    ("{0.2, 0.5, 0.8}", {"choice": [0.2, 0.5, 0.8]}), ("{1}", {"choice": [1]}),
])
def test_a_cell_reads_as_a_number_a_range_or_a_choice(text, value):
    """The documented forms, with spaces, a typeset minus and an upper-case STEP."""
    parsed = parse_cell(text)
    assert parsed == value and type(parsed) is type(value)


@pytest.mark.parametrize("text, message", [
    ("", "Type a number"), ("  ", "Type a number"), ("abc", "Not understood"), ("0,5", "Not understood"),
    ("0.1..0.9", "A range needs its step: 0.1..0.9 step 0.1"), ("{0.2, x}", "A choice lists numbers"),
    ("{}", "A choice lists numbers"), ("1" * 301, "Longer than 300"), ("nan", "Not understood"),
    ("1e999 ", None),
])
def test_a_cell_that_is_not_understood_says_how_to_write_it(text, message):
    """Each refusal names the form to use; 1e999 reads as a number (the engine then refuses it)."""
    if message is None:
        assert parse_cell(text) == float("inf")
        return
    with pytest.raises(CellError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse_cell(text)


@pytest.mark.parametrize("value", [0.1, 1, -0.000123, 1e-7, 250000, 0.30000000000000004,
                                   {"range": [0.1, 0.9], "step": 0.1}, {"choice": [0, 0.5, 1]}])
def test_a_cell_written_back_reads_as_the_same_value(value):
    """cell_text then parse_cell gives the value again (the shortest text of each float)."""
    assert parse_cell(cell_text(value)) == value


def test_a_float_that_is_an_integer_is_shown_without_a_point():
    assert cell_text(1.0) == "1" and cell_text(-2.0) == "-2" and cell_text(0.5) == "0.5"


@pytest.mark.parametrize("spec", [SPEC_4_1, HIDDEN], ids=["homework-4.1", "hidden-layer"])
def test_a_spec_through_its_grids_and_back_is_the_same_spec(spec):
    """Every cell of a spec's grids, read back, makes that spec (in its own form)."""
    grids = authoring.grids_of(spec)
    values = {}
    for l, layer in enumerate(grids.layers, start=1):
        for i, row in enumerate(layer.weights, start=1):
            for j, text in enumerate(row, start=1):
                values[f"w-{l}-{i}-{j}"] = parse_cell(text)
        for j, text in enumerate(layer.biases, start=1):
            values[f"b-{l}-{j}"] = parse_cell(text)
    for r, (x, y) in enumerate(grids.samples, start=1):
        values.update({f"x-{r}-{i}": parse_cell(t) for i, t in enumerate(x, start=1)})
        values.update({f"y-{r}-{j}": parse_cell(t) for j, t in enumerate(y, start=1)})
    values["lr"] = parse_cell(grids.lr)
    assert set(values) == set(authoring.cell_names(grids))
    rebuilt = authoring.spec_from(values, sizes=grids.sizes, activations=[l.activation for l in grids.layers],
                                  rounds=len(grids.samples), loss=grids.loss, update_biases=grids.update_biases)
    assert rebuilt == spec


def test_resizing_keeps_the_cells_that_still_exist():
    """From 2-2 to 3-1 over 5 rounds: w11, w21 and round 1-4's x1, x2, y1 stay; new ones are empty."""
    grids = authoring.grids_of(SPEC_4_1)
    out = authoring.resized(grids, [3, 1], ["tanh"], 5, "mse", False)
    assert out.layers[0].weights == [["0.2"], ["0.1"], [""]] and out.layers[0].biases == ["0.3"]
    assert out.layers[0].activation == "tanh" and (out.loss, out.update_biases) == ("mse", False)
    assert out.samples[0] == (["0.4", "0.8", ""], ["1"]) and out.samples[4] == (["", "", ""], [""])
    assert out.lr == "1"


def _message(spec) -> str:
    with pytest.raises(SpecError) as info:
        parse_template(spec)
    return str(info.value)


def test_engine_messages_are_placed_on_the_cell_they_name():
    """Real messages of the engine, for either spec form, land on the right field; a message
    about the whole spec lands on none."""
    single = json.loads(json.dumps(SPEC_4_1))
    single["weights"][1][0] = 2e7
    assert position_field(_message(single)) == ("w-1-2-1", "is 20000000.0; keep values within ±1e6")
    layered = json.loads(json.dumps(HIDDEN))
    layered["layers"][1]["biases"][1] = {"range": [1, 0], "step": 0.1}
    assert position_field(_message(layered)) == ("b-2-2", "range lo 1 is above hi 0")
    layered = json.loads(json.dumps(HIDDEN))
    layered["samples"][2]["x"][1] = "0.5"
    assert position_field(_message(layered))[0] == "x-3-2"
    layered = json.loads(json.dumps(HIDDEN))
    layered["learning_rate"] = -1
    assert position_field(_message(layered)) == ("lr", "must be positive, got -1.0")
    assert position_field("the spec must be a JSON object") == (None, "the spec must be a JSON object")


@pytest.mark.parametrize("name, label", [("w-1-1-2", "w12"), ("b-2-1", "b1[2]"), ("x-3-2", "round 3 x2"),
                                         ("y-1-1", "round 1 y1"), ("lr", "learning rate")])
def test_cells_are_named_in_the_course_notation(name, label):
    n_layers = 2 if name.startswith("b-2") else 1
    assert authoring.cell_label(name, n_layers) == label
