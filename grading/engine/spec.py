"""A problem spec: a single sigmoid layer, its initial parameters and its samples, validated.

No Django here. ``parse_spec`` is the one place a spec is checked, with messages fit to show
its author (the admin, the model field's validator and the commands all call it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_UNITS = 9
MAX_SAMPLES = 50


class SpecError(ValueError):
    """A problem spec that cannot be used, with a message fit to show its author."""




@dataclass(frozen=True)
class Sample:
    x: tuple[float, ...]
    y: tuple[float, ...]


@dataclass(frozen=True)
class Spec:
    """A single-layer sigmoid network, its initial parameters and its training samples."""

    weights: tuple[tuple[float, ...], ...]  # weights[i][j] = w_{i+1, j+1}, input i to output j
    biases: tuple[float, ...]
    learning_rate: float
    samples: tuple[Sample, ...]

    @property
    def n_inputs(self) -> int:
        return len(self.weights)

    @property
    def n_outputs(self) -> int:
        return len(self.biases)

    @property
    def n_rounds(self) -> int:
        return len(self.samples)

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": [list(row) for row in self.weights],
            "biases": list(self.biases),
            "learning_rate": self.learning_rate,
            "samples": [{"x": list(s.x), "y": list(s.y)} for s in self.samples],
        }


# ---------------------------------------------------------------- spec parsing


def _number(value: Any, where: str) -> float:
    # bool is an int subclass: `true` in a spec is a mistake, not 1.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpecError(f"{where} must be a number, got {json_repr(value)}")
    if not math.isfinite(value):
        raise SpecError(f"{where} must be a finite number, got {value}")
    if abs(value) > 1e6:
        raise SpecError(f"{where} is {value}; keep values within ±1e6")
    return float(value)


def _vector(value: Any, where: str, length: int | None = None) -> tuple[float, ...]:
    if not isinstance(value, list):
        raise SpecError(f"{where} must be a list of numbers, got {json_repr(value)}")
    if length is not None and len(value) != length:
        raise SpecError(f"{where} has {len(value)} values; expected {length}")
    return tuple(_number(v, f"{where}[{k}]") for k, v in enumerate(value))


def json_repr(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _bounded_list(value: Any, where: str, items: str, counted: str, limit: int) -> list:
    """``value`` when it is a non-empty list of at most ``limit`` items, else a SpecError."""
    if not isinstance(value, list) or not value:
        raise SpecError(f"{where} must be a non-empty list of {items}")
    if len(value) > limit:
        raise SpecError(f"{where} has {len(value)} {counted}; at most {limit} are supported")
    return value


def parse_spec(data: Any) -> Spec:
    """Validate a spec in its JSON form and return it, or raise SpecError saying what is wrong."""
    if not isinstance(data, dict):
        raise SpecError("the spec must be a JSON object with weights, biases, learning_rate and samples")
    missing = [k for k in ("weights", "biases", "learning_rate", "samples") if k not in data]
    if missing:
        raise SpecError("the spec is missing " + ", ".join(missing))
    unknown = sorted(set(data) - {"weights", "biases", "learning_rate", "samples"})
    if unknown:
        raise SpecError("the spec has unknown keys: " + ", ".join(map(str, unknown)))
    weights = _bounded_list(data["weights"], "weights", "rows, one per input", "rows (inputs)", MAX_UNITS)
    biases = _bounded_list(data["biases"], "biases", "values, one per output", "values (outputs)", MAX_UNITS)
    n_out = len(biases)
    rows = tuple(_vector(row, f"weights[{i}]", n_out) for i, row in enumerate(weights))
    b = _vector(biases, "biases")
    lr = _number(data["learning_rate"], "learning_rate")
    if lr <= 0:
        raise SpecError(f"learning_rate must be positive, got {lr}")
    samples = _bounded_list(data["samples"], "samples", '{"x": [...], "y": [...]}', "samples",
                            MAX_SAMPLES)
    parsed = []
    for k, sample in enumerate(samples):
        if not isinstance(sample, dict) or set(sample) != {"x", "y"}:
            raise SpecError(f"samples[{k}] must be an object with exactly the keys x and y")
        parsed.append(Sample(
            x=_vector(sample["x"], f"samples[{k}].x", len(rows)),
            y=_vector(sample["y"], f"samples[{k}].y", n_out),
        ))
    return Spec(weights=rows, biases=b, learning_rate=lr, samples=tuple(parsed))
