"""Run slow work in a forked child with a hard deadline, then kill it.

The web server is threaded, so signal.alarm is out. A forked child inherits the parent's
imported sympy (no start-up cost, ~3 ms to fork), reports one result per task through a pipe
as soon as it has it, and is SIGKILLed at the deadline: whatever it was computing, the server
thread gets its answer in time. Tasks that did not report are simply missing from the result.
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import time
from collections.abc import Callable, Sequence
from typing import Any

_HEADER = struct.Struct("!I")
MAX_REPLY = 1 << 20


def run_with_deadline(fn: Callable[..., Any], tasks: Sequence[tuple[Any, tuple[Any, ...]]],
                      deadline: float) -> dict[Any, Any]:
    """{key: fn(*args)} for the (key, args) tasks that finish in a child before ``deadline``."""
    if not tasks or deadline - time.monotonic() <= 0:
        return {}
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: never return into the parent's code
        code = 0
        try:
            os.close(read_fd)
            _limit_memory()
            for key, args in tasks:
                try:
                    result = fn(*args)
                except Exception as exc:  # a bug or sympy failure on one task: report, go on
                    result = ("unknown", f"could not check: {type(exc).__name__}")
                payload = pickle.dumps((key, result))
                os.write(write_fd, _HEADER.pack(len(payload)) + payload)
        except BaseException:
            code = 1
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        return _collect(read_fd, len(tasks), deadline)
    finally:
        os.close(read_fd)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)


CHILD_EXTRA_MEMORY = 512 * 1024 * 1024


def _limit_memory() -> None:
    """Cap the child's address space at what it inherited plus CHILD_EXTRA_MEMORY.

    Two seconds of sympy on a hostile polynomial can allocate gigabytes; a MemoryError in the
    child is reported like any failure and the row becomes "undecided".
    """
    try:
        import resource

        with open("/proc/self/statm") as statm:
            size = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
        limit = size + CHILD_EXTRA_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (OSError, ValueError, ImportError):
        pass  # not Linux: the deadline still bounds the child


def _collect(fd: int, expected: int, deadline: float) -> dict[Any, Any]:
    results: dict[Any, Any] = {}
    buffer = b""
    while len(results) < expected:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 65536)
        if not chunk or len(buffer) + len(chunk) > MAX_REPLY:
            break
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            key, result = pickle.loads(buffer[_HEADER.size:_HEADER.size + size])  # our own child's bytes
            results[key] = result
            buffer = buffer[_HEADER.size + size:]
    return results
