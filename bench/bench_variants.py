"""Median time of drawing and checking per-student variants of Homework 4.1 (issue 9).

A measurement, not a test: run it with `python bench/bench_variants.py`.
"""
import copy
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms  # noqa: E402
from grading.engine.degenerate import degenerate_mask  # noqa: E402
from grading.engine.network import train  # noqa: E402
from grading.engine.ranges import parse_template  # noqa: E402
from grading.engine.variants import draw, draw_many, indices, values_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HW = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())
N = 1000


def template(x_low: float = 0.1) -> dict:
    """Homework 4.1 with every weight, bias and input ranged (targets and learning rate kept)."""
    t = copy.deepcopy(HW)
    t["weights"] = [[{"range": [0.1, 0.9], "step": 0.05} for _ in row] for row in t["weights"]]
    t["biases"] = [{"range": [0.1, 0.5], "step": 0.05} for _ in t["biases"]]
    for sample in t["samples"]:
        sample["x"] = [{"range": [x_low, 0.9], "step": 0.1} for _ in sample["x"]]
    return t


def main() -> None:
    parsed = parse_template(template())
    keys = [f"student-{k}" for k in range(N)]
    whole = median_ms(lambda: draw_many(parsed, 2024, keys), 20)
    picked = values_of(parsed, indices(parsed, 2024, keys, 0, 0))
    batch = parsed.batch(picked)
    hashing = median_ms(lambda: values_of(parsed, indices(parsed, 2024, keys, 0, 0)), 20)
    checking = median_ms(lambda: degenerate_mask(train(parsed.batch(picked)), decimals=4), 20)
    building = median_ms(lambda: parsed.specs(picked), 20)
    degenerate = int(degenerate_mask(train(batch), decimals=4).sum())
    print(f"draw and check {N:,} variants of Homework 4.1 ({len(parsed.free)} ranged numbers; "
          f"{degenerate} first draws degenerate, redrawn):")
    print(f"  draw_many, the whole class:        median {whole:8.3f} ms = "
          f"{whole / N * 1000:6.2f} µs a variant")
    print(f"    the numbers (SHAKE-256 a draw):  median {hashing:8.3f} ms")
    print(f"    train and degeneracy mask:       median {checking:8.3f} ms")
    print(f"    the {N:,} concrete specs:          median {building:8.3f} ms")
    zeros = parse_template(template(x_low=0.0))  # an input of 0 makes its dL/dw 0: redrawn
    first = int(degenerate_mask(train(zeros.batch(values_of(zeros, indices(zeros, 2024, keys, 0, 0)))),
                                decimals=4).sum())
    redrawing = median_ms(lambda: draw_many(zeros, 2024, keys), 20)
    print(f"  the same with inputs from 0 ({first} first draws degenerate): median {redrawing:8.3f} ms = "
          f"{redrawing / N * 1000:6.2f} µs a variant")
    print(f"  draw, one student alone:           median "
          f"{median_ms(lambda: draw(parsed, 2024, 'student-7'), 200):8.3f} ms")


if __name__ == "__main__":
    main()
