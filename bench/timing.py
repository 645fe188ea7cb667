"""The one timing helper of the benchmarks: a median of wall-clock runs, after a warm-up."""
import statistics
import time
from collections.abc import Callable


def median_ms(fn: Callable[[], object], runs: int, warmup: int = 3) -> float:
    """Median milliseconds of ``runs`` calls of ``fn`` (a measurement, never an assertion)."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000
