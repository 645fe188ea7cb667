"""The student pages of two checkouts, timed in turn: A/B medians on a busy machine.

    python bench/ab_pages.py OTHER_CHECKOUT [RUNS]

Starts one worker process per checkout (this one and OTHER_CHECKOUT, e.g. an unpacked
`git archive main`), each with its own throwaway SQLite class as bench_pages.py builds it, then
asks them for one page at a time in alternation, so that both see the same load. Prints each
page's median per checkout, its statements per request and the ratio. A measurement, not a test.
"""
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent
PAGES = ["csrf", "home", "assignment", "feedback", "many"]


def worker(root: str) -> None:
    """Serve timings of one checkout: read a page name per line, answer its ms and statements."""
    sys.path.insert(0, root)
    os.chdir(root)
    os.environ.setdefault("BENCH_STUDENTS", "60")
    # Production's settings (debug off: no query log) on both sides, whatever each side's
    # bench_pages.py chose; static names as they are (the same on both sides).
    os.environ["DJANGO_DEBUG"] = os.environ.get("AB_DEBUG", "0")
    os.environ.setdefault("DJANGO_SECRET_KEY", "ab-pages-only-" + "x" * 40)
    os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
    import time

    import bench.bench_pages as bp  # sets the environment and django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client, override_settings
    from django.test.utils import CaptureQueriesContext

    from grading import services
    from tests.factories import make_assignment, make_member

    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES = {**settings.STORAGES,
                         "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    call_command("migrate", verbosity=0)
    assignment = make_assignment()
    first = None
    for k in range(int(os.environ["BENCH_STUDENTS"])):
        student = make_member(course=assignment.course, username=f"s{k:03d}")
        submission = services.submission_submit(assignment=assignment, student=student, answers=bp.answers(k % 3 == 0))
        first = first or (student, submission)
    many = make_member(course=assignment.course, username="many")
    type(assignment).objects.filter(pk=assignment.pk).update(max_attempts=10_000)
    assignment.refresh_from_db()
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        for _ in range(600):
            services.submission_submit(assignment=assignment, student=many, answers={})
    student_client, many_client = Client(), Client()
    student_client.force_login(first[0])
    many_client.force_login(many)
    urls = {"csrf": (student_client, "/csrf/"), "home": (student_client, "/"),
            "assignment": (student_client, f"/assignments/{assignment.pk}/"),
            "feedback": (student_client, f"/submissions/{first[1].pk}/"),
            "many": (many_client, f"/assignments/{assignment.pk}/")}
    statements = {}
    for page, (client, url) in urls.items():
        for _ in range(3):
            assert client.get(url).status_code == 200
        with CaptureQueriesContext(connection) as queries:  # counted apart: recording slows a query
            client.get(url)
        statements[page] = len(queries)
    print("ready", flush=True)
    for line in sys.stdin:
        client, url = urls[line.strip()]
        start = time.perf_counter()
        response = client.get(url)
        ms = (time.perf_counter() - start) * 1000
        assert response.status_code == 200
        print(json.dumps([ms, statements[line.strip()]]), flush=True)


def main() -> None:
    other, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 200
    sides = {"A (" + other + ")": other, "B (this checkout)": str(HERE)}
    procs = {}
    for name, root in sides.items():
        procs[name] = subprocess.Popen([sys.executable, __file__, "--worker", root], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL)
    for proc in procs.values():
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    times: dict[tuple[str, str], list[float]] = {}
    statements: dict[tuple[str, str], int] = {}
    for run in range(runs):
        for page in PAGES:
            # Each side goes first every other time: neither gains from running just after the other.
            for name, proc in (list(procs.items()) if run % 2 else list(procs.items())[::-1]):
                assert proc.stdin is not None and proc.stdout is not None
                proc.stdin.write(page + "\n")
                proc.stdin.flush()
                ms, count = json.loads(proc.stdout.readline())
                times.setdefault((name, page), []).append(ms)
                statements[(name, page)] = count
    for proc in procs.values():
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait()
    a, b = list(procs)
    print(f"{'page':<12} {'A median':>10} {'B median':>10} {'B/A':>6}   statements A -> B   ({runs} runs each, interleaved)")
    for page in PAGES:
        ma, mb = statistics.median(times[(a, page)]), statistics.median(times[(b, page)])
        print(f"{page:<12} {ma:8.2f}ms {mb:8.2f}ms {mb / ma:6.2f}   {statements[(a, page)]:>3} -> {statements[(b, page)]}")
    print(f"A = {a}, B = {b}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    else:
        main()
