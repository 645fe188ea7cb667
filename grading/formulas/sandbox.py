"""Run slow work in a forked child with a hard deadline, then kill it.

The web server is threaded, so signal.alarm is out. A forked child inherits the parent's
imported sympy (no start-up cost, ~3 ms to fork), reports one result per task through a pipe
as soon as it has it, and is SIGKILLed at the deadline: whatever it was computing, the server
thread gets its answer in time. Tasks that did not report are simply missing from the result.
"""

from __future__ import annotations

import io
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
    try:
        read_fd, write_fd = os.pipe()
    except OSError:  # out of file descriptors: every task is simply missing ("undecided")
        return {}
    try:
        pid = os.fork()
    except OSError:  # out of processes or memory: the same, never a server error
        os.close(read_fd)
        os.close(write_fd)
        return {}
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


class _PlainUnpickler(pickle.Unpickler):
    """Plain data only (tuples, strings, numbers): no class or function is ever looked up."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refused {module}.{name}: the sandbox returns plain data")


def loads_plain(data: bytes) -> Any:
    """pickle.loads that refuses anything but built-in plain values."""
    return _PlainUnpickler(io.BytesIO(data)).load()


def _collect(fd: int, expected: int, deadline: float) -> dict[Any, Any]:
    results: dict[Any, Any] = {}
    buffer = b""
    poller = select.poll()  # not select.select: that refuses descriptors >= 1024
    poller.register(fd, select.POLLIN)
    while len(results) < expected:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        if not poller.poll(max(1, int(remaining * 1000 + 0.999))):
            break
        chunk = os.read(fd, 65536)
        if not chunk or len(buffer) + len(chunk) > MAX_REPLY:
            break
        buffer += chunk
        while len(buffer) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buffer)
            if len(buffer) < _HEADER.size + size:
                break
            try:
                key, result = loads_plain(buffer[_HEADER.size:_HEADER.size + size])
            except (pickle.UnpicklingError, ValueError, TypeError, EOFError):
                return results  # not what our child writes: trust nothing more from it
            results[key] = result
            buffer = buffer[_HEADER.size + size:]
    return results
