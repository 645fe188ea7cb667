"""Reads of the computation the web layer needs: the key, cell names, Q1 rows, messages.

Views, forms and template tags read the engine, marking, formulas and mistakes only through
here (and the grade reads beside it), never directly: imports run one way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from grading import engine, formulas, marking, mistakes

from grading.grade import grader

TABLE_COLUMNS: tuple[str, ...] = engine.COLUMNS  # the four columns of a round's table, in order


class FormulaTextError(ValueError):
    """A Q1 formula that cannot be read; the message is the parser's, for the student."""


def parse_spec(data: object) -> engine.Spec:
    """The validated spec; engine.SpecError (a ValueError) says what is wrong."""
    return engine.parse_spec(data)


def answer_key(spec: engine.Spec) -> engine.Key:
    """The engine's key for a spec, from the grader's cache: one computation serves all pages."""
    return grader.answer_key(spec)


def variable_of(place: engine.Place) -> engine.Place | None:
    """The place a backward cell differentiates L by (dL/ds1 -> s1), or None."""
    return engine.variable_of(place)


def shape(spec: engine.Spec) -> engine.Shape:
    """What a round's cells depend on: layer sizes, activations, loss, whether biases update."""
    return engine.Shape.of(spec)


def cell_names(spec: engine.Spec) -> dict[str, list[str]]:
    """Column -> the cell names of one round's table, in table order."""
    return engine.column_names(shape(spec))


def table_layout(spec: engine.Spec) -> tuple[engine.Group, ...]:
    """A round's table in bands of rows: one for a single layer, else one per layer and the loss's."""
    return engine.table_layout(shape(spec))


@lru_cache(maxsize=64)
def typed_cells(spec: engine.Spec) -> tuple[engine.Cell, ...]:
    """The cells a student types, in graph order: every gradable cell of the engine's graph
    (each with its ``key`` (structure), ``name``, ``id`` (input name), ``round``, ``column``)."""
    return tuple(engine.build_graph(spec).gradable())


@lru_cache(maxsize=1024)
def _names(sizes: tuple[int, ...], batch: int = 1, optimizer: Any = None) -> dict[str, engine.Place]:
    layers = len(sizes) - 1
    if layers == 1 and batch == 1 and optimizer is None:
        return {name: place for (_, name), place in engine.single_layer_places().items()}
    # Every name a network of these sizes has (its activations and loss do not change them; a
    # round's samples and an optimizer's cells do).
    full = engine.Shape(sizes, ("sigmoid",) * layers, batch=batch,
                        **({"optimizer": optimizer} if optimizer is not None else {}))
    return {name: place for (_, name), place in engine.names_table(full).items()}


def _training(spec: engine.Spec | None) -> tuple[int, Any]:
    """(batch, optimizer or None for plain SGD) of ``spec``: what its names depend on besides sizes."""
    if spec is None:
        return 1, None
    optimizer = getattr(spec, "optimizer", None)
    return getattr(spec, "batch", 1), (optimizer if optimizer is not None and optimizer.kind != "sgd" else None)


def name_place(name: str, spec: engine.Spec | None = None) -> engine.Place | None:
    """The place a cell or Q1 row name names in ``spec``'s network (a single layer if None);
    a w or b name is in both the parameters and the updated column: either place is given."""
    place = _names(spec.sizes if spec is not None else (engine.MAX_UNITS, engine.MAX_UNITS), *_training(spec)).get(name)
    if place is None and spec is not None:  # a Q1 name that is no cell (dL/db of fixed biases)
        place = formulas.vocabulary(*spec.sizes).place(name)
    return place


def plain_name(place: engine.Place) -> str:
    """A cell's name without its layer ("s1" for s1[2]): pages say the layer in words."""
    return engine.cell_name(place, 1)


def band_text(decimals: int) -> str:
    """The tolerance band in words, as the marking messages say it: "±0.000051"."""
    return marking.band_text(decimals)


def number_problem(text: str) -> str:
    """Why a typed cell is not a number ("" when it is one, or blank), said before submitting."""
    parsed = marking.parse_number(text)
    return parsed.message if parsed.status == "invalid" else ""


def formula_rows(spec: engine.Spec) -> tuple[str, ...]:
    """Q1's rows for this network, in table order (forward layer by layer, L, backward)."""
    return tuple(formulas.Q1_ROWS(shape(spec)))


def formula_columns(spec: engine.Spec) -> tuple[list[str], list[str], list[str]]:
    """Q1's rows split into the forward pass, the backward pass and the update of one parameter
    (empty for one sample a round with plain SGD), each in table order."""
    rows = formulas.q1_table(shape(spec)).rows
    return ([r.name for r in rows if r.column == "forward"], [r.name for r in rows if r.column == "backward"],
            [r.name for r in rows if r.column == "update"])


def reference_formulas(spec: engine.Spec) -> dict[str, str]:
    """Q1 row -> its reference formula as text, for the answer key."""
    return formulas.reference_formulas(shape(spec))


def formula_mathml(text: str, *, n_inputs: int = 2, n_outputs: int = 2,
                   sizes: tuple[int, ...] | None = None, row: str | None = None) -> str:
    """A Q1 formula as MathML from our own renderer, read exactly as the grader reads it for
    ``row`` (a leading "s1 =" of the row's own name is fine); "" for a blank text;
    FormulaTextError says why it cannot be read, in the grader's words."""
    sizes = sizes or (n_inputs, n_outputs)
    if not text.strip():
        return ""
    if row is not None and formulas.vocabulary(*sizes).place(row) is None and row not in formulas.UPDATE_ROWS:
        row = None  # not a name of this network nor an update row: read the text alone
    try:
        expr, _ = formulas.read_answer(text, row, sizes)
        return formulas.to_mathml(expr, sizes=sizes)
    except Exception as exc:  # noqa: BLE001 - any parser complaint is the student's message, never a 500
        raise FormulaTextError(getattr(exc, "message", None) or str(exc)) from exc


def mistake_catalogue(spec: engine.Spec | None = None) -> list[dict[str, str]]:
    """The named mistakes the marker recognises (for ``spec``'s network: those it can show), in
    catalogue order: id, title, explanation."""
    found = (mistakes.catalogue(shape(spec), spec.learning_rate) if spec is not None
             else mistakes.CATALOGUE)
    return [{"id": m.id, "title": m.title, "explanation": m.explanation} for m in found]
