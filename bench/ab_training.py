"""A/B in one process: the key and the marking of bench_training.py's problems at an earlier commit
(its grading/engine/graph.py and grading/marking/tables.py, loaded beside today's engine) against
today's, interleaved run by run; medians and bests. A measurement, never an assertion.

Run: .venv/bin/python bench/ab_training.py COMMIT [runs]   (e.g. 17cdb43, before the speed-ups)
"""

from __future__ import annotations

import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_training import answers_from, problem  # noqa: E402
from grading.engine import CellId, answer_key, parse_spec  # noqa: E402
from grading.marking import tables as new_tables  # noqa: E402


def _load(name: str, commit: str, path: str, folder: Path) -> ModuleType:
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{commit}:{path}"], check=True,
                            capture_output=True, text=True).stdout
    file = folder / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def main() -> None:
    commit, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 40
    with tempfile.TemporaryDirectory() as folder:
        old_graph = _load("old_graph", commit, "grading/engine/graph.py", Path(folder))
        old_tables = _load("old_tables", commit, "grading/marking/tables.py", Path(folder))
    for sizes in ((2, 3, 3, 2), (2, 2, 2, 1)):
        spec = parse_spec(problem(sizes))
        key = answer_key(spec)
        correct = answers_from(key, key.values)
        slip, own = CellId(1, "forward", 1, "s", (1,), 2), {}
        for k, cell in key.graph.cells.items():
            own[k] = key.values[k] if cell.given else cell.compute(own[d] for d in cell.deps)
            if k == slip:
                own[k] = round(key.values[k], 4) + 0.01
        slipped = answers_from(key, own)
        cases = {
            "old key": lambda: old_graph.answer_key(spec), "new key": lambda: answer_key(spec),
            "old key+mark": lambda: old_tables.mark_tables(old_graph.answer_key(spec), correct),
            "new key+mark": lambda: new_tables.mark_tables(answer_key(spec), correct),
            "old mark": lambda: old_tables.mark_tables(key, correct),
            "new mark": lambda: new_tables.mark_tables(key, correct),
            "old key+mark slip": lambda: old_tables.mark_tables(old_graph.answer_key(spec), slipped),
            "new key+mark slip": lambda: new_tables.mark_tables(answer_key(spec), slipped),
        }
        times: dict[str, list[float]] = {c: [] for c in cases}
        for fn in cases.values():
            fn()
        for _ in range(runs):
            for name, fn in cases.items():
                start = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - start)
        print(f"--- {'-'.join(map(str, sizes))}, batch 4, 4 rounds, Adam; {runs} interleaved runs each")
        for name, ts in times.items():
            print(f"{name:18s} median {statistics.median(ts) * 1000:7.2f} ms   best {min(ts) * 1000:7.2f} ms")


if __name__ == "__main__":
    main()
