"""Question 1 of the backpropagation homework: read, check and render the students' formulas.

Pure Python (sympy, mpmath); no Django. Student text is tokenized and parsed into our own small
tree; it never reaches eval, exec or sympy's string parsers.
"""

from .cache import VERDICTS, VerdictCache
from .check import STATUSES, FormulaMark, grade_formulas
from .mathml import to_mathml
from .nodes import Expr, FormulaError, to_text
from .parser import parse_formula
from .rows import Q1_ROWS, reference_formulas

__all__ = [
    "Q1_ROWS", "STATUSES", "VERDICTS", "Expr", "FormulaError", "FormulaMark", "VerdictCache",
    "grade_formulas", "parse_formula", "reference_formulas", "to_mathml", "to_text",
]
