"""Helpers shared by the views: the tables laid out like the homework, labels, responses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

from django.http import HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _, gettext_lazy

from grading import selectors
from grading.forms import describe_cell

if TYPE_CHECKING:
    from grading.engine import Spec
    from grading.engine.cells import Column
    from grading.marking import CellMark
    from grading.models import Assignment, Submission

COLUMN_TITLES = {"parameters": gettext_lazy("Parameters"), "forward": gettext_lazy("Forward pass"),
                 "backward": gettext_lazy("Backward pass"), "updated": gettext_lazy("Updated parameters")}


_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def band_text(decimals: int) -> str:
    """The tolerance band for pages: "±0.51×10⁻⁴, i.e. ±0.000051 for 4 decimals"."""
    power = f"-{decimals}".translate(_SUPERSCRIPT)
    return _("±0.51×10%(power)s, i.e. %(band)s for %(n)s decimals") % {
        "power": power, "band": selectors.band_text(decimals), "n": decimals}


def fmt_given(value: float) -> str:
    """A given number as the homework prints it: 0.4, 1, 0.236722 (never -0)."""
    return format(value + 0.0, ".10g")  # -0.0 + 0.0 is 0.0


def fmt_key(value: float, decimals: int) -> str:
    """A key value with a couple of places more than asked, so rounding is visible; a value
    that rounds to zero is 0.000000, never -0.000000."""
    places = max(6, decimals + 2)
    return format(round(value, places) + 0.0, f".{places}f")


@dataclass
class TableCell:
    round: int
    column: Column  # the engine's column: "parameters", "forward", "backward" or "updated"
    name: str
    quantity: str = ""              # what the cell is (engine.Place.quantity): "w", "s", "dL/dw", ...
    input_name: str | None = None   # None: a given value, shown read-only
    given: str | None = None        # the given value, formatted
    value: str = ""                 # what the student typed
    mark: CellMark | None = None
    expected: str | None = None
    has_error: bool = False
    problem: str = ""               # why the typed value is not a number, shown before submitting
    layer: int | None = None        # the cell's layer in a network of several layers, else None
    plain: str = ""                 # its name without the layer: "s1" for s1[2]
    row: int = 0                    # its row in the round's table (bands counted through)
    col: int = 0                    # its column: 0 parameters .. 3 updated
    uses: list[tuple[str, str]] = field(default_factory=list)  # a named mistake's inputs: (name, as typed)


Row = tuple["TableCell | None", ...]


@dataclass
class RoundTable:
    round: int
    rows: list[Row] = field(default_factory=list)
    groups: list[tuple[str, list[Row]]] = field(default_factory=list)  # (title, rows); one "" band for one layer


def round_tables(spec: Spec, *, values: dict[str, str] | None = None,
                 marks: Sequence[CellMark] | None = None, show_expected: bool = False,
                 decimals: int = 4, error_inputs: Mapping[str, Sequence[str]] | frozenset[str] = frozenset()
                 ) -> list[RoundTable]:
    """Each round's four-column table, in bands of rows by layer (one band for a single layer):
    given cells read-only, typed cells with their value and mark. ``error_inputs`` names the
    inputs the server refused (with their messages when a mapping)."""
    key = selectors.answer_key(spec)
    layered = spec.n_layers > 1
    cells_of = key.graph.cells
    by_key = {m.id: m for m in (marks or ())}
    values = values or {}
    tables = []
    for r in range(1, spec.n_rounds + 1):
        table = RoundTable(round=r)
        for group in selectors.table_layout(spec):
            columns = []
            top = len(table.rows)
            for col, (column, places) in enumerate(group.columns):
                cells = []
                for k, place in enumerate(places):
                    graph_cell = cells_of[place.at(r)]
                    cell = TableCell(round=r, column=column, name=graph_cell.name, quantity=place.quantity,
                                     layer=place.layer if layered else None,
                                     plain=selectors.plain_name(place), row=top + k, col=col)
                    if graph_cell.gradable:
                        cell.input_name = graph_cell.id
                        cell.value = values.get(cell.input_name, "")
                        cell.problem = selectors.number_problem(cell.value) if marks is None else ""
                        cell.mark = by_key.get(cell.input_name)
                        cell.has_error = cell.input_name in error_inputs
                        if cell.has_error and isinstance(error_inputs, Mapping):
                            cell.problem = "; ".join(error_inputs[cell.input_name])
                        if show_expected:
                            # A mark carries the value it was graded against (the spec may have changed since).
                            exact = cell.mark.expected if cell.mark else key.values[graph_cell.key]
                            cell.expected = fmt_key(exact, decimals)
                    else:
                        cell.given = fmt_given(key.values[graph_cell.key])
                    cells.append(cell)
                columns.append(cells)
            rows = list(zip_longest(*columns))
            table.groups.append((group.title, rows))
            table.rows.extend(rows)
        if marks:
            _quote_uses(table)
        tables.append(table)
    return tables


def _quote_uses(table: RoundTable) -> None:
    """Each named mistake's "Uses your ..." values as the student typed them in this round (0.1498,
    not the 0.149758 a report may hold), or the number itself where nothing was typed (a given value)."""
    cells = [c for row in table.rows for c in row if c is not None]
    typed = {c.name: c.value.strip() for c in cells if c.input_name and c.column != "updated"}
    for c in cells:
        if c.mark and c.mark.mistake and c.mark.upstream:
            c.uses = [(str(name), _typed_number(typed.get(str(name), "")) or format(value + 0.0, ".6g"))
                      for name, value in c.mark.upstream.items()]


def _typed_number(text: str) -> str:
    """``text`` when it reads as a number, else ""."""
    return text if text and not selectors.number_problem(text) else ""


def question_title(question: Any, updates: bool = False) -> str:
    """A question's heading: "Q2 · Round 1 table". ``updates``: Q1 also asks for a round's update
    (a batch or an optimizer other than plain SGD), as the assignment page's heading says."""
    if question.kind == "formulas":
        what = _("Forward, backward and update formulas") if updates else _("Forward and backward formulas")
    elif question.kind == "plot":
        what = _("Loss plot")
    else:
        what = _("Round %(round)s table") % {"round": question.round}
    return _("%(question)s · %(what)s") % {"question": question.id, "what": what}


def formula_row_title(row: str) -> str:
    """A Q1 row as pages name it: "Q1 dL/ds1"."""
    return _("Q1 %(row)s") % {"row": row}


def target_labels(spec: Spec, questions: Iterable[Any]) -> dict[str, str]:
    """What a request, a change or a withdrawal may name (a cell id, a Q1 row, a question id) ->
    how pages name it to people: "round 1 s1", "Q1 dL/ds1", "Q2 · Round 1 table"; never the
    raw id "r1.forward.s1"."""
    labels = {q.id: question_title(q, not spec.plain) for q in questions}
    labels.update({row: formula_row_title(row) for row in selectors.formula_rows(spec)})
    # the cached key's graph: the cells are the same for every variant of the assignment
    labels.update({cell.id: describe_cell(cell) for cell in selectors.answer_key(spec).graph.gradable()})
    return labels


def round_question(assignment: Assignment) -> dict[int, Any]:
    """Round number -> its question, for table headings."""
    return {q.round: q for q in selectors.questions_of(assignment) if q.round}


def student_status(terms: selectors.Terms, submissions: list[Submission], now=None) -> tuple[str, str]:
    """The home page's status of one assignment for one student: (text, Bootstrap colour)."""
    now = now or timezone.now()
    submitted = [s for s in submissions if not s.is_draft]
    has_draft = any(s.is_draft for s in submissions)
    closed = not terms.is_open(now)
    if not terms.has_opened(now):
        return _("Not open yet"), "secondary"
    if submitted:
        count = {"n": len(submitted), "max": terms.max_attempts}
        if terms.practice:
            text = (_("Practice: %(n)s submitted · new draft") if has_draft
                    else _("Practice: %(n)s submitted")) % count
        else:
            text = (_("Submitted %(n)s of %(max)s · new draft") if has_draft
                    else _("Submitted %(n)s of %(max)s")) % count
        return (_("%(status)s · closed") % {"status": text}, "secondary") if closed else (text, "success")
    if closed:
        return (_("Closed · draft never submitted"), "danger") if has_draft else (_("Closed"), "danger")
    return (_("Draft"), "warning") if has_draft else (_("Not started"), "light")


def version_ms(submission: Submission | None) -> str:
    """A draft's version for the autosave script: its last save, in ms since the epoch."""
    return str(int(submission.updated_at.timestamp() * 1000)) if submission else ""


def svg_response(svg: bytes) -> HttpResponse:
    """An SVG image that cannot run script even when opened on its own."""
    response = HttpResponse(svg, content_type="image/svg+xml")
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, max-age=300"
    return response


def job_progress(job: Any) -> JsonResponse:
    """A staff job's progress as JSON, for its page's poll (progress.js)."""
    return JsonResponse({"status": job.status, "status_text": str(job.get_status_display()),
                         "done": job.done, "total": job.total, "finished": job.finished_at is not None})
