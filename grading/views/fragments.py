"""Rendered HTML kept per process for the pages a class reads again and again at a deadline.

Only what its key fixes is kept, so nothing kept can go stale:
- a ledger record's feedback tables: a record never changes once written (append-only), and the
  key names the record, the reader's language, whether expected values show, and the headings'
  questions;
- a ledger record's marks as a student reads them (scores, mistakes, Q1 verdicts): keyed as its
  tables, and by the assignment's reveal rule, whose words say why expected values are hidden;
- the empty skeleton of a problem's entry tables and its given values: keyed by the engine's key
  object for that problem (held weakly and compared by identity: an id reused for another
  problem never matches, and the store keeps no key alive), the decimals, read-only or not, the language and the questions. A student's
  own values are then filled into the skeleton's input slots: no table is rebuilt per request.

Bounded (256 entries, least recently used out first); each process keeps its own, as it keeps
parsed reports.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from html import escape, unescape
from typing import Any, TypeVar

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from grading import selectors
from grading.templatetags import site_chrome
from grading.templatetags.round_tables import entry_round, feedback_round
from grading.views.common import band_text

T = TypeVar("T")
KEPT = 256  # an entry is a page's tables (about 60 kB of HTML for Homework 4.1)
_STORE: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()
_LOCK = threading.Lock()


def kept(key: tuple[Any, ...], build: Callable[[], T], *, holds: Any = None) -> T:
    """The value kept under ``key``, built once. ``holds``: an object the value depends on by
    identity (its id is part of ``key``); held weakly (the store never keeps an answer key alive)
    and compared on reading, so an id reused by another object is never mistaken for it."""
    with _LOCK:
        found = _STORE.get(key)
        if found is not None and (found[0] is None if holds is None else found[0]() is holds):
            _STORE.move_to_end(key)
            return found[1]
    value = build()
    with _LOCK:
        _STORE[key] = (None if holds is None else weakref.ref(holds), value)
        while len(_STORE) > KEPT:
            _STORE.popitem(last=False)
    return value


def forget() -> None:
    """Empty the store and the site's kept header and footer (tests start from nothing)."""
    with _LOCK:
        _STORE.clear()
    site_chrome.forget()


def questions_signature(round_questions: Mapping[int, Any]) -> tuple[tuple[int, int, bool], ...]:
    """What a round's heading shows of its question: its number and whether it is extra credit."""
    return tuple((r, q.number, bool(q.extra_credit)) for r, q in sorted(round_questions.items()))


# ---------------------------------------------------------------- the entry tables

# An input's empty value attribute, after its name in the same tag (the entry cells write
# name="..." then value="..."; nothing else in a tag between them is a name or a tag).
_SLOT = re.compile(r'<input\b[^<>]*?\sname="([^"<>]*)"[^<>]*?\svalue=""')


class EntrySkeleton:
    """A problem's entry tables with every input's value left out: text pieces, and between
    each two pieces the input whose value goes there."""

    def __init__(self, html: str) -> None:
        self.pieces: list[str] = []
        self.names: list[str] = []
        last = 0
        for match in _SLOT.finditer(html):
            self.names.append(unescape(match.group(1)))
            self.pieces.append(html[last:match.end() - 1])  # up to the value's closing quote
            last = match.end() - 1
        self.pieces.append(html[last:])

    def fill(self, values: Mapping[str, str]) -> SafeString:
        out = [self.pieces[0]]
        for name, piece in zip(self.names, self.pieces[1:]):
            out.append(escape(values.get(name, ""), quote=True))
            out.append(piece)
        return mark_safe("".join(out))  # noqa: S308 - our own HTML with escaped values


def entry_tables(spec: Any, *, values: Mapping[str, str], decimals: int, readonly: bool,
                 round_questions: Mapping[int, Any]) -> SafeString | None:
    """The entry tables with ``values`` filled in, from the problem's kept skeleton; None when
    a value is not a number (its message and invalid state are drawn by the full render)."""
    key_object = selectors.answer_key(spec)
    signature = questions_signature(round_questions)

    def build() -> EntrySkeleton:
        from grading.views.common import round_tables

        tables = round_tables(spec, values={}, decimals=decimals)
        last = len(tables) - 1
        return EntrySkeleton("".join(entry_round(t, spec, round_questions, readonly, k == last)
                                     for k, t in enumerate(tables)))

    skeleton = kept(("entry", id(key_object), decimals, readonly, get_language(), signature), build,
                    holds=key_object)
    for name in skeleton.names:
        value = values.get(name, "")
        if value and selectors.number_problem(value):
            return None
    return skeleton.fill(values)


def given_values(spec: Any, *, decimals: int, variant_note: str) -> SafeString:
    """The drawing, the initial weights and the samples of a problem: the same for every reader
    of one problem in one language."""
    key_object = selectors.answer_key(spec)

    def build() -> SafeString:
        from grading.views.common import round_tables

        tables = round_tables(spec, values={}, decimals=decimals)
        return mark_safe(render_to_string("grading/includes/given_values.html", {  # noqa: S308
            "spec": spec, "tables": tables, "variant_note": variant_note,
            "samples": list(enumerate(spec.samples, start=1))}))

    return kept(("given", id(key_object), decimals, get_language(), variant_note), build, holds=key_object)


# ---------------------------------------------------------------- feedback

def feedback_tables(submission: Any, record: Any, build_tables: Callable[[], list[Any]], *, spec: Any,
                    show_expected: bool, round_questions: Mapping[int, Any],
                    mistake_titles: Mapping[str, str]) -> SafeString:
    """A submitted attempt's feedback tables as ledger record ``record`` marks them (typed values
    only while it is None: not graded yet), rendered once per attempt, record, language and
    reveal: an attempt and its records never change."""
    def build() -> SafeString:
        return mark_safe("".join(feedback_round(t, spec, round_questions, mistake_titles)  # noqa: S308
                                 for t in build_tables()))

    key = ("feedback", submission.pk, submission.state, record.pk if record is not None else None,
           record.created_at if record is not None else None, show_expected, get_language(),
           questions_signature(round_questions))
    return kept(key, build)


def feedback_report(submission: Any, record: Any, *, show_expected: bool, reveal: str,
                    build: Callable[[], str]) -> SafeString:
    """A student's reading of ledger record ``record``: the tolerance note, the staff's changes,
    the score per question, the named mistakes and the Q1 verdicts, rendered once per attempt,
    record, language, reveal and the assignment's reveal rule (which words say why expected
    values are hidden). A record never changes; staff see it drawn live, with their forms."""
    key = ("report", submission.pk, record.pk, record.created_at, show_expected, reveal, get_language())
    return kept(key, lambda: mark_safe(build()))  # noqa: S308 - our own template's output


def page_help(*, layered: bool, decimals: int, update: bool = False) -> dict[str, SafeString]:
    """The assignment page's fixed help (the tolerance note, Q1's writing help, the spreadsheet
    note), drawn once per language, network depth (one layer or more), decimals and whether Q1
    has the update rows (their reading rule)."""
    def build() -> dict[str, SafeString]:
        context = {"layered": layered, "decimals": decimals, "band": band_text(decimals), "update": update}
        return {name: render_to_string(f"grading/includes/help_{name}.html", context)
                for name in ("tolerance", "q1", "sheet")}
    return kept(("page-help", get_language(), layered, decimals, update), build)
