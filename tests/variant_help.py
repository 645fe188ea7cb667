"""Helpers for the tests of per-student variants through the web: a template, its draws written
out independently of grading.engine (the documented SHAKE-256 scheme and the degeneracy rule
from tests/refnet.py), and a student's correct answers from the reference network."""
from __future__ import annotations

import copy
import hashlib
import json
import re
from typing import Any

from tests import refnet
from tests.factories import SPEC_4_1


def R(lo, hi, step):
    return {"range": [lo, hi], "step": step}


def template() -> dict:
    """Homework 4.1 with w11, w22, b1 and round 1's x1 ranged: never degenerate at 4 places
    (every weight, bias and input positive and small)."""
    t = copy.deepcopy(SPEC_4_1)
    t["weights"] = [[R(0.1, 0.5, 0.1), 0.3], [0.1, R(0.2, 0.6, 0.1)]]
    t["biases"] = [R(0.1, 0.4, 0.1), 0.4]
    t["samples"][0]["x"] = [R(0.2, 0.8, 0.2), 0.8]
    return t


# template()'s ranged numbers in the template's order (its JSON order: weights row by row,
# biases, samples), with the values each may take, written out by hand.
FREE = [
    (("weights", 0, 0), [0.1, 0.2, 0.3, 0.4, 0.5]),
    (("weights", 1, 1), [0.2, 0.3, 0.4, 0.5, 0.6]),
    (("biases", 0), [0.1, 0.2, 0.3, 0.4]),
    (("samples", 0, "x", 0), [0.2, 0.4, 0.6, 0.8]),
]


def put(data: Any, path: tuple, value: Any) -> None:
    for part in path[:-1]:
        data = data[part]
    data[path[-1]] = value


def get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data


def expected_draw(base: dict, free: list, seed: int, key: str, attempt: int = 0,
                  decimals: int = 4) -> dict:
    """The concrete spec the documented scheme gives: SHAKE-256 of
    ["backprop-variant-v1", seed, key, attempt, redraw], 8 big-endian bytes per ranged number
    modulo its count of values, redrawn while the reference says it is degenerate."""
    for redraw in range(200):
        message = json.dumps(["backprop-variant-v1", seed, key, attempt, redraw], separators=(",", ":"))
        digest = hashlib.shake_256(message.encode()).digest(8 * len(free))
        spec = copy.deepcopy(base)
        for k, (path, values) in enumerate(free):
            word = int.from_bytes(digest[8 * k:8 * k + 8], "big")
            put(spec, path, values[word % len(values)])
        if not refnet.degenerate_cells(spec, decimals):
            return spec
    raise AssertionError("no draw")


def round_answers(spec: dict, rounds: tuple[int, ...] = (1,), decimals: int = 4) -> dict[str, str]:
    """A careful student's typed round(s) of ``spec`` (forward, backward, updated), from the
    reference network, keyed by the answer form's input names (single-layer names)."""
    cells = refnet.trace(spec)
    typed = {}
    for (r, column, quantity, layer, index), value in cells.items():
        if r not in rounds or column == "parameters":
            continue
        name = {"s": "s", "f": "f", "dL/df": "dL/df", "dL/ds": "dL/ds", "dL/db": "dL/db",
                "dL/dw": "dL/dw", "w": "w", "b": "b"}.get(quantity)
        if quantity == "y-f":
            typed[f"r{r}.forward.y{index[0]}-f{index[0]}"] = f"{value:.{decimals}f}"
            typed[f"r{r}.forward.(y{index[0]}-f{index[0]})^2"] = f"{value ** 2:.{decimals}f}"
        elif quantity == "L":
            typed[f"r{r}.forward.L"] = f"{value:.{decimals}f}"
        elif name is not None:
            typed[f"r{r}.{column}.{name}{''.join(map(str, index))}"] = f"{value:.{decimals}f}"
    return typed


GIVEN_ROW = r'<th scope="row">{name}</th><td class="num">([^<]+)</td>'
SAMPLE_ROW = r'<tr><th scope="row">{round}</th>((?:<td class="num">[^<]+</td>)+)</tr>'


def shown_numbers(html: str) -> dict[str, float]:
    """The given numbers a page's "given values" tables show: w11.., b1.., round 1's x1, x2."""
    found = {}
    for name, label in (("w11", "w<sub>11</sub>"), ("w22", "w<sub>22</sub>"), ("b1", "b<sub>1</sub>")):
        match = re.search(GIVEN_ROW.format(name=re.escape(label)), html)
        found[name] = float(match.group(1))
    row = re.search(SAMPLE_ROW.format(round=1), html).group(1)
    found["x1"] = float(re.findall(r'<td class="num">([^<]+)</td>', row)[0])
    return found


def numbers_of(spec: dict) -> dict[str, float]:
    return {"w11": spec["weights"][0][0], "w22": spec["weights"][1][1], "b1": spec["biases"][0],
            "x1": spec["samples"][0]["x"][0]}
