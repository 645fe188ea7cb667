"""Median time to mark one Homework 4.1 submission (engine + marking, no database).

(a) compute the key and mark a complete correct submission (target < 2 ms);
(b) compute the key and mark a submission full of slips, with follow-through and mistake
    matching (target < 5 ms).

Run: .venv/bin/python bench/bench_marking.py [runs]
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.timing import median_ms  # noqa: E402
from grading.engine import CellId, cell_name, single_layer_cell, answer_key, build_graph, parse_spec  # noqa: E402
from grading.marking import mark_tables  # noqa: E402
from grading.mistakes import mistake_key  # noqa: E402


def answers_from(values: dict[CellId, float], graph, write) -> dict:
    rounds: dict[int, dict] = {}
    for cell in graph.gradable():
        k = cell.key
        rounds.setdefault(k.round, {"round": k.round}).setdefault(k.column, {})[cell_name(k, 1)] = write(values[k])
    return {"rounds": [rounds[r] for r in sorted(rounds)]}


def truncate(v: float) -> str:
    return str(Decimal(repr(v)).quantize(Decimal("0.0001"), rounding=ROUND_DOWN))


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    spec = parse_spec(json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text()))
    graph = build_graph(spec)
    correct = answers_from(answer_key(spec).values, graph, lambda v: f"{v:.4f}")
    # Slips everywhere: the gradient added in every update, every cell truncated, s1 off by 0.01.
    slipped_values = dict(mistake_key(spec, "gradient_added"))
    for r in range(1, spec.n_rounds + 1):
        slipped_values[single_layer_cell(r, "forward", "s1")] += 0.01
    slips = answers_from(slipped_values, graph, truncate)

    a = median_ms(lambda: mark_tables(answer_key(spec), correct), runs)
    b = median_ms(lambda: mark_tables(answer_key(spec), slips), runs)
    key = answer_key(spec)
    b_only = median_ms(lambda: mark_tables(key, slips), runs)
    statuses = Counter(m.status for m in mark_tables(key, slips))
    mistakes = Counter(m.mistake for m in mark_tables(key, slips) if m.mistake)
    print(f"runs per case: {runs}")
    print(f"(a) key + mark, complete correct submission:   median {a:.3f} ms  (target < 2 ms)")
    print(f"(b) key + mark, submission full of slips:      median {b:.3f} ms  (target < 5 ms)")
    print(f"    of which marking only:                     median {b_only:.3f} ms")
    print(f"    slipped submission's marks: {dict(statuses)}, mistakes named: {dict(mistakes)}")


if __name__ == "__main__":
    main()
