"""A class-sized dry-run regrade, end to end: 10,000 synthetic graded attempts (tables and Q1)
in a throwaway SQLite file, the decimals changed from 4 to 3, then `regrade_assignment(dry_run=True)`
with worker processes, timed from the first query to the last diff.

Synthetic attempts: the key rounded to 4 places with a few random slips (some within the
3-decimal band, so the regrade changes them), and Q1 rows drawn from a pool of formulas a class
types (right, not chained, named mistakes, notation variants): the verdict cache makes a class's
identical formulas cost one check per process. A measurement, not a test: `make bench` prints it.
"""
from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "10000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 2)))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "1")
os.environ["DJANGO_TASKS_IMMEDIATE"] = "1"
os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

# A spawned grading worker imports this file again (as __mp_main__) and needs none of Django:
# as under `manage.py grading_worker`, whose workers do not set Django up either.
if __name__ != "__mp_main__":
    import django  # noqa: E402

    django.setup()
    from django.conf import settings  # noqa: E402
    from django.contrib.auth import get_user_model  # noqa: E402
    from django.core.management import call_command  # noqa: E402
    from django.utils import timezone  # noqa: E402

    from grading import engine, services  # noqa: E402
    from grading.grade import grader  # noqa: E402
    from grading.models import Assignment, Grading, Membership, Submission  # noqa: E402
    from tests.factories import SPEC_4_1, make_assignment  # noqa: E402

FORMULAS = {
    "s1": ["w11*x1 + w21*x2 + b1", "x1*w11 + x2*w21 + b1", "w11*x1 + w21*x2"],
    "f1": ["sigmoid(s1)", "1/(1 + exp(-s1))", "σ(s1)"],
    "L": ["(y1 - f1)^2/2 + (y2 - f2)^2/2", "(y1 - f1)^2 + (y2 - f2)^2"],
    "dL/df1": ["f1 - y1", "y1 - f1", "-(y1 - f1)"],
    "dL/ds1": ["dL/df1 * f1 * (1 - f1)", "dL/df1", "(f1 - y1)*f1*(1 - f1)"],
    "dL/dw11": ["dL/ds1 * x1", "dL/ds1 * x2"],
}


def synthetic_answers(rng: random.Random, key) -> dict:
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        value = key.values[cell.key]
        if rng.random() < 0.03:
            value += rng.choice([0.0003, -0.0004, 0.01, -0.05])
        rounds.setdefault(cell.round, {"round": cell.round}).setdefault(
            cell.column, {})[cell.name] = f"{value:.4f}"
    return {"rounds": list(rounds.values()),
            "formulas": {row: rng.choice(texts) for row, texts in FORMULAS.items()}}


def setup() -> Assignment:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    assignment = make_assignment()
    Assignment.objects.filter(pk=assignment.pk).update(max_attempts=4)
    students = max(1, ATTEMPTS // 4)
    User = get_user_model()
    User.objects.bulk_create([User(username=f"s{k:05d}") for k in range(students)], batch_size=1000)
    users = list(User.objects.filter(username__startswith="s").order_by("username"))
    Membership.objects.bulk_create([Membership(course=assignment.course, user=u) for u in users],
                                   batch_size=1000)
    key = engine.answer_key(engine.parse_spec(SPEC_4_1))
    rng = random.Random(41)
    sheets = [services.clean_answers(assignment.parsed_spec, synthetic_answers(rng, key))
              for _ in range(ATTEMPTS)]
    config = services.grading_config(assignment)
    with grader.GradingPool(assignment.parsed_spec, config, workers=WORKERS) as pool:
        reports = pool.grade(sheets)
    now = timezone.now()
    subs = Submission.objects.bulk_create([
        Submission(assignment=assignment, student=users[k // 4], attempt=k % 4 + 1, answers=sheet,
                   state="submitted", submitted_at=now, receipt=services.answers_digest(sheet))
        for k, sheet in enumerate(sheets)], batch_size=500)
    digest = services.spec_hash(assignment.spec, config)
    Grading.objects.bulk_create([
        Grading(submission=s, sequence=1, kind="auto", report=r.to_json(), score=r.total,
                max_score=r.max, scores=r.scores(), needs_review=bool(r.undecided_rows),
                grader_version=r.grader_version, spec_hash=digest)
        for s, r in zip(subs, reports)], batch_size=500)
    Assignment.objects.filter(pk=assignment.pk).update(decimals=3)
    assignment.refresh_from_db()
    return assignment


def main() -> None:
    started = time.perf_counter()
    assignment = setup()
    print(f"set-up: {ATTEMPTS} graded attempts in {time.perf_counter() - started:.1f} s "
          f"(not part of the measure)")
    start, cpu = time.perf_counter(), os.times()
    outcome = services.regrade_assignment(assignment=assignment, dry_run=True, workers=WORKERS)
    total, after = time.perf_counter() - start, os.times()
    print(f"dry-run regrade of {ATTEMPTS} attempts, {WORKERS} workers, end to end: {total:.2f} s "
          f"({total / ATTEMPTS * 1000:.3f} ms per attempt); {len(outcome.changed)} would change")
    # CPU seconds do not depend on what else the machine runs: the figure to compare on a busy one.
    print(f"  CPU: {after.user + after.system - cpu.user - cpu.system:.2f} s in this process, "
          f"{after.children_user + after.children_system - cpu.children_user - cpu.children_system:.2f} s "
          f"in the workers")
    # The median cost of one attempt's grading (tables and Q1, verdicts cached), in-process.
    sample = list(Submission.objects.filter(assignment=assignment)[:300])
    config, spec = services.grading_config(assignment), assignment.parsed_spec
    times = []
    for s in sample:
        t0 = time.perf_counter()
        grader.grade_submission(spec, s.answers, config)
        times.append(time.perf_counter() - t0)
    print(f"grading one attempt (tables + Q1, warm cache), median: {statistics.median(times) * 1000:.2f} ms")


if __name__ == "__main__":
    main()
