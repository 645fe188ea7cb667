"""The answerkey and grade commands: JSON in, JSON out, exit code 2 with one line for bad files."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grading import engine

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "grading" / "specs" / "homework-4.1.json"
PRINTED = ROOT / "tests" / "data" / "printed_key_4_1.json"


def run(*args: str) -> subprocess.CompletedProcess:
    # A bare environment, as a user would have: no secret, no debug, no database configured.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, name: str, content) -> str:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_answerkey_prints_the_engines_key():
    """answerkey prints every cell of every round, equal to the engine's values."""
    result = run("answerkey", str(SPEC))
    assert result.returncode == 0, result.stderr
    key = json.loads(result.stdout)
    expected = engine.answer_key(engine.parse_spec(json.loads(SPEC.read_text()))).to_json()
    assert key == expected
    assert [r["round"] for r in key["rounds"]] == [1, 2, 3, 4]
    assert set(key["rounds"][0]) == {"round", "parameters", "forward", "backward", "updated"}
    assert key["rounds"][0]["forward"]["s1"] == pytest.approx(0.46)
    assert len(key["loss"]) == 4


def test_grade_reports_every_cell_question_and_total(tmp_path):
    """grade marks the printed key typed in: every gradable cell listed, questions and total."""
    printed = json.loads(PRINTED.read_text())
    answers = {"rounds": printed["rounds"]}
    result = run("grade", str(SPEC), write(tmp_path, "a.json", answers))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    statuses = {(c["round"], c["column"], c["name"]): c["status"] for c in report["cells"]}
    # Round 1: 25 gradable cells (parameters are given), rounds 2-4 add the 6 typed w and b.
    assert sum(1 for k in statuses if k[0] == 1) == 25
    assert sum(1 for k in statuses if k[0] == 2) == 31
    assert statuses[(3, "forward", "f2")] == "incorrect"  # the printed typo
    assert statuses[(1, "forward", "s1")] == "correct"
    for cell in report["cells"]:
        assert {"round", "column", "name", "given", "expected", "status", "message"} <= set(cell)
        assert isinstance(cell["given"], str) and isinstance(cell["expected"], float)
    ids = [q["id"] for q in report["questions"]]
    assert ids == ["Q1", "Q2", "Q3", "Q4", "Q5", "Q6"]
    q = {q["id"]: q for q in report["questions"]}
    assert q["Q2"]["score"] == pytest.approx(35) and q["Q3"]["score"] == pytest.approx(35)
    assert q["Q1"]["score"] == 0  # no formulas given: blank rows
    assert report["total"] == pytest.approx(sum(x["score"] for x in report["questions"]))


@pytest.mark.parametrize("content, fragment", [
    ("{not json", "not valid JSON"),
    ("[1, 2]", "must be a JSON object"),
    ({"weights": [[0.2, "a"], [0.1, 0.5]], "biases": [0.3, 0.4], "learning_rate": 1,
      "samples": [{"x": [1, 2], "y": [0, 1]}]}, "weights[0][1] must be a number"),
    ({"weights": [[0.2, 0.3], [0.1, 0.5]], "biases": [0.3], "learning_rate": 1,
      "samples": [{"x": [1, 2], "y": [0, 1]}]}, "weights[0] has 2 values; expected 1"),
    ({"weights": [[0.2, 0.3], [0.1, 0.5]], "biases": [0.3, 0.4], "learning_rate": 1,
      "samples": []}, "samples must be a non-empty list"),
    ({"weights": [[0.2, 0.3], [0.1, 0.5]], "biases": [0.3, 0.4], "learning_rate": 1,
      "samples": [{"x": [1, 2, 3], "y": [0, 1]}]}, "samples[0].x has 3 values; expected 2"),
])
def test_bad_spec_exits_2_with_one_line(tmp_path, content, fragment):
    """A bad spec gives one clear line on stderr and exit code 2, never a traceback."""
    for command in ("answerkey", "grade"):
        args = [command, write(tmp_path, "spec.json", content)]
        if command == "grade":
            args.append(write(tmp_path, "a.json", {"rounds": []}))
        result = run(*args)
        assert result.returncode == 2
        assert fragment in result.stderr
        assert "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content, fragment", [
    ("", "not valid JSON"),
    ("[]", "must be a JSON object"),
    ({"rounds": {"round": 1}}, "must be a list"),
    ({"rounds": [{"round": 9}]}, "round number from 1 to 4"),
    ({"rounds": [{"round": 1, "sideways": {}}]}, "unknown column"),
    ({"rounds": [{"round": 1, "forward": {"s9": "1"}}]}, "unknown cell"),
    ({"rounds": [{"round": 1, "forward": {"s1": [1]}}]}, "must be the value as typed"),
    ({"formulas": {"s1": 3}}, "\"formulas\" must be an object"),
])
def test_bad_answers_exit_2_with_one_line(tmp_path, content, fragment):
    """Answers of the wrong shape give one clear line on stderr and exit code 2."""
    result = run("grade", str(SPEC), write(tmp_path, "a.json", content))
    assert result.returncode == 2, result.stdout
    assert fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path):
    """A path that does not exist is named in the one-line message."""
    result = run("answerkey", str(tmp_path / "nope.json"))
    assert result.returncode == 2
    assert "no such file" in result.stderr


def test_grade_reports_formulas_carried_cells_and_mistakes(tmp_path):
    """Formulas get a verdict and points; a slip in s1 carries forward; a named mistake is labelled."""
    key = engine.answer_key(engine.parse_spec(json.loads(SPEC.read_text()))).to_json()["rounds"][0]
    typed = {col: {n: f"{v:.4f}" for n, v in key[col].items()} for col in ("forward", "backward", "updated")}
    # An arithmetic slip in s1, carried honestly into f1 ...
    typed["forward"]["s1"] = "0.4700"
    import math
    typed["forward"]["f1"] = f"{1 / (1 + math.exp(-0.47)):.4f}"
    # ... and dL/df2 written without the 1/2 of the loss: 2(f2 - y2).
    typed["backward"]["dL/df2"] = f"{2 * key['backward']['dL/df2']:.4f}"
    answers = {"rounds": [{"round": 1, **typed}],
               "formulas": {"s1": "w11*x1 + w21*x2 + b1", "dL/ds1": "(f1 - y1)*f1*(1 - f1)",
                            "f1": "sigmoid(s2)"}}
    result = run("grade", str(SPEC), write(tmp_path, "a.json", answers))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    cells = {(c["round"], c["name"]): c for c in report["cells"]}
    assert cells[(1, "s1")]["status"] == "incorrect"
    assert cells[(1, "f1")]["status"] == "carried"
    assert cells[(1, "f1")]["upstream"]["s1"] == pytest.approx(0.47)
    assert cells[(1, "dL/df2")]["status"] == "incorrect"
    assert cells[(1, "dL/df2")]["mistake"] is not None
    rows = {f["row"]: f for f in report["formulas"]}
    assert {"row", "given", "status", "message", "points"} <= set(rows["s1"])
    assert rows["s1"]["status"] == "correct" and rows["s1"]["points"] == pytest.approx(2)
    assert rows["dL/ds1"]["status"] == "not_chained" and rows["dL/ds1"]["points"] == pytest.approx(1)
    assert rows["f1"]["status"] == "incorrect" and rows["f1"]["points"] == 0
    assert rows["L"]["status"] == "blank"
    q1 = next(q for q in report["questions"] if q["id"] == "Q1")
    assert q1["score"] == pytest.approx(3)


def test_keyaudit_of_a_text_with_no_numbers_exits_2(tmp_path):
    """A key the reader finds no number in is refused (exit 2, one line), not declared agreeing."""
    result = run("keyaudit", str(SPEC), write(tmp_path, "key.txt", "Homework 4.1\nSee the handout.\n"))
    assert result.returncode == 2, result.stdout
    assert "has no number this audit can read" in result.stderr
    assert "disagreements" not in result.stdout and "Traceback" not in result.stderr
