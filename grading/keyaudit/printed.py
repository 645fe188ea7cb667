"""A lecturer's printed key, read from JSON, CSV or text pasted from a handout, as printed text.

No Django here. Each printed number keeps its text ("0.177970" keeps its six places: its
precision is part of what was printed). Three forms:

* JSON of the ANSWERS.json shape: ``{"rounds": [{"round": 1, "parameters": {"w11": "0.2"},
  "forward": {...}, "backward": {...}, "updated": {...}}]}``, the values as strings;
* CSV with the header ``round,column,name,value``;
* text: lines like ``$b_2 = 0.106239$``, ``w_{11} = 0.236722`` or ``\\frac{dL}{dw_{12}} = 0.058278``,
  any number of them a line (a table row copied with its tabs), under round headings like
  "2nd round" or "Round 2"; the columns are found from the problem's cells
  (``resolve_columns``).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import Any

from grading.engine.text import Text, _

COLUMNS = ("parameters", "forward", "backward", "updated")
MAX_CHARS = 1_000_000
MAX_TEXT = 40  # characters of one printed number
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")
# What follows an "=" when it is a cell's value: a token that starts like a number and ends
# where the cell does (a space, a tab, $, |, \). A formula (1/(1 + e^{-s_1})) keeps going.
_VALUE = re.compile(r"\s*\$?\s*([-+\u2212]?\.?\d[\w.,;]*)(?=$|[\s$|\\])")
_DELIMITER = re.compile(r"[$\t|]")
_HEADING = re.compile(r"^\W*(?:round\s*(\d+)|(\d+)\s*(?:st|nd|rd|th)\s+round)\b", re.IGNORECASE)
_FRAC = re.compile(r"^\\frac\{(?:d|\\partial)L\}\{(?:d|\\partial)(.+)\}$")


class PrintedKeyError(ValueError):
    """A printed key that cannot be read, with a message saying where (a ``grading.engine.text.Text``:
    ``str(exc)`` is in the reader's language)."""


@dataclass(frozen=True)
class Printed:
    """One printed number: its cell (round, column, display name) and its text as printed."""

    round: int
    column: str
    name: str
    text: str
    line: int | None = None  # where a CSV or text source has it, for messages

    @property
    def where(self) -> Text:
        if self.line is None:
            return _("round %(round)s %(column)s %(name)s", round=self.round, column=self.column, name=self.name)
        return _("line %(line)s: round %(round)s %(column)s %(name)s", line=self.line, round=self.round,
                 column=self.column, name=self.name)


def number_text(text: str, where: str) -> str:
    """The printed number's text, stripped and with a typeset minus made ASCII, or an error."""
    cleaned = text.strip().replace("\u2212", "-")
    if len(cleaned) > MAX_TEXT or not _NUMBER.fullmatch(cleaned):
        shown = cleaned if len(cleaned) <= MAX_TEXT else cleaned[:MAX_TEXT] + "..."
        raise PrintedKeyError(_("%(where)s: %(text)s is not a plain decimal number", where=where,
                                text=repr(shown)))
    return cleaned


def from_json(data: Any) -> list[Printed]:
    """The printed numbers of a key of the ANSWERS.json shape, values as strings."""
    if not isinstance(data, dict) or not isinstance(data.get("rounds"), list):
        raise PrintedKeyError(_('the printed key must be a JSON object with a "rounds" list'))
    printed = []
    for k, table in enumerate(data["rounds"]):
        where = f"rounds[{k}]"  # a path into the JSON: the same in every language
        if not isinstance(table, dict) or isinstance(table.get("round"), bool) \
                or not isinstance(table.get("round"), int):
            raise PrintedKeyError(_('%(where)s must be an object with an integer "round"', where=where))
        unknown = sorted(map(str, set(table) - {"round", *COLUMNS}))
        if unknown:
            raise PrintedKeyError(_("%(where)s has unknown keys: %(keys)s (columns are %(columns)s)",
                                    where=where, keys=", ".join(unknown), columns=", ".join(COLUMNS)))
        for column in COLUMNS:
            cells = table.get(column, {})
            if not isinstance(cells, dict):
                raise PrintedKeyError(_("%(where)s must be an object of name: printed text",
                                        where=f"{where}.{column}"))
            for name, text in cells.items():
                if not isinstance(text, str):
                    raise PrintedKeyError(_(
                        "%(where)s must be the printed text as a string (\"0.177970\" keeps its places; "
                        "a JSON number does not), got %(got)s", where=f"{where}.{column}.{name}",
                        got=str(text)[:40]))
                printed.append(Printed(table["round"], column, name,
                                       number_text(text, f"{where}.{column}.{name}")))
    return printed


def from_csv(text: str) -> list[Printed]:
    """The printed numbers of a CSV with the header ``round,column,name,value``."""
    _bounded(text)
    rows = csv.reader(text.splitlines())
    header = next(rows, None)
    if header is None or [h.strip().lower() for h in header] != ["round", "column", "name", "value"]:
        raise PrintedKeyError(_("line 1: the CSV header must be round,column,name,value"))
    printed = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != 4:
            raise PrintedKeyError(_("line %(line)s: expected 4 fields (round,column,name,value), "
                                    "got %(n)s", line=line, n=len(row)))
        round_text, column, name, value = (cell.strip() for cell in row)
        if not round_text.isdigit() or len(round_text) > 3:
            raise PrintedKeyError(_("line %(line)s: round must be a whole number, got %(got)s", line=line,
                                    got=repr(round_text[:20])))
        if column not in COLUMNS:
            raise PrintedKeyError(_("line %(line)s: column must be one of %(columns)s, got %(got)s",
                                    line=line, columns=", ".join(COLUMNS), got=repr(column[:20])))
        printed.append(Printed(int(round_text), column, name, number_text(value, _line(line)), line))
    return printed


def from_text(text: str) -> list[Printed]:
    """The printed numbers of text copied from a handout's tables, under round headings.

    Their columns are left empty: only the problem knows which names a column has
    (``resolve_columns`` fills them in).
    """
    _bounded(text)
    printed: list[Printed] = []
    round_no: int | None = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        heading = _HEADING.match(line)
        if heading:
            round_no = int(heading.group(1) or heading.group(2))
            line = line[heading.end():]  # "Round 4: $x_1 = 0.2$" has a cell after its heading
        for name_text, value in _cells(line):
            name = normalise_name(name_text)
            if round_no is None:
                raise PrintedKeyError(_('line %(line)s: %(name)s = %(value)s comes before any round '
                                        'heading (such as "Round 1" or "1st round")', line=line_no,
                                        name=name, value=value))
            printed.append(Printed(round_no, "", name, number_text(value, _line(line_no)), line_no))
    return printed


def resolve_columns(printed: list[Printed], columns_of: dict[tuple[int, str], tuple[str, ...]]
                    ) -> list[Printed]:
    """``printed`` with every empty column filled in from the problem's own cells.

    ``columns_of`` maps (round, name) to the columns that have a cell of that name. A name of
    one column is in it. A name of two (a w or b: parameters and updated) is the updated one
    when a forward or backward cell came before it in its round and the updated one is not
    printed yet, else the parameter: so a table copied row by row (the updated w11 beside x1,
    the parameter w11 rows below) and one copied column by column both read right.
    """
    out: list[Printed] = []
    seen: set[tuple[int, str, str]] = set()
    computed: set[int] = set()  # rounds in which a forward or backward cell came already
    for item in printed:
        if item.column:
            out.append(item)
            continue
        columns = columns_of.get((item.round, item.name), ())
        if not columns:
            raise PrintedKeyError(_("line %(line)s: round %(round)s has no cell named %(name)s",
                                    line=item.line, round=item.round, name=repr(item.name)))
        if len(columns) == 1:
            column = columns[0]
        elif item.round in computed and (item.round, "updated", item.name) not in seen:
            column = "updated"
        else:
            column = "parameters" if (item.round, "parameters", item.name) not in seen else "updated"
        if column in ("forward", "backward"):
            computed.add(item.round)
        seen.add((item.round, column, item.name))
        out.append(Printed(item.round, column, item.name, item.text, item.line))
    return out


def _line(number: int) -> Text:
    return _("line %(line)s", line=number)


def _bounded(text: str) -> None:
    if len(text) > MAX_CHARS:
        raise PrintedKeyError(_("the printed key is longer than %(n)s characters", n=MAX_CHARS))


def _cells(line: str) -> list[tuple[str, str]]:
    """(name text, number text) of every ``name = ... = number`` of one line, left to right.

    Linear in the line: an ``=`` not followed by a number (``f_1 = \\frac{1}{1 + e^{-s_1}} =
    0.613014``) keeps the cell open, so the number after the last ``=`` is the cell's, unless a
    new cell starts after it (a ``$``, a tab or a ``|``).
    """
    parts = line.split("=")
    cells, name_text = [], parts[0]
    for part in parts[1:]:
        value = _VALUE.match(part)
        if value:
            # "0.4," ends a cell in a list; "0,46" and "0.4.5" are then refused as numbers.
            cells.append((name_text, value.group(1).rstrip(",;")))
            name_text = part[value.end():]
        elif _DELIMITER.search(part):
            name_text = part  # "(lr = 1): $x_1 = 0.2$": a new cell starts after the $
    return cells


def normalise_name(text: str) -> str:
    """``w_{11}``, ``$\\frac{dL}{dw_{12}}``, ``(y_1 - f_1)^2`` as the key names them: w11, dL/dw12, (y1-f1)^2."""
    chunks = [c for c in _DELIMITER.split(text) if c.strip()]
    name = re.sub(r"\s|\\[,;!]|\\left|\\right|\*", "", chunks[-1] if chunks else "").lstrip(":;,.")
    name = name.replace("\u2212", "-")
    frac = _FRAC.match(name)
    if frac:
        name = "dL/d" + frac.group(1)
    return name.replace("_", "").replace("{", "").replace("}", "")
