"""Per-student variants: each student's concrete problem, drawn from a template deterministically.

No Django here. A student's variant depends only on the assignment's seed, the student's key
(a stable id, e.g. the user's primary key as text), the attempt (0 unless a practice assignment
draws afresh on every attempt) and the template: the same student gets the same numbers in
every process, on every machine and in every Python version.

The draw: SHAKE-256 of the JSON text ``["backprop-variant-v1", seed, key, attempt, redraw]``
(ASCII, no spaces: ``json.dumps(..., separators=(",", ":"))``) gives 8 bytes per ranged number,
in the spec's order of the ranged numbers (each layer's weights row by row then its biases, the
learning rate, the samples' x then y: the order of the JSON keys does not count, so a database
that stores them sorted draws the same numbers); read big-endian, modulo the number's count of values, they pick its
value (the bias of the modulo is below 10^-15). ``redraw`` counts from 0; a degenerate draw (``grading.engine.degenerate``) is drawn again with the next one, at
most ``MAX_DRAWS`` times. ``draw_many`` draws a whole class in one vectorised pass a round of
redraws, with exactly the result of ``draw`` for each student.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from grading.engine.degenerate import degenerate_mask, reasons
from grading.engine.network import Trace, train
from grading.engine.ranges import Template, parse_template
from grading.engine.spec import Spec, SpecError
from grading.engine.text import Text, _, join

SCHEME = "backprop-variant-v1"
MAX_DRAWS = 200


class VariantError(SpecError):
    """A template whose ranges admit no usable problem, with the reasons, fit to show its author."""


def _template(template: Template | Any) -> Template:
    return template if isinstance(template, Template) else parse_template(template)


def _check(seed: Any, attempt: Any, keys: Sequence[Any], decimals: Any) -> None:
    # bool is an int subclass: a seed of True is a mistake, not 1.
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    if isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 0:
        raise TypeError(f"attempt must be an integer from 0, got {attempt!r}")
    if not all(isinstance(key, str) for key in keys):
        raise TypeError("every student key must be a string")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 12:
        raise TypeError(f"decimals must be an integer from 0 to 12, got {decimals!r}")


def draw_bytes(seed: int, student_key: str, attempt: int, redraw: int, n: int) -> bytes:
    """The ``n`` bytes one draw reads its numbers from (the documented scheme, 8 per number)."""
    message = json.dumps([SCHEME, seed, student_key, attempt, redraw], separators=(",", ":"))
    return hashlib.shake_256(message.encode("utf-8")).digest(n)


def indices(template: Template, seed: int, student_keys: Sequence[str], attempt: int,
            redraw: int) -> np.ndarray:
    """(P, number of ranged numbers): which value each ranged number takes, for each student."""
    sizes = np.array(template.sizes, dtype=np.uint64)
    n = len(sizes)
    if n == 0:
        return np.zeros((len(student_keys), 0), dtype=np.int64)
    raw = b"".join(draw_bytes(seed, key, attempt, redraw, 8 * n) for key in student_keys)
    words = np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(student_keys), n)
    return (words % sizes).astype(np.int64)


def values_of(template: Template, picked: np.ndarray) -> np.ndarray:
    """(P, number of ranged numbers) of values for the indices ``picked``."""
    out = np.empty(picked.shape, dtype=float)
    for k, free in enumerate(template.free):
        out[:, k] = free.values(picked[:, k])
    return out


def draw(template: Template | Any, seed: int, student_key: str, attempt: int = 0, *,
         decimals: int = 4) -> Spec:
    """The student's concrete problem: the first of their draws that is not degenerate."""
    return draw_many(template, seed, [student_key], attempt, decimals=decimals)[0]


def draw_many(template: Template | Any, seed: int, student_keys: Sequence[str], attempt: int = 0,
              *, decimals: int = 4) -> list[Spec]:
    """Every student's concrete problem, in the order of ``student_keys``, the class at once."""
    template = _template(template)
    _check(seed, attempt, student_keys, decimals)
    keys = list(student_keys)
    chosen = np.empty((len(keys), len(template.free)))
    pending = np.arange(len(keys))
    redraws = MAX_DRAWS if template.free else 1  # without ranges every draw is the same problem
    for redraw in range(redraws):
        if not len(pending):
            break
        values = values_of(template, indices(template, seed, [keys[i] for i in pending],
                                             attempt, redraw))
        # Without ranges there is nothing to draw again: the problem is judged as authored
        # (a gradient an input of 0 makes 0 is a given value); a drawn one is drawn again.
        bad = degenerate_mask(_train(template, values), decimals=decimals, zero_inputs_given=not template.free)
        chosen[pending[~bad]] = values[~bad]
        pending = pending[bad]
    if len(pending):
        raise _exhausted(template, seed, keys[pending[0]], attempt, decimals, redraws)
    return template.specs(chosen)


def _train(template: Template, values: np.ndarray) -> Trace:
    # Ranges can reach values that overflow in training: such a draw is degenerate (its values
    # are not finite), not a warning.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return train(template.batch(values))


def _exhausted(template: Template, seed: int, key: str, attempt: int, decimals: int,
               draws: int) -> VariantError:
    """The error when every one of a student's draws was degenerate: the commonest reasons."""
    if not template.free:
        found = reasons(_train(template, np.empty((1, 0))), decimals=decimals, zero_inputs_given=True)
        shown = join("; ", [reason.message for reason in found[:5]])
        if len(found) > 5:
            return VariantError(_("the problem is degenerate: %(reasons)s (and %(n)s more)", reasons=shown,
                                  n=len(found) - 5))
        return VariantError(_("the problem is degenerate: %(reasons)s", reasons=shown))
    values = np.concatenate([values_of(template, indices(template, seed, [key], attempt, r))
                             for r in range(draws)])
    trace = _train(template, values)
    counts: Counter[Text] = Counter()
    for p in range(draws):
        # dict.fromkeys, not a set: the order of ties must not depend on the process's hash seed.
        counts.update(list(dict.fromkeys(r.what for r in reasons(trace, decimals=decimals, problem=p))))
    common = join("; ", [_("%(what)s in %(n)s of %(draws)s draws", what=what, n=n, draws=draws)
                         for what, n in counts.most_common(3)])
    return VariantError(_("after %(draws)s draws no non-degenerate problem at %(decimals)s decimals: "
                          "e.g. %(common)s. Narrow the ranges or move them away from these values.",
                          draws=draws, decimals=decimals, common=common))
