"""Median time to build the class index of numbers per cell (issue 17 items 3 and 6) for a class
of 300 students with per-student variants of Homework 4.1, each with a graded submitted attempt
(about 120 typed cells, a few wrong): every variant's key in one vectorised pass, and every
latest attempt's wrong typed values: in a fresh process, and again once each variant's and
each grading's values were read (a new attempt adds one). Then a student's view and a lookup.

A measurement, not a test: `python bench/bench_copying.py` prints it (BENCH_STUDENTS=n).
"""
import copy
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "300"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["DJANGO_TASKS_IMMEDIATE"] = "1"
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

from bench.timing import median_ms  # noqa: E402
from grading import engine, services, tasks  # noqa: E402
from grading.grade import grader  # noqa: E402
from grading.models import Submission  # noqa: E402
from grading.selectors import copying  # noqa: E402
from grading.services.assignments import grading_config  # noqa: E402
from tests.factories import SPEC_4_1, make_assignment, make_member  # noqa: E402


def template() -> dict:
    t = copy.deepcopy(SPEC_4_1)
    t["weights"] = [[{"range": [0.1, 0.9], "step": 0.05} for _ in row] for row in t["weights"]]
    t["biases"] = [{"range": [0.1, 0.5], "step": 0.05} for _ in t["biases"]]
    t["samples"][0]["x"] = [{"range": [0.1, 0.9], "step": 0.1} for _ in t["samples"][0]["x"]]
    return t


def answers_of(spec: engine.Spec, k: int) -> dict:
    """The student's own key at 4 places, with round 1's s1 and round 2's f2 wrong for some."""
    rounds = []
    for table in engine.answer_key(spec).to_json()["rounds"]:
        typed = {"round": table["round"]}
        for column in ("forward", "backward", "updated"):
            typed[column] = {name: f"{value:.4f}" for name, value in table[column].items()}
        rounds.append(typed)
    if k % 3 == 0:
        rounds[0]["forward"]["s1"] = f"{0.1 + k / 1000:.4f}"
    if k % 5 == 0:
        rounds[1]["forward"]["f2"] = f"{0.9 - k / 2000:.4f}"
    return {"rounds": rounds, "formulas": {}}


def cold() -> None:
    copying.forget_class_numbers()
    copying.build_class_index(ASSIGNMENT[0])


ASSIGNMENT: list = []


def main() -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    tasks.enqueue_grading = lambda submission_id: None  # graded below, without the index
    assignment = make_assignment(spec=template())
    ASSIGNMENT.append(assignment)
    config = grading_config(assignment)
    students = [make_member(course=assignment.course, username=f"s{k:03d}") for k in range(STUDENTS)]
    cells = 0
    for k, student in enumerate(students):
        problem = services.variant_draw(assignment=assignment, student=student).parsed_spec
        answers = answers_of(problem, k)
        submission = services.submission_submit(assignment=assignment, student=student, answers=answers)
        report = grader.grade_submission(problem, submission.answers, config)
        cells = len(report.cells)
        services.grading_create_auto(submission=submission, report=report, config=config)
    print(f"{STUDENTS} students with their own variants, {cells} gradable cells each, "
          f"{Submission.objects.count()} graded attempts")
    build = median_ms(cold, 7, warmup=1)
    print(f"{'class index build (cold process)':<34} median {build:8.2f} ms")
    build = median_ms(lambda: copying.build_class_index(assignment), 7, warmup=1)
    index = copying.build_class_index(assignment)
    entries = sum(len(v) for v in index.numbers.values())
    print(f"{'rebuild (records read before)':<34} median {build:8.2f} ms ({entries} value entries)")
    student = students[0]
    copying.class_numbers(assignment, exclude_student=student)
    cached = median_ms(lambda: copying.class_numbers(assignment, exclude_student=student)["r1.forward.s1"]
                       .get("0.1000"), 50)
    print(f"{'a student view and lookup (cached)':<34} median {cached:8.2f} ms")


if __name__ == "__main__":
    main()
