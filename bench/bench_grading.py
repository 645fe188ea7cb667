"""Median time to grade one complete Homework 4.1 submission (engine + marking + formulas, no DB).

A measurement, not a test: `make bench` prints it.
"""
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms  # noqa: E402
from grading import engine  # noqa: E402
from grading.grade import grader  # noqa: E402
from grading.formulas import reference_formulas  # noqa: E402

SPEC = engine.parse_spec(json.loads((Path(__file__).resolve().parent.parent / "grading" / "specs" / "homework-4.1.json").read_text()))


def complete_answers(with_formulas: bool) -> dict:
    key = engine.answer_key(SPEC).to_json()
    rounds = []
    for table in key["rounds"]:
        typed = {"round": table["round"]}
        for column in ("parameters", "forward", "backward", "updated"):
            typed[column] = {n: f"{v:.4f}" for n, v in table[column].items()}
        rounds.append(typed)
    answers = {"rounds": rounds}
    if with_formulas:
        answers["formulas"] = reference_formulas(SPEC.n_inputs, SPEC.n_outputs)
    return answers


def main() -> None:
    tables_only = grader.GradingConfig(questions=tuple(q for q in grader.default_questions(SPEC) if q.kind != "formulas"))
    everything = grader.GradingConfig(questions=grader.default_questions(SPEC))
    answers = complete_answers(with_formulas=False)
    full = complete_answers(with_formulas=True)
    print(f"grade one complete submission, tables only (marking; key cached per spec): "
          f"median {median_ms(lambda: grader.grade_submission(SPEC, answers, tables_only), 300):.3f} ms")
    print(f"grade one complete submission with all 15 formulas:              "
          f"median {median_ms(lambda: grader.grade_submission(SPEC, full, everything), 30):.3f} ms")


if __name__ == "__main__":
    main()
