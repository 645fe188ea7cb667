"""Question 1 of the backpropagation homework: read, check and render the students' formulas.

Pure Python (sympy, mpmath); no Django. Student text is tokenized and parsed into our own small
tree; it never reaches eval, exec or sympy's string parsers.
"""

from .cache import VERDICTS, VerdictCache
from .check import STATUSES, FormulaMark, grade_formulas, read_answer
from .mathml import place_mathml, to_mathml
from .names import UPDATE_ROWS, vocabulary
from .nodes import Expr, FormulaError, to_text
from .parser import parse_formula
from .rows import Q1_ROWS, q1_table, reference_formulas

__all__ = [
    "Q1_ROWS", "STATUSES", "UPDATE_ROWS", "VERDICTS", "Expr", "FormulaError", "FormulaMark", "VerdictCache",
    "grade_formulas", "parse_formula", "read_answer", "place_mathml", "q1_table", "reference_formulas",
    "to_mathml", "to_text", "vocabulary",
]
