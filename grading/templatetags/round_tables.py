"""The round tables of the entry, feedback and key pages, built in Python with format_html.

One table per column of a round (Parameters, Forward pass, Backward pass, Updated parameters),
side by side on a wide screen and one under another on a phone: the focus then goes down a
column and on to the next, as students work, and nothing needs sideways scrolling. Each input's
accessible name says round, column and cell ("Round 2, updated parameters, w11"). No per-cell
template include: a round of 46 cells is a few string joins, not 46 template renders. Every
value from outside (what a student typed, a message) goes through ``esc`` (the standard
library's html.escape: Django's escape is lazy-aware and five times slower on 160 cells);
labels are our own HTML from ``cell_label``.
"""

from __future__ import annotations

from functools import lru_cache
from html import escape as _escape
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from grading import selectors
from grading.templatetags.grading_tags import answer_mathml, cell_label, status_colour, status_symbol, status_words

register = template.Library()


def column_titles() -> dict[str, str]:
    """The four column titles, in the reader's language."""
    return {"parameters": _("Parameters"), "forward": _("Forward pass"),
            "backward": _("Backward pass"), "updated": _("Updated parameters")}


def column_words() -> dict[str, str]:
    """The columns as an accessible name says them, in the middle of a sentence."""
    return {"parameters": _("parameters"), "forward": _("forward pass"),
            "backward": _("backward pass"), "updated": _("updated parameters")}


def esc(value: Any) -> str:
    """HTML-escaped text of ``value`` (quotes included: safe inside an attribute)."""
    return _escape(str(value), quote=True)


_LABELS: dict[tuple[Any, ...], SafeString] = {}


def _label(name: str, spec: Any) -> SafeString:
    # A label depends on the layer sizes only; keyed by them, not by the spec (hashing a spec
    # costs more than the label).
    key = (name, spec.sizes, getattr(spec, "batch", 1), getattr(getattr(spec, "optimizer", None), "kind", "sgd"))
    label = _LABELS.get(key)
    if label is None:
        if len(_LABELS) > 8192:
            _LABELS.clear()
        label = _LABELS[key] = cell_label(name, spec)
    return label


def label_of(cell: Any, spec: Any) -> SafeString:
    """A cell's label as HTML (s<sub>1</sub><sup>[2]</sup>), cached per name and layer sizes."""
    return _label(cell.name, spec)


@lru_cache(maxsize=64)
def _words(language: str | None) -> dict[str, str]:
    return column_words()


def accessible_name(cell: Any) -> str:
    """What a screen reader says for an input: "Round 2, forward pass, layer 1, s1"."""
    return _accessible_name(cell.round, cell.column, cell.layer, cell.plain, get_language())


@lru_cache(maxsize=8192)
def _accessible_name(round_no: int, column: str, layer: int | None, plain: str, language: str | None) -> str:
    words = _words(language)[column]
    if layer is not None:
        return _("Round %(round)s, %(column)s, layer %(layer)s, %(cell)s") % {
            "round": round_no, "column": words, "layer": layer, "cell": plain}
    return _("Round %(round)s, %(column)s, %(cell)s") % {"round": round_no, "column": words, "cell": plain}


def _heading(table: Any, round_questions: Any, *, entry: bool) -> SafeString:
    q = round_questions.get(table.round) if round_questions else None
    prefix = format_html("Q{} · ", q.number) if q else ""
    title = _("Round %(round)s") % {"round": table.round}
    if table.round == 1 and entry:
        title = _("Round %(round)s (initialization step)") % {"round": table.round}
    badge = format_html(' <span class="badge text-bg-warning fw-normal">{}</span>', _("extra credit")) \
        if q is not None and q.extra_credit else ""
    return format_html('<h2 class="h5" id="round-{}-title">{}{}{}</h2>', table.round, prefix, title, badge)


def _columns(table: Any) -> list[list[tuple[str, Any]]]:
    """Per column, its entries in table order: ("band", title) or ("cell", TableCell)."""
    out: list[list[tuple[str, Any]]] = [[], [], [], []]
    for title, rows in table.groups:
        for k in range(4):
            mine = [row[k] for row in rows if k < len(row) and row[k] is not None]
            if title and mine:
                out[k].append(("band", title))
            out[k].extend(("cell", c) for c in mine)
    return out


def _round(table: Any, spec: Any, round_questions: Any, cell_html: Any, *, entry: bool,
           extra_class: str = "", before: SafeString | str = "", after: SafeString | str = "") -> SafeString:
    titles = column_titles()
    columns = []
    for k, (column, entries) in enumerate(zip(titles, _columns(table))):
        if not entries:
            continue
        rows = [f'<tr class="layer-band"><th colspan="2" scope="rowgroup" class="table-secondary">{esc(item)}</th></tr>'
                if kind == "band" else cell_html(item, spec) for kind, item in entries]
        caption = esc(_("Round %(round)s · %(column)s") % {"round": table.round, "column": titles[column]})
        columns.append(f'<table class="table table-bordered table-sm round-column {extra_class}" data-col="{k}">'
                       f'<caption>{caption}</caption><tbody>{"".join(rows)}</tbody></table>')
    r = table.round
    # Every piece is escaped text or our own HTML (labels, format_html), so the whole is safe.
    return mark_safe(  # noqa: S308
        f'<section class="round-section mb-4" id="round-{r}" tabindex="-1" aria-labelledby="round-{r}-title">'
        f'{_heading(table, round_questions, entry=entry)}{before}<div class="round-grid" data-round="{r}">'
        f'{"".join(columns)}</div>{after}</section>')


# ---------------------------------------------------------------- the entry tables


def _entry_cell(readonly: bool) -> Any:
    given_word = esc(_("(given)"))
    disabled = " disabled" if readonly else ""

    def html(cell: Any, spec: Any) -> str:
        label = label_of(cell, spec)
        place = f'data-round="{cell.round}" data-col="{cell.col}" data-row="{cell.row}"'
        if cell.input_name is None:
            given = esc(cell.given)
            return (f'<tr class="given-row"><th scope="row" class="cell-name">{label} =</th>'
                    f'<td class="given-cell"><span class="num" data-given="{given}" {place}>{given}</span> '
                    f'<span class="visually-hidden">{given_word}</span></td></tr>')
        ident = esc(cell.input_name)
        invalid = bool(cell.has_error or cell.problem)
        aria = f' aria-invalid="true" aria-describedby="problem-{ident}"' if invalid else ""
        return (f'<tr><th scope="row" class="cell-name"><label for="in-{ident}">{label}</label> =</th>'
                f'<td class="entry-cell{" table-danger" if cell.has_error else ""}">'
                f'<input class="form-control form-control-sm cell-input{" is-invalid" if invalid else ""}" '
                f'type="text" id="in-{ident}" name="{ident}" value="{esc(cell.value)}" data-answer data-cell '
                f'{place} aria-label="{esc(accessible_name(cell))}" inputmode="decimal" enterkeyhint="next" '
                f'autocomplete="off" spellcheck="false"'
                f'{aria}{disabled}>'
                f'<div class="cell-problem invalid-feedback d-block small" id="problem-{ident}" '
                f'data-problem-for="{ident}">{esc(cell.problem)}</div></td></tr>')
    return html


def _given_strip(table: Any, spec: Any) -> SafeString:
    """The round's given values in one compact line, kept in view while typing on a phone."""
    given = [c for row in table.rows for c in row if c is not None and c.input_name is None]
    items = format_html_join(" ", '<span class="given-item"><span class="cell-name">{}</span> = '
                                  '<span class="num">{}</span></span>',
                             ((label_of(c, spec), c.given) for c in given))
    return format_html('<p class="round-given small mb-2" id="round-{}-given"><span class="fw-semibold">{}</span> {}</p>',
                       table.round, _("Given in round %(round)s:") % {"round": table.round}, items)


@register.simple_tag
def entry_round(table: Any, spec: Any, round_questions: Any, readonly: bool, last: bool) -> SafeString:
    """One round's entry tables: skip link, given values, copy button, one table per column."""
    if last:
        skip = format_html('<a class="skip-link visually-hidden-focusable" href="#after-rounds">{}</a>',
                           _("Skip past round %(round)s to the buttons") % {"round": table.round})
    else:
        skip = format_html('<a class="skip-link visually-hidden-focusable" href="#round-{}">{}</a>',
                           table.round + 1, _("Skip to round %(round)s") % {"round": table.round + 1})
    tools = "" if readonly else format_html(
        '<div class="round-tools mb-2"><button type="button" class="btn btn-sm btn-outline-secondary" '
        'data-copy-round="{}">{}</button></div>',
        table.round, _("Copy round %(round)s as tab-separated text") % {"round": table.round})
    status = "" if readonly else format_html(
        '<p class="round-status small text-body-secondary mb-2" id="round-{}-status" role="status" '
        'aria-live="polite"></p>', table.round)
    before = format_html("{}{}{}{}", skip, _given_strip(table, spec), tools, status)
    return _round(table, spec, round_questions, _entry_cell(readonly), entry=True, before=before)


@register.simple_tag
def formula_tables(sides: Any, spec: Any, readonly: bool) -> SafeString:
    """Q1's entry: one table per side (forward, backward), each row a label, its input and the
    preview of what was typed, built in one pass (no template loop per row)."""
    disabled = " disabled" if readonly else ""
    tables = []
    for side in sides:
        rows = []
        for f in side["rows"]:
            name, value = esc(f["name"]), esc(f["value"])
            rows.append(f'<tr><th scope="row"><label class="cell-name" for="in-{name}">{_label(str(f["row"]), spec)}'
                        f'</label> =</th><td><input class="form-control form-control-sm formula-input" type="text" '
                        f'id="in-{name}" name="{name}" value="{value}" data-answer data-formula autocomplete="off" '
                        f'spellcheck="false" enterkeyhint="next"{disabled}><div class="formula-preview small" '
                        f'data-preview-for="{name}" aria-live="polite">{answer_mathml(f["value"], f["row"], spec)}'
                        f'</div></td></tr>')
        tables.append(f'<table class="table table-bordered table-sm formula-table"><caption>{esc(side["title"])}'
                      f'</caption><tbody>{"".join(rows)}</tbody></table>')
    # Every piece is escaped text or our own HTML (labels, the MathML preview).
    return mark_safe(f'<div class="formula-grid">{"".join(tables)}</div>')  # noqa: S308


# ---------------------------------------------------------------- feedback and key


def _given_row(label: str, cell: Any, note: str) -> str:
    """A given value's row in the feedback and key tables (``note`` already escaped)."""
    return (f'<tr class="given-row"><th scope="row" class="cell-name">{label} =</th><td class="given-cell">'
            f'<span class="num">{esc(cell.given)}</span> <span class="small text-body-secondary">{note}</span></td></tr>')


def _mark_cell(mistake_titles: Any) -> Any:
    words = {k: esc(v) for k, v in (("given", _("(given)")), ("blank", _("(blank)")), ("uses", _("Uses your")),
                                     ("mistake", _("Mistake:")), ("expected", _("Expected")))}
    titles = mistake_titles or {}

    def html(cell: Any, spec: Any) -> str:
        label = label_of(cell, spec)
        if cell.input_name is None:
            return _given_row(label, cell, words["given"])
        m = cell.mark
        status = esc(m.status) if m else "blank"
        typed = (f'<code class="typed">{esc(cell.value)}</code>' if cell.value
                 else f'<span class="text-body-secondary">{words["blank"]}</span>')
        badge = (f'<span class="badge text-bg-{status_colour(m.status)} status-badge"><span aria-hidden="true">'
                 f'{status_symbol(m.status)}</span> {esc(status_words(m.status))}</span>') if m else ""
        parts = [f'<div class="d-flex justify-content-between gap-2"><span>{typed}</span>{badge}</div>']
        if m and m.message and m.message != m.status:
            parts.append(f'<div class="small mark-message">{esc(m.message)}</div>')
        if m and m.mistake and cell.uses:  # as typed (views.common._quote_uses)
            uses = ", ".join(f"{_label(name, spec)} = {esc(shown)}" for name, shown in cell.uses)
            parts.append(f'<div class="small text-body-secondary">{words["uses"]} {uses}</div>')
        if m and m.mistake:
            parts.append(f'<div class="small"><span class="badge text-bg-light border">{words["mistake"]} '
                         f'{esc(titles.get(m.mistake, m.mistake))}</span></div>')
        if cell.expected:
            parts.append(f'<div class="small text-body-secondary">{words["expected"]} {esc(cell.expected)}</div>')
        return (f'<tr id="cell-{esc(cell.input_name)}"><th scope="row" class="cell-name">{label} =</th>'
                f'<td class="mark-cell mark-{status}">{"".join(parts)}</td></tr>')
    return html


@register.simple_tag
def feedback_round(table: Any, spec: Any, round_questions: Any, mistake_titles: Any) -> SafeString:
    """One round of the feedback page: each typed value with its mark, message and mistake."""
    return _round(table, spec, round_questions, _mark_cell(mistake_titles), entry=False,
                  extra_class="feedback-table")


def _key_cell(cell: Any, spec: Any) -> str:
    label = label_of(cell, spec)
    if cell.input_name is None:
        return _given_row(label, cell, esc(_("(given)")))
    return f'<tr><th scope="row" class="cell-name">{label} =</th><td><span class="num">{esc(cell.expected)}</span></td></tr>'


@register.simple_tag
def key_round(table: Any, spec: Any, round_questions: Any) -> SafeString:
    """One round of the answer key: every cell's value from the engine."""
    return _round(table, spec, round_questions, _key_cell, entry=False, extra_class="key-table")


__all__ = ["accessible_name", "column_titles", "entry_round", "feedback_round", "formula_tables", "key_round"]
