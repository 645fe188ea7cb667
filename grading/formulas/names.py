"""The names a formula may use in a network of given layer sizes, and why an unknown one is wrong.

Every name is made by the engine's naming of a cell (``engine.cell_name``), and ``meaning``
maps it back to that cell's place: nothing here reads a name's letters to learn what it is.
Only a student's unknown word is looked at closely, to say what they probably meant.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set as AbstractSet
from dataclasses import dataclass, field
from functools import lru_cache

from grading.engine import MAX_LAYERS, MAX_UNITS, WITH_RESPECT_TO, Column, Place, QuantityName, cell_name, registry
from grading.engine.text import Text, _

# The quantities Q1 names: inputs (leaves of every expansion), then the computed ones.
_INPUTS = ("x", "y", "w", "b")
_DERIVATIVE = {quantity: derivative for derivative, (_column, quantity) in WITH_RESPECT_TO.items()}


# The functions a formula may call, as the hint lists them: an activation as its registry record
# lists itself (its other names, what its derivative name'(a) reads as).
FUNCTION_LIST = ("exp", "ln", *(a.listing or a.formula_names[0] for a in registry.formula_activations()), "step")

@dataclass(frozen=True)
class Vocabulary:
    sizes: tuple[int, ...]       # units per layer, the inputs first
    inputs: frozenset[str]       # x, y, w, b: the leaves of every expansion
    computed: frozenset[str]     # s, f, L and the derivatives dL/d..
    derivative_of: frozenset[str]  # q such that dL/dq is a name
    # name -> the place it names (x, y, w, b in parameters; s, f, L forward; dL/d.. backward)
    meaning: Mapping[str, Place] = field(compare=False, hash=False, repr=False, default_factory=dict)
    # The "Update (one parameter)" group's names (``update_vocabulary``): its rows' answers are
    # read with these names only, and an unknown word is explained in their terms.
    update: bool = False

    @property
    def n_inputs(self) -> int:
        return self.sizes[0]

    @property
    def n_outputs(self) -> int:
        return self.sizes[-1]

    @property
    def n_layers(self) -> int:
        return len(self.sizes) - 1

    @property
    def all(self) -> frozenset[str]:
        return self.inputs | self.computed

    def place(self, name: str) -> Place | None:
        """The place ``name`` names, or None."""
        return self.meaning.get(name)

    def ranges(self) -> dict[str, str]:
        """QuantityName -> the range of its names, e.g. {"w": "w11[1]..w22[1], w11[2]..w22[2]"}."""
        out: dict[str, list[str]] = {}
        for quantity in ("x", "y", "w", "b", "s", "f"):
            for layer in ([None] if quantity in ("x", "y") else range(1, self.n_layers + 1)):
                names = [n for n, p in self.meaning.items() if p.quantity == quantity and p.layer == layer]
                if names:
                    out.setdefault(quantity, []).append(f"{names[0]}..{names[-1]}")
        return {q: ", ".join(v) for q, v in out.items()}

    def describe(self) -> Text:
        r = self.ranges()
        return _("%(x)s, %(y)s, %(w)s, %(b)s, %(s)s, %(f)s, L and dL/dq for q in f, s, b, w",
                 x=r["x"], y=r["y"], w=r["w"], b=r["b"], s=r["s"], f=r["f"])


def _grid(layer: int, quantity: QuantityName, column: Column, rows: int, cols: int) -> list[Place]:
    return [Place(column, layer, quantity, (i, j)) for i in range(1, rows + 1) for j in range(1, cols + 1)]


def _units(layer: int | None, quantity: QuantityName, column: Column, count: int) -> list[Place]:
    return [Place(column, layer, quantity, (j,)) for j in range(1, count + 1)]


@lru_cache(maxsize=256)  # bounded: the layer sizes of a preview come from a request
def vocabulary(*network: int) -> Vocabulary:
    """The names of a network of these layer sizes (``vocabulary(2, 2)`` for Homework 4.1's,
    ``vocabulary(2, 2, 2)`` with a hidden layer; 1..9 units, 1..4 layers, as in the engine)."""
    sizes = tuple(network)
    if not (2 <= len(sizes) <= MAX_LAYERS + 1 and all(1 <= n <= MAX_UNITS for n in sizes)):
        raise ValueError(f"network size {'x'.join(map(str, sizes))} is outside 1..{MAX_UNITS} "
                         f"units and 1..{MAX_LAYERS} layers")
    n_layers = len(sizes) - 1
    inputs = _units(None, "x", "parameters", sizes[0]) + _units(None, "y", "parameters", sizes[-1])
    forward: list[Place] = []
    wrt: list[Place] = []
    for l in range(1, n_layers + 1):
        inputs += _grid(l, "w", "parameters", sizes[l - 1], sizes[l]) + _units(l, "b", "parameters", sizes[l])
        forward += _units(l, "s", "forward", sizes[l]) + _units(l, "f", "forward", sizes[l])
        wrt += (_units(l, "f", "forward", sizes[l]) + _units(l, "s", "forward", sizes[l])
                + _units(l, "b", "parameters", sizes[l]) + _grid(l, "w", "parameters", sizes[l - 1], sizes[l]))
    derivatives = [Place("backward", q.layer, _DERIVATIVE[q.quantity], q.index) for q in wrt]
    computed = forward + [Place("forward", None, "L", ())] + derivatives

    def name(p: Place) -> str:
        return cell_name(p, n_layers)

    return Vocabulary(sizes, frozenset(map(name, inputs)), frozenset(map(name, computed)),
                      frozenset(map(name, wrt)), {name(p): p for p in inputs + computed})


# ---------------------------------------------------------------- the update group (issue 20)
#
# A handout asks for an update rule once, for a generic parameter w: Q1's third group of rows,
# "Update (one parameter)", is written with these names, not per weight. On the right of a row,
# the row's own name means its value before the round (m = beta1*m + (1 - beta1)*g); any other
# row's name means this round's value (rows.py binds them so).

MAX_BATCH = 8
# The rows the group may have, in table order (a spec has some of them, rows.py says which).
UPDATE_ROWS = ("g", "m", "v", "mhat", "vhat", "Δw", "w")
# Hyper-parameters, by their canonical name; each optimizer's settings use these names, and the
# learning rate is "lr".
HYPER_PARAMETERS = ("lr", "beta", "beta1", "beta2", "eps", "rho")
ROUND = "t"  # the round (1, 2, ...): Adam's bias correction
# What a student may type for a name of the group (after "_" is dropped and Greek is read):
# name -> canonical name.
UPDATE_ALIASES = {
    "eta": "lr", "η": "lr",
    "β": "beta", "β1": "beta1", "β2": "beta2",
    "ε": "eps", "epsilon": "eps", "ϵ": "eps",
    "ρ": "rho",
    "deltaw": "Δw", "Deltaw": "Δw",
    "m\u0302": "mhat", "v\u0302": "vhat",
}


@lru_cache(maxsize=1)
def update_vocabulary() -> Vocabulary:
    """The names Q1's update rows are read with, the same for every spec (so the live preview
    needs no spec): sample k's gradient g1..g8, the round's g, the state and step rows, w, the
    round t and the hyper-parameters. Which of them a spec has is checked after reading
    (``rows.Table.bind``), with a message naming the ones it has."""
    samples = frozenset(f"g{k}" for k in range(1, MAX_BATCH + 1))
    inputs = samples | {ROUND, *HYPER_PARAMETERS}
    return Vocabulary((1, 1), frozenset(inputs), frozenset(UPDATE_ROWS), frozenset(), {}, update=True)


def update_hint(word: str) -> Text:
    """Why ``word`` is not a name of the update group."""
    if word in ("dw", "dL/dw", "dL", "dl"):
        return _("write the step as Δw (or delta_w); the gradient of the round is g")
    if word in ("alpha", "α"):
        return _("α is the momentum in some books and the step size in others: write beta (β) for the "
                 "momentum, lr (η) for the learning rate, or the number")
    base = UPDATE_ALIASES.get(word[:-1], word[:-1])
    if word.endswith("t") and (base in UPDATE_ROWS or base == "g"):
        return _("write %(name)s alone: a row's name is this round's value (its own name on its right the "
                 "value before the round); t is only the round in beta1^t and beta2^t", name=base)
    if word.rstrip("0123456789") == "w" and word != "w":
        return _("the update rows are written for one parameter w, without its indices")
    return _("the names of the update rows are %(names)s, g1, g2, ... (each sample's gradient), t (the "
             "round) and the settings %(settings)s", names=", ".join(UPDATE_ROWS),
             settings=", ".join(HYPER_PARAMETERS))


def all_of(items: Sequence[object]) -> object:
    """Items listed with "and" ("s1 and f1"), in the reader's language; one item as it is."""
    out = items[0]
    for item in items[1:]:
        out = _("%(first)s and %(second)s", first=out, second=item)
    return out


def any_of(items: Sequence[object]) -> object:
    """Items listed with "or" ("s1[1] or s1[2]"), in the reader's language; one item as it is."""
    out = items[0]
    for item in items[1:]:
        out = _("%(first)s or %(second)s", first=out, second=item)
    return out


def unknown_name_hint(word: str, vocab: Vocabulary) -> Text:
    """A short reason why ``word`` (as typed) is not a name here, to append to 'unknown name'."""
    if vocab.update:
        return update_hint(word)
    if word != word.lower() and word.lower() in vocab.all:
        return _("names are written in lower case: %(name)s", name=word.lower())
    if word[:1] == "d" and word[1:] in vocab.all and word[1:] != "L":
        return _("only derivatives of L are names (%(name)s); write a local derivative out, "
                 "e.g. df1/ds1 as f1*(1 - f1)", name=f"dL/{word}")
    letters = word.rstrip("0123456789[]")
    digits = word[len(letters):]
    ranges = vocab.ranges()
    if letters in ranges and digits:
        if _splits(word, vocab):
            return _("write * between names, e.g. w11*x1")
        layered = [f"{word}[{l}]" for l in range(1, vocab.n_layers + 1)]
        if vocab.n_layers > 1 and any(n in vocab.all for n in layered):
            return _("this network has %(n)s layers: write the layer in brackets, e.g. %(names)s",
                     n=vocab.n_layers, names=any_of([n for n in layered if n in vocab.all]))
        shape = "×".join(map(str, vocab.sizes))
        return _("this %(shape)s network has %(names)s", shape=shape, names=ranges[letters])
    if letters in ranges:
        if letters == "w":
            return _("w needs two indices, e.g. w11")
        return _("%(letter)s needs its index, e.g. %(example)s", letter=letters, example=f"{letters}1")
    if word.lower().startswith("dl"):
        return _("write derivatives as dL/df1, dL/ds1, dL/dw11, ...")
    if _splits(word, vocab):
        return _("write * between names, e.g. w11*x1")
    return _("the names are %(names)s; the functions are %(functions)s", names=vocab.describe(),
             functions=all_of([", ".join(FUNCTION_LIST[:-1]), FUNCTION_LIST[-1]]))


def _splits(word: str, vocab: Vocabulary, first: bool = True) -> bool:
    """Whether ``word`` is two or more known names run together (w11x1)."""
    if len(word) > 40:
        return False
    for k in range(min(len(word), 6), 0, -1):
        if word[:k] in vocab.all:
            rest = word[k:]
            if not rest:
                return not first
            if _splits(rest, vocab, False):
                return True
    return False


def split_names(word: str, first: AbstractSet[str], rest: AbstractSet[str]) -> list[tuple[str, ...]]:
    """The ways ``word`` is two or more names run together (``w11x1`` is w11 then x1): the first
    name one of ``first``, the others of ``rest``. At most two ways are looked for: two mean the
    word is ambiguous. Longer names are tried first, so a single way is the longest-match one."""
    if len(word) > 500:  # a formula's length at most: linear work below
        return []
    longest = max(map(len, first | rest), default=0)
    # tails[k]: up to two readings of word[k:] as names of ``rest``
    tails: list[list[tuple[str, ...]]] = [[] for _ in range(len(word) + 1)]
    tails[len(word)] = [()]
    for k in range(len(word) - 1, 0, -1):
        for n in range(min(longest, len(word) - k), 0, -1):
            if word[k:k + n] in rest:
                tails[k].extend((word[k:k + n], *tail) for tail in tails[k + n][:2 - len(tails[k])])
    ways: list[tuple[str, ...]] = []
    for n in range(min(longest, len(word) - 1), 0, -1):
        if word[:n] in first:
            ways.extend((word[:n], *tail) for tail in tails[n][:2 - len(ways)])
    return ways
