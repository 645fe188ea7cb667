"""Helpers shared by the views: the tables laid out like the homework, labels, responses."""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse
from django.utils import timezone

from grading import services
from grading.forms import cell_input_name
from grading.models import Assignment, Submission

if TYPE_CHECKING:
    from grading.engine import Spec

COLUMN_TITLES = {"parameters": "Parameters", "forward": "Forward pass",
                 "backward": "Backward pass", "updated": "Updated parameters"}


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def band_text(decimals: int) -> str:
    """The tolerance band for pages: "±0.51×10⁻⁴, i.e. ±0.000051 for 4 decimals"."""
    power = f"-{decimals}".translate(_SUPERSCRIPT)
    return f"±0.51×10{power}, i.e. {services.band_text(decimals)} for {decimals} decimals"


def fmt_given(value: float) -> str:
    """A given number as the homework prints it: 0.4, 1, 0.236722."""
    return format(value, ".10g")


def fmt_key(value: float, decimals: int) -> str:
    """A key value with a couple of places more than asked, so rounding is visible."""
    return format(value, f".{max(6, decimals + 2)}f")


@dataclass
class TableCell:
    round: int
    column: str
    name: str
    input_name: str | None = None   # None: a given value, shown read-only
    given: str | None = None        # the given value, formatted
    value: str = ""                 # what the student typed
    mark: dict[str, Any] | None = None
    expected: str | None = None
    has_error: bool = False
    problem: str = ""               # why the typed value is not a number, shown before submitting


@dataclass
class RoundTable:
    round: int
    rows: list[tuple[TableCell | None, ...]] = field(default_factory=list)


def round_tables(spec: Spec, *, values: dict[str, str] | None = None,
                 marks: list[dict[str, Any]] | None = None, show_expected: bool = False,
                 decimals: int = 4, error_inputs: frozenset[str] = frozenset()) -> list[RoundTable]:
    """Each round's four-column table: given cells read-only, typed cells with their value and mark."""
    key = services.answer_key(spec)
    typed = set(services.typed_cells(spec))
    names = services.cell_names(spec)
    by_key = {(m.get("round"), m.get("column"), m.get("name")): m for m in (marks or ())}
    values = values or {}
    tables = []
    for r in range(1, spec.n_rounds + 1):
        columns = []
        for column in services.TABLE_COLUMNS:
            cells = []
            for name in names[column]:
                cell = TableCell(round=r, column=column, name=name)
                if (r, column, name) in typed:  # a CellKey is a named tuple: equal to the plain one
                    cell.input_name = cell_input_name(r, column, name)
                    cell.value = values.get(cell.input_name, "")
                    cell.problem = services.number_problem(cell.value) if marks is None else ""
                    cell.mark = by_key.get((r, column, name))
                    cell.has_error = cell.input_name in error_inputs
                    if show_expected:
                        cell.expected = fmt_key(key.value(r, column, name), decimals)
                else:
                    cell.given = fmt_given(key.value(r, column, name))
                cells.append(cell)
            columns.append(cells)
        tables.append(RoundTable(round=r, rows=list(zip_longest(*columns))))
    return tables


def question_title(question: dict[str, Any]) -> str:
    """A question's heading: "Q2 · Round 1 table"."""
    kind = question.get("kind")
    what = {"formulas": "Forward and backward formulas", "plot": "Loss plot"}.get(
        kind, f"Round {question.get('round')} table")
    return f"{question.get('id', '?')} · {what}"


def round_question(assignment: Assignment) -> dict[int, Any]:
    """Round number -> its question, for table headings."""
    return {q.round: q for q in assignment.questions.all() if q.round}


def student_status(assignment: Assignment, submissions: list[Submission], now=None) -> tuple[str, str]:
    """The home page's status of one assignment for one student: (text, Bootstrap colour)."""
    now = now or timezone.now()
    submitted = [s for s in submissions if not s.is_draft]
    has_draft = any(s.is_draft for s in submissions)
    closed = not assignment.is_open(now)
    if not assignment.has_opened(now):
        return "Not open yet", "secondary"
    if submitted:
        text = f"Submitted {len(submitted)} of {assignment.max_attempts}"
        if has_draft:
            text += " · new draft"
        return (text + " · closed", "secondary") if closed else (text, "success")
    if closed:
        return ("Closed · draft never submitted", "danger") if has_draft else ("Closed", "danger")
    return ("Draft", "warning") if has_draft else ("Not started", "light")


def version_ms(submission: Submission | None) -> str:
    """A draft's version for the autosave script: its last save, in ms since the epoch."""
    return str(int(submission.updated_at.timestamp() * 1000)) if submission else ""


def svg_response(svg: bytes) -> HttpResponse:
    """An SVG image that cannot run script even when opened on its own."""
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=300"
    return response
