"""The engine: numpy and the standard library only, never Django.

``spec`` validates a problem; ``graph`` turns it into the explicit graph of named cells of every
round's table and computes the key. Import from here: ``from grading.engine import answer_key``.
"""

from grading.engine.graph import (COLUMNS, Cell, CellKey, Graph, Key, Override, answer_key,
                                  build_graph, cell_names, loss_at, round_formulas, sigmoid,
                                  w_name)
from grading.engine.spec import MAX_SAMPLES, MAX_UNITS, Sample, Spec, SpecError, json_repr, parse_spec

__all__ = [
    "COLUMNS", "MAX_SAMPLES", "MAX_UNITS", "Cell", "CellKey", "Graph", "Key", "Override", "Sample",
    "Spec", "SpecError", "answer_key", "build_graph", "cell_names", "json_repr", "loss_at",
    "parse_spec", "round_formulas", "sigmoid", "w_name",
]
