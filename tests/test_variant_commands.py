"""The variant and keyaudit commands: JSON out, one line on stderr and exit code 2 for bad input."""
import copy
import json
import os
import subprocess
import sys
from pathlib import Path

from grading.engine import parse_spec
from tests import refnet

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "grading" / "specs" / "homework-4.1.json"
HW = json.loads(SPEC.read_text())
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


def ranged() -> dict:
    template = copy.deepcopy(HW)
    template["weights"][0] = [{"range": [0.1, 0.9], "step": 0.1}, {"choice": [0.3, 0.6]}]
    template["samples"][0]["x"][0] = {"range": [0.1, 0.9], "step": 0.2}
    return template


def test_variant_prints_a_concrete_spec_of_the_template(tmp_path):
    """variant prints a spec of numbers only: the template's fixed numbers, ranged ones on their grid."""
    result = run("variant", write(tmp_path, "t.json", ranged()), "--seed", "41", "--student", "alice")
    assert result.returncode == 0, result.stderr
    concrete = json.loads(result.stdout)
    parse_spec(concrete)  # a valid spec, no ranges left
    assert concrete["weights"][0][0] in [k / 10 for k in range(1, 10)]
    assert concrete["weights"][0][1] in (0.3, 0.6)
    assert concrete["samples"][0]["x"][0] in (0.1, 0.3, 0.5, 0.7, 0.9)
    assert concrete["weights"][1] == HW["weights"][1] and concrete["samples"][1:] == HW["samples"][1:]
    assert refnet.degenerate_cells(concrete, 4) == set()


def test_variant_is_the_same_every_run_and_differs_by_student(tmp_path):
    """One seed and student: the same spec in every run; other students: other numbers."""
    path = write(tmp_path, "t.json", ranged())
    first = run("variant", path, "--seed", "7", "--student", "s1").stdout
    assert first and run("variant", path, "--seed", "7", "--student", "s1").stdout == first
    others = {run("variant", path, "--seed", "7", "--student", f"s{k}").stdout for k in range(2, 5)}
    assert len(others | {first}) > 2


def test_variant_of_a_spec_without_ranges_is_the_spec(tmp_path):
    """Homework 4.1 itself draws as itself."""
    result = run("variant", str(SPEC), "--seed", "1")
    assert result.returncode == 0, result.stderr
    assert parse_spec(json.loads(result.stdout)) == parse_spec(HW)


def test_variant_errors_are_one_line_with_exit_code_2(tmp_path):
    """A bad range, ranges that admit nothing and a missing file: one line on stderr, exit code 2."""
    bad = copy.deepcopy(HW)
    bad["biases"][0] = {"range": [0, 1], "step": 0}
    nothing = copy.deepcopy(HW)
    nothing["samples"][0]["x"][0] = {"choice": [0]}
    cases = [
        (write(tmp_path, "bad.json", bad), "biases[0]: range step must be positive, got 0"),
        (write(tmp_path, "nothing.json", nothing), "after 200 draws no non-degenerate problem"),
        (str(tmp_path / "missing.json"), "no such file"),
        (write(tmp_path, "big.json", '{"weights": ' + "1" * 5000 + "}"), "not usable JSON"),
    ]
    for path, message in cases:
        result = run("variant", path, "--seed", "3")
        assert result.returncode == 2, (path, result.stdout)
        assert message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert result.stdout == ""


def test_variant_refuses_a_seed_that_is_not_a_number(tmp_path):
    """--seed must be an integer (argparse's own usage error, exit code 2)."""
    result = run("variant", str(SPEC), "--seed", "x")
    assert result.returncode == 2 and "invalid int value: 'x'" in result.stderr


def test_keyaudit_prints_the_homeworks_disagreements():
    """keyaudit on Homework 4.1's printed key: its three typos, the carried copy and the slip."""
    result = run("keyaudit", str(SPEC), str(PRINTED))
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["disagreements"]
    assert [(d["round"], d["column"], d["name"], d["printed"], d["kind"]) for d in rows] == [
        (2, "updated", "b2", "0.106239", "typo"),
        (3, "parameters", "b2", "0.106239", "carried"),
        (3, "forward", "f2", "0.551654", "typo"),
        (4, "forward", "f2", "0.592438", "typo"),
        (4, "updated", "b1", "0.177970", "last_digit"),
    ]
    assert abs(rows[2]["expected"] - 0.5515654) < 1e-7  # 1 - printed (y2 - f2) 0.448435 = 0.551565


def test_keyaudit_reads_pasted_text_and_csv(tmp_path):
    """The handout's tables as text (.txt) and a CSV give the same disagreements as the JSON."""
    as_json = json.loads(run("keyaudit", str(SPEC), str(PRINTED)).stdout)
    as_text = run("keyaudit", str(SPEC), str(ROOT / "tests" / "data" / "printed_key_4_1.txt"))
    assert as_text.returncode == 0, as_text.stderr
    assert json.loads(as_text.stdout) == as_json
    rows = ["round,column,name,value", "3,forward,f2,0.551654", "1,forward,s1,0.46"]
    as_csv = run("keyaudit", str(SPEC), write(tmp_path, "k.csv", "\n".join(rows)))
    assert [d["name"] for d in json.loads(as_csv.stdout)["disagreements"]] == ["f2"]


def test_keyaudit_errors_are_one_line_with_exit_code_2(tmp_path):
    """A printed number as a JSON number, a cell the problem lacks, bad JSON: one line, exit code 2."""
    cases = [
        (write(tmp_path, "n.json", {"rounds": [{"round": 1, "forward": {"s1": 0.46}}]}),
         "must be the printed text as a string"),
        (write(tmp_path, "c.json", {"rounds": [{"round": 9, "forward": {"s1": "0.46"}}]}),
         "round 9 forward s1: the problem has no such cell"),
        (write(tmp_path, "j.json", "{"), "not valid JSON"),
        (write(tmp_path, "t.txt", "s_1 = 0.46"), "line 1: s1 = 0.46 comes before any round heading"),
    ]
    for path, message in cases:
        result = run("keyaudit", str(SPEC), path)
        assert result.returncode == 2, (path, result.stdout)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
