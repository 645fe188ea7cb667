"""`make loadtest`: a class at a deadline against a real server, then a login wave, measured.

1. A throwaway database (SQLite file in WAL mode; LOADTEST_DATABASE_URL for PostgreSQL), migrated,
   with one course, Homework 4.1 due in a minute or so, STUDENTS students (default 300) and a
   few staff, all already logged in (sessions made here, as a login would).
2. gunicorn with the production settings (debug off) and the config of `make serve`, and a task
   worker that grades the submits (`manage.py grading_worker`), exactly as deployed.
3. locust (bench/loadtest/locustfile.py): every student autosaves every few seconds and submits
   once in the last SUBMIT_WINDOW seconds before the due time; staff reload the gradebook.
4. A login wave apart: LOGINS users log in at once.
5. An LTI launch wave apart: LAUNCHES students launch from a simulated LMS at once (its JWKS
   served from this process; a database cache shared by the server's workers, as production
   with several workers needs).

It prints, per endpoint, p50 / p95 / max over the whole run and during the burst (the submit
window and the seconds after it), the errors, attempts sent against attempts stored, on-time
submits refused, and how long grading took to catch up. Bounded: the run ends DRAIN seconds
after the due time. A measurement, not a test.
"""
from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
PY = sys.executable
STUDENTS = int(os.environ.get("STUDENTS", "300"))
STAFF = int(os.environ.get("STAFF", "3"))
LOGINS = int(os.environ.get("LOGINS", "100"))
LAUNCHES = int(os.environ.get("LAUNCHES", "100"))
SUBMIT_WINDOW = float(os.environ.get("SUBMIT_WINDOW", "10"))
LEAD = float(os.environ.get("LEAD", "45"))     # seconds of autosaving before the submit window
SPAWN_RATE = float(os.environ.get("SPAWN_RATE", "25"))  # students opening the page per second
DRAIN = float(os.environ.get("DRAIN", "20"))   # seconds the run goes on after the due time
WORKERS = os.environ.get("GUNICORN_WORKERS", "")
TASK_WORKERS = int(os.environ.get("TASK_WORKERS", "1"))
PASSWORD = "load-test-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    env.update({
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain http on the loopback: no proxy in front here
        "DATABASE_URL": os.environ.get("LOADTEST_DATABASE_URL", f"sqlite:///{tmp}/load.sqlite3"),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "backprop_site.settings",
        "DJANGO_CACHE_TABLE": "loadtest_cache",  # LTI nonces must be seen by every worker
    })
    # Settings a run may try (the rest of the caller's DJANGO_* are not the servers' business).
    env.update({k: v for k, v in os.environ.items() if k in ("DJANGO_LANE_DEFER_AFTER", "DJANGO_LANE_BACKGROUND_MAX_WAIT")})
    return env


def make_scene(env: dict[str, str], tmp: Path, base: str) -> dict:
    """Migrate, create the class and its sessions, in this process with the server's settings."""
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.core.management import call_command
    from django.utils import timezone

    from grading import selectors, services
    from grading.models import Course, Membership

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    course = Course.objects.create(code="LOAD101", title="Load test")
    spec = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())
    due = timezone.now() + timezone.timedelta(seconds=LEAD + SUBMIT_WINDOW)
    assignment = services.assignment_create(course=course, title="Homework 4.1", slug="hw", spec=spec,
                                            due_at=due, opens_at=timezone.now() - timezone.timedelta(days=1))
    User = get_user_model()
    hashed = make_password(PASSWORD)  # one hash for all: 300 password hashings would take minutes
    people = {"students": [], "staff": [], "logins": []}
    for role, prefix, count, kind in ((Membership.Role.STUDENT, "s", STUDENTS, "students"),
                                      (Membership.Role.TA, "ta", STAFF, "staff"),
                                      (Membership.Role.STUDENT, "login", LOGINS, "logins")):
        for k in range(count):
            user = User.objects.create(username=f"{prefix}{k:04d}", password=hashed)
            Membership.objects.create(course=course, user=user, role=role)
            entry = {"username": user.username}
            if kind != "logins":
                session = SessionStore()
                session[SESSION_KEY] = str(user.pk)
                session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
                session[HASH_SESSION_KEY] = user.get_session_auth_hash()
                session.create()
                entry["session"] = session.session_key
            people[kind].append(entry)
    cells = [cell.id for cell in selectors.typed_cells(assignment.parsed_spec) if cell.round == 1]
    return {"due": due.timestamp(), "submit_window": SUBMIT_WINDOW, "staff_count": STAFF,
            "assignment_url": f"/assignments/{assignment.pk}/",
            "draft_url": f"/assignments/{assignment.pk}/draft/",
            "gradebook_url": f"/assignments/{assignment.pk}/gradebook/",
            "cells": cells, "password": PASSWORD, **people, "assignment": assignment.pk,
            "base": base, "lti": lti_scene(course)}


def lti_scene(course) -> dict:
    """A simulated LMS (tests/lti_platform.py) registered with an active deployment, its LMS
    course linked to the load test's course; its JWKS served from this process."""
    from lti_tool.models import Key, LtiContext, LtiDeployment, LtiRegistration

    from grading.models import LtiCourse
    from tests import lti_platform

    if PLATFORM is None:  # stack.py's deadline run: no launch wave there
        return {}
    platform = PLATFORM.platform
    registration = LtiRegistration.objects.create(
        name="Load LMS", issuer=platform.issuer, client_id=lti_platform.CLIENT_ID,
        auth_url=platform.url + "/auth", token_url=platform.url + "/token", keyset_url=platform.url + "/jwks")
    deployment = LtiDeployment.objects.create(registration=registration, deployment_id=lti_platform.DEPLOYMENT_ID,
                                              is_active=True)
    context = LtiContext.objects.create(deployment=deployment, id_on_platform="load-course", title="Load test")
    LtiCourse.objects.create(context=context, course=course)
    Key.objects.generate()
    return {"issuer": platform.issuer, "client_id": lti_platform.CLIENT_ID,
            "deployment_id": lti_platform.DEPLOYMENT_ID, "kid": platform.kid,
            "private_key": lti_platform._pem(platform.key).decode()}


def wait_for(url: str, seconds: float = 60) -> None:
    import urllib.request

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.3)
    raise SystemExit(f"the server at {url} did not answer within {seconds:.0f} s")


def warm_up(base: str, scene: dict) -> None:
    """A few requests to each gunicorn worker first: a server in use has its templates compiled
    and its key cached; the load test measures that, not a cold start."""
    import urllib.request

    opener = urllib.request.build_opener()
    opener.addheaders = [("Cookie", f"sessionid={scene['staff'][0]['session']}")]
    for _ in range(30):
        for path in ("/accounts/login/", scene["assignment_url"], scene["gradebook_url"]):
            opener.open(base + path, timeout=30).read()


def locust(env: dict[str, str], locustfile: str, users: int, rate: float, seconds: float,
           host: str, tag: str, tmp: Path) -> None:
    subprocess.run([PY, "-m", "locust", "-f", str(Path(__file__).parent / locustfile), "--headless",
                    "-u", str(users), "-r", str(rate), "--run-time", f"{int(seconds)}s",
                    "--host", host, "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING",
                    "--csv", str(tmp / tag)], env=env, check=False, stdout=subprocess.DEVNULL)


def percentiles(times: list[float]) -> str:
    if not times:
        return "      —"
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    return f"{statistics.median(times):7.0f} {p95:7.0f} {times[-1]:7.0f}"


def report(requests: list[dict], title: str, window: tuple[float, float] | None = None) -> None:
    print(f"\n{title}")
    print(f"{'endpoint':<22}{'requests':>9}{'errors':>8}   p50 ms  p95 ms  max ms"
          + ("   | in the burst: n   p50  p95  max" if window else ""))
    for name in sorted({r["name"] for r in requests}):
        mine = [r for r in requests if r["name"] == name]
        errors = sum(1 for r in mine if r["error"])
        deferred = sum(1 for r in mine if r.get("status") == 503 and not r["error"])
        line = f"{name:<22}{len(mine):>9}{errors:>8} {percentiles([r['ms'] for r in mine])}"
        if window:
            burst = [r["ms"] for r in mine if window[0] <= r["start"] <= window[1]]
            line += f"   | {len(burst):>5} {percentiles(burst)}"
        if deferred:
            line += f"   ({deferred} deferred: 503 + Retry-After)"
        print(line)


PLATFORM = None  # the simulated LMS's server, started in main()


def main() -> None:
    global PLATFORM
    sys.path.insert(0, str(ROOT))
    from tests import lti_platform

    PLATFORM = lti_platform.Running(lti_platform.Platform())
    PLATFORM.__enter__()
    tmp = Path(tempfile.mkdtemp(prefix="loadtest-"))
    env = environment(tmp)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.time()
    scene = make_scene(env, tmp, base)
    (tmp / "scene.json").write_text(json.dumps(scene))
    print(f"set-up: {STUDENTS} students, {STAFF} staff, {LOGINS} more for the login wave, "
          f"in {time.time() - started:.1f} s ({env['DATABASE_URL'].split(':')[0]})")
    server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "GUNICORN_LOG_LEVEL": "warning"}
    if WORKERS:
        server_env["GUNICORN_WORKERS"] = WORKERS
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    server = subprocess.Popen([str(Path(PY).parent / "gunicorn"), "--config", "backprop_site/gunicorn.conf.py",
                               "--access-logfile", "/dev/null"], cwd=ROOT, env=server_env)
    workers = [subprocess.Popen([PY, "manage.py", "grading_worker", "--interval", "0.2", "--nice", "10", "--no-reload",
                                 "--no-startup-delay", "-v", "0"], cwd=ROOT, env=env)
               for _ in range(TASK_WORKERS)]
    try:
        wait_for(base + "/accounts/login/")
        warm_up(base, scene)
        load_env = {**env, "LOADTEST_SCENE": str(tmp / "scene.json"), "LOADTEST_LOG": str(tmp / "submits.jsonl"),
                    "LOADTEST_REQUESTS": str(tmp / "requests.jsonl")}
        run_for = scene["due"] + DRAIN - time.time()
        print(f"deadline run: {STUDENTS} students and {STAFF} staff for {run_for:.0f} s; the due time "
              f"is in {scene['due'] - time.time():.0f} s; submits in its last {SUBMIT_WINDOW:.0f} s")
        locust(load_env, "locustfile.py", STUDENTS + STAFF, SPAWN_RATE, run_for, base, "deadline", tmp)
        grading_started = time.time()
        pending = wait_graded(env)
        grading_took = time.time() - grading_started
        requests = [json.loads(line) for line in (tmp / "requests.jsonl").read_text().splitlines()]
        window = (scene["due"] - SUBMIT_WINDOW - 1, scene["due"] + 5)
        report(requests, "Deadline: per endpoint (ms), whole run and during the burst", window)
        submits = [json.loads(line) for line in (tmp / "submits.jsonl").read_text().splitlines()]
        stored = count_stored(env)
        taken = {s["user"] for s in submits if s["status"] == 302}
        print(f"\nsubmits sent: {len(submits)}; answered 302: {len(taken)}; attempts stored: {stored}; "
              f"lost (302 but not stored): {max(0, len(taken) - stored)}")
        print(f"on-time submits refused as late: {sum(1 for s in submits if s['on_time'] and s['late_refused'])}; "
              f"other refusals: {sum(1 for s in submits if s['status'] != 302 and not s['late_refused'])}")
        print(f"grading caught up {grading_took:.1f} s after the run ended"
              + (f"; {pending} attempts still ungraded" if pending else ""))
        (tmp / "requests.jsonl").write_text("")
        locust(load_env, "login_locustfile.py", LOGINS, LOGINS, 25, base, "logins", tmp)
        logins = [json.loads(line) for line in (tmp / "requests.jsonl").read_text().splitlines()]
        report(logins, f"Login wave apart: {LOGINS} users logging in at once (ms)")
        (tmp / "requests.jsonl").write_text("")
        wait_for(base + "/accounts/login/", 120)  # the login wave's queue drained first
        locust(load_env, "launch_locustfile.py", LAUNCHES, LAUNCHES, 25, base, "launches", tmp)
        launches = [json.loads(line) for line in (tmp / "requests.jsonl").read_text().splitlines()]
        report(launches, f"LTI launch wave apart: {LAUNCHES} students launching from the LMS at once (ms)")
    finally:
        server.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        server.wait(30)
        for worker in workers:
            worker.wait(30)
        PLATFORM.__exit__(None, None, None)
    print(f"\ntotal {time.time() - started:.0f} s; files in {tmp}")


def count_stored(env: dict[str, str]) -> int:
    from grading.models import Submission

    return Submission.objects.filter(state="submitted").count()


def wait_graded(env: dict[str, str], seconds: float = 90) -> int:
    """Wait until every stored attempt has its grade; the number still ungraded at the end."""
    from grading.models import Submission

    deadline = time.time() + seconds
    while True:
        pending = Submission.objects.filter(state="submitted", gradings__isnull=True).count()
        if pending == 0 or time.time() > deadline:
            return pending
        time.sleep(0.5)


if __name__ == "__main__":
    main()
