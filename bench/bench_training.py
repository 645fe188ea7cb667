"""Median time to key and mark a 3-layer mini-batch Adam problem (issue 20): a 2-3-3-2 and a 2-2-2-1
network, batch 4 (mean), 4 rounds, Adam, every cell of every sample and of the optimizer asked.

(a) compute the key;
(b) compute the key and mark a complete correct submission (target < 10 ms);
(c) mark only (the key computed once), the same submission;
(d) key + mark a submission with one slip in round 1, carried through every later round.

Run: .venv/bin/python bench/bench_training.py [runs]
"""

from __future__ import annotations

import random
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import median_ms  # noqa: E402
from grading.engine import CellId, answer_key, parse_spec  # noqa: E402
from grading.marking import mark_tables  # noqa: E402


def problem(sizes: tuple[int, ...] = (2, 3, 3, 2)) -> dict:
    rng = random.Random(20)
    return {
        "layers": [{"weights": [[round(rng.uniform(-1, 1), 2) for _ in range(sizes[l + 1])] for _ in range(sizes[l])],
                    "biases": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(sizes[l + 1])],
                    "activation": "sigmoid"} for l in range(3)],
        "loss": "half_sse", "learning_rate": 0.1, "batch": 4, "reduce": "mean", "optimizer": {"kind": "adam"},
        "samples": [{"x": [round(rng.uniform(-1, 1), 2) for _ in range(sizes[0])],
                     "y": [round(rng.uniform(0.1, 0.9), 2) for _ in range(sizes[-1])]} for _ in range(16)],
    }


def answers_from(key, values: dict[CellId, float]) -> dict:
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        k = cell.key
        v = values[k]
        text = f"{v:.4e}" if k.quantity in ("v_w", "v_b", "vhat_w", "vhat_b") else f"{v:.4f}"
        rounds.setdefault(k.round, {"round": k.round}).setdefault(k.column, {})[cell.name] = text
    return {"rounds": [rounds[r] for r in sorted(rounds)]}


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    for sizes in ((2, 3, 3, 2), (2, 2, 2, 1)):
        print(f"--- a {'-'.join(map(str, sizes))} sigmoid network, batch 4 (mean), 4 rounds, Adam")
        measure(sizes, runs)


def measure(sizes: tuple[int, ...], runs: int) -> None:
    spec = parse_spec(problem(sizes))
    key = answer_key(spec)
    correct = answers_from(key, key.values)
    # One slip in sample 2's s1[1] of round 1; the rest of that student's tables worked from it.
    slip = CellId(1, "forward", 1, "s", (1,), 2)
    graph = key.graph
    own: dict[CellId, float] = {}
    for k, cell in graph.cells.items():
        own[k] = key.values[k] if cell.given else cell.compute(own[d] for d in cell.deps)
        if k == slip:
            own[k] = round(key.values[k], 4) + 0.01
    slipped = answers_from(key, own)

    cells = len(graph.gradable())
    a = median_ms(lambda: answer_key(spec), runs)
    b = median_ms(lambda: mark_tables(answer_key(spec), correct), runs)
    c = median_ms(lambda: mark_tables(key, correct), runs)
    d = median_ms(lambda: mark_tables(answer_key(spec), slipped), runs)
    statuses = Counter(m.status for m in mark_tables(key, slipped))
    print(f"runs per case: {runs}; gradable cells: {cells}")
    print(f"(a) key:                                       median {a:.3f} ms")
    print(f"(b) key + mark, complete correct submission:   median {b:.3f} ms  (target < 10 ms)")
    print(f"(c) mark only, complete correct submission:    median {c:.3f} ms")
    print(f"(d) key + mark, one slip carried through:      median {d:.3f} ms")
    print(f"    slipped submission's marks: {dict(statuses)}")


if __name__ == "__main__":
    main()
