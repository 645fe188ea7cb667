"""The answer form: one text input per typed cell and per Q1 row, read back into the answers shape.

Input names follow the table layout: ``r2.parameters.w11``, ``r1.forward.s1``,
``formulas.dL/ds1``. Anything else posted (junk names, the buttons) is ignored. Values are kept
exactly as typed (no stripping): marking reads them and the feedback page shows them back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms

from grading import services

if TYPE_CHECKING:
    from grading.engine import Spec


def cell_input_name(round_no: int, column: str, name: str) -> str:
    """The input name of one table cell, e.g. ``r1.forward.s1``."""
    return f"r{round_no}.{column}.{name}"


def formula_input_name(row: str) -> str:
    """The input name of one Q1 row, e.g. ``formulas.dL/ds1``."""
    return f"formulas.{row}"


def values_from_answers(spec: Spec, answers: Any) -> dict[str, str]:
    """Input name -> typed text, from stored answers (a draft or an earlier attempt)."""
    answers = answers if isinstance(answers, dict) else {}
    values: dict[str, str] = {}
    for table in answers.get("rounds") or ():
        if not isinstance(table, dict) or not isinstance(table.get("round"), int):
            continue
        for column in services.TABLE_COLUMNS:
            for name, text in (table.get(column) or {}).items():
                if isinstance(text, str):
                    values[cell_input_name(table["round"], column, name)] = text
    formulas = answers.get("formulas")
    for row, text in (formulas.items() if isinstance(formulas, dict) else ()):
        if isinstance(text, str):
            values[formula_input_name(row)] = text
    return values


class AnswerForm(forms.Form):
    """All of one student's answers to one assignment; every field optional, kept as typed."""

    def __init__(self, *args: Any, spec: Spec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spec = spec
        for key in services.typed_cells(spec):
            self.fields[cell_input_name(*key)] = forms.CharField(required=False, strip=False)
        for row in services.formula_rows(spec):
            self.fields[formula_input_name(row)] = forms.CharField(required=False, strip=False)

    def answers(self) -> dict[str, Any]:
        """The cleaned values in the answers shape: {"rounds": [...], "formulas": {...}}."""
        data = self.cleaned_data
        rounds: dict[int, dict[str, Any]] = {}
        for r, column, name in services.typed_cells(self.spec):
            text = data.get(cell_input_name(r, column, name)) or ""
            if text:
                rounds.setdefault(r, {"round": r}).setdefault(column, {})[name] = text
        formulas = {row: data[formula_input_name(row)] for row in services.formula_rows(self.spec)
                    if data.get(formula_input_name(row))}
        return {"rounds": [rounds.get(r, {"round": r}) for r in range(1, self.spec.n_rounds + 1)],
                "formulas": formulas}

    def error_lines(self) -> list[str]:
        """One readable line per field error, naming the cell ("round 1 s1: ...")."""
        lines = []
        for field, errors in self.errors.items():
            where = describe_input(field)
            lines.extend(f"{where}: {message}" for message in errors)
        return lines

    def raw_values(self) -> dict[str, str]:
        """What was posted for our own fields, as typed, to show back on a re-rendered page."""
        return {name: self.data.get(name, "") for name in self.fields
                if isinstance(self.data.get(name, ""), str)}


def describe_input(input_name: str) -> str:
    """``r1.forward.s1`` -> "round 1 s1"; ``formulas.dL/ds1`` -> "Q1 dL/ds1"."""
    if input_name.startswith("formulas."):
        return "Q1 " + input_name.removeprefix("formulas.")
    head, _, rest = input_name.partition(".")
    column, _, name = rest.partition(".")
    if column == "parameters":
        return f"round {head[1:]} parameter {name}"
    if column == "updated":
        return f"round {head[1:]} updated {name}"
    return f"round {head[1:]} {name}"


class FormulaReviewForm(forms.Form):
    """An instructor's decision on one undecided Q1 row."""

    row = forms.CharField(max_length=20)
    decision = forms.ChoiceField(choices=[("accept", "Accept"), ("reject", "Reject")])
    note = forms.CharField(max_length=500, required=False)

    @property
    def accepted(self) -> bool:
        return self.cleaned_data["decision"] == "accept"
