"""The simple LaTeX students paste into Q1, read as the homework's plain notation.

``\\sigma(s_1)``, ``w_{11} \\cdot x_1``, ``\\left( 1 - f_1 \\right)``, ``e^{-s_1}``, ``(y_1 - f_1)^{2}``
and ``\\frac{dL}{df_1}`` read exactly as ``sigmoid(s1)``, ``w11*x1``, ``(1 - f1)``, ``e^(-s1)``,
``(y1 - f1)^2`` and ``dL/df1``. Every command but ``\\frac`` is replaced by plain text of the same
length (padded with spaces), so a character's position in the folded text is still its position
in what the student typed; ``\\frac{a}{b}`` needs structure, and the lexer reads it as
``((a)/(b))`` from the braces this module pairs (``fraction``). Nothing is evaluated here: the
result is text for the same lexer as everything else, with the same limits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from grading.engine.text import Text, _

from .names import Vocabulary
from .nodes import FormulaError
from .tokens import Lexed, Token, derivative_token, layered

# command -> what it reads as (padded with spaces to the command's own length)
_PLAIN = {
    "cdot": "*", "times": "*", "ast": "*", "div": "/",
    # ∂ is read as d already: \partial L / \partial s_1 is dL/ds1
    "partial": "d",
    # sizes and spacing only
    "left": "", "right": "", "big": "", "Big": "", "bigl": "", "bigr": "", "Bigl": "", "Bigr": "",
    "quad": "", "qquad": "", ",": "", ";": "", ":": "", "!": "", " ": "",
    # functions, by the names Q1 knows them (sigma is the sigmoid's alias)
    "sigma": " sigma", "exp": " exp", "ln": " ln", "log": " log", "tanh": " tanh",
    "frac": "\\frac", "dfrac": "\\frac", "tfrac": "\\frac",
    # the update rows (issue 20): √ and the hyper-parameters' Greek letters by their names
    "sqrt": " sqrt", "beta": " beta", "eta": " eta", "epsilon": " epsilon", "varepsilon": " epsilon",
    "rho": " rho",
}
# \Delta w is the step Δw, \hat{m} and \hat m are mhat (the same for v): read before the rest.
_DELTA_W = re.compile(r"\\Delta *(?:\{ *w *\}|(?=w))")
_HAT = re.compile(r"\\(?:wide)?hat *(?:\{ *([mv]) *\}|([mv])(?![A-Za-z0-9]))")
# \sqrt[n]{a} is the n-th root: left unread (refused, naming "\sqrt["), never sqrt(n)·a.
_ROOT_INDEX = re.compile(r"\\sqrt *\[")
KNOWN = ("\\frac", "\\cdot", "\\times", "\\sigma", "\\exp", "\\ln", "\\partial", "\\left", "\\right")
_COMMAND = re.compile(r"\\([A-Za-z]+|[,;:! ])")
_FRAC = re.compile(r"\\frac(?![A-Za-z])")
# \frac{dL}{ds_1}, \frac{\partial L}{\partial s_1} (folded: \frac(dL)(ds_1)): one name, dL/ds1
FRAC_DERIVATIVE = re.compile(r"\\frac *\( *d *[Ll] *\) *\( *d *([A-Za-z_][A-Za-z0-9_]*)")


def fold_commands(text: str) -> str:
    """``text`` with each command this module knows replaced, position for position."""
    if "\\" not in text:
        return text
    text = _DELTA_W.sub(lambda m: ("Δw" if m.group(0).endswith("}") else "Δ").rjust(len(m.group(0))), text)
    text = _HAT.sub(lambda m: ((m.group(1) or m.group(2)) + "hat").rjust(len(m.group(0))), text)

    def plain(match: re.Match[str]) -> str:
        command = match.group(0)
        if _ROOT_INDEX.match(text, match.start()):
            return command  # an n-th root: unknown_command refuses it
        reading = _PLAIN.get(match.group(1))
        return command if reading is None else reading.ljust(len(command))

    return _COMMAND.sub(plain, text)


def unknown_command(text: str, k: int) -> Text:
    """Why the backslash at ``k`` cannot be read: a command Q1 does not read, or a lone one."""
    match = _ROOT_INDEX.match(text, k) or _COMMAND.match(text, k)
    shown = match.group(0) if match else "\\"
    return _("the LaTeX command '%(command)s' at character %(at)s is not one Q1 reads: write it in "
             "plain notation (Q1 reads %(known)s)", command=shown, at=k + 1, known=", ".join(KNOWN))


@dataclass(frozen=True)
class FracParts:
    """Where a general ``\\frac{a}{b}`` sits: its braces (in the folded text, as parentheses)."""

    numerator: int      # the "{" that opens a
    numerator_end: int  # the "}" that closes a
    denominator_end: int  # the "}" that closes b


def pairs(src: str) -> dict[int, int]:
    """Opening bracket -> its closing one, for those that pair up (the parser reports the rest)."""
    out: dict[int, int] = {}
    stack: list[int] = []
    for k, ch in enumerate(src):
        if ch in "([":
            stack.append(k)
        elif ch in ")]" and stack:
            out[stack.pop()] = k
    return out


def fraction(src: str, text: str, k: int, paired: dict[int, int]) -> FracParts:
    """The ``\\frac`` at ``k``, which must be followed by ``{a}{b}``; FormulaError otherwise."""
    match = _FRAC.match(src, k)
    assert match is not None
    first = _next(src, match.end())
    if first < len(src) and text[first] == "{" and first in paired:
        second = _next(src, paired[first] + 1)
        if second < len(src) and text[second] == "{" and second in paired:
            return FracParts(first, paired[first], paired[second])
    raise FormulaError(_("\\frac at character %(at)s needs its two parts in braces: \\frac{a}{b}", at=k + 1), k)


def _next(src: str, k: int) -> int:
    while k < len(src) and src[k] == " ":
        k += 1
    return k


class Fractions:
    """The general ``\\frac{a}{b}`` of a formula, read as ``((a)/(b))``: where "/" and the extra
    ")" go, as the lexer meets the braces (paired once, on the first ``\\frac``)."""

    def __init__(self, src: str) -> None:
        self.src = src
        self.paired: dict[int, int] | None = None
        self.divide_after: set[int] = set()
        self.close_after: set[int] = set()

    def open(self, out: Lexed, text: str, k: int) -> int:
        """The ``\\frac`` at ``k`` opened; the index of its numerator's brace."""
        if self.paired is None:
            self.paired = pairs(self.src)
        parts = fraction(self.src, text, k, self.paired)
        out.tokens.append(Token("(", "(", k, text[k:k + 5]))
        self.divide_after.add(parts.numerator_end)
        self.close_after.add(parts.denominator_end)
        return parts.numerator

    def closed(self, out: Lexed, k: int) -> None:
        """After the ")" at ``k``: the "/" between a fraction's braces, or the fraction's own ")"."""
        if k in self.divide_after:
            out.tokens.append(Token("op", "/", k, "}{"))
        if k in self.close_after:
            out.tokens.append(Token(")", ")", k, "}"))


def command(out: Lexed, text: str, src: str, k: int, vocab: Vocabulary, fractions: Fractions) -> int:
    """A LaTeX command left after folding: ``\\frac`` (a derivative, or a fraction); the next index."""
    if not src.startswith("\\frac", k) or src[k + 5:k + 6].isalpha():
        raise FormulaError(unknown_command(text, k), k)
    match = FRAC_DERIVATIVE.match(src, k)
    if match:
        q, end = layered(match.group(1).replace("_", ""), src, match.end(), vocab.derivative_of, vocab)
        close = len(src) - len(src[end:].lstrip(" "))
        if src[close:close + 1] == ")":
            had_layer = end > match.end()
            end = close + 1
            if not had_layer:  # \frac{dL}{ds_1}^{[2]}
                q, end = layered(q, src, end, vocab.derivative_of, vocab)
            return derivative_token(out, text, k, end, q, vocab, {})
    return fractions.open(out, text, k)
