"""The forms: the answer form (one input per typed cell and Q1 row) and the staff's forms.

A cell's input name is its stable id (``r2.parameters.w11``, ``r2.forward.s1[2]`` with layers:
the engine's ``Cell.id``); a Q1 row's is ``formulas.dL/ds1``. Anything else posted (junk names, the buttons) is ignored.
Values are kept exactly as typed (no stripping): marking reads them and the feedback page
shows them back.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext, gettext_lazy as _

from grading import selectors

if TYPE_CHECKING:
    from grading.engine import Cell, Spec


def formula_input_name(row: str) -> str:
    """The input name of one Q1 row, e.g. ``formulas.dL/ds1``."""
    return f"formulas.{row}"


def _cells_by_place(spec: Spec) -> dict[tuple[int, str, str], Cell]:
    return {(k.round, k.column, k.name): k for k in selectors.typed_cells(spec)}


def values_from_answers(spec: Spec, answers: Any) -> dict[str, str]:
    """Input name -> typed text, from stored answers (a draft or an earlier attempt)."""
    answers = answers if isinstance(answers, dict) else {}
    cells = _cells_by_place(spec)
    values: dict[str, str] = {}
    for table in answers.get("rounds") or ():
        if not isinstance(table, dict) or not isinstance(table.get("round"), int):
            continue
        for column in selectors.TABLE_COLUMNS:
            for name, text in (table.get(column) or {}).items():
                key = cells.get((table["round"], column, name))
                if key is not None and isinstance(text, str):
                    values[key.id] = text
    formulas = answers.get("formulas")
    for row, text in (formulas.items() if isinstance(formulas, dict) else ()):
        if isinstance(text, str):
            values[formula_input_name(row)] = text
    return values


def describe_cell(key: Any) -> str:
    """How a message names a cell: "round 1 s1", "round 2 parameter w11", "round 2 updated w11"
    (``key``: anything with its round, column and name, an engine cell or a report's mark)."""
    if key.column == "parameters":
        template = gettext("round %(round)s parameter %(cell)s")
    elif key.column == "updated":
        template = gettext("round %(round)s updated %(cell)s")
    else:
        template = gettext("round %(round)s %(cell)s")
    return template % {"round": key.round, "cell": key.name}


@lru_cache(maxsize=64)
def _answer_fields(spec: Spec) -> tuple[dict[str, Cell], dict[str, str]]:
    """Input name -> cell, and input name -> Q1 row, of one spec (built once per spec)."""
    return ({key.id: key for key in selectors.typed_cells(spec)},
            {formula_input_name(row): row for row in selectors.formula_rows(spec)})


class AnswerForm:
    """All of one student's answers to one assignment, read from a post: one free-text input per
    typed cell and per Q1 row, every one optional and kept exactly as typed.

    Not a django.forms.Form: there is nothing to validate field by field (what a typed value
    means is the marking's business, its length the service's), and building 160 form fields
    per autosave cost more than the save itself.
    """

    def __init__(self, data: Any, *, spec: Spec) -> None:
        self.data, self.spec = data, spec
        self.cells, self.rows = _answer_fields(spec)
        self.errors: dict[str, list[str]] = {}
        for name in (*self.cells, *self.rows):
            value = data.get(name) if name in data else ""
            if not isinstance(value, str):
                self.errors[name] = [gettext("must be text")]
            elif "\x00" in value:  # the database cannot store it
                self.errors[name] = [gettext("Null characters are not allowed.")]
        self.is_bound = True

    @property
    def fields(self) -> list[str]:
        return [*self.cells, *self.rows]

    def is_valid(self) -> bool:
        return not self.errors

    def posted_any(self) -> bool:
        """Whether the request carried at least one of this form's own fields."""
        return any(name in self.data for name in self.cells) or any(name in self.data for name in self.rows)

    def carried(self) -> list[str]:
        """The form's own fields this request carried (a save changes only these)."""
        return [name for name in self.fields if name in self.data]

    def base(self) -> int | None:
        """The draft version the page was based on (the ``base`` field), None when absent;
        ValueError when it is not a whole number."""
        text = self.data.get("base", "")
        if not text:
            return None
        if not isinstance(text, str) or not text.isdigit() or len(text) > 12:
            raise ValueError(text)
        return int(text)

    def answers(self) -> dict[str, Any]:
        """The typed values in the answers shape: {"rounds": [...], "formulas": {...}}."""
        rounds: dict[int, dict[str, Any]] = {}
        for name, key in self.cells.items():
            text = self.data.get(name) or ""
            if text:
                rounds.setdefault(key.round, {"round": key.round}).setdefault(key.column, {})[key.name] = text
        formulas = {row: self.data[name] for name, row in self.rows.items() if self.data.get(name)}
        return {"rounds": [rounds.get(r, {"round": r}) for r in range(1, self.spec.n_rounds + 1)],
                "formulas": formulas}

    def describe(self, field_name: str) -> str:
        """How a message names an input: "round 1 s1", "Q1 dL/ds1"."""
        if field_name in self.rows:
            return gettext("Q1 %(row)s") % {"row": self.rows[field_name]}
        key = self.cells.get(field_name)
        return describe_cell(key) if key is not None else field_name

    def error_lines(self) -> list[str]:
        """One readable line per field error, naming the cell ("round 1 s1: ...")."""
        return [f"{self.describe(field)}: {message}"
                for field, errors in self.errors.items() for message in errors]

    def raw_values(self) -> dict[str, str]:
        """What was posted for our own fields, as typed, to show back on a re-rendered page."""
        return {name: self.data.get(name, "") for name in self.fields
                if isinstance(self.data.get(name, ""), str)}


# ---------------------------------------------------------------- staff and student forms


class FormulaReviewForm(forms.Form):
    """Staff's decision on one undecided Q1 row."""

    row = forms.CharField(max_length=40)
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("reject", _("Reject"))])
    note = forms.CharField(max_length=2000, required=False)
    based_on = forms.IntegerField(required=False, min_value=1)

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["decision"] == "accept"


class RootReviewForm(forms.Form):
    """Staff's decision on a root of carried credit no honest slip explains (its cell id)."""

    root = forms.CharField(max_length=60)
    decision = forms.ChoiceField(choices=[("accept", _("Accept")), ("decline", _("Decline"))])
    note = forms.CharField(max_length=2000, required=False)
    based_on = forms.IntegerField(required=False, min_value=1)

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["decision"] == "accept"


class OverrideForm(forms.Form):
    """Staff set one mark: a cell's or a Q1 row's status and credit, a question's points, the total."""

    kind = forms.ChoiceField(choices=[("cell", _("Cell")), ("formula", _("Q1 row")),
                                      ("question", _("Question")), ("total", _("Total"))])
    target = forms.CharField(max_length=60, required=False)
    status = forms.ChoiceField(required=False, choices=[
        ("", "—"), ("correct", _("correct")), ("carried", _("carried")),
        ("not_chained", _("equivalent, not chained")), ("incorrect", _("incorrect"))])
    credit = forms.FloatField(required=False, min_value=0, max_value=1)
    points = forms.FloatField(required=False, min_value=0)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Say why the grade changes.")})
    note = forms.CharField(max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("Shown to the student (optional)."))
    based_on = forms.IntegerField(required=False, min_value=1)

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        kind = data.get("kind")
        if kind in ("cell", "formula"):
            if not data.get("status"):
                self.add_error("status", forms.ValidationError(_("Choose the mark."), code="required"))
            if data.get("credit") is None and data.get("status"):
                # The usual credit of a mark, so that staff need not type it.
                data["credit"] = {"correct": 1.0, "carried": 1.0, "not_chained": 0.5}.get(data["status"], 0.0)
        elif kind in ("question", "total") and data.get("points") is None:
            self.add_error("points", forms.ValidationError(_("Give the points."), code="required"))
        if kind != "total" and not data.get("target"):
            self.add_error("target", forms.ValidationError(_("Choose what to change."), code="required"))
        return data

    def change(self) -> dict[str, Any]:
        """The change, as ``services.Change`` takes it."""
        data = self.cleaned_data
        return {"kind": data["kind"], "target": data["target"] if data["kind"] != "total" else "",
                "status": data.get("status") or "", "credit": data.get("credit"),
                "points": data.get("points")}


class ReviewRequestForm(forms.Form):
    """A student asks for a cell, a question or the attempt to be looked at again."""

    target = forms.CharField(max_length=60, required=False)
    message = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": _("Say what you would like staff to look at.")})


class ReplyForm(forms.Form):
    """Staff answer a student's request: no change, or a change of one mark (with the override fields)."""

    message = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                              error_messages={"required": _("Write a reply the student will read.")})


class RegradeForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False)
    apply = forms.BooleanField(required=False)
    reviewed = forms.IntegerField(required=False, min_value=1)  # the dry run being applied


class WithdrawForm(forms.Form):
    """Staff take back what they set on one mark: the grade goes back to the automatic one."""

    kind = forms.ChoiceField(choices=[("cell", _("Cell")), ("formula", _("Q1 row")),
                                      ("question", _("Question")), ("total", _("Total"))])
    target = forms.CharField(max_length=60, required=False)
    reason = forms.CharField(max_length=2000, error_messages={"required": _("Say why the grade changes.")})
    based_on = forms.IntegerField(required=False, min_value=1)


class ExtensionForm(forms.Form):
    """An instructor gives one student a later due time and/or extra attempts."""

    username = forms.CharField(max_length=150)
    due_at = forms.DateTimeField(required=False, help_text=_("This student's due time (the course's time zone)."),
                                 widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    extra_attempts = forms.IntegerField(min_value=0, max_value=50, initial=0)
    reason = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                             error_messages={"required": _("Say why (kept in the audit list).")})

    def __init__(self, data: Any = None, *, assignment: Any) -> None:
        super().__init__(data)
        self.assignment = assignment

    def clean(self) -> dict[str, Any]:
        """Every error at once: the username and the due time are checked with the reason."""
        super().clean()
        data = self.cleaned_data
        if data.get("username"):
            data["student"] = selectors.course_student(self.assignment.course, data["username"])
            if data["student"] is None:
                self.add_error("username", forms.ValidationError(
                    _("No student of this course has that username."), code="not_student"))
        if data.get("due_at") is not None and data["due_at"] <= self.assignment.due_at:
            self.add_error("due_at", forms.ValidationError(
                _("The new due time must be after the assignment's own."), code="not_later"))
        return data


class RosterForm(forms.Form):
    """A roster CSV to import: username, email, name (header optional)."""

    file = forms.FileField(required=False)
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 6}),
                           help_text=_("Or paste the CSV here."))
    passwords = forms.BooleanField(required=False,
                                   help_text=_("Make a password for each new account (shown once)."))

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        upload = data.get("file")
        if upload is not None:
            raw = upload.read(1_000_001)
            try:
                data["text"] = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise forms.ValidationError(_("The file is not UTF-8 text (save it as CSV UTF-8)."),
                                            code="encoding") from None
        if not (data.get("text") or "").strip():
            raise forms.ValidationError(_("Choose a CSV file or paste its lines."), code="empty")
        return data


class KeyAuditForm(forms.Form):
    """A printed answer key pasted by staff, to audit against the engine."""

    FORMATS = [("auto", _("Find out from the text")), ("text", _("Text copied from the handout")),
               ("csv", _("CSV: round,column,name,value")), ("json", _("JSON (the ANSWERS.json shape)"))]

    text = forms.CharField(label=_("The printed key"), max_length=200_000,
                           widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
                           error_messages={"required": _("Paste the printed key.")})
    format = forms.ChoiceField(label=_("Its form"), choices=FORMATS, initial="auto")

    def chosen_format(self) -> str:
        """The form of the pasted key: as chosen, or guessed from its first characters."""
        chosen = self.cleaned_data["format"]
        if chosen != "auto":
            return chosen
        text = self.cleaned_data["text"].lstrip("\ufeff \t\r\n")
        if text.startswith("{"):
            return "json"
        if text.split("\n", 1)[0].replace(" ", "").lower().startswith("round,column,name,value"):
            return "csv"
        return "text"
