"""Median time of the main pages through Django's test client, on a throwaway SQLite file.

A class of STUDENTS students each submit the key rounded to 4 places (with one slip for some),
then the student and staff pages are timed, beside a bare view (`/csrf/`: the whole middleware,
session and user, no page) measured in the same run, with debug off as in production. A
measurement, not a test: `make bench` prints it (`DJANGO_DEBUG=1` measures the debug set-up).
"""
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
STUDENTS = int(os.environ.get("BENCH_STUDENTS", "60"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
# Production's settings: debug off (no query log kept, templates without debug information),
# static names read from a manifest; plain http to the client, as behind a proxy that redirects.
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-pages-only-" + secrets.token_hex(24))
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("DJANGO_STATIC_ROOT", tempfile.mkdtemp())
os.environ["DJANGO_TASKS_IMMEDIATE"] = "1"  # the setup grades in-process; the submit below is timed apart
os.environ["DATABASE_URL"] = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from bench.timing import median_ms  # noqa: E402
from grading import engine, services  # noqa: E402
from grading.models import Membership  # noqa: E402
from tests.factories import SPEC_4_1, make_assignment, make_member  # noqa: E402


def answers(slip: bool) -> dict:
    key = engine.answer_key(engine.parse_spec(SPEC_4_1))
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        table = rounds.setdefault(cell.key.round, {"round": cell.key.round})
        table.setdefault(cell.key.column, {})[cell.name] = f"{key.values[cell.key]:.4f}"
    if slip:
        rounds[1]["forward"]["s1"] = "0.4700"
    return {"rounds": list(rounds.values()),
            "formulas": {"s1": "w11*x1 + w21*x2 + b1", "f1": "sigmoid(s1)",
                         "dL/ds1": "(f1 - y1)*f1*(1 - f1)"}}


def page_ms(client: Client, url: str, runs: int = 100) -> float:
    def get() -> None:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return median_ms(get, runs, warmup=1)


def post_ms(client: Client, url: str, data: dict, runs: int = 20, expect: int = 200) -> float:
    body = urlencode(data)  # as a browser posts a form, not the test client's multipart

    def post() -> None:
        response = client.post(url, body, content_type="application/x-www-form-urlencoded")
        assert response.status_code == expect, (url, response.status_code, response.content[:300])
    return median_ms(post, runs, warmup=1)


def main() -> None:
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if not settings.DEBUG:
        # Production's manifest lookup for every {% static %}, without compressing files the
        # bench never serves (CompressedManifestStaticFilesStorage names them the same way).
        from django.test.utils import override_settings as _override

        _override(STORAGES={**settings.STORAGES, "staticfiles": {
            "BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"}}).enable()
        call_command("collectstatic", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    assignment = make_assignment()
    teacher = make_member(course=assignment.course, username="teacher", role=Membership.Role.INSTRUCTOR)
    start = time.perf_counter()
    first = None
    for k in range(STUDENTS):
        student = make_member(course=assignment.course, username=f"s{k:03d}")
        sub = services.submission_submit(assignment=assignment, student=student, answers=answers(k % 3 == 0))
        first = first or (student, sub)
    per_submit = (time.perf_counter() - start) / STUDENTS * 1000
    print(f"{STUDENTS} students; submit (save + grade incl. 3 formulas + write), mean: {per_submit:.1f} ms")
    student_client, staff_client = Client(), Client()
    student_client.force_login(first[0])
    staff_client.force_login(teacher)
    pk, sub = assignment.pk, first[1].pk
    for label, client, url in [
        ("bare view /csrf/ (student)", student_client, "/csrf/"),  # the whole middleware, no page
        ("home (student)", student_client, "/"),
        ("assignment page (student)", student_client, f"/assignments/{pk}/"),
        ("feedback page (student)", student_client, f"/submissions/{sub}/"),
        ("loss plot SVG (cached)", student_client, f"/submissions/{sub}/loss.svg"),
        ("gradebook (staff)", staff_client, f"/assignments/{pk}/gradebook/"),
        ("gradebook CSV (staff)", staff_client, f"/assignments/{pk}/gradebook.csv"),
        ("answer key (staff)", staff_client, f"/assignments/{pk}/key/"),
        ("analytics (staff)", staff_client, f"/assignments/{pk}/analytics/"),
    ]:
        print(f"{label:<28} median {page_ms(client, url):8.2f} ms")
    values = {f"r1.{c}.{n}": v for t in answers(False)["rounds"][:1] for c in ("forward", "backward", "updated")
              for n, v in t[c].items()}
    print(f"{'autosave (student)':<28} median {post_ms(student_client, f'/assignments/{pk}/draft/', values):8.2f} ms")
    # The accepting part of a submit: stored with its receipt, grading queued (not run) —
    # with the database task backend, as in production.
    from django.test import override_settings

    many = make_member(course=assignment.course, username="many")
    many_client = Client()
    many_client.force_login(many)
    Assignment_ = type(assignment)
    Assignment_.objects.filter(pk=pk).update(max_attempts=10_000)
    assignment.refresh_from_db()
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        accept = post_ms(many_client, f"/assignments/{pk}/", {**values, "action": "submit"}, expect=302)
    print(f"{'submit, accepting part':<28} median {accept:8.2f} ms")
    with override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}):
        for k in range(600):
            services.submission_submit(assignment=assignment, student=many, answers={})
    print(f"{'assignment page, 600+ tries':<28} median {page_ms(many_client, f'/assignments/{pk}/'):8.2f} ms")


if __name__ == "__main__":
    main()
