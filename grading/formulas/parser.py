"""A recursive-descent parser for the homework's formula grammar, to our own tree.

    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary | <implicit> power)*
    unary   := ("-" | "+") unary | power
    power   := postfix ("^" unary)?          right-associative: 2^3^2 = 2^9
    postfix := primary ("²" | "³")*
    primary := number | name | "e" | func "(" sum ")" | "(" sum ")"

``½`` is the number 1/2; ``σ'(a)`` (or ``sigmoid'(a)``) is read as ``σ(a)(1 − σ(a))``,
``tanh'(a)`` as ``1 − tanh(a)^2`` and ``relu'(a)`` as ``step(a)``; ``log`` is ``ln``.

Implicit multiplication: a factor followed by a name, a function or "(" (``2x1``,
``f1(1 - f1)``, ``σ(s1)(1 − σ(s1))``). A number after a factor is an error, not a product.
"""

from __future__ import annotations

from fractions import Fraction

from grading.engine import registry
from grading.engine.registry import derivative_fraction
from grading.engine.text import Text, _

from .lexer import tokenize
from .tokens import Lexed, Token
from .names import Vocabulary, vocabulary
from .nodes import BinOp, Call, E, Expr, FormulaError, Name, Neg, Num

MAX_NESTING = 50
_STARTS_FACTOR = ("name", "e", "func", "(")


def parse_formula(text: str, *, n_inputs: int = 2, n_outputs: int = 2,
                  sizes: tuple[int, ...] | None = None) -> Expr:
    """The tree of ``text``; raises FormulaError(message, position) when it cannot be read.

    The names are those of a single layer of ``n_inputs`` × ``n_outputs``, or of a network of
    layer ``sizes`` (inputs first)."""
    return parse_with_notes(text, n_inputs=n_inputs, n_outputs=n_outputs, sizes=sizes)[0]


def parse_with_notes(text: str, *, n_inputs: int = 2, n_outputs: int = 2,
                     sizes: tuple[int, ...] | None = None,
                     vocab: Vocabulary | None = None) -> tuple[Expr, list[Text]]:
    """The tree of ``text`` and notes on how it was read (aliases such as χ1 for x1); with
    ``vocab`` (the update rows' names), read with those names instead of the network's."""
    if not isinstance(text, str):
        raise FormulaError(_("the formula must be text"), 0)
    lexed = tokenize(text, vocab or vocabulary(*(sizes or (n_inputs, n_outputs))))
    _check_brackets(text, lexed)
    return _Parser(text, lexed).parse(), lexed.notes


def _check_brackets(text: str, lexed: Lexed) -> None:
    """Say where a parenthesis is unbalanced before the parser trips over it elsewhere."""
    stack: list[Token] = []
    pairs = {")": "(", "]": "["}
    for tok in lexed.tokens:
        if tok.kind == "(":
            stack.append(tok)
            if len(stack) > MAX_NESTING:
                raise FormulaError(_too_deep(tok), tok.pos)
        elif tok.kind == ")":
            if not stack:
                raise FormulaError(_("unmatched '%(bracket)s' at character %(at)s: no '(' opens it",
                                     bracket=tok.text, at=tok.pos + 1), tok.pos)
            opener = stack.pop()
            if pairs[tok.value] != opener.value:  # type: ignore[index]
                raise FormulaError(_("'%(opener)s' at character %(at)s is closed by '%(closer)s' at "
                                     "character %(closed_at)s", opener=opener.text, at=opener.pos + 1,
                                     closer=tok.text, closed_at=tok.pos + 1), tok.pos)
    if stack:
        tok = stack[-1]
        raise FormulaError(_("unclosed '%(bracket)s' at character %(at)s: add a ')'", bracket=tok.text,
                             at=tok.pos + 1), tok.pos)


class _Parser:
    def __init__(self, text: str, lexed: Lexed) -> None:
        self.text = text
        self.tokens = lexed.tokens
        self.k = 0
        self.depth = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.k]

    def advance(self) -> Token:
        tok = self.tokens[self.k]
        self.k += 1
        return tok

    def parse(self) -> Expr:
        expr = self.sum()
        tok = self.tok
        if tok.kind != "end":
            if tok.kind == "num":
                raise FormulaError(_missing_operator(tok), tok.pos)
            raise FormulaError(_("unexpected '%(token)s' at character %(at)s", token=tok.text, at=tok.pos + 1),
                               tok.pos)
        return expr

    def enter(self, tok: Token) -> None:
        # Counts every kind of nesting (brackets, unary signs, powers) so recursion stays shallow.
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FormulaError(_too_deep(tok), tok.pos)

    def sum(self) -> Expr:
        expr = self.product()
        while self.tok.kind == "op" and self.tok.value in ("+", "-"):
            op = self.advance().value
            expr = BinOp(op, expr, self.product())  # type: ignore[arg-type]
        return expr

    def product(self) -> Expr:
        expr = self.unary()
        while True:
            tok = self.tok
            if tok.kind == "op" and tok.value in ("*", "/"):
                self.advance()
                expr = BinOp(tok.value, expr, self.unary())
            elif tok.kind in _STARTS_FACTOR:
                expr = BinOp("*", expr, self.power())
            elif tok.kind == "num":
                raise FormulaError(_missing_operator(tok), tok.pos)
            else:
                return expr

    def unary(self) -> Expr:
        tok = self.tok
        if tok.kind == "op" and tok.value in ("+", "-"):
            self.advance()
            self.enter(tok)
            operand = self.unary()
            self.depth -= 1
            return Neg(operand) if tok.value == "-" else operand
        return self.power()

    def power(self) -> Expr:
        base = self.postfix()
        tok = self.tok
        if tok.kind == "op" and tok.value == "^":
            self.advance()
            self.enter(tok)
            exponent = self.unary()
            self.depth -= 1
            return BinOp("^", base, exponent)
        return base

    def postfix(self) -> Expr:
        expr = self.primary()
        while self.tok.kind == "pow2":
            expr = BinOp("^", expr, Num(self.advance().value))  # type: ignore[arg-type]
        return expr

    def primary(self) -> Expr:
        tok = self.advance()
        if tok.kind == "num":
            return Num(tok.value)  # type: ignore[arg-type]
        if tok.kind == "name":
            return Name(tok.value)  # type: ignore[arg-type]
        if tok.kind == "e":
            return E()
        if tok.kind == "func":
            if self.tok.kind != "(":
                raise FormulaError(_("%(func)s at character %(at)s needs its argument in parentheses: "
                                     "%(func)s(...)", func=tok.text, at=tok.pos + 1), tok.pos)
            arg = self.bracketed(self.advance())
            if tok.value == "sqrt":  # √a is a^(1/2): the tree has no function of its own for it
                return BinOp("^", arg, Num(Fraction(1, 2)))
            if str(tok.value).endswith("'"):  # σ'(a) = σ(a)(1 − σ(a)), tanh'(a) = 1 − tanh(a)², ...
                return _derivative(registry.activation(str(tok.value)[:-1]).derivative, arg)
            return Call(tok.value, arg)  # type: ignore[arg-type]
        if tok.kind == "(":
            return self.bracketed(tok)
        self.k -= 1
        raise FormulaError(self._expected_value(tok), tok.pos)

    def bracketed(self, opener: Token) -> Expr:
        if self.tok.kind == ")":
            raise FormulaError(_("empty parentheses at character %(at)s", at=opener.pos + 1), opener.pos)
        self.enter(opener)
        inner = self.sum()
        self.depth -= 1
        closer = self.advance()
        if closer.kind != ")":
            found = closer.text or _("the end")
            raise FormulaError(_("expected ')' to close '%(opener)s' at character %(at)s, found '%(found)s' at "
                                 "character %(found_at)s", opener=opener.text, at=opener.pos + 1, found=found,
                                 found_at=closer.pos + 1), closer.pos)
        return inner

    def _expected_value(self, tok: Token) -> Text:
        if tok.kind == "end":
            prev = self.tokens[self.k - 1] if self.k else None
            if prev is None:
                return _("the formula ends too early: a value is missing")
            return _("the formula ends too early: a value is missing after '%(token)s' at character %(at)s",
                     token=prev.text, at=prev.pos + 1)
        if self.k == 0:
            return _("the formula cannot start with '%(token)s'", token=tok.text)
        return _("expected a value at character %(at)s, found '%(token)s'", at=tok.pos + 1, token=tok.text)


def _too_deep(tok: Token) -> Text:
    return _("the formula is nested too deeply (more than %(max)s levels at character %(at)s)",
             max=MAX_NESTING, at=tok.pos + 1)


def _missing_operator(tok: Token) -> Text:
    return _("missing operator before the number '%(number)s' at character %(at)s", number=tok.text,
             at=tok.pos + 1)


def _derivative(tree: object, arg: Expr) -> Expr:
    """An activation's derivative, from its registry tree, at ``arg``."""
    if tree == "a":
        return arg
    if isinstance(tree, tuple) and len(tree) == 3:
        return BinOp(tree[0], _derivative(tree[1], arg), _derivative(tree[2], arg))
    if isinstance(tree, tuple):
        return Call(tree[0], _derivative(tree[1], arg))
    return Num(derivative_fraction(tree))
