"""The names a formula may use in an n-input, m-output network, and why an unknown one is wrong."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from grading.engine import MAX_UNITS, w_name

_PATTERN = re.compile(r"([a-zA-Z]+)(\d*)")


@dataclass(frozen=True)
class Vocabulary:
    n_inputs: int
    n_outputs: int
    inputs: frozenset[str]       # x, y, w, b: the leaves of every expansion
    computed: frozenset[str]     # s, f, L and the derivatives dL/d..
    derivative_of: frozenset[str]  # q such that dL/dq is a name

    @property
    def all(self) -> frozenset[str]:
        return self.inputs | self.computed

    def describe(self) -> str:
        n, m = self.n_inputs, self.n_outputs
        return (f"x1..x{n}, y1..y{m}, {w_name(1, 1)}..{w_name(n, m)}, b1..b{m}, s1..s{m}, "
                f"f1..f{m}, L and dL/dq for q in f, s, b, w")


@lru_cache(maxsize=None)
def vocabulary(n_inputs: int, n_outputs: int) -> Vocabulary:
    """The names of an n×m network (both 1..9, as in the engine)."""
    if not (1 <= n_inputs <= MAX_UNITS and 1 <= n_outputs <= MAX_UNITS):
        raise ValueError(f"network size {n_inputs}x{n_outputs} is outside 1..{MAX_UNITS}")
    ins, outs = range(1, n_inputs + 1), range(1, n_outputs + 1)
    weights = [w_name(i, j) for i in ins for j in outs]
    inputs = [f"x{i}" for i in ins] + [f"y{j}" for j in outs] + weights + [f"b{j}" for j in outs]
    wrt = [f"f{j}" for j in outs] + [f"s{j}" for j in outs] + [f"b{j}" for j in outs] + weights
    computed = [f"s{j}" for j in outs] + [f"f{j}" for j in outs] + ["L"] + [f"dL/d{q}" for q in wrt]
    return Vocabulary(n_inputs, n_outputs, frozenset(inputs), frozenset(computed), frozenset(wrt))


def unknown_name_hint(word: str, vocab: Vocabulary) -> str:
    """A short reason why ``word`` is not a name here, to append to 'unknown name'."""
    if word != word.lower() and word.lower() in vocab.all:
        return f"names are written in lower case: {word.lower()}"
    if word[:1] == "d" and word[1:] in vocab.all and word[1:] != "L":
        return (f"only derivatives of L are names (dL/{word}); write a local derivative out, "
                "e.g. df1/ds1 as f1*(1 - f1)")
    match = _PATTERN.fullmatch(word)
    letters, digits = (match.group(1), match.group(2)) if match else (word, "")
    n, m = vocab.n_inputs, vocab.n_outputs
    if letters in ("x", "y", "w", "b", "s", "f") and digits:
        if _splits(word, vocab):
            return "write * between names, e.g. w11*x1"
        ranges = {"x": f"x1..x{n}", "y": f"y1..y{m}", "w": f"{w_name(1, 1)}..{w_name(n, m)}",
                  "b": f"b1..b{m}", "s": f"s1..s{m}", "f": f"f1..f{m}"}
        return f"this {n}×{m} network has {ranges[letters]}"
    if letters in ("x", "y", "w", "b", "s", "f"):
        return f"{letters} needs its index, e.g. {letters}1" if letters != "w" else "w needs two indices, e.g. w11"
    if word.lower().startswith("dl"):
        return "write derivatives as dL/df1, dL/ds1, dL/dw11, ..."
    if _splits(word, vocab):
        return "write * between names, e.g. w11*x1"
    return f"the names are {vocab.describe()}; the functions are exp and sigmoid (σ)"


def _splits(word: str, vocab: Vocabulary, first: bool = True) -> bool:
    """Whether ``word`` is two or more known names run together (w11x1)."""
    if len(word) > 40:
        return False
    for k in range(min(len(word), 3), 0, -1):
        if word[:k] in vocab.all:
            rest = word[k:]
            if not rest:
                return not first
            if _splits(rest, vocab, False):
                return True
    return False
