"""The round tables of the entry, feedback and key pages, built in Python with format_html.

One table per column of a round (Parameters, Forward pass, Backward pass, Updated parameters),
side by side on a wide screen and one under another on a phone: the focus then goes down a
column and on to the next, as students work, and nothing needs sideways scrolling. Each input's
accessible name says round, column and cell ("Round 2, updated parameters, w11"). No per-cell
template include: a round of 46 cells is a few string joins, not 46 template renders.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from grading import selectors
from grading.templatetags.grading_tags import cell_label, status_colour, status_symbol, status_words

register = template.Library()


def column_titles() -> dict[str, str]:
    """The four column titles, in the reader's language."""
    return {"parameters": _("Parameters"), "forward": _("Forward pass"),
            "backward": _("Backward pass"), "updated": _("Updated parameters")}


def column_words() -> dict[str, str]:
    """The columns as an accessible name says them, in the middle of a sentence."""
    return {"parameters": _("parameters"), "forward": _("forward pass"),
            "backward": _("backward pass"), "updated": _("updated parameters")}


@lru_cache(maxsize=4096)
def _label(name: str, spec: Any) -> SafeString:
    return cell_label(name, spec)


def label_of(cell: Any, spec: Any) -> SafeString:
    """A cell's label as HTML (s<sub>1</sub><sup>[2]</sup>), cached per name and network."""
    return _label(cell.name, spec)


def accessible_name(cell: Any) -> str:
    """What a screen reader says for an input: "Round 2, forward pass, layer 1, s1"."""
    words = column_words()[cell.column]
    if cell.layer is not None:
        return _("Round %(round)s, %(column)s, layer %(layer)s, %(cell)s") % {
            "round": cell.round, "column": words, "layer": cell.layer, "cell": cell.plain}
    return _("Round %(round)s, %(column)s, %(cell)s") % {"round": cell.round, "column": words, "cell": cell.plain}


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
        rows = []
        for kind, item in entries:
            if kind == "band":
                rows.append(format_html('<tr class="layer-band"><th colspan="2" scope="rowgroup" '
                                        'class="table-secondary">{}</th></tr>', item))
            else:
                rows.append(cell_html(item, spec))
        caption = _("Round %(round)s · %(column)s") % {"round": table.round, "column": titles[column]}
        columns.append(format_html(
            '<table class="table table-bordered table-sm round-column {}" data-col="{}">'
            '<caption>{}</caption><tbody>{}</tbody></table>',
            extra_class, k, caption, mark_safe("".join(rows))))  # noqa: S308 - each row built by format_html
    return format_html(
        '<section class="round-section mb-4" id="round-{}" tabindex="-1" aria-labelledby="round-{}-title">'
        '{}{}<div class="round-grid" data-round="{}">{}</div>{}</section>',
        table.round, table.round, _heading(table, round_questions, entry=entry), before, table.round,
        mark_safe("".join(columns)), after)  # noqa: S308 - each column built by format_html


# ---------------------------------------------------------------- the entry tables


def _entry_cell(readonly: bool) -> Any:
    def html(cell: Any, spec: Any) -> SafeString:
        label = label_of(cell, spec)
        place = format_html('data-round="{}" data-col="{}" data-row="{}"', cell.round, cell.col, cell.row)
        if cell.input_name is None:
            return format_html(
                '<tr class="given-row"><th scope="row" class="cell-name">{} =</th>'
                '<td class="given-cell"><span class="num" data-given="{}" {}>{}</span> '
                '<span class="visually-hidden">{}</span></td></tr>',
                label, cell.given, place, cell.given, _("(given)"))
        ident = cell.input_name
        invalid = bool(cell.has_error or cell.problem)
        aria = format_html(' aria-invalid="true" aria-describedby="problem-{}"', ident) if invalid else ""
        return format_html(
            '<tr><th scope="row" class="cell-name"><label for="in-{}">{}</label> =</th>'
            '<td class="entry-cell{}"><input class="form-control form-control-sm cell-input{}" type="text" '
            'id="in-{}" name="{}" value="{}" data-answer data-cell {} aria-label="{}" autocomplete="off" '
            'spellcheck="false"{}{}>'
            '<div class="cell-problem invalid-feedback d-block small" id="problem-{}" data-problem-for="{}">{}</div>'
            '</td></tr>',
            ident, label, " table-danger" if cell.has_error else "", " is-invalid" if invalid else "",
            ident, ident, cell.value, place, accessible_name(cell), aria,
            mark_safe(" disabled") if readonly else "", ident, ident, cell.problem)
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


# ---------------------------------------------------------------- feedback and key


def _number(value: float) -> str:
    return format(value + 0.0, ".6g")  # never -0


def _mark_cell(mistake_titles: Any) -> Any:
    def html(cell: Any, spec: Any) -> SafeString:
        label = label_of(cell, spec)
        if cell.input_name is None:
            return format_html('<tr class="given-row"><th scope="row" class="cell-name">{} =</th>'
                               '<td class="given-cell"><span class="num">{}</span> '
                               '<span class="text-body-secondary small">{}</span></td></tr>',
                               label, cell.given, _("(given)"))
        m = cell.mark
        status = m.status if m else "blank"
        typed = format_html('<code class="typed">{}</code>', cell.value) if cell.value else \
            format_html('<span class="text-body-secondary">{}</span>', _("(blank)"))
        parts = [format_html('<div class="d-flex justify-content-between gap-2"><span>{}</span>{}</div>', typed,
                             format_html('<span class="badge text-bg-{} status-badge"><span aria-hidden="true">{}</span> {}</span>',
                                         status_colour(m.status), status_symbol(m.status), status_words(m.status))
                             if m else "")]
        if m and m.message and m.message != m.status:
            parts.append(format_html('<div class="small mark-message">{}</div>', m.message))
        if m and m.upstream and m.mistake:
            uses = format_html_join(", ", "{} = {}", ((_label(name, spec), _number(value))
                                                      for name, value in m.upstream.items()))
            parts.append(format_html('<div class="small text-body-secondary">{} {}</div>', _("Uses your"), uses))
        if m and m.mistake:
            title = (mistake_titles or {}).get(m.mistake, m.mistake)
            parts.append(format_html('<div class="small"><span class="badge text-bg-light border">{} {}</span></div>',
                                     _("Mistake:"), title))
        if cell.expected:
            parts.append(format_html('<div class="small text-body-secondary">{} {}</div>', _("Expected"), cell.expected))
        return format_html('<tr id="cell-{}"><th scope="row" class="cell-name">{} =</th>'
                           '<td class="mark-cell mark-{}">{}</td></tr>',
                           cell.input_name, label, status, mark_safe("".join(parts)))  # noqa: S308
    return html


@register.simple_tag
def feedback_round(table: Any, spec: Any, round_questions: Any, mistake_titles: Any) -> SafeString:
    """One round of the feedback page: each typed value with its mark, message and mistake."""
    return _round(table, spec, round_questions, _mark_cell(mistake_titles), entry=False,
                  extra_class="feedback-table")


def _key_cell(cell: Any, spec: Any) -> SafeString:
    label = label_of(cell, spec)
    if cell.input_name is None:
        return format_html('<tr class="given-row"><th scope="row" class="cell-name">{} =</th><td class="given-cell">'
                           '<span class="num">{}</span> <span class="small text-body-secondary">{}</span></td></tr>',
                           label, cell.given, _("(given)"))
    return format_html('<tr><th scope="row" class="cell-name">{} =</th><td><span class="num">{}</span></td></tr>',
                       label, cell.expected)


@register.simple_tag
def key_round(table: Any, spec: Any, round_questions: Any) -> SafeString:
    """One round of the answer key: every cell's value from the engine."""
    return _round(table, spec, round_questions, _key_cell, entry=False, extra_class="key-table")


__all__ = ["accessible_name", "column_titles", "entry_round", "feedback_round", "key_round"]
