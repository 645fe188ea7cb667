"""Undecided Q1 verdicts are cached with the CPU budget their check had (issue 18, item 6):
a second grading given no more time forks nothing; one given more time checks again."""
from __future__ import annotations

import os

import pytest

from grading.formulas import VerdictCache, grade_formulas
from grading.formulas.cache import Verdict

# s1 plus an expanded zero that sympy needs far longer than these budgets for (the numeric check
# finds it equal, so it goes to the sandbox and runs out of time there).
B = "((w11 + x1 + w21 + x2 + b1 + b2 + y1 + y2 + w12 + w22)/16 + 2)"
SLOW_S1 = f"({B}^32 + 1)^2 - {B}^64 - 2*{B}^32 - 1 + w11*x1 + w21*x2 + b1"


@pytest.fixture
def forks(monkeypatch) -> list[int]:
    count: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        count.append(1)
        return real_fork()

    monkeypatch.setattr(os, "fork", counting_fork)
    return count


def s1(**kwargs):
    return next(m for m in grade_formulas({"s1": SLOW_S1}, **kwargs) if m.row == "s1")


def test_an_undecided_row_is_not_checked_again_with_the_same_budget(forks):
    cache = VerdictCache()
    first = s1(time_limit=0.5, cache=cache)
    if first.status != "undecided":
        pytest.skip("this machine decided the slow row within the budget")
    assert len(forks) >= 1 and len(cache) == 1
    before = len(forks)
    second = s1(time_limit=0.5, cache=cache)
    assert len(forks) == before
    assert (second.status, second.message) == (first.status, first.message)
    smaller = s1(time_limit=0.3, cache=cache)
    assert len(forks) == before and smaller.status == "undecided"


def test_an_undecided_row_is_checked_again_with_a_larger_budget(forks):
    cache = VerdictCache()
    if s1(time_limit=0.3, cache=cache).status != "undecided":
        pytest.skip("this machine decided the slow row within the budget")
    before = len(forks)
    s1(time_limit=0.6, cache=cache)
    assert len(forks) > before  # more time: checked again


def test_the_cache_keeps_the_largest_budget_and_never_lets_undecided_replace_decided():
    cache = VerdictCache()
    key = ("v", "x", "s1", (2, 2), ("sigmoid",), "mse", True, 0.5)
    cache.put(key, Verdict("undecided", "later", budget=1.0))
    assert cache.get(key, 1.0) is not None and cache.get(key, 0.5) is not None
    assert cache.get(key, 1.5) is None and cache.get(key) is None
    cache.put(key, Verdict("undecided", "later", budget=0.5))  # a smaller budget teaches nothing
    assert cache.get(key, 1.0) is not None
    cache.put(key, Verdict("correct", "correct", 1.0))
    cache.put(key, Verdict("undecided", "later", budget=9.0))
    assert cache.get(key, 1.0).status == "correct"
    cache.put(("other",), Verdict("undecided", "crashed", budget=-1.0))  # a crash: not kept
    assert cache.get(("other",), 0.1) is None


def test_a_grading_pools_spawned_workers_start_with_the_parents_verdicts():
    """A class dry run with several worker processes: each starts with the verdicts its parent
    knows (undecided ones too), so known time-outs are not waited out again in every worker."""
    from grading import engine
    from grading.formulas import VERDICTS
    from grading.grade import grader
    from tests.factories import SPEC_4_1
    from tests.pool_help import verdicts_known

    spec = engine.parse_spec(SPEC_4_1)
    config = grader.GradingConfig(questions=grader.default_questions(spec))
    grader.grade_submission(spec, {"formulas": {"s1": "w11*x1 + w21*x2 + b1", "f1": "sigmoid(s1)"}}, config)
    VERDICTS.put(("test", "undecided row"), Verdict("undecided", "ran out of time", 0.0, budget=2.0))
    items, typed = VERDICTS.snapshot()
    assert len(items) >= 3 and len(typed) >= 2
    with grader.GradingPool(spec, config, workers=2) as pool:
        seen = pool.map(verdicts_known, [(k,) for k in range(8)])
    assert all(known[0] >= len(items) and known[1] >= len(typed) for known in seen)
