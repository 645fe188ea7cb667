"""Run slow work in forked children, each task within its fair share of one time budget.

The web server is threaded, so signal.alarm is out. A forked child inherits the parent's
imported sympy (no start-up cost, ~3 ms to fork), confines itself (``confine.py``) and works
through the tasks in order, reporting each result through a pipe as soon as it has it.

The budget (``budget.py``) is CPU time: the checker's own, never the machine's other work, so a
busy machine changes no verdict. The task in hand may use a fair share of the CPU time left:
(budget left) / tasks left, measured on its child's own CPU clock. A task that finishes early
hands what it did not use to the rest. A task that overruns its share costs the others nothing
more: the parent stops its child (SIGSTOP: no work is lost), starts a fresh child for the tasks
after it, and when those are done, continues the stopped children in turn, each again with a
fair share of what is left, the last one with all of it. Every child is SIGKILLed and reaped
before the call returns: when the CPU budget is spent, or at the budget's wall-clock guard.

The result maps each key to its value, or to a ``Failure`` when the task raised or its child
died on it (a crash is never a silent gap); a task that ran out of time is simply missing.
"""

from __future__ import annotations

import io
import mmap
import os
import pickle
import select
import signal
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from grading.engine.text import _

from .budget import Budget, process_cpu_time
from .confine import CHILD_EXTRA_MEMORY, HEADER, LAST, serve

__all__ = ["CHILD_EXTRA_MEMORY", "MAX_REPLY", "Budget", "Failure", "loads_plain", "run_with_deadline"]

MAX_REPLY = 1 << 20
LOOK_EVERY = 0.05  # seconds (wall) between looks at a silent child's CPU clock
Task = tuple[Any, tuple[Any, ...]]


@dataclass(frozen=True)
class Failure:
    """A task that gave no result: it raised in the child, or the child died while on it."""

    kind: str     # the exception's type name, or what ended the child ("SIGSEGV", "exit code 3")
    detail: str = ""  # the parent's own words are grading.engine.text.Text; the child's are plain text

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


def run_with_deadline(fn: Callable[..., Any], tasks: Sequence[Task],
                      limit: Budget | float) -> dict[Any, Any]:
    """{key: fn(*args) or Failure} for the (key, args) tasks decided in a child within ``limit``:
    a CPU-time ``Budget``, or a ``time.monotonic()`` instant (CPU and wall clock both end there)."""
    budget = limit if isinstance(limit, Budget) else Budget.until(limit)
    results: dict[Any, Any] = {}
    fresh = list(tasks)
    stopped: deque[_Child] = deque()
    children: list[_Child] = []
    active: _Child | None = None

    def running() -> float:
        return sum(child.cpu() for child in children if child.status is None)

    try:
        while not budget.expired(running()):
            if active is None:
                if fresh:
                    active = _Child.start(fn, fresh, budget)
                    if active is None:  # cannot fork: those tasks fail ("undecided", not a time-out)
                        results.update((key, Failure(_("no process"), _("no checker process could be "
                                                                        "started")))
                                       for key, _args in fresh)
                        fresh = []
                        continue
                    fresh = []
                    children.append(active)
                elif stopped:
                    active = stopped.popleft()
                    active.resume()
                else:
                    break
            share = budget.left(running()) / (active.owed + sum(child.owed for child in stopped))
            event = active.wait(share, budget, running, results)
            if event == "reported":
                if not active.owed:
                    budget.add_child(active.close())
                    active = None
            elif event == "ended":
                results[active.current_key] = active.close_with_failure(budget)
                fresh = active.tasks_after()
                active = None
            elif not budget.expired(running()) and (stopped or active.owed > 1):
                # Over its share: others go first, this one waits with its work kept.
                active.stop()
                fresh = active.tasks_after()
                stopped.append(active)
                active = None
    finally:
        for child in children:
            if child.status is None:
                budget.add_child(child.close())
    return results


class _Child:
    """One forked checker: its pid, the read end of its pipe, and which tasks it still owes."""

    def __init__(self, pid: int, fd: int, tasks: list[Task], last: mmap.mmap) -> None:
        self.pid, self.fd, self.tasks, self.shared_last = pid, fd, tasks, last
        self.next = 0                # the first task not reported yet
        self.last = len(tasks) - 1   # the last task this child is responsible for
        self.buffer = b""
        self.status: int | None = None
        self.broken = ""             # why its replies were refused, if they were
        self.poller = select.poll()  # not select.select: that refuses descriptors >= 1024
        self.poller.register(fd, select.POLLIN)
        self.started = time.monotonic()
        self.used = 0.0              # its CPU seconds when it was reaped
        # Its CPU clock as first read: what it used is measured from here (a clock read through
        # an interposed library, such as faketime, may carry an offset; differences do not).
        self.cpu_base = process_cpu_time(pid) or 0.0

    @classmethod
    def start(cls, fn: Callable[..., Any], tasks: list[Task], budget: Budget) -> _Child | None:
        try:
            read_fd, write_fd = os.pipe()
        except OSError:  # out of file descriptors: the tasks are missing, never a server error
            return None
        parent = os.getpid()
        try:
            last = mmap.mmap(-1, LAST.size)  # anonymous and shared: no descriptor to inherit
            LAST.pack_into(last, 0, len(tasks) - 1)
            pid = os.fork()
        except OSError:  # out of processes or memory: the same
            os.close(read_fd)
            os.close(write_fd)
            return None
        if pid == 0:
            serve(fn, tasks, write_fd, budget.left(), budget.wall_deadline, parent, last)  # never returns
        os.close(write_fd)
        return cls(pid, read_fd, tasks, last)

    @property
    def owed(self) -> int:
        return self.last - self.next + 1

    @property
    def current_key(self) -> Any:
        return self.tasks[self.next][0]

    def tasks_after(self) -> list[Task]:
        """The tasks after the current one, handed to a fresh child; this one keeps its current."""
        after = self.tasks[self.next + 1:self.last + 1]
        self.last = self.next
        if self.status is None:  # still running: it stops after its current task
            LAST.pack_into(self.shared_last, 0, self.last)
        return after

    def cpu(self) -> float:
        """CPU seconds this child has used (its wall-clock age where its CPU clock cannot be read)."""
        if self.status is not None:
            return self.used
        seconds = process_cpu_time(self.pid)
        return time.monotonic() - self.started if seconds is None else max(0.0, seconds - self.cpu_base)

    def wait(self, share: float, budget: Budget, running: Callable[[], float],
             results: dict[Any, Any]) -> str:
        """"reported" (one or more results added), "timeout" once this child has used ``share``
        more CPU seconds or the budget is spent, or "ended".

        A child that uses no CPU (blocked, or never scheduled) is bounded by the same share of
        the wall-clock guard: ``share`` × (wall time left / CPU time left) of waiting.
        """
        start, begun = self.cpu(), time.monotonic()
        wall_share = share * budget.wall_left() / max(budget.left(running()), 1e-9)
        while True:
            used = self.cpu() - start
            waited = time.monotonic() - begun
            if used >= share or waited >= wall_share or budget.expired(running()):
                return "timeout"
            look = min(LOOK_EVERY, max(share - used, 0.001), max(wall_share - waited, 0.001))
            if not self.poller.poll(max(1, int(look * 1000 + 0.999))):
                continue
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return "ended"
            if len(self.buffer) + len(chunk) > MAX_REPLY:
                self.broken = _("a reply too large")
                return "ended"
            self.buffer += chunk
            reported = self._frames(results)
            if reported is None:
                self.broken = _("a reply that is not our checker's")
                return "ended"
            if reported:
                return "reported"

    def _frames(self, results: dict[Any, Any]) -> int | None:
        """Results from the complete frames in the buffer; None if a frame is not our child's."""
        count = 0
        while self.owed and len(self.buffer) >= HEADER.size:
            (size,) = HEADER.unpack_from(self.buffer)
            if len(self.buffer) < HEADER.size + size:
                break
            try:
                index, ok, value = loads_plain(self.buffer[HEADER.size:HEADER.size + size])
            except (pickle.UnpicklingError, ValueError, TypeError, EOFError):
                return None  # trust nothing more from it
            if index != self.next or (not ok and not _is_error(value)):
                return None
            results[self.tasks[index][0]] = value if ok else Failure(*value)
            self.buffer = self.buffer[HEADER.size + size:]
            self.next += 1
            count += 1
        return count

    def stop(self) -> None:
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def close(self) -> float:
        """Kill, reap and forget the child (idempotent); the CPU seconds it used."""
        if self.status is None:
            self._signal(signal.SIGKILL)
            try:
                _pid, self.status, usage = os.wait4(self.pid, 0)
                self.used = usage.ru_utime + usage.ru_stime
            except ChildProcessError:  # reaped by someone else's waitpid(-1)
                self.status = 0
            os.close(self.fd)
            self.shared_last.close()
        return self.used

    def close_with_failure(self, budget: Budget) -> Failure:
        """Why the child ended without reporting its current task, as that task's result."""
        budget.add_child(self.close())
        status = self.status or 0
        if self.broken:
            return Failure(_("bad reply"), _("the checker process sent %(what)s", what=self.broken))
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            name = signal.Signals(sig).name if sig in signal.valid_signals() else str(sig)
            return Failure(name, _("the checker process was killed by a signal"))
        if os.WIFEXITED(status) and os.WEXITSTATUS(status):
            return Failure(_("exit code %(code)s", code=os.WEXITSTATUS(status)),
                           _("the checker process stopped"))
        return Failure(_("no reply"), _("the checker process ended without answering"))

    def _signal(self, sig: int) -> None:
        try:
            os.kill(self.pid, sig)
        except ProcessLookupError:
            pass


def _is_error(value: object) -> bool:
    return isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value)


class _PlainUnpickler(pickle.Unpickler):
    """Plain data only (tuples, strings, numbers): no class or function is ever looked up."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name}: the sandbox returns plain data")


def loads_plain(data: bytes) -> Any:
    """pickle.loads that refuses anything but built-in plain values."""
    return _PlainUnpickler(io.BytesIO(data)).load()
