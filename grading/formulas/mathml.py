"""Presentation MathML of a formula tree, rendered on the server (browsers draw it natively).

A name is drawn from the cell it names (the vocabulary's place, never its letters): w₁₂,
dL/ds₁ as a fraction, and in a network of several layers the layer as a superscript, s₁^[2].
"""

from __future__ import annotations

from fractions import Fraction
from html import escape

from grading.engine import Place, registry, variable_of

from .names import Vocabulary, vocabulary
from .nodes import PREC, BinOp, Call, E, Expr, Name, Neg, Num, number_text, prec

_NS = "http://www.w3.org/1998/Math/MathML"


def to_mathml(text_or_expr: str | Expr, *, n_inputs: int = 2, n_outputs: int = 2,
              sizes: tuple[int, ...] | None = None) -> str:
    """``<math>`` markup of a formula (text is parsed first; FormulaError if it cannot be), for
    a single layer of ``n_inputs`` × ``n_outputs`` or a network of layer ``sizes``."""
    sizes = sizes or (n_inputs, n_outputs)
    if isinstance(text_or_expr, str):
        from .parser import parse_formula

        text_or_expr = parse_formula(text_or_expr, sizes=sizes)
    return f'<math xmlns="{_NS}" display="inline">{_Renderer(vocabulary(*sizes)).render(text_or_expr)}</math>'


def _mi(text: str) -> str:
    return f"<mi>{escape(text)}</mi>"


def _mo(text: str) -> str:
    return f"<mo>{escape(text)}</mo>"


def _row(*parts: str) -> str:
    return "<mrow>" + "".join(parts) + "</mrow>"


def place_mathml(place: Place, n_layers: int) -> str:
    """A cell's name as MathML, from its place: x₁, w₁₂, L, dL/ds₁ (s₁^[2] with layers)."""
    variable = variable_of(place)
    if variable is not None:
        return "<mfrac>" + _row(_mi("d"), _mi("L")) + _row(_mi("d"), place_mathml(variable, n_layers)) + "</mfrac>"
    if not place.index:
        return _mi(place.quantity)
    base, index = _mi(place.quantity), f"<mn>{''.join(map(str, place.index))}</mn>"
    if n_layers > 1 and place.layer is not None:
        return f"<msubsup>{base}{index}{_row(_mo('['), f'<mn>{place.layer}</mn>', _mo(']'))}</msubsup>"
    return f"<msub>{base}{index}</msub>"


# The update rows' names as a handout prints them: η, β₁, ε, ρ, m̂, v̂, Δw, g₁.
_GREEK = {"lr": "η", "beta": "β", "eps": "ε", "rho": "ρ"}


def update_name_mathml(name: str) -> str:
    """A name of the update rows (or any other name, as it is) as MathML."""
    if name in _GREEK:
        return _mi(_GREEK[name])
    if name in ("beta1", "beta2"):
        return f"<msub>{_mi('β')}<mn>{name[-1]}</mn></msub>"
    if name in ("mhat", "vhat"):
        return f'<mover accent="true">{_mi(name[0])}{_mo("^")}</mover>'
    if name == "Δw":
        return _row('<mi mathvariant="normal">Δ</mi>', _mi("w"))
    if name[:1] == "g" and name[1:].isdigit():
        return f"<msub>{_mi('g')}<mn>{name[1:]}</mn></msub>"
    return _mi(name)


def _parens(inner: str) -> str:
    return _row(_mo("("), inner, _mo(")"))


class _Renderer:
    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab

    def name(self, name: str) -> str:
        place = self.vocab.place(name)
        return update_name_mathml(name) if place is None else place_mathml(place, self.vocab.n_layers)

    def render(self, expr: Expr) -> str:
        return _render(expr, self)


# A registered activation's function as MathML shows it (σ, ReLU); any other as it is named.
_SYMBOLS = {a.formula_names[0]: a.mathml for a in registry.formula_activations() if a.mathml}

def _render(expr: Expr, r: _Renderer) -> str:
    if isinstance(expr, Num):
        return f"<mn>{escape(number_text(expr.value))}</mn>"
    if isinstance(expr, Name):
        return r.name(expr.name)
    if isinstance(expr, E):
        return _mi("e")
    if isinstance(expr, Call):
        func = _mi(_SYMBOLS.get(expr.func, expr.func))
        return _row(func, "<mo>&#x2061;</mo>", _parens(_render(expr.arg, r)))
    if isinstance(expr, Neg):
        inner = _render(expr.operand, r)
        return _row(_mo("−"), _parens(inner) if prec(expr.operand) < PREC["neg"] else inner)
    if expr.op == "/":
        # A fraction bar groups both sides: no parentheses needed inside.
        return f"<mfrac>{_row(_render(expr.left, r))}{_row(_render(expr.right, r))}</mfrac>"
    if expr.op == "^" and expr.right == Num(Fraction(1, 2)):  # sqrt(a)
        return f"<msqrt>{_row(_render(expr.left, r))}</msqrt>"
    left, right = _render(expr.left, r), _render(expr.right, r)
    if expr.op == "^":
        base = _parens(left) if prec(expr.left) <= PREC["^"] or isinstance(expr.left, Call) else left
        return f"<msup>{_row(base)}{_row(right)}</msup>"
    p = PREC[expr.op]
    # A fraction operand renders as a visually grouped block, so it needs no parentheses.
    if prec(expr.left) < p and not _is_frac(expr.left):
        left = _parens(left)
    if prec(expr.right) <= p and not _is_frac(expr.right):
        right = _parens(right)
    symbol = {"+": "+", "-": "−", "*": "×"}[expr.op]
    return _row(left, _mo(symbol), right)


def _is_frac(expr: Expr) -> bool:
    return isinstance(expr, BinOp) and expr.op == "/"
