"""Median time of the numpy engine: a class of Homework 4.1 variants in one pass, and one deep
network; and the key and marking of one complete submission to that 3-layer, 4-round problem.

A measurement, not a test: run it with `python bench/bench_network.py`.
"""
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_ms  # noqa: E402
from grading import engine  # noqa: E402
from grading.engine.network import stack, train, train_one  # noqa: E402
from grading.marking import mark_tables  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HW = json.loads((ROOT / "grading" / "specs" / "homework-4.1.json").read_text())


def variants(n: int) -> list[engine.Spec]:
    """n per-student variants of Homework 4.1: every number moved a little, the shape kept."""
    rng = random.Random(41)

    def nudge(v: float) -> float:
        return round(v + rng.uniform(-0.1, 0.1), 2)

    return [engine.parse_spec({
        "weights": [[nudge(w) for w in row] for row in HW["weights"]],
        "biases": [nudge(b) for b in HW["biases"]],
        "learning_rate": HW["learning_rate"],
        "samples": [{"x": [nudge(x) for x in s["x"]], "y": s["y"]} for s in HW["samples"]],
    }) for _ in range(n)]


def deep_problem() -> engine.Spec:
    """A 3-layer, 4-round problem: 3-4-3-2, tanh, relu, sigmoid, bce."""
    rng = random.Random(3)
    sizes, acts = [3, 4, 3, 2], ["tanh", "relu", "sigmoid"]
    return engine.parse_spec({
        "layers": [{"weights": [[round(rng.uniform(-1, 1), 2) for _ in range(sizes[l + 1])]
                                for _ in range(sizes[l])],
                    "biases": [round(rng.uniform(-0.5, 0.5), 2) for _ in range(sizes[l + 1])],
                    "activation": acts[l]} for l in range(3)],
        "loss": "bce", "learning_rate": 0.5,
        "samples": [{"x": [round(rng.uniform(-1, 1), 2) for _ in range(3)], "y": [k % 2, 1 - k % 2]}
                    for k in range(4)],
    })


def complete_submission(spec: engine.Spec) -> dict:
    """Every cell a student types, the key's values to 4 places, keyed by the course's names."""
    key = engine.answer_key(spec)
    rounds: dict[int, dict] = {}
    for cell in key.graph.gradable():
        rounds.setdefault(cell.round, {"round": cell.round}).setdefault(cell.column, {})[cell.name] = \
            f"{key.values[cell.key]:.4f}"
    return {"rounds": [rounds[r] for r in sorted(rounds)]}


def main() -> None:
    specs = variants(1000)
    batch = stack(specs)
    deep = deep_problem()
    print(f"key of 1,000 Homework 4.1 variants, one vectorised pass (target < 50 ms): "
          f"median {median_ms(lambda: train(batch), 50):.3f} ms")
    print(f"  the same, stacking the 1,000 parsed specs first:                     "
          f"median {median_ms(lambda: train(stack(specs)), 20):.3f} ms")
    print(f"full pass of one 3-layer, 4-round problem (3-4-3-2, bce):             "
          f"median {median_ms(lambda: train_one(deep), 300):.3f} ms")
    answers = complete_submission(deep)
    cells = len(engine.answer_key(deep).graph.gradable())
    marks = mark_tables(engine.answer_key(deep), answers)
    assert {m.status for m in marks} == {"correct"}, "the bench's submission must be complete and right"
    print(f"key + marking of one complete submission to it ({cells} cells, target < 5 ms):  "
          f"median {median_ms(lambda: mark_tables(engine.answer_key(deep), answers), 200):.3f} ms")
    key = engine.answer_key(deep)
    print(f"  of which marking only:                                               "
          f"median {median_ms(lambda: mark_tables(key, answers), 200):.3f} ms")


if __name__ == "__main__":
    main()
