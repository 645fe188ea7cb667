"""The gradebook export by class size: the direct download (the whole request through the test
client) against the staff job's steps, on a throwaway SQLite file with debug off.

A class of N students, each with ATTEMPTS graded attempts (copies of one real attempt and its
ledger record, written in bulk: the export reads the records' small columns, never a report).
Prints, per size, the median of the direct download (ms) and its queries, and the job: its whole
run, its longest step and its steps. A measurement, not a test (``BENCH_SIZES=100,500 python
bench/bench_exports.py``); it chose GRADING_EXPORT_INLINE_MAX.
"""
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-exports-only-" + secrets.token_hex(24))
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ["DJANGO_TASKS_IMMEDIATE"] = "1"
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.timing import median_ms  # noqa: E402
from grading import services  # noqa: E402
from grading.models import Grading, Membership, StaffJob, Submission  # noqa: E402
from tests.factories import make_assignment, make_member, round1_values  # noqa: E402

SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "100,250,500,1000,2000,3000").split(",")]
ATTEMPTS = int(os.environ.get("BENCH_ATTEMPTS", "2"))


def grow(assignment, template: Submission, record: Grading, upto: int) -> None:
    """Add students (with ATTEMPTS graded attempts each) until the course has ``upto``."""
    User = get_user_model()
    have = Membership.objects.filter(course=assignment.course, role="student").count()
    users = User.objects.bulk_create([User(username=f"b{k:05d}", email=f"b{k:05d}@example.org",
                                           first_name="Student", last_name=f"N{k}")
                                      for k in range(have, upto)])
    Membership.objects.bulk_create([Membership(course=assignment.course, user=u, role="student") for u in users])
    subs = Submission.objects.bulk_create([
        Submission(assignment=assignment, student=u, attempt=a, answers={}, state="submitted",
                   submitted_at=template.submitted_at, receipt=secrets.token_hex(8))
        for u in users for a in range(1, ATTEMPTS + 1)])
    Grading.objects.bulk_create([
        Grading(submission=s, sequence=1, kind="auto", report={}, score=record.score - s.attempt,
                max_score=record.max_score, scores=record.scores, needs_review=False,
                grader_version=record.grader_version, spec_hash=record.spec_hash, config=record.config)
        for s in subs])


def main() -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.GRADING_EXPORT_INLINE_MAX = 10 ** 9  # the direct download at every size
    call_command("migrate", verbosity=0)
    assignment = make_assignment()
    teacher = make_member(course=assignment.course, username="teacher", role=Membership.Role.INSTRUCTOR)
    first = make_member(course=assignment.course, username="a0000")
    template = services.submission_submit(assignment=assignment, student=first, answers=round1_values())
    record = Grading.objects.get(submission=template)
    client = Client()
    client.force_login(teacher)
    url = f"/assignments/{assignment.pk}/gradebook.csv"
    print(f"{ATTEMPTS} graded attempts a student; SQLite; medians")
    print(f"{'students':>8} {'direct (ms)':>12} {'queries':>8} {'job (ms)':>9} {'longest step (ms)':>18} {'steps':>6}")
    for size in SIZES:
        grow(assignment, template, record, size)
        runs = 15 if size <= 1000 else 5
        direct = median_ms(lambda: client.get(url), runs, warmup=1)
        with CaptureQueriesContext(connection) as captured:
            client.get(url)
        steps: list[float] = []
        last = [time.perf_counter()]

        def on_batch(_job) -> None:
            now = time.perf_counter()
            steps.append((now - last[0]) * 1000)
            last[0] = now

        job = StaffJob.objects.create(kind="export", assignment=assignment, requested_by=teacher,
                                      expires_at=assignment.due_at, options={"layout": "full"})
        start = time.perf_counter()
        last[0] = start
        services.export_job_run(job_id=job.pk, on_batch=on_batch)
        whole = (time.perf_counter() - start) * 1000
        print(f"{size:>8} {direct:>12.1f} {len(captured):>8} {whole:>9.1f} {max(steps):>18.1f} {len(steps):>6}")


if __name__ == "__main__":
    main()
