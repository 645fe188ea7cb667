"""The formula sandbox: fair time shares per task, visible failures, confined children.

Tasks here are small functions of this file, run in forked children by
``sandbox.run_with_deadline``. What a child did is observed from outside: its results, its
/proc entries, the files it writes. Waiting is polling with a deadline, never a sleep.
"""
from __future__ import annotations

import builtins
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from grading.formulas import sandbox
from grading.formulas.sandbox import Failure

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")


# ------------------------------------------------------------------ helpers


def wait_until(condition, what: str, timeout: float = 10.0):
    """Poll ``condition`` until it is true (returning its value), failing after ``timeout``."""
    end = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        assert time.monotonic() < end, f"gave up waiting: {what}"
        time.sleep(0.01)  # a poll; a timed Event.wait never returns under faketime


def proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time) of a live process, None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[0], fields[19]


def gone(pid: int, started: str) -> bool:
    """The process has exited (a zombie counts: it holds nothing), or its pid is someone else's."""
    stat = proc_stat(pid)
    return stat is None or stat[0] in ("Z", "X") or stat[1] != started


def pid_from(marker: Path) -> int | None:
    return int(marker.read_text()) if marker.exists() else None


def announce_then_wait(marker: str) -> str:
    """A task: write this child's pid to ``marker`` (atomically), then wait for SIGUSR1."""
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
    with open(marker + ".tmp", "w") as out:
        out.write(str(os.getpid()))
    os.rename(marker + ".tmp", marker)  # the marker appears once its file is closed
    signal.sigwait({signal.SIGUSR1})
    return "released"


def announce_then_log(marker: str, log: str) -> str:
    """A task: log that it started, announce its pid, wait for SIGUSR1, then finish."""
    with open(log, "a") as out:
        out.write("started\n")
    return announce_then_wait(marker)


def double(k: int) -> int:
    return 2 * k


def never_ends(_: object) -> None:
    while True:
        pass


def misbehave(kind: str) -> str:
    """A task that raises, calls eval, exits, aborts, or answers."""
    if kind == "raise":
        raise ZeroDivisionError("boom")
    if kind == "eval":
        return str(eval("1 + 1"))
    if kind == "exit":
        os._exit(3)
    if kind == "abort":
        os.abort()
    return kind.upper()


def dispatch(kind: str, arg: object) -> object:
    return {"double": double, "never": never_ends, "misbehave": misbehave}[kind](arg)


# ------------------------------------------------------------------ time shares


def test_a_task_that_never_ends_costs_the_others_nothing():
    """One endless task first, fourteen quick ones after it: the fourteen all answer."""
    tasks = [("slow", ("never", None))] + [(k, ("double", k)) for k in range(14)]
    results = sandbox.run_with_deadline(dispatch, tasks, time.monotonic() + 1.5)
    assert results == {k: 2 * k for k in range(14)}


def test_a_task_over_its_share_is_stopped_then_continued_not_restarted(tmp_path):
    """The task over its share waits while the others run, then finishes its own work."""
    marker, log = tmp_path / "pid", tmp_path / "log"

    def work(k):
        if k == "slow":
            return announce_then_log(str(marker), str(log))
        with open(log, "a") as out:
            out.write(f"quick {k}\n")
        return 2 * k

    tasks = [("slow", ("slow",))] + [(k, (k,)) for k in range(14)]
    box: dict = {}
    runner = threading.Thread(target=lambda: box.update(
        sandbox.run_with_deadline(work, tasks, time.monotonic() + 10)))
    runner.start()
    try:
        pid = wait_until(lambda: pid_from(marker), "the slow task's pid")
        # The others run in a fresh child only once the slow one is over its share and stopped.
        wait_until(lambda: log.read_text().count("quick") == 14, "the fourteen quick tasks")
        os.kill(pid, signal.SIGUSR1)
    finally:
        runner.join(30)
    assert box == {"slow": "released", **{k: 2 * k for k in range(14)}}
    assert log.read_text().splitlines() == ["started"] + [f"quick {k}" for k in range(14)]


# ------------------------------------------------------------------ failures are visible


def test_a_task_that_raises_or_kills_its_child_comes_back_as_a_failure():
    """Exceptions and a dying child are explicit Failures; the tasks after them still answer."""
    kinds = ["raise", "ok", "exit", "fine", "abort", "last"]
    results = sandbox.run_with_deadline(misbehave, [(k, (k,)) for k in kinds], time.monotonic() + 5)
    assert results == {
        "raise": Failure("ZeroDivisionError", "boom"),
        "ok": "OK",
        "exit": Failure("exit code 3", "the checker process stopped"),
        "fine": "FINE",
        "abort": Failure("SIGABRT", "the checker process was killed by a signal"),
        "last": "LAST",
    }


def test_eval_called_in_the_child_is_seen_by_the_parent(monkeypatch):
    """With eval trapped, a task that calls it inside the forked child reports the trap."""
    def trap(*args, **kwargs):
        raise AssertionError("eval called in the child")

    monkeypatch.setattr(builtins, "eval", trap)
    results = sandbox.run_with_deadline(misbehave, [("e", ("eval",)), ("k", ("ok",))],
                                        time.monotonic() + 5)
    assert results == {"e": Failure("AssertionError", "eval called in the child"), "k": "OK"}


def test_a_reply_that_is_not_plain_data_is_refused(monkeypatch):
    """A child sending a pickled callable gets a Failure, never an unpickled object."""
    results = sandbox.run_with_deadline(lambda: os.system, [("k", ())], time.monotonic() + 5)
    assert results == {"k": Failure("bad reply", "the checker process sent a reply that is not "
                                                  "our checker's")}


# ------------------------------------------------------------------ confinement


def test_the_child_holds_only_its_pipe_and_dev_null_and_has_limits(tmp_path):
    """No inherited descriptor survives (a listening socket included); CPU and core limits set."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    assert os.readlink(f"/proc/self/fd/{listener.fileno()}").startswith("socket:")  # to inherit
    marker = tmp_path / "pid"
    box: dict = {}
    deadline = time.monotonic() + 20
    runner = threading.Thread(target=lambda: box.update(
        sandbox.run_with_deadline(announce_then_wait, [("k", (str(marker),))], deadline)))
    runner.start()
    try:
        pid = wait_until(lambda: pid_from(marker), "the child's pid")
        fds = {int(fd): os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
        limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
        os.kill(pid, signal.SIGUSR1)
    finally:
        runner.join(30)
        listener.close()
    assert box == {"k": "released"}
    assert {fd: target for fd, target in fds.items() if fd <= 2} == {0: os.devnull, 1: os.devnull,
                                                                     2: os.devnull}
    others = [target for fd, target in fds.items() if fd > 2]
    assert len(others) == 1 and others[0].startswith("pipe:"), fds
    cpu = next(line for line in limits if line.startswith("Max cpu time")).split()
    assert cpu[3] != "unlimited" and int(cpu[3]) <= 20 + 2, cpu
    core = next(line for line in limits if line.startswith("Max core file size")).split()
    assert core[4:6] == ["0", "0"], core


PARENT_SCRIPT = textwrap.dedent("""
    import os, signal, socket, sys, time
    from grading.formulas import confine, sandbox

    marker, mode = sys.argv[1], sys.argv[2]
    if mode == "prctl only":
        confine.start_watchdog = lambda parent, deadline: None
    else:  # as where PR_SET_PDEATHSIG does not exist: the getppid watchdog alone
        confine._prctl = None

    def forever(marker):
        with open(marker + ".tmp", "w") as out:
            out.write(str(os.getpid()))
        os.rename(marker + ".tmp", marker)
        while True:
            signal.pause()

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    print(listener.getsockname()[1], flush=True)
    sandbox.run_with_deadline(forever, [("k", (marker,))], time.monotonic() + 120)
""")


@pytest.mark.parametrize("mode", ["prctl only", "watchdog only"])
def test_a_killed_server_leaves_no_sandbox_behind_and_its_port_free(tmp_path, mode):
    """kill -9 of the parent: its checker child disappears and the parent's port binds again.

    Each way the child notices its parent's death is tested alone, the other one switched off.
    """
    script, marker = tmp_path / "server.py", tmp_path / "pid"
    script.write_text(PARENT_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen([sys.executable, str(script), str(marker), mode], env=env,
                              stdout=subprocess.PIPE, text=True)
    child = None
    try:
        port = int(parent.stdout.readline())
        child = wait_until(lambda: pid_from(marker), "the sandbox child's pid", timeout=30)
        started = proc_stat(child)[1]
        assert not gone(child, started)
        parent.kill()
        parent.wait(30)
        wait_until(lambda: gone(child, started), "the orphaned child to end")
        child = None
        server = socket.socket()  # no SO_REUSEADDR: nobody may still hold the port
        server.bind(("127.0.0.1", port))
        server.listen()
        server.close()
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(30)
        if child is not None and proc_stat(child) is not None:
            os.kill(child, signal.SIGKILL)  # only when the test failed: leave nothing running
        parent.stdout.close()
