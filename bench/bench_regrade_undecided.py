"""A class dry run that does not wait out the sandbox's time-outs again (issue 18, item 6).

300 graded attempts, each with six Q1 rows the checker cannot decide in its time budget (a right
formula plus an expanded zero sympy cannot simplify in time; three spellings per row, so a class
has 18 distinct undecided texts), the decimals changed from 4 to 3, then
`regrade_assignment(dry_run=True)` as the task worker runs it (in-process, workers=1).

Printed: the first dry run with an empty verdict cache (every distinct undecided text waits out
its budget once), then the median of the following dry runs (the undecided verdicts are reused:
target < 3 s). A measurement, not a test:

    /work/main/.venv/bin/python bench/bench_regrade_undecided.py   (BENCH_ATTEMPTS, BENCH_RUNS)
"""
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "300"))
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["DJANGO_TASKS_IMMEDIATE"] = "1"
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from grading import engine, services  # noqa: E402
from grading.grade import grader  # noqa: E402
from grading.formulas import VERDICTS  # noqa: E402
from grading.models import Assignment, Grading, Membership, Submission  # noqa: E402
from tests.factories import SPEC_4_1, make_assignment  # noqa: E402

RIGHT = {"s1": "w11*x1 + w21*x2 + b1", "s2": "w12*x1 + w22*x2 + b2", "dL/df1": "f1 - y1",
         "dL/df2": "f2 - y2", "dL/dw11": "dL/ds1 * x1", "dL/dw22": "dL/ds2 * x2"}


def slow(text: str, variant: int) -> str:
    """``text`` plus an expanded zero: numerically equal, too slow for sympy in the budget."""
    b = f"((w11 + x1 + w21 + x2 + b1 + b2 + y1 + y2 + w12 + w22)/{16 + variant} + 2)"
    return f"({b}^32 + 1)^2 - {b}^64 - 2*{b}^32 - 1 + {text}"


def answers(rng: random.Random, key) -> dict:
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        value = key.values[cell.key] + (rng.choice([0.0003, -0.0004]) if rng.random() < 0.03 else 0.0)
        rounds.setdefault(cell.round, {"round": cell.round}).setdefault(
            cell.column, {})[cell.name] = f"{value:.4f}"
    return {"rounds": list(rounds.values()),
            "formulas": {row: slow(text, rng.randrange(3)) for row, text in RIGHT.items()}}


def setup() -> Assignment:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    assignment = make_assignment()
    User = get_user_model()
    User.objects.bulk_create([User(username=f"s{k:05d}") for k in range(ATTEMPTS)], batch_size=1000)
    users = list(User.objects.filter(username__startswith="s").order_by("username"))
    Membership.objects.bulk_create([Membership(course=assignment.course, user=u) for u in users])
    key = engine.answer_key(engine.parse_spec(SPEC_4_1))
    rng = random.Random(18)
    sheets = [services.clean_answers(assignment.parsed_spec, answers(rng, key)) for _ in range(ATTEMPTS)]
    config = services.grading_config(assignment)
    reports = [grader.grade_submission(assignment.parsed_spec, sheet, config) for sheet in sheets]
    undecided = sum(len(r.undecided_rows) for r in reports)
    now = timezone.now()
    subs = Submission.objects.bulk_create([
        Submission(assignment=assignment, student=users[k], attempt=1, answers=sheet,
                   state="submitted", submitted_at=now, receipt=services.answers_digest(sheet))
        for k, sheet in enumerate(sheets)], batch_size=500)
    digest = services.spec_hash(assignment.spec, config)
    Grading.objects.bulk_create([
        Grading(submission=s, sequence=1, kind="auto", report=r.to_json(), score=r.total,
                max_score=r.max, scores=r.scores(), needs_review=bool(r.undecided_rows),
                grader_version=r.grader_version, spec_hash=digest)
        for s, r in zip(subs, reports)], batch_size=500)
    print(f"set-up: {ATTEMPTS} attempts, {undecided} undecided Q1 rows "
          f"({undecided / ATTEMPTS:.1f} per attempt; not part of the measure)")
    Assignment.objects.filter(pk=assignment.pk).update(decimals=3)
    assignment.refresh_from_db()
    return assignment


def dry_run(assignment: Assignment) -> float:
    start = time.perf_counter()
    services.regrade_assignment(assignment=assignment, dry_run=True)
    return time.perf_counter() - start


def main() -> None:
    assignment = setup()
    VERDICTS.clear()  # as a fresh task worker starts
    cold = dry_run(assignment)
    print(f"first dry run of {ATTEMPTS} attempts, empty verdict cache: {cold:.2f} s")
    warm = [dry_run(assignment) for _ in range(RUNS)]
    print(f"following dry runs (undecided verdicts reused), median of {RUNS}: "
          f"{statistics.median(warm):.2f} s (min {min(warm):.2f}, max {max(warm):.2f}; target < 3 s)")


if __name__ == "__main__":
    main()
