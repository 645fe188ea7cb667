"""Median time to grade Q1's 15 rows: correct, mixed, from the verdict cache, and with one slow row.

Run from the repository root: .venv/bin/python bench/bench_formulas.py [runs]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import timing  # noqa: E402
from grading.formulas import VerdictCache, grade_formulas, reference_formulas  # noqa: E402

CORRECT = {
    "s1": "w11 × x1 + w21 × x2 + b1", "s2": "w12 × x1 + w22 × x2 + b2",
    "f1": "sigmoid(s1)", "f2": "1/(1 + exp(-s2))",
    "L": "(y1 − f1)²/2 + (y2 − f2)²/2",
    "dL/df1": "f1 − y1", "dL/df2": "-(y2 - f2)",
    "dL/ds1": "dL/df1 × f1 × (1 − f1)", "dL/ds2": "dL/df2 σ(s2)(1 − σ(s2))",
    "dL/db1": "dL/ds1 × 1", "dL/db2": "dL/ds2",
    "dL/dw11": "dL/ds1 × χ1", "dL/dw21": "dL/ds1 × χ2", "dL/dw12": "x1 dL/ds2", "dL/dw22": "dL/ds2 × x2",
}

MIXED = {
    "s1": "w11*x1 + w21*x2 + b1", "s2": "w12*x1 + w21*x2 + b2",          # wrong index
    "f1": "1/(1+exp(-(w11*x1+w21*x2+b1)))", "f2": "sigmoid(s2)",         # not chained
    "L": "(y1 - f1)^2 + (y2 - f2)^2",                                    # factor 2
    "dL/df1": "y1 - f1", "dL/df2": "f2 - y2",                            # wrong sign
    "dL/ds1": "(f1 - y1)*f1*(1 - f1)", "dL/ds2": "dL/df2*s2*(1 - s2)",   # not chained; s for f
    "dL/db1": "dL/ds1", "dL/db2": "dL/ds2 *",                            # invalid
    "dL/dw11": "dL/ds1*x1", "dL/dw21": "dL/ds1 * x3",                    # unknown name
    "dL/dw12": "9^9^9", "dL/dw22": "dL/df2*f2*(1-f2)*x2",                # too large; not chained
}

# s1 plus an expanded zero sympy cannot finish within the time limit: numerically equal, so it is
# the first row the sandbox checks; the 14 others must still be decided.
_B = "((w11 + x1 + w21 + x2 + b1 + b2 + y1 + y2 + w12 + w22)/16 + 2)"
SLOW_ROW = {**CORRECT, "s1": f"({_B}^32 + 1)^2 - {_B}^64 - 2*{_B}^32 - 1 + w11*x1 + w21*x2 + b1"}


def median_ms(answers: dict[str, str], runs: int, warmup: int = 3, **options: object) -> float:
    return timing.median_ms(lambda: grade_formulas(answers, **options), runs, warmup)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    grade_formulas(CORRECT)  # warm the caches (parsed references, random points)
    cache = VerdictCache()
    grade_formulas(CORRECT, cache=cache)
    print(f"Q1, 15 rows, median of {runs} runs (slow row: {max(3, runs // 10)} runs)")
    print(f"  correct submission   {median_ms(CORRECT, runs):7.1f} ms")
    print(f"  engine references    {median_ms(reference_formulas(2, 2), runs):7.1f} ms")
    print(f"  mixed submission     {median_ms(MIXED, runs):7.1f} ms")
    print(f"  correct, cache hit   {median_ms(CORRECT, runs, cache=cache):7.1f} ms "
          f"(no child process; {cache.hits} hits)")
    slow_runs = max(3, runs // 10)
    decided = sum(m.status != "undecided" for m in grade_formulas(SLOW_ROW))
    print(f"  1 slow row + 14 good {median_ms(SLOW_ROW, slow_runs, warmup=0):7.1f} ms "
          f"({decided} of 15 rows decided; the limit is 2 s)")


if __name__ == "__main__":
    main()
