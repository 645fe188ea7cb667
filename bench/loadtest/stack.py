"""`make loadtest`: a harsh deadline burst through the production stack, measured.

The stack of the README's "Production" section on one machine:
- PostgreSQL: a throwaway cluster (.ci/with-postgres), or LOADTEST_DATABASE_URL;
- two gunicorn instances (the `make serve` config) and two task workers (`manage.py grading_worker`);
- nginx (the Debian package; this script installs nothing and stops if it is missing) in front,
  from bench/loadtest/nginx.conf.template, stamping arrival (`X-Request-Start: t=${msec}`),
  which the app servers trust (DJANGO_TRUST_X_REQUEST_START=1, DJANGO_TRUSTED_PROXIES=127.0.0.1).
Where the machine has two cores or more, the load generator (locust) runs on the first and
everything else on the others (taskset), so the client's CPU does not slow the server down.

The shape: STUDENTS (default 300) students autosaving, all submitting within ±SPREAD (default 5)
seconds of the due time, grace 0; a few staff reload the gradebook. KILL=1: at the due time,
one gunicorn instance (master and workers: the interactive lane's) and one task worker are
killed with SIGKILL; they stay dead, or start again RESTART_AFTER s later, as systemd's
Restart=always would.

Printed: per endpoint p50/p95/max (whole run, and in the burst), attempts sent / answered /
stored, submits sent before the due time that were refused, how far the arrival stamp lies
after the moment the client sent, and how long after the last submit every attempt was graded.
Then, apart, through the same stack: a wave of LOGINS (default 100) password logins at once and
a wave of LAUNCHES (default 100) LTI launches at once from a simulated LMS (tests/lti_platform.py),
each with its p50/p95.
A measurement, not a test. Everything lives in a temporary folder, printed at the end.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent.parent))
import run as base  # noqa: E402

ROOT = base.ROOT
PY = base.PY
SPREAD = float(os.environ.get("SPREAD", "5"))
KILL = os.environ.get("KILL", "") not in ("", "0")
# After KILL, RESTART_AFTER=s starts the killed processes again s seconds later, as systemd's
# Restart=always would (default: they stay dead). Measured on this machine: a restart one second
# later made the burst slower (6.1 -> 8.5 s submit p95): the new instance took requests into its
# queue while it booted on the saturated core.
RESTART_AFTER = (None if os.environ.get("RESTART_AFTER", "none") == "none"
                 else float(os.environ["RESTART_AFTER"]))
INSTANCES = 2
LANES = os.environ.get("LANES", "1") not in ("", "0")  # the background lane (autosaves, grading status) apart, niced
BACKGROUND_NICE = os.environ.get("BACKGROUND_NICE", "10")
TASK_WORKERS = 2
NGINX = os.environ.get("NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"  # NGINX: another binary


def cores() -> tuple[set[int], set[int]]:
    """(the load generator's cores, the servers' cores): apart when there are two or more. Chosen
    once, before this script pins itself and runs again under .ci/with-postgres."""
    if os.environ.get("LOADTEST_CORES"):
        load, server = os.environ["LOADTEST_CORES"].split("/")
        return {int(c) for c in load.split(",")}, {int(c) for c in server.split(",")}
    mine = sorted(os.sched_getaffinity(0))
    if len(mine) < 2 or shutil.which("taskset") is None:
        return set(mine), set(mine)
    return {mine[0]}, set(mine[1:])


def nginx_config(tmp: Path, port: int, upstreams: list[int]) -> Path:
    """nginx's config: the interactive lane on the first app server, the background lane (the
    autosaves) on the second, each the other's backup; LANES=0: one lane over both."""
    text = (HERE / "nginx.conf.template").read_text()
    first, second = upstreams

    def upstream(name: str, primary: list[int], backup: list[int]) -> str:
        return "\n".join([f"    upstream {name} {{",
                          *(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=30s;" for p in primary),
                          *(f"        server 127.0.0.1:{p} backup;" for p in backup), "    }"])
    lines = (upstream("interactive", [first], [second]) + "\n" + upstream("background", [second], [first])
             if LANES else upstream("interactive", upstreams, []) + "\n" + upstream("background", upstreams, []))
    text = (text.replace("@TMP@", str(tmp)).replace("@PORT@", str(port)).replace("@UPSTREAMS@", lines)
            .replace("@USER@", "user root;" if os.geteuid() == 0 else ""))
    path = tmp / "nginx.conf"
    path.write_text(text)
    return path


def spread(values: list[float]) -> str:
    if not values:
        return "—"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(0.95 * len(values)))]
    return f"p50 {statistics.median(values):.0f} / p95 {p95:.0f} / max {values[-1]:.0f} ms"


def main() -> None:
    if not os.access(NGINX, os.X_OK):
        raise SystemExit("loadtest: nginx is missing. Install the Debian package (apt-get install nginx); "
                         "this script installs nothing. `make loadtest-sqlite` runs without a proxy.")
    load_cores, server_cores = cores()
    os.environ["LOADTEST_CORES"] = (",".join(map(str, sorted(load_cores))) + "/"
                                    + ",".join(map(str, sorted(server_cores))))
    database = os.environ.get("LOADTEST_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not database:
        # Pin first, so PostgreSQL and every server process inherit the servers' cores.
        os.sched_setaffinity(0, server_cores)
        os.execv(str(ROOT / ".ci" / "with-postgres"), [str(ROOT / ".ci" / "with-postgres"), PY, __file__])
    os.sched_setaffinity(0, server_cores)
    os.environ["LOADTEST_DATABASE_URL"] = database
    base.SUBMIT_WINDOW = SPREAD  # the due time is LEAD + SPREAD seconds after the scene is made
    tmp = Path(tempfile.mkdtemp(prefix="loadtest-stack-"))
    if os.geteuid() == 0:
        os.chmod(tmp, 0o755)
    env = base.environment(tmp)
    env.update({"DJANGO_TRUST_X_REQUEST_START": "1", "DJANGO_TRUSTED_PROXIES": "127.0.0.1",
                "DJANGO_PROXY_COUNT": "1"})
    started = time.time()
    port = base.free_port()
    front = f"http://127.0.0.1:{port}"
    from tests import lti_platform

    # The simulated LMS of the launch wave (its JWKS served from this process); made before the
    # scene, which registers it.
    base.PLATFORM = lti_platform.Running(lti_platform.Platform())
    base.PLATFORM.__enter__()
    scene = base.make_scene(env, tmp, front)
    from grading.models import Assignment

    Assignment.objects.filter(pk=scene["assignment"]).update(grace_seconds=0)
    scene["submit_spread"] = SPREAD
    (tmp / "scene.json").write_text(json.dumps(scene))
    print(f"set-up: {base.STUDENTS} students, {base.STAFF} staff, in {time.time() - started:.1f} s "
          f"(PostgreSQL); grace 0; submits within ±{SPREAD:.0f} s of the due time"
          + (("; KILL: one gunicorn and one task worker killed at the due time, "
              + (f"started again {RESTART_AFTER:g} s later" if RESTART_AFTER is not None else "never restarted"))
             if KILL else "")
          + (f"; lanes: autosaves and grading status to the second gunicorn (nice {BACKGROUND_NICE}), the rest to the first"
             if LANES else "; one lane over both gunicorn instances")
          + f"; logs of every process in {tmp}")
    print(f"cores: load generator {sorted(load_cores)}, servers {sorted(server_cores)}"
          + ("" if load_cores != server_cores else " (not apart: one core, or no taskset)"))
    subprocess.run([PY, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    ports = [base.free_port() for _ in range(INSTANCES)]
    def start_server(k: int, p: int) -> subprocess.Popen:
        server_env = {**env, "GUNICORN_BIND": f"127.0.0.1:{p}", "GUNICORN_LOG_LEVEL": "warning"}
        if base.WORKERS:
            server_env["GUNICORN_WORKERS"] = base.WORKERS
        # The second instance is the background lane's (autosaves, grading status): at a lower CPU priority.
        # Each instance is its own process group (killed whole by KILL=1) but stays in this
        # session: Linux's autogroups share the CPU equally between sessions, whatever their
        # nice, so a server in a session of its own would make every `nice` here void (the task
        # workers' too) — see the README on CPU priority in production.
        niced = ["nice", "-n", BACKGROUND_NICE] if LANES and k == 1 else []
        return subprocess.Popen(
            [*niced, str(Path(PY).parent / "gunicorn"), "--config", "backprop_site/gunicorn.conf.py",
             "--access-logfile", "/dev/null"], cwd=ROOT, env=server_env, process_group=0,
            stderr=open(tmp / f"gunicorn-{p}.log", "a"))

    def start_worker(k: int) -> subprocess.Popen:
        return subprocess.Popen([PY, "manage.py", "grading_worker", "--interval", "0.2", "--nice",
                                 os.environ.get("GRADING_WORKER_NICE", "10"), "--no-reload",
                                 "--no-startup-delay", "-v", "0"], cwd=ROOT, env=env,
                                stderr=open(tmp / f"grading_worker-{k}.log", "a"))

    servers = [start_server(k, p) for k, p in enumerate(ports)]
    workers = [start_worker(k) for k in range(TASK_WORKERS)]
    # nginx in a session of its own, as its own service would be: its own share of the CPU, so
    # it reads (and stamps) each request at once however busy the app servers are.
    nginx = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(nginx_config(tmp, port, ports))],
                             start_new_session=True)
    killer = None
    try:
        for p in ports:
            base.wait_for(f"http://127.0.0.1:{p}/accounts/login/")
        base.wait_for(front + "/accounts/login/")
        base.warm_up(front, scene)
        # The due time counts from now: starting PostgreSQL and the servers took a while.
        due = time.time() + base.LEAD + SPREAD
        Assignment.objects.filter(pk=scene["assignment"]).update(
            due_at=datetime.fromtimestamp(due, tz=timezone.utc))
        scene["due"] = due
        (tmp / "scene.json").write_text(json.dumps(scene))
        load_env = {**env, "LOADTEST_SCENE": str(tmp / "scene.json"), "LOADTEST_LOG": str(tmp / "submits.jsonl"),
                    "LOADTEST_REQUESTS": str(tmp / "requests.jsonl")}
        drain = float(os.environ.get("DRAIN", str(SPREAD + 15)))
        run_for = scene["due"] + drain - time.time()
        print(f"deadline run through nginx (:{port}) → 2 gunicorn (:{ports[0]}, :{ports[1]}), "
              f"{TASK_WORKERS} task workers: {run_for:.0f} s; the due time is in {scene['due'] - time.time():.0f} s")
        if KILL:
            def restart() -> None:
                """What systemd's Restart=always does (RESTART_AFTER s later; RESTART_AFTER=none: never)."""
                if RESTART_AFTER is None:
                    return
                time.sleep(RESTART_AFTER)
                servers[0], workers[0] = start_server(0, ports[0]), start_worker(0)
                print(f"RESTART at {time.time():.3f}: gunicorn instance {servers[0].pid} and task worker "
                      f"{workers[0].pid}", flush=True)

            killer = threading.Timer(scene["due"] - time.time(),
                                     lambda: (kill_one(servers[0], workers[0]), restart()))
            killer.start()
        command = [PY, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
                   "-u", str(base.STUDENTS + base.STAFF), "-r", str(base.SPAWN_RATE), "--run-time",
                   f"{int(run_for)}s", "--host", front, "--only-summary", "--stop-timeout", "10",
                   "--loglevel", "WARNING", "--csv", str(tmp / "deadline")]
        if load_cores != server_cores:
            command = ["taskset", "-c", ",".join(map(str, sorted(load_cores)))] + command
        with open(tmp / "locust.log", "w") as log:
            subprocess.run(command, env=load_env, check=False, stdout=log, stderr=subprocess.STDOUT)
        pending = base.wait_graded(env, seconds=float(os.environ.get("GRADE_WAIT", "120")))
        results(tmp, scene, pending)
        waves(load_env, front, tmp, load_cores, server_cores)
    finally:
        if killer is not None:
            killer.cancel()
        nginx.send_signal(signal.SIGQUIT)
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for process in [nginx, *servers, *workers]:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        base.PLATFORM.__exit__(None, None, None)
    print(f"\ntotal {time.time() - started:.0f} s; files in {tmp}")


def waves(load_env: dict[str, str], front: str, tmp: Path, load_cores: set[int], server_cores: set[int]) -> None:
    """After the deadline, through the same stack (a gunicorn instance may have been killed:
    nginx sends to the other): LOGINS users logging in with a password at once, then LAUNCHES
    students launching from the simulated LMS at once (no password hash)."""
    if KILL and RESTART_AFTER is None:
        print("\n(the login and launch waves run on the gunicorn instance left)")
    for locustfile, users, tag, title in (
            ("login_locustfile.py", base.LOGINS, "logins", f"Login wave apart: {base.LOGINS} users logging in at once (ms)"),
            ("launch_locustfile.py", base.LAUNCHES, "launches",
             f"LTI launch wave apart: {base.LAUNCHES} students launching from the LMS at once (ms)")):
        if not users:
            continue
        base.wait_for(front + "/accounts/login/", 120)  # the queue of what came before drained
        (tmp / "requests.jsonl").write_text("")
        command = [PY, "-m", "locust", "-f", str(HERE / locustfile), "--headless", "-u", str(users), "-r",
                   str(users), "--run-time", "25s", "--host", front, "--only-summary", "--stop-timeout", "10",
                   "--loglevel", "WARNING", "--csv", str(tmp / tag)]
        if load_cores != server_cores:
            command = ["taskset", "-c", ",".join(map(str, sorted(load_cores)))] + command
        with open(tmp / f"{tag}.log", "w") as log:
            subprocess.run(command, env=load_env, check=False, stdout=log, stderr=subprocess.STDOUT)
        base.report([json.loads(line) for line in (tmp / "requests.jsonl").read_text().splitlines()], title)


def kill_one(server: subprocess.Popen, worker: subprocess.Popen) -> None:
    """SIGKILL one gunicorn instance (its master and workers: its own process group) and one task worker."""
    os.killpg(server.pid, signal.SIGKILL)
    worker.kill()
    print(f"KILL at {time.time():.3f}: gunicorn instance {server.pid} and task worker {worker.pid}", flush=True)


def results(tmp: Path, scene: dict, pending: int) -> None:
    from grading.models import Grading, Submission

    due = scene["due"]
    requests = [json.loads(line) for line in (tmp / "requests.jsonl").read_text().splitlines()]
    base.report(requests, "Deadline: per endpoint (ms), whole run and in the burst (±SPREAD s, +5 s)",
                (due - SPREAD - 1, due + SPREAD + 5))
    submits = [json.loads(line) for line in (tmp / "submits.jsonl").read_text().splitlines()]
    stored = dict(Submission.objects.filter(assignment_id=scene["assignment"], state="submitted")
                  .values_list("student__username", "submitted_at"))
    answered = [s for s in submits if s["status"] == 302]
    before = [s for s in submits if s["sent"] <= due]
    statuses: dict[int, int] = {}
    for s in submits:
        statuses[s["status"]] = statuses.get(s["status"], 0) + 1
    print(f"\nsubmits sent: {len(submits)} ({len(before)} before the due time); answered: "
          + ", ".join(f"{code}: {n}" for code, n in sorted(statuses.items())))
    print(f"attempts stored: {len(stored)}; lost (302 but not stored): "
          f"{sum(1 for s in answered if s['user'] not in stored)}")
    print(f"sent before the due time and refused: {sum(1 for s in before if s['status'] != 302)} "
          f"(as late: {sum(1 for s in before if s['late_refused'])}); sent after it and taken: "
          f"{sum(1 for s in submits if s['sent'] > due and s['status'] == 302)}")
    lag = [(stored[s["user"]].timestamp() - s["sent"]) * 1000 for s in answered if s["user"] in stored]
    print(f"arrival stamp after the client sent: {spread(lag)}")
    for label, chosen in (("taken (302)", answered), ("refused", [s for s in submits if s["status"] != 302])):
        waited = [(s["answered"] - s["sent"]) * 1000 for s in chosen]
        print(f"submit {label} answered after the client sent: {spread(waited)}")
    last_submit = max((s["sent"] for s in answered), default=due)
    last_grade = (Grading.objects.filter(submission__assignment_id=scene["assignment"])
                  .order_by("-created_at").values_list("created_at", flat=True).first())
    if last_grade is not None:
        print((f"every attempt graded {last_grade.timestamp() - last_submit:.1f} s after the last submit was sent"
               if not pending else f"the last grade came {last_grade.timestamp() - last_submit:.1f} s after the "
               f"last submit was sent; {pending} attempt(s) still ungraded"))
    else:
        print(f"nothing graded; {pending} attempt(s) ungraded")


if __name__ == "__main__":
    main()
