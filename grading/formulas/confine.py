"""What a forked checker does to itself before its first task, and how it reports each one.

The child is a copy of a web server process: it holds the server's listening socket, database
connections and log files, its signal handlers and no limit on CPU. Before touching student
work it drops all of that: it dies with its parent (Linux ``PR_SET_PDEATHSIG``, and a watchdog
that checks ``getppid`` as a fallback), keeps no descriptor but its result pipe (0, 1 and 2 go
to /dev/null, so a killed server can bind its port again at once), and runs under CPU, memory
and core-dump limits. Everything here is imported before the fork: an import in the child
would read files and run code it does not need to.
"""

from __future__ import annotations

import ctypes
import fcntl
import math
import mmap
import os
import pickle
import resource
import signal
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

HEADER = struct.Struct("!I")
LAST = struct.Struct("=i")  # in memory shared with the parent: the last task this child owes
CHILD_EXTRA_MEMORY = 512 * 1024 * 1024
WATCH_INTERVAL = 0.1   # seconds between the watchdog's looks at the parent
EXIT_ORPHANED = 75     # the watchdog's exit code: the parent is gone or the deadline is long past
EXIT_BROKEN = 70       # the child could not report (its pipe is gone): nothing more to do
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>
_RESET = ("SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGCHLD", "SIGWINCH",
          "SIGPIPE", "SIGXCPU")

try:  # the C library the interpreter is linked with; None where there is no prctl (not Linux)
    _prctl: Any = ctypes.CDLL(None, use_errno=True).prctl
    _prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
except (OSError, AttributeError):
    _prctl = None


def serve(fn: Callable[..., Any], tasks: Sequence[tuple[Any, tuple[Any, ...]]], write_fd: int,
          cpu_seconds: float, deadline: float, parent: int, last: mmap.mmap) -> NoReturn:
    """The child's whole life: confine itself, then report (index, ok, value) per task in order.

    It stops after the task ``last`` names: the parent lowers it when it gives the tasks after
    the current one to a fresh child.
    """
    code = 0
    try:
        write_fd = confine(write_fd, cpu_seconds, deadline, parent)
        for index, (_key, args) in enumerate(tasks):
            if index > LAST.unpack_from(last)[0]:
                break
            try:
                frame = pickle.dumps((index, True, fn(*args)))
            except BaseException as exc:  # visible to the parent, never a silent gap
                frame = pickle.dumps((index, False, (type(exc).__name__, str(exc)[:300])))
                if not isinstance(exc, Exception):
                    _write_all(write_fd, HEADER.pack(len(frame)) + frame)
                    raise
            _write_all(write_fd, HEADER.pack(len(frame)) + frame)
    except BaseException:
        code = EXIT_BROKEN
    finally:
        os._exit(code)


def confine(write_fd: int, cpu_seconds: float, deadline: float, parent: int) -> int:
    """Die with ``parent``, drop inherited descriptors and handlers, set limits (``cpu_seconds``
    of CPU; ``deadline``, a ``time.monotonic()`` instant, is the wall-clock guard); the pipe's fd."""
    die_with_parent(parent)
    for name in _RESET:  # the server's handlers (graceful shutdown, reload) are not ours
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
    try:
        signal.set_wakeup_fd(-1)  # it would be written to after its descriptor is closed
    except (ValueError, OSError):
        pass
    write_fd = keep_only(write_fd)
    limit_resources(cpu_seconds)
    start_watchdog(parent, deadline)
    return write_fd


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when the thread that forked it ends (kill -9 of the server included)."""
    if _prctl is not None:
        _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(EXIT_ORPHANED)


def keep_only(write_fd: int) -> int:
    """Close every descriptor but the pipe; 0, 1 and 2 become /dev/null. The pipe's new number."""
    if write_fd <= 2:  # never the case for a server, but a closed stdin would give the pipe fd 0
        write_fd = fcntl.fcntl(write_fd, fcntl.F_DUPFD, 3)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if null != fd:
            os.dup2(null, fd)
    keep = {0, 1, 2, write_fd}
    try:
        open_fds = [int(name) for name in os.listdir("/proc/self/fd")]
    except OSError:  # no /proc: close up to the descriptor limit instead
        top = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        top = top if 0 < top < 1 << 20 else 1 << 16
        open_fds = [fd for fd in range(3, top)]
    for fd in open_fds:
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass  # the listing's own descriptor, already closed
    return write_fd


def limit_resources(cpu_seconds: float) -> None:
    """No core files, the budget's CPU seconds, and memory of what was inherited plus a margin.

    Two seconds of sympy on a hostile polynomial can allocate gigabytes; a MemoryError in the
    child is reported like any failure. The CPU limit kills a child that nothing else stops
    (SIGXCPU at the soft limit, SIGKILL one second later).
    """
    seconds = max(1, math.ceil(cpu_seconds)) + 1
    for limit, value in ((resource.RLIMIT_CORE, (0, 0)), (resource.RLIMIT_CPU, (seconds, seconds + 1))):
        try:
            soft, hard = value
            current_hard = resource.getrlimit(limit)[1]
            if current_hard != resource.RLIM_INFINITY:
                soft, hard = min(soft, current_hard), min(hard, current_hard)
            resource.setrlimit(limit, (soft, hard))
        except (OSError, ValueError):
            pass
    try:
        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        resource.setrlimit(resource.RLIMIT_AS, (size + CHILD_EXTRA_MEMORY,) * 2)
    except (OSError, ValueError):
        pass  # not Linux: the deadline and the CPU limit still bound the child


def start_watchdog(parent: int, deadline: float) -> None:
    """Every WATCH_INTERVAL, exit if the parent is gone or the wall-clock guard is well past.

    The fallback where PR_SET_PDEATHSIG does not exist; it runs between Python bytecodes, so a
    long step in C is bounded by the CPU limit instead.
    """
    hard_deadline = deadline + 1.0

    def watch(_signum: int, _frame: object) -> None:
        if os.getppid() != parent or time.monotonic() > hard_deadline:
            os._exit(EXIT_ORPHANED)

    signal.signal(signal.SIGALRM, watch)
    signal.setitimer(signal.ITIMER_REAL, WATCH_INTERVAL, WATCH_INTERVAL)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:  # a signal (the watchdog) can cut a large write short
        view = view[os.write(fd, view):]
