"""Reading a formula's characters into tokens, with the position of each for error messages.

Unicode the homework and students use is folded to ASCII one character for one character, so
positions in the folded text are positions in what the student typed. In a network of several
layers a name carries its layer in square brackets right after it: ``s1[2]``, ``dL/dw12[2]``
(also ``s1^[2]``, as the pages print s₁^[2]); a bracket after a name that needs no layer, or in
a single-layer network, is a bracket as before.
"""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

from grading.engine import registry
from grading.engine.text import Text, _

from . import latex
from .names import UPDATE_ALIASES, Vocabulary, all_of, unknown_name_hint
from .nodes import FUNCTIONS, FormulaError
from .tokens import LAYER, Lexed, Token, derivative_token, layered, note_alias, split_run

MAX_LENGTH = 500
MAX_DIGITS = 15      # digits in one number literal
MAX_EXPONENT10 = 15  # |k| in a literal written 1.5e-k

_FOLD = {
    "×": "*", "·": "*", "⋅": "*", "∗": "*", "✕": "*", "÷": "/",
    "−": "-", "–": "-", "—": "-", "‐": "-", "‑": "-",
    "∂": "d", "χ": "x", "（": "(", "）": ")", "∆": "Δ",  # ∆ (increment, a Mac's ⌥J) is Δ
    "\u00a0": " ", "\t": " ", "\n": " ", "\r": " ", "\u2009": " ", "\u202f": " ",
}
_SUBSCRIPTS = {chr(0x2080 + k): str(k) for k in range(10)}
_POSTFIX_POWERS = {"²": 2, "³": 3}
_PRIMES = ("'", "′")  # σ'(s1): the sigmoid's derivative
_HALF = "½"
# LaTeX-style indices, w_{11} or x_{1}: their braces fold to "_", which names ignore.
_BRACED_INDEX = re.compile(r"_\{([A-Za-z0-9]+)\}")

_NUMBER = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE]([+-]?[0-9]+))?")
# dL/ds1, dL_ds1, d L / d s1, dl/ds1 (no name starts with "d", so none of them is ambiguous)
_DERIVATIVE = re.compile(r"d *[Ll] *(?:/ *d *|_d)([A-Za-z_][A-Za-z0-9_]*)")
_DIGITS = "0123456789"
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# A word of the update rows may also be Greek (Δw, β1 as β₁ folds, η, ε, ρ) and carry a hat
# (m̂: m and the combining circumflex U+0302).
_UPDATE_WORD = re.compile("[A-Za-z_\u0394\u03b2\u03b7\u03b5\u03c1\u03f5][A-Za-z0-9_\u0302]*")  # Δ β η ε ρ ϵ
# sqrt(a) is read as a^(1/2) (the parser makes it so): Adam's and RMSProp's step use it.
_ALIASES = {"log": "ln", "sqrt": "sqrt", **{alias: a.formula_names[0] for a in registry.formula_activations()
                            for alias in a.formula_names[1:]}}
# name'(a), an activation's derivative: every name of a registered activation -> its record
_PRIMED = {n: a for a in registry.formula_activations() for n in a.formula_names}


def check_characters(text: str) -> None:
    """Reject what cannot be a formula before looking at it any closer."""
    if len(text) > MAX_LENGTH:
        raise FormulaError(_("the formula is too long (%(n)s characters; at most %(max)s)",
                             n=f"{len(text):,}", max=MAX_LENGTH), MAX_LENGTH)
    for k, ch in enumerate(text):
        if ch in _FOLD or ch in _SUBSCRIPTS or ch in _POSTFIX_POWERS:
            continue
        category = unicodedata.category(ch)
        if ch == "\x00":
            raise FormulaError(_("the formula contains a NUL character at character %(at)s", at=k + 1), k)
        if category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            name = unicodedata.name(ch, "")
            raise FormulaError(_("the formula contains an invisible control character (%(code)s) at "
                                 "character %(at)s", code=f"U+{ord(ch):04X}" + (f", {name}" if name else ""),
                                 at=k + 1), k)
    if not text.strip():
        raise FormulaError(_("the formula is empty"), 0)


def fold(text: str) -> str:
    """The text with its Unicode folded to ASCII, one character for one.

    The braces of a LaTeX index (``w_{11}``) become "_", which names ignore; other braces
    (``e^{-s1}``) are parentheses; LaTeX commands are read as ``latex.fold_commands`` says.
    """
    text = latex.fold_commands(text)
    text = _BRACED_INDEX.sub(lambda m: "__" + m.group(1) + "_", text)
    out = "".join(_FOLD.get(ch) or _SUBSCRIPTS.get(ch) or ch for ch in text)
    return out.replace("{", "(").replace("}", ")")


def _subscript_end(text: str, start: int, end: int) -> int:
    """Where a name typed with subscript digits ends: w₁₁x₁ is w₁₁ then x₁."""
    for p in range(start, end - 1):
        if text[p] in _SUBSCRIPTS and text[p + 1] not in _SUBSCRIPTS:
            return p + 1
    return end


def tokenize(text: str, vocab: Vocabulary) -> Lexed:
    """Tokens of ``text``; raises FormulaError naming the first bad character or name."""
    check_characters(text)
    src = fold(text)
    out = Lexed([])
    aliased: dict[str, str] = {}
    fractions = latex.Fractions(src)
    k = 0
    while k < len(src):
        ch = src[k]
        if ch == " ":
            k += 1
            continue
        if ch == "\\":
            k = latex.command(out, text, src, k, vocab, fractions)
            continue
        if ch in _DIGITS or (ch == "." and src[k + 1:k + 2] in _DIGITS and src[k + 1:k + 2]):
            match = _NUMBER.match(src, k)
            assert match
            out.tokens.append(Token("num", _number(match, k), k, text[k:match.end()]))
            k = match.end()
            continue
        if ch == _HALF:
            out.tokens.append(Token("num", Fraction(1, 2), k, ch))
            k += 1
            continue
        if ch == "σ":
            k = _sigmoid_token(out, text, k, k + 1)
            continue
        if ch == "√":  # √(a): sqrt, its argument in parentheses as every function's
            out.tokens.append(Token("func", "sqrt", k, ch))
            k += 1
            continue
        if vocab.update:
            match = _UPDATE_WORD.match(src, k)
            if match:
                k = _update_word(out, text, src, k, _subscript_end(text, k, match.end()), vocab)
                continue
        match = _DERIVATIVE.match(src, k)
        if match and _subscript_end(text, k, match.end()) < match.end():
            match = _DERIVATIVE.match(src, k, _subscript_end(text, k, match.end()))
        if match:
            q, end = layered(match.group(1).replace("_", ""), src, match.end(), vocab.derivative_of, vocab)
            if q not in vocab.derivative_of and end == match.end():
                # dL/ds1x1: the derivative times names, run together
                split = split_run(out, text, src, match.start(1), end, vocab, derivative=True,
                                  token_start=k, aliased=aliased)
                if split:
                    k = split
                    continue
            k = derivative_token(out, text, k, end, q, vocab, aliased)
            continue
        match = _WORD.match(src, k)
        if match:
            match = _WORD.match(src, k, _subscript_end(text, k, match.end()))
            assert match
            word = match.group(0)
            if word.lower() in _PRIMED and src[match.end():match.end() + 1] in _PRIMES:
                k = _prime_token(out, text, k, match.end(), _PRIMED[word.lower()])
                continue
            name, end = layered(word.replace("_", ""), src, match.end(), vocab.all, vocab)
            if end > match.end():
                if name not in vocab.all:
                    raise FormulaError(_("unknown name '%(typed)s' at character %(at)s: %(hint)s",
                                         typed=text[k:end], at=k + 1, hint=unknown_name_hint(name, vocab)), k)
                note_alias(text, k, end, name, aliased)
                out.tokens.append(Token("name", name, k, text[k:end]))
                k = end
                continue
            if (word.lower() not in FUNCTIONS and word.lower() not in _ALIASES and word != "e"
                    and word.replace("_", "") not in vocab.all):
                split = split_run(out, text, src, k, match.end(), vocab, derivative=False,
                                  token_start=k, aliased=aliased)
                if split:
                    k = split
                    continue
            if src[match.end():].lstrip(" ").startswith("(") and word.lower() not in FUNCTIONS \
                    and word.lower() not in _ALIASES and word.replace("_", "") not in vocab.all:
                raise FormulaError(_("unknown function '%(typed)s' at character %(at)s: the functions are "
                                     "%(functions)s, σ for sigmoid", typed=text[k:match.end()], at=k + 1,
                                     functions=all_of([", ".join(FUNCTIONS[:-1]), FUNCTIONS[-1]])), k)
            token = _word_token(word, text, k, match.end(), vocab)
            if token.kind == "name":
                note_alias(text, k, match.end(), token.value, aliased)  # type: ignore[arg-type]
            out.tokens.append(token)
            k = match.end()
            continue
        if src.startswith("**", k):
            out.tokens.append(Token("op", "^", k, "**"))
            k += 2
            continue
        if ch in "+-*/^":
            out.tokens.append(Token("op", ch, k, text[k]))
        elif ch in "([":
            out.tokens.append(Token("(", ch, k, text[k]))
        elif ch in ")]":
            out.tokens.append(Token(")", ch, k, text[k]))
            fractions.closed(out, k)
        elif ch in _POSTFIX_POWERS:
            out.tokens.append(Token("pow2", _POSTFIX_POWERS[ch], k, ch))
        else:
            raise FormulaError(_bad_character(text, k), k)
        k += 1
    out.tokens.append(Token("end", None, len(src), ""))
    out.notes.extend(_("read '%(typed)s' as %(name)s", typed=typed, name=name) for typed, name in aliased.items())
    return out


def _update_word(out: Lexed, text: str, src: str, start: int, end: int, vocab: Vocabulary) -> int:
    """A word of an update row at src[start:end]: a function, e, or one of the group's names
    (aliases read: η as lr, β₁ as beta1, Δw, delta_w, m̂); FormulaError otherwise. The next index."""
    word = src[start:end]
    if word.lower() in _PRIMED and src[end:end + 1] in _PRIMES:
        return _prime_token(out, text, start, end, _PRIMED[word.lower()])
    if word.lower() in FUNCTIONS or word.lower() in _ALIASES or word == "e":
        out.tokens.append(_word_token(word, text, start, end, vocab))
        return end
    plain = word.replace("_", "")
    name = UPDATE_ALIASES.get(plain, plain)
    if word.endswith("_") and src[end:end + 1] == "(" and name in vocab.all:
        # m_{t-1} (its braces are parentheses by now) would read as m·(t − 1)
        raise FormulaError(_("'%(typed)s' at character %(at)s: write the value before the round as the row's "
                             "own name (%(name)s), without an index", typed=text[start:end + 1], at=start + 1,
                             name=name), start)
    if name not in vocab.all:
        raise FormulaError(_("unknown name '%(typed)s' at character %(at)s: %(hint)s", typed=text[start:end],
                             at=start + 1, hint=unknown_name_hint(name, vocab)), start)
    out.tokens.append(Token("name", name, start, text[start:end]))
    return end


def _prime_token(out: Lexed, text: str, start: int, end: int, activation: registry.Activation) -> int:
    """name'(a): the activation's derivative, read as its registry record says (1 − tanh(a)²,
    step(a), ...); the next index."""
    out.tokens.append(Token("func", activation.formula_names[0] + "'", start, text[start:end + 1]))
    out.notes.append(_("read %(typed)s(a) as %(reading)s", typed=text[start:end + 1],
                       reading=activation.derivative_reading))
    return end + 1


def _sigmoid_token(out: Lexed, text: str, start: int, end: int) -> int:
    """σ at text[start:end], maybe primed (σ'(s1) = σ(s1)(1 − σ(s1))); the next index."""
    if text[end:end + 1] in _PRIMES:
        return _prime_token(out, text, start, end, registry.activation("sigmoid"))
    out.tokens.append(Token("func", "sigmoid", start, text[start:end]))
    return end


def _number(match: re.Match[str], k: int) -> Fraction:
    mantissa, exponent = match.group(1), match.group(2)
    significant = mantissa.replace(".", "").lstrip("0")
    if len(significant) > MAX_DIGITS or len(mantissa) > 2 * MAX_DIGITS:
        raise FormulaError(_("the number at character %(at)s has more than %(max)s digits", at=k + 1,
                             max=MAX_DIGITS), k)
    value = Fraction(mantissa)
    if exponent is not None:
        if abs(int(exponent)) > MAX_EXPONENT10:
            raise FormulaError(_("the number at character %(at)s is too large or too small "
                                 "(at most e±%(max)s)", at=k + 1, max=MAX_EXPONENT10), k)
        value *= Fraction(10) ** int(exponent)
    return value


def _word_token(word: str, text: str, start: int, end: int, vocab: Vocabulary) -> Token:
    typed = text[start:end]
    if word.lower() in FUNCTIONS or word.lower() in _ALIASES:
        return Token("func", _ALIASES.get(word.lower(), word.lower()), start, typed)
    if word == "e":
        return Token("e", None, start, typed)
    name = word.replace("_", "")
    if name in vocab.all and "/" not in name:
        return Token("name", name, start, typed)
    raise FormulaError(_("unknown name '%(typed)s' at character %(at)s: %(hint)s", typed=typed, at=start + 1,
                         hint=unknown_name_hint(name, vocab)), start)


def _bad_character(text: str, k: int) -> Text:
    ch, at = text[k], k + 1
    if ch == "=":
        return _("'=' at character %(at)s: write only the right-hand side of the formula", at=at)
    if ch == ",":
        return _("',' at character %(at)s: each function takes one argument; write decimals with '.'", at=at)
    if ch in "Σ∑":
        return _("'%(ch)s' at character %(at)s: write the sum out term by term, "
                 "e.g. (y1 - f1)^2/2 + (y2 - f2)^2/2", ch=ch, at=at)
    if ch in "'\"":
        return _("quotes are not part of a formula (%(ch)s at character %(at)s)", ch=repr(ch), at=at)
    if ch in ".:;[]{}@!#$%&|~`<>?\\":
        return _("unexpected '%(ch)s' at character %(at)s", ch=ch, at=at)
    return _("unexpected character '%(ch)s' (%(code)s) at character %(at)s", ch=ch, code=f"U+{ord(ch):04X}",
             at=at)
