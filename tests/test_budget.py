"""Q1's time budget is the checker's own CPU time: a busy machine changes no verdict.

The machine is made busy for real (processes that spin on every core, and more), and the check
must still decide what it decides on an idle machine. Waits are bounded by the budget's
wall-clock guard, never by a sleep.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Iterator

import pytest

from grading.formulas import grade_formulas, sandbox
from grading.formulas.budget import Budget, process_cpu_time
from grading.engine import Shape


def _spin() -> None:
    while True:
        pass


@pytest.fixture
def busy_machine() -> Iterator[int]:
    """Twice as many spinning processes as there are cores, for the length of the test."""
    count = 2 * (os.cpu_count() or 2)
    context = multiprocessing.get_context("fork")
    spinners = [context.Process(target=_spin, daemon=True) for _ in range(count)]
    for spinner in spinners:
        spinner.start()
    try:
        yield count
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.join()


def burn(seconds: float) -> str:
    """A task that needs ``seconds`` of CPU time, however long the machine makes it wait."""
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return "done"


def test_waiting_spends_no_budget_and_work_spends_it() -> None:
    budget = Budget.of(0.2)
    # The wall clock runs, this thread's CPU clock does not. (time.sleep: a timed Event.wait
    # never returns under faketime, which this suite must pass under.)
    time.sleep(0.3)
    assert not budget.expired()
    assert budget.spent() < 0.1
    burn(0.25)
    assert budget.expired()


def test_the_wall_clock_guard_ends_a_budget_nobody_spends() -> None:
    budget = Budget.of(10.0, guard=0.05)
    time.sleep(0.1)
    assert budget.expired() and budget.left() > 9


def test_a_live_process_cpu_time_is_read() -> None:
    before = process_cpu_time(os.getpid())
    burn(0.05)
    after = process_cpu_time(os.getpid())
    assert before is not None and after is not None and after - before >= 0.04


def test_a_task_that_needs_most_of_the_budget_gets_it_on_a_busy_machine(busy_machine: int) -> None:
    """0.6 s of CPU within a budget of 1 s: on a machine with ``busy_machine`` spinners the child
    gets a fraction of a core, so this takes several wall-clock seconds, and still answers."""
    results = sandbox.run_with_deadline(burn, [("k", (0.6,))], Budget.of(1.0))
    assert results == {"k": "done"}


def test_a_task_over_the_cpu_budget_is_stopped() -> None:
    started = time.monotonic()
    results = sandbox.run_with_deadline(burn, [("k", (30.0,))], Budget.of(0.3))
    assert results == {}
    assert time.monotonic() - started < 20  # a hang guard, not a speed


def test_a_silent_child_is_bounded_by_the_wall_clock_guard() -> None:
    def wait_forever() -> None:
        while True:
            signal.pause()

    results = sandbox.run_with_deadline(wait_forever, [("k", ())], Budget.of(5.0, guard=0.3))
    assert results == {}


SHAPE = Shape(sizes=(2, 2, 2), activations=("sigmoid", "sigmoid"), loss="half_sse")


def test_q1_verdicts_on_a_busy_machine_equal_those_on_an_idle_one(busy_machine: int) -> None:
    """Two rows that only the symbolic check decides (written out instead of chained: about
    0.6 s of CPU between them, up to twice that under coverage's tracing) within a budget of 2 s.
    With the spinners the checker gets a fraction of a core (a few wall-clock seconds), so a
    wall-clock budget ran out ("undecided"); the CPU budget decides them as an idle machine
    does: equivalent but not chained. (At 1 s, coverage's tracing left one CI run undecided.)"""
    answers = {"dL/ds1[2]": "(f1[2] - y1)*f1[2]*(1 - f1[2])",
               "dL/dw11[2]": "(f1[2] - y1)*f1[2]*(1 - f1[2])*f1[1]",
               "s1[1]": "w11[1]*x1 + w21[1]*x2 + b1[1]"}
    marks = {m.row: m.status for m in grade_formulas(answers, shape=SHAPE, time_limit=2.0)}
    assert marks["dL/ds1[2]"] == "not_chained"
    assert marks["dL/dw11[2]"] == "not_chained"
    assert marks["s1[1]"] == "correct"
