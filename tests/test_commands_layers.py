"""answerkey and grade on random networks of every activation and loss, checked against the
plain loops of tests/test_network.py and the notation written out in tests/test_graph_layers.py."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from tests.test_commands import run
from tests.test_graph_layers import SPECS, expected_cells, notation

ROOT = Path(__file__).resolve().parent.parent
HIDDEN = ROOT / "grading" / "specs" / "hidden-layer-2-2-2.json"
COLUMNS = ("parameters", "forward", "backward", "updated")


def command(*args: str) -> dict:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return json.loads(out.getvalue())


def typed_answers(data: dict, change: dict[tuple, str] | None = None) -> dict:
    """Every cell a student types (not x, y nor round 1's w and b, nor fixed biases), from the
    plain loops, rounded to 4 places and keyed by the course's names."""
    n_layers = len(data["layers"])
    rounds = []
    for r, cells in enumerate(expected_cells(data), start=1):
        table: dict = {"round": r}
        for (column, quantity, layer, index), value in cells.items():
            if column == "parameters" and (quantity in ("x", "y") or r == 1
                                           or (quantity == "b" and not data.get("update_biases", True))):
                continue
            name = notation(column, quantity, layer, index, n_layers)
            text = (change or {}).get((r, column, name), f"{value:.4f}")
            table.setdefault(column, {})[name] = text
        rounds.append(table)
    return {"rounds": rounds}


@pytest.mark.parametrize("data", SPECS[::2], ids=lambda d: f"{len(d['layers'])}L-{d['layers'][0]['activation']}-{d['loss']}")
def test_answerkey_prints_every_cell_as_the_plain_loops_compute_it(data: dict, tmp_path: Path) -> None:
    """The key's per-round tables and its cells list hold the plain loops' values under the
    course's names, with each cell's round, column, layer, quantity and index."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(data))
    key = command("answerkey", str(spec))
    n_layers = len(data["layers"])
    expected = expected_cells(data)
    assert len(key["cells"]) == sum(len(cells) for cells in expected)
    for cell in key["cells"]:
        place = (cell["column"], cell["quantity"], cell["layer"], tuple(cell["index"]))
        value = expected[cell["round"] - 1][place]
        assert cell["value"] == pytest.approx(value, rel=1e-9, abs=1e-12)
        assert cell["name"] == notation(*place, n_layers)
    for r, table in enumerate(key["rounds"], start=1):
        names = {(p[0], notation(*p, n_layers)): v for p, v in expected[r - 1].items()}
        assert sum(len(table[column]) for column in COLUMNS) == len(names)
        for column in COLUMNS:
            for name, value in table[column].items():
                assert value == pytest.approx(names[(column, name)], rel=1e-9, abs=1e-12), (r, column, name)
    assert key["loss"] == pytest.approx([cells[("forward", "L", None, ())] for cells in expected])


@pytest.mark.parametrize("data", SPECS[1::2], ids=lambda d: f"{len(d['layers'])}L-{d['layers'][0]['activation']}-{d['loss']}")
def test_grade_marks_a_rounded_key_correct_and_a_changed_cell_wrong(data: dict, tmp_path: Path) -> None:
    """ANSWERS.json keyed by the course's names: the plain loops' values rounded to 4 places are
    all correct with their structure in the report; one changed hidden cell is incorrect."""
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps(data))
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(typed_answers(data)))
    report = command("grade", str(spec), str(answers))
    expected = expected_cells(data)
    assert report["schema"] == 4
    assert {c["status"] for c in report["cells"]} == {"correct"}
    for c in report["cells"]:
        place = (c["column"], c["quantity"], c["layer"], tuple(c["index"]))
        assert c["expected"] == pytest.approx(expected[c["round"] - 1][place], rel=1e-9, abs=1e-12)
        assert c["id"] == f"r{c['round']}.{c['column']}.{notation(*place, len(data['layers']))}"
    tables = [q for q in report["questions"] if q["kind"] == "round"]
    assert all(q["score"] == q["max"] for q in tables)
    # A value off by 0.3 in layer 1's s1 of round 1 is wrong there (and what follows may carry).
    name = notation("forward", "s", 1, (1,), len(data["layers"]))
    wrong = float(typed_answers(data)["rounds"][0]["forward"][name]) + 0.3
    answers.write_text(json.dumps(typed_answers(data, {(1, "forward", name): f"{wrong:.4f}"})))
    marks = {c["id"]: c for c in command("grade", str(spec), str(answers))["cells"]}
    assert marks[f"r1.forward.{name}"]["status"] == "incorrect"


def test_the_command_line_grades_the_hidden_layer_homework(tmp_path: Path) -> None:
    """Through manage.py as a user runs it: the hidden-layer demo's key typed to 4 places earns
    every table point; an answers file with an unknown cell name exits 2 with one line."""
    data = json.loads(HIDDEN.read_text())
    answers = tmp_path / "answers.json"
    answers.write_text(json.dumps(typed_answers(data)))
    result = run("grade", str(HIDDEN), str(answers))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["total"] == 4 * 35 + 5 and len(report["cells"]) == 4 * 45 + 3 * 12
    bad = {"rounds": [{"round": 1, "forward": {"s1": "0.1"}}]}  # s1 without its layer
    answers.write_text(json.dumps(bad))
    result = run("grade", str(HIDDEN), str(answers))
    assert result.returncode == 2 and result.stderr.strip().endswith("round 1 forward: unknown cell 's1'")
