"""The grading report as typed data: what one grading of one attempt found, and how it is stored.

Pure (no Django). A ``Report`` is built by the grader, changed only by ``grading.grade.ledger`` (staff
overrides and reviews, each listed in ``adjustments``), stored as JSON with a schema version and
read back with ``Report.from_json``, so every page, export and analytic reads the same fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

from grading.engine import cell_id_text, single_layer_cell
from grading.marking import CellMark
from grading.marking.roots import Explanation
from grading.marking.tables import Root
from grading.engine.text import Text

# 3: messages keep their structure beside the English ("i18n"), to be read in any language.
# 2: every cell (and a named mistake's cells) carries its structure: layer, quantity, index.
# 1: cells carry their stable id; reviews are adjustments. 0: neither (before the ledger).
# 4: the roots of carried credit, each with its explanation (or none), state and carried cells.
SCHEMA_VERSION = 4


@dataclass(frozen=True, slots=True)
class FormulaScore:
    """One Q1 row's verdict and the points it earns."""

    row: str
    given: str
    status: str  # correct | not_chained | incorrect | undecided | invalid | blank
    message: str
    credit: float
    understood: str = ""
    mathml: str = ""
    points: float = 0.0


@dataclass(frozen=True, slots=True)
class QuestionScore:
    """One question's score; ``max`` is its points, ``carried`` what follow-through contributed."""

    id: str
    number: int
    kind: str  # formulas | round | plot
    max: float
    score: float = 0.0
    round: int | None = None
    extra_credit: bool = False
    carried: float = 0.0


@dataclass(frozen=True, slots=True)
class CellRef:
    """Where a cell sits, for lists of cells (a named mistake's cells)."""

    id: str
    round: int
    column: str
    name: str
    layer: int | None = None
    quantity: str = ""
    index: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class MistakeSummary:
    """A named mistake, once per report, with the cells it explains."""

    id: str
    title: str
    explanation: str
    cells: tuple[CellRef, ...] = ()

    @property
    def count(self) -> int:
        return len(self.cells)


@dataclass(frozen=True, slots=True)
class Loss:
    """L per round: the key's and the student's (None where a cell is not a number)."""

    key: tuple[float, ...] = ()
    student: tuple[float | None, ...] = ()


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A change staff made to the automatic marks: which mark, before, after, who, when, why.

    ``kind`` is cell | formula | question | total; ``target`` the cell id, the Q1 row or the
    question id ("" for the total). ``note`` is what the student is told ("" when not shared).
    """

    record: int
    kind: str
    target: str
    before: str
    after: str
    reason: str
    note: str
    by: str
    at: str
    review: bool = False  # a decision on an undecided Q1 row or on a student's request
    points: float | None = None  # the points set, for a question or the total


@dataclass(frozen=True, slots=True)
class Report:
    """Everything one grading found: every cell, every Q1 row, each question and the total."""

    grader_version: str
    decimals: int
    band: float
    cells: tuple[CellMark, ...]
    formulas: tuple[FormulaScore, ...]
    questions: tuple[QuestionScore, ...]
    total: float
    max: float
    max_with_extra: float
    mistakes: tuple[MistakeSummary, ...] = ()
    loss: Loss = Loss()
    adjustments: tuple[Adjustment, ...] = ()
    roots: tuple[Root, ...] = ()
    schema: int = SCHEMA_VERSION

    # ------------------------------------------------------------ reading

    def root(self, cell_id: str) -> Root | None:
        return next((r for r in self.roots if r.id == cell_id), None)

    @property
    def waiting_roots(self) -> tuple[Root, ...]:
        """Roots nothing honest explains whose carried cells wait for staff."""
        return tuple(r for r in self.roots if r.state == "waiting")

    def question(self, question_id: str) -> QuestionScore | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def cell(self, cell_id: str) -> CellMark | None:
        return next((c for c in self.cells if c.id == cell_id), None)

    def formula(self, row: str) -> FormulaScore | None:
        return next((f for f in self.formulas if f.row == row), None)

    @property
    def undecided_rows(self) -> tuple[str, ...]:
        """Q1 rows the grader could not decide and staff have not decided yet."""
        return tuple(f.row for f in self.formulas if f.status == "undecided")

    @property
    def carried_points(self) -> float:
        return round(sum(q.carried for q in self.questions), 4)

    def scores(self) -> dict[str, float]:
        """Question id -> score, as the gradebook shows them."""
        return {q.id: q.score for q in self.questions}

    # ------------------------------------------------------------ storage

    def to_json(self) -> dict[str, Any]:
        """The report as plain JSON data, with its schema version."""
        return {
            "schema": self.schema,
            "grader_version": self.grader_version,
            "decimals": self.decimals,
            "band": self.band,
            "cells": [_plain(c) for c in self.cells],
            "formulas": [_plain(f) for f in self.formulas],
            "questions": [_plain(q) for q in self.questions],
            "total": self.total,
            "max": self.max,
            "max_with_extra": self.max_with_extra,
            "mistakes": [{"id": m.id, "title": m.title, "explanation": m.explanation,
                          "count": m.count, "cells": [_plain(c) for c in m.cells],
                          **_messages({"title": m.title, "explanation": m.explanation})}
                         for m in self.mistakes],
            "loss": {"key": list(self.loss.key), "student": list(self.loss.student)},
            "adjustments": [_plain(a) for a in self.adjustments],
            "roots": [_root_data(r) for r in self.roots],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Report:
        """Read a stored report back; reports of schemas 0 and 1 (one layer only: no ids before
        1, no cell structure before 2) too, their cells' structure looked up by name."""
        schema = data.get("schema", 0)
        if schema > SCHEMA_VERSION:
            raise ValueError(f"report schema {schema} is newer than this code ({SCHEMA_VERSION})")
        loss = data.get("loss") or {}
        return cls(
            grader_version=str(data.get("grader_version", "")),
            decimals=int(data.get("decimals", 4)),
            band=float(data.get("band", 0.0)),
            cells=tuple(_cell(c, schema) for c in data.get("cells", ())),
            formulas=tuple(_build(FormulaScore, f) for f in data.get("formulas", ())),
            questions=tuple(_build(QuestionScore, q) for q in data.get("questions", ())),
            total=float(data.get("total", 0.0)),
            max=float(data.get("max", 0.0)),
            max_with_extra=float(data.get("max_with_extra", data.get("max", 0.0))),
            mistakes=tuple(MistakeSummary(m["id"], _message(m, "title"), _message(m, "explanation"),
                                          tuple(_ref(c, schema) for c in m.get("cells", ())))
                           for m in data.get("mistakes", ())),
            loss=Loss(tuple(loss.get("key") or ()), tuple(loss.get("student") or ())),
            adjustments=tuple(_build(Adjustment, a) for a in data.get("adjustments", ())),
            roots=tuple(_root(r) for r in data.get("roots", ())),
        )


@cache
def field_names(cls: type[DataclassInstance]) -> tuple[str, ...]:
    """A dataclass's field names (dataclasses.fields() is slow, and reports have thousands)."""
    return tuple(f.name for f in fields(cls))


def _plain(obj: DataclassInstance) -> dict[str, Any]:
    out = {name: getattr(obj, name) for name in field_names(type(obj))}
    for k, v in out.items():
        if isinstance(v, dict):
            out[k] = dict(v)
    out.update(_messages(out))
    return out


def _messages(values: Mapping[str, Any]) -> dict[str, Any]:
    """The structure of the fields that are messages, stored beside their English text (which
    stays in its own field, so exports and old readers see a string)."""
    found = {k: v.to_data() for k, v in values.items() if isinstance(v, Text)}
    return {"i18n": found} if found else {}


def _message(data: Mapping[str, Any], name: str) -> Any:
    """A stored field as a message when its structure was stored, else the stored string."""
    structure = (data.get("i18n") or {}).get(name)
    return Text.from_data(structure) if structure is not None else data[name]


def _build(cls: type[DataclassInstance], data: Mapping[str, Any]) -> Any:
    known = field_names(cls)
    values = {k: v for k, v in data.items() if k in known}
    for name in (data.get("i18n") or {}):
        if name in values:
            values[name] = _message(data, name)
    return cls(**values)


def _structure(data: Mapping[str, Any], schema: int) -> dict[str, Any]:
    """A stored cell's id and structure. Schemas 0 and 1 were single-layer only and stored the
    name alone: the structure comes from the engine's table of single-layer names."""
    if schema >= 2:
        return {"id": data["id"], "layer": data.get("layer"), "quantity": data["quantity"],
                "index": tuple(data.get("index") or ())}
    cell = single_layer_cell(data["round"], data["column"], data["name"])
    # Schema 0 stored no id: it is the cell's place, written as the engine does.
    return {"id": data.get("id") or cell_id_text(cell, 1), "layer": cell.layer,
            "quantity": cell.quantity, "index": cell.index}


def _cell(data: Mapping[str, Any], schema: int) -> CellMark:
    mark: CellMark = _build(CellMark, data)
    return replace(mark, **_structure(data, schema))


def _ref(data: Mapping[str, Any], schema: int) -> CellRef:
    return CellRef(round=data["round"], column=data["column"], name=data["name"],
                   **_structure(data, schema))



def _root_data(root: Root) -> dict[str, Any]:
    out = _plain(root)
    out["explanation"] = _plain(root.explanation) if root.explanation is not None else None
    out["copied_from"], out["carried"] = list(root.copied_from), list(root.carried)
    return out


def _root(data: Mapping[str, Any]) -> Root:
    explanation = data.get("explanation")
    values = {k: v for k, v in data.items() if k in field_names(Root) and k != "explanation"}
    return Root(**{**values, "explanation": _build(Explanation, explanation) if explanation else None,
                   "copied_from": tuple(data.get("copied_from") or ()),
                   "carried": tuple(data.get("carried") or ()), "index": tuple(data.get("index") or ())})
