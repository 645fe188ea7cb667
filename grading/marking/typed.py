"""Reading a submission's answers JSON: its round tables, and each cell's text as typed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from grading.engine import json_repr
from grading.marking.numbers import Blank, ParsedNumber, Unreadable, parse_number

MAX_GIVEN = 200  # what is echoed back of a typed value; longer text is never a number anyway


def typed_text(raw: Any) -> tuple[str, ParsedNumber]:
    """A cell's raw answer as the text shown back and its reading as a number."""
    if raw is None:
        return "", Blank()
    if isinstance(raw, str):
        return raw[:MAX_GIVEN], parse_number(raw)
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        # A script may write numbers rather than strings; read them as their JSON text.
        text = repr(raw)
        return text, parse_number(text)
    return json_repr(raw), Unreadable("not a typed value")


def answer_tables(answers: Any) -> dict[int, Mapping[str, Any]]:
    """The answers' round tables by round number; anything else in any shape is left out."""
    rounds = answers.get("rounds") if isinstance(answers, Mapping) else None
    out: dict[int, Mapping[str, Any]] = {}
    if not isinstance(rounds, list):
        return out
    for position, table in enumerate(rounds, start=1):
        if not isinstance(table, Mapping):
            continue
        r = table.get("round", position)
        if isinstance(r, bool) or not isinstance(r, int):
            r = position
        out.setdefault(r, table)
    return out
