"""The time a Q1 check may take: CPU seconds of the checker's own work, and a wall-clock guard.

A verdict must not depend on how busy the machine is. At a deadline every core is busy, and a
budget read from the wall clock would turn a decidable formula into "could not decide" there and
nowhere else. So the budget counts the CPU time the check itself uses: the calling thread's own
(``time.thread_time``: other requests' threads in the same server do not count) plus that of the
forked checker processes working for it. The wall clock is only a guard against a hang (a child
that never runs, a machine that is swapping): by default ten times the CPU budget, plus 5 s.

No Django here.
"""

from __future__ import annotations

import ctypes
import os
import time
from dataclasses import dataclass, field

WALL_GUARD_FACTOR = 10.0   # the wall-clock guard: this many times the CPU budget ...
WALL_GUARD_EXTRA = 5.0     # ... plus this many seconds


@dataclass
class Budget:
    """``cpu`` seconds of the checker's CPU time, and a wall-clock instant (``time.monotonic``)
    after which nothing more is started in any case."""

    cpu: float
    wall_deadline: float
    _thread_start: float = field(default_factory=time.thread_time)
    _children: float = 0.0  # CPU seconds of checker processes already reaped

    @classmethod
    def of(cls, seconds: float, *, guard: float | None = None) -> Budget:
        """``seconds`` of CPU, with the default wall-clock guard (or ``guard`` seconds of it)."""
        seconds = max(0.0, float(seconds))
        wall = WALL_GUARD_FACTOR * seconds + WALL_GUARD_EXTRA if guard is None else guard
        return cls(cpu=seconds, wall_deadline=time.monotonic() + wall)

    @classmethod
    def until(cls, deadline: float) -> Budget:
        """Both bounds at one wall-clock instant: as much CPU as there is time until ``deadline``."""
        return cls(cpu=max(0.0, deadline - time.monotonic()), wall_deadline=deadline)

    def add_child(self, seconds: float) -> None:
        """Count a reaped checker process's CPU time."""
        self._children += seconds

    def spent(self, running: float = 0.0) -> float:
        """CPU seconds used so far: this thread's, the reaped children's and ``running`` (the
        live children's, as their owner measured them)."""
        return time.thread_time() - self._thread_start + self._children + running

    def left(self, running: float = 0.0) -> float:
        return self.cpu - self.spent(running)

    def expired(self, running: float = 0.0) -> bool:
        """Out of CPU time, or past the wall-clock guard."""
        return self.left(running) <= 0 or time.monotonic() >= self.wall_deadline

    def wall_left(self) -> float:
        return self.wall_deadline - time.monotonic()


def _cpu_clock_reader() -> object:
    """``clock_getcpuclockid`` from the C library (POSIX), or None where there is none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).clock_getcpuclockid
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    function.restype = ctypes.c_int
    return function


_CLOCK_GETCPUCLOCKID = _cpu_clock_reader()
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_cpu_time(pid: int) -> float | None:
    """CPU seconds (user + system) a live process has used, or None if it cannot be read."""
    if _CLOCK_GETCPUCLOCKID is not None:
        clock = ctypes.c_int()
        if _CLOCK_GETCPUCLOCKID(pid, ctypes.byref(clock)) == 0:  # type: ignore[operator]
            try:
                return time.clock_gettime(clock.value)
            except OSError:
                pass
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime, stime
    except (OSError, ValueError, IndexError):
        return None
