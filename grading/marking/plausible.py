"""Which wrong upstream values may earn carried credit downstream (the anti-gaming rule).

Carried credit rewards correct work on a student's own wrong inputs. It must not reward inputs
chosen to make the next step trivial, so a wrong upstream value is used for carried credit
only when it is plausible for its kind (a value within the band of the key always is):

* any cell: 0 is not plausible where the key is not 0 (it turns products and updates into
  copies), nor is a value more than 100 × max(1, |key|) away from zero;
* f_j: strictly between 0 and 1, not equal to the target y_j ("f copied from y"), not σ(0) = 0.5;
* y_j − f_j: smaller in size than the largest |y_j − f_j| for f_j in (0, 1) (either sign, so
  that work after the "f − y" mistake still follows through);
* (y_j − f_j)²: between 0 and max(y_j², (1 − y_j)²); L: not negative;
* dL/df_j: at most 2·max(|y_j|, |1 − y_j|) in size (the "loss without ½" mistake fits);
* dL/ds_j: the sign of the student's own dL/df_j (f(1 − f) > 0) and no larger in size;
* a value typed in more than ``max_repeats`` cells of one round (default 5: f = dL/df =
  dL/ds = dL/db can happen honestly), and in more than the key has it, is not plausible in
  that round ("the same number everywhere").

The same rule decides whether a named mistake may be read into a wrong cell: a mistake is
only named from plausible upstream values.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from functools import lru_cache

from grading.engine import CellKey

_KINDS = (
    ("f", re.compile(r"f(\d+)")),
    ("diff", re.compile(r"y(\d+)-f\1")),
    ("square", re.compile(r"\(y(\d+)-f\1\)\^2")),
    ("loss", re.compile(r"L")),
    ("dldf", re.compile(r"dL/df(\d+)")),
    ("dlds", re.compile(r"dL/ds(\d+)")),
)


@lru_cache(maxsize=1024)
def kind_of(name: str) -> tuple[str, int]:
    """The kind of a cell by its name, with its output index (0 when it has none)."""
    for kind, pattern in _KINDS:
        match = pattern.fullmatch(name)
        if match:
            return kind, int(match.group(1)) if match.groups() else 0
    return "other", 0


def repeated_values(round_values: Mapping[CellKey, float], key_values: Mapping[CellKey, float],
                    tol: float, max_repeats: int) -> set[float]:
    """Values typed in more than ``max_repeats`` cells of a round, and more often than in the key."""
    counts = Counter(round(v, 12) for v in round_values.values())
    out = set()
    for value, count in counts.items():
        if count <= max_repeats:
            continue
        in_key = sum(1 for k in round_values if abs(key_values[k] - value) < tol)
        if count > in_key:
            out.add(value)
    return out


def implausible(key: CellKey, value: float, student: Mapping[CellKey, float | None],
                key_values: Mapping[CellKey, float], tol: float, repeated: set[float]) -> str | None:
    """Why ``value`` in cell ``key`` may not earn carried credit downstream, or None if it may."""
    expected = key_values[key]
    if abs(value - expected) < tol:
        return None
    if abs(value) < tol:
        return "is 0, which makes the next step trivial"
    if abs(value) > 100 * max(1.0, abs(expected)):
        return "is far outside any reasonable value"
    if round(value, 12) in repeated:
        return "is typed in too many cells of this round"
    kind, j = kind_of(key.name)
    y = key_values.get(CellKey(key.round, "parameters", f"y{j}"), 0.0)
    if kind == "f":
        if not 0 < value < 1:
            return "is not a sigmoid output (those lie between 0 and 1)"
        if abs(value - y) < tol:
            return f"is a copy of the target y{j}"
        if abs(value - 0.5) < tol:
            return "is σ(0) = 0.5, which skips the forward pass"
    elif kind == "diff" and not abs(value) < max(abs(y), abs(1 - y)):
        return f"is larger than y{j} − f{j} can be for f{j} between 0 and 1"
    elif kind == "square" and not 0 <= value <= max(y * y, (1 - y) ** 2) + tol:
        return f"is not (y{j} − f{j})² for any f{j} between 0 and 1"
    elif kind == "loss" and value < 0:
        return "is negative, and a loss cannot be"
    elif kind == "dldf" and abs(value) > 2 * max(abs(y), abs(1 - y)) + tol:
        return f"is larger than f{j} − y{j} can be"
    elif kind == "dlds":
        g = student.get(CellKey(key.round, "backward", f"dL/df{j}"))
        if g is not None and (value * g <= 0 or abs(value) > abs(g) + tol):
            return f"does not follow from your dL/df{j}: f{j}(1 − f{j}) is positive and below 1"
    return None
