"""The engine: numpy and the standard library only, never Django.

``spec`` validates a problem (one sigmoid layer, or any small dense network); ``network`` runs
the forward and backward passes of many problems at once with numpy; ``graph`` turns one problem
into the explicit graph of named cells of every round's table and computes the key. Import from
here: ``from grading.engine import answer_key``.
"""

from grading.engine.graph import (COLUMNS, Cell, CellKey, Graph, Key, Override, answer_key,
                                  build_graph, cell_names, loss_at, round_formulas, sigmoid,
                                  w_name)
from grading.engine.network import (QUANTITIES, Architecture, Batch, LayerTrace, Quantity, Trace,
                                    architecture, quantities, stack, train, train_one)
from grading.engine.spec import (ACTIVATIONS, LOSSES, MAX_LAYERS, MAX_ROUNDS, MAX_SAMPLES, MAX_UNITS,
                                 Layer, Sample, Spec, SpecError, json_repr, parse_spec)

__all__ = [
    "ACTIVATIONS", "COLUMNS", "LOSSES", "MAX_LAYERS", "MAX_ROUNDS", "MAX_SAMPLES", "MAX_UNITS",
    "QUANTITIES", "Architecture", "Batch", "Cell", "CellKey", "Graph", "Key", "Layer", "LayerTrace",
    "Override", "Quantity", "Sample", "Spec", "SpecError", "Trace", "answer_key", "architecture",
    "build_graph", "cell_names", "json_repr", "loss_at", "parse_spec", "quantities",
    "round_formulas", "sigmoid", "stack", "train", "train_one", "w_name",
]
