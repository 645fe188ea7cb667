"""Tokens, and the tokens of the homework's names: a layer suffix, a derivative, names run together.

Split from the lexer (``lexer.py`` reads characters; this reads the words it finds as names).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from grading.engine.text import Text, _

from .names import Vocabulary, split_names, unknown_name_hint, vocabulary
from .nodes import FormulaError

# A layer suffix right after a name: [2], ^[2], or ^{[2]} (folded to ^([2])).
LAYER = re.compile(r"\^?\[([1-9])\]|\^\(\[([1-9])\]\)")


@dataclass(frozen=True)
class Token:
    kind: str  # num name e func op ( ) pow2 end
    value: object
    pos: int
    text: str


@dataclass
class Lexed:
    tokens: list[Token]
    notes: list[Text] = field(default_factory=list)


def derivative_token(out: Lexed, text: str, k: int, end: int, q: str, vocab: Vocabulary,
                     aliased: dict[str, str]) -> int:
    """The name dL/dq typed at text[k:end], or FormulaError; the next index."""
    if q not in vocab.derivative_of:
        hint = (unknown_name_hint("dL/dw", vocab) if vocab.update
                else unknown_name_hint(q, vocab) if q[:1].lower() in "xywbsf"
                else _("differentiate by f, s, b or w"))
        raise FormulaError(_("unknown derivative '%(typed)s' at character %(at)s: %(hint)s",
                             typed=text[k:end], at=k + 1, hint=hint), k)
    name = f"dL/d{q}"
    note_alias(text, k, end, name, aliased)
    out.tokens.append(Token("name", name, k, text[k:end]))
    return end


def split_run(out: Lexed, text: str, src: str, start: int, end: int, vocab: Vocabulary, *,
              derivative: bool, token_start: int, aliased: dict[str, str]) -> int | None:
    """Names run together at src[start:end] (``w11x1``: w11 times x1), read by the longest known
    names, as tokens; the next index. None when the word is no such run, FormulaError when it can
    be read two ways. With ``derivative`` the first name is a derivative's variable (``dL/ds1x1``
    is dL/ds1 times x1, its token starting at ``token_start``)."""
    if vocab.update:  # the update rows' names are few and short: no runs read there
        return None
    raw = src[start:end]
    plain, layered_bases = _run_names(vocab.sizes)
    # In a network of layers the last name of the run may take the layer that follows it.
    with_layer = layered_bases if vocab.n_layers > 1 and LAYER.match(src, end) else frozenset()
    first = vocab.derivative_of if derivative else plain
    ways = [way for way in split_names(raw.replace("_", ""), first, plain | with_layer)
            if all(piece in plain for piece in way[1:-1])]
    if not ways:
        return None
    if len(ways) > 1:
        raise FormulaError(_("'%(typed)s' at character %(at)s can be read as %(one)s or as %(other)s: "
                             "write * between the names", typed=text[token_start:end], at=token_start + 1,
                             one=" × ".join(ways[0]), other=" × ".join(ways[1])), token_start)
    ends = _piece_ends(raw, start, ways[0])
    tokens, final = [], end
    for n, (piece, at, piece_end) in enumerate(zip(ways[0], [token_start, *ends[:-1]], ends)):
        name = f"dL/d{piece}" if derivative and n == 0 else piece
        if piece not in plain and name == piece:  # the last one, with its layer
            name, final = layered(piece, src, end, vocab.all, vocab)
            if name not in vocab.all:
                return None
            piece_end = final
        tokens.append(Token("name", name, at, text[at:piece_end]))
    out.tokens.extend(tokens)
    for token in tokens:
        note_alias(text, token.pos, token.pos + len(token.text), str(token.value), aliased)
    return final


@lru_cache(maxsize=64)  # one entry per network shape in use
def _run_names(sizes: tuple[int, ...]) -> tuple[frozenset[str], frozenset[str]]:
    """The names a run may be made of: those without a layer (x1, y1, L; every name of a single
    layer), and the names that take one (w11 of w11[2]), without it."""
    names = vocabulary(*sizes).all
    return (frozenset(n for n in names if "[" not in n and "/" not in n),
            frozenset(n.split("[")[0] for n in names if "[" in n and "/" not in n))


def _piece_ends(raw: str, start: int, pieces: tuple[str, ...]) -> list[int]:
    """Where each of ``pieces`` (``raw`` without its "_") ends in the text, ``raw`` being at ``start``."""
    ends, k = [], 0
    for piece in pieces:
        left = len(piece)
        while left:
            left -= raw[k] != "_"
            k += 1
        ends.append(start + k)
    return ends


def layered(word: str, src: str, end: int, names: frozenset[str], vocab: Vocabulary) -> tuple[str, int]:
    """``word`` with the layer suffix that follows it at ``end``, when only that makes it one of
    ``names`` (a network of several layers); else ``word`` as it is. Returns (name, its end)."""
    if vocab.n_layers == 1:
        return word, end
    suffix = LAYER.match(src, end)
    if suffix is not None and word in names and src[end:end + 1] == "[":
        # x1[2] would read as x1·2: in a network of layers that is surely a layer typed by mistake.
        raise FormulaError(_("%(name)s belongs to no layer: write it without [%(layer)s] "
                             "(multiply with * or parentheses)", name=word, layer=suffix.group(1)), end)
    if suffix is None or word in names or not _named(word, vocab):
        return word, end
    # The bracket is the word's layer, one this network has or not (then an unknown name).
    return f"{word}[{suffix.group(1) or suffix.group(2)}]", suffix.end()


def _named(word: str, vocab: Vocabulary) -> bool:
    """Whether ``word`` with some layer suffix is a name of this network (s1 for s1[2])."""
    return any(f"{word}[{l}]" in vocab.all or f"{word}[{l}]" in vocab.derivative_of
               for l in range(1, vocab.n_layers + 1))


def note_alias(text: str, start: int, end: int, name: str, aliased: dict[str, str]) -> None:
    """Keep "χ1 read as x1" for the notes, when the name was typed with χ."""
    typed = text[start:end]
    if "χ" in typed:
        aliased.setdefault(typed, name)
