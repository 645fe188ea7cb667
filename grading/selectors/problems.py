"""Reads of the computation the web layer needs: the key, cell names, Q1 rows, messages.

Views, forms and template tags read the engine, marking, formulas and mistakes only through
here (and the grade reads beside it), never directly: imports run one way.
"""

from __future__ import annotations

from functools import lru_cache

from grading import engine, formulas, grader, marking, mistakes

TABLE_COLUMNS: tuple[str, ...] = engine.COLUMNS  # the four columns of a round's table, in order


class FormulaTextError(ValueError):
    """A Q1 formula that cannot be read; the message is the parser's, for the student."""


def parse_spec(data: object) -> engine.Spec:
    """The validated spec; engine.SpecError (a ValueError) says what is wrong."""
    return engine.parse_spec(data)


def answer_key(spec: engine.Spec) -> engine.Key:
    """The engine's key for a spec, from the grader's cache: one computation serves all pages."""
    return grader.answer_key(spec)


def cell_names(spec: engine.Spec) -> dict[str, list[str]]:
    """Column -> the cell names of one round's table, in table order."""
    return engine.cell_names(spec.n_inputs, spec.n_outputs)


@lru_cache(maxsize=64)
def typed_cells(spec: engine.Spec) -> tuple[engine.CellKey, ...]:
    """The cells a student types, in table order: every gradable cell of the engine's graph."""
    return tuple(cell.key for cell in engine.build_graph(spec).gradable())


def band_text(decimals: int) -> str:
    """The tolerance band in words, as the marking messages say it: "±0.000051"."""
    return marking.band_text(decimals)


def number_problem(text: str) -> str:
    """Why a typed cell is not a number ("" when it is one, or blank), said before submitting."""
    parsed = marking.parse_number(text)
    return parsed.message if parsed.status == "invalid" else ""


def formula_rows(spec: engine.Spec) -> tuple[str, ...]:
    """Q1's rows for this network size, in the seed's order."""
    return tuple(formulas.Q1_ROWS(spec.n_inputs, spec.n_outputs))


def reference_formulas(spec: engine.Spec) -> dict[str, str]:
    """Q1 row -> its reference formula as text, for the answer key."""
    return formulas.reference_formulas(spec.n_inputs, spec.n_outputs)


def formula_mathml(text: str, *, n_inputs: int, n_outputs: int) -> str:
    """A Q1 formula as MathML from our own renderer; FormulaTextError says why it cannot be read."""
    try:
        return formulas.to_mathml(text, n_inputs=n_inputs, n_outputs=n_outputs)
    except Exception as exc:  # noqa: BLE001 - any parser complaint is the student's message, never a 500
        raise FormulaTextError(str(exc)) from exc


def mistake_catalogue() -> list[dict[str, str]]:
    """The named mistakes the marker recognises, in catalogue order: id, title, explanation."""
    return [{"id": m.id, "title": m.title, "explanation": m.explanation} for m in mistakes.MISTAKES]
