"""The engine: numpy and the standard library only, never Django.

``spec`` validates a problem (one sigmoid layer, or any small dense network); ``network`` runs
the forward and backward passes of many problems at once with numpy; ``cells`` names the cells
(``CellId``: round, column, layer, quantity, index) and lays out a round's table; ``steps``
writes each computed cell's one-step formula; ``graph`` turns one problem into the explicit
graph of cells of every round and computes the key. Import from here:
``from grading.engine import answer_key``.
"""

from grading.engine.cells import (COLUMNS, GRADIENT, WITH_RESPECT_TO, CellId, Column, Group, Place, QuantityName, Shape,
                                  cell_id_text, cell_name, cell_names, column_names, column_places,
                                  names_table, single_layer_cell, single_layer_places, table_layout,
                                  variable_of, w_name, zero_input_gradients)
from grading.engine.graph import (Cell, Graph, Key, Override, answer_key, build_graph, cell_across, loss_at,
                                  round_formulas, trace_values)
from grading.engine.network import (QUANTITIES, Architecture, Batch, LayerTrace, Quantity, Trace,
                                    architecture, quantities, stack, train, train_one)
from grading.engine.registry import ACTIVATIONS, LOSSES, sigmoid
from grading.engine.spec import (MAX_LAYERS, MAX_ROUNDS, MAX_SAMPLES, MAX_UNITS, Layer, Sample, Spec,
                                 SpecError, json_repr, parse_spec)
from grading.engine.steps import Step, round_steps

__all__ = [
    "ACTIVATIONS", "COLUMNS", "GRADIENT", "LOSSES", "MAX_LAYERS", "MAX_ROUNDS", "MAX_SAMPLES", "MAX_UNITS",
    "QUANTITIES", "Architecture", "Batch", "Cell", "CellId", "Column", "Graph", "Group", "Key", "Layer",
    "LayerTrace", "Override", "Place", "Quantity", "QuantityName", "Sample", "Shape", "Spec", "SpecError", "Step",
    "Trace", "WITH_RESPECT_TO", "answer_key", "architecture", "build_graph", "cell_across", "cell_id_text", "cell_name", "cell_names",
    "column_names", "column_places", "json_repr", "loss_at", "names_table", "parse_spec",
    "quantities", "round_formulas", "round_steps", "sigmoid", "single_layer_cell",
    "single_layer_places", "stack", "table_layout", "train", "train_one", "trace_values",
    "variable_of", "w_name", "zero_input_gradients",
]
