"""Template helpers: cell labels, status marks, the network drawing and server-side MathML.

The only strings marked safe here are built from escaped text (labels) or produced by our
own renderers (the SVG template, selectors.formula_mathml); never student text as is. A cell's
label is drawn from the cell it names (its place), never from the letters of its name.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.template.defaultfilters import date as date_filter
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext, gettext as _, gettext_lazy, ngettext

from grading import permissions, selectors
import grading.engine.grids as grids

from grading.figures import drawing
from grading.templatetags import network_words
from grading.templatetags.network_words import network_title

register = template.Library()

# status -> (symbol, words, Bootstrap colour): colour always comes with a symbol and a word.
# The words are lazy: rendered in the reader's language when a page shows them.
STATUS = {
    "correct": ("✓", gettext_lazy("correct"), "success"),
    "carried": ("↪", gettext_lazy("carried"), "info"),
    "pending": ("⏳", gettext_lazy("carried, waiting for review"), "secondary"),
    "incorrect": ("✗", gettext_lazy("incorrect"), "danger"),
    "blank": ("○", gettext_lazy("blank"), "secondary"),
    "invalid": ("⚠", gettext_lazy("invalid"), "warning"),
    "not_chained": ("½", gettext_lazy("equivalent, not chained"), "warning"),
    "undecided": ("?", gettext_lazy("could not decide"), "primary"),
}
ACTIVATION_SYMBOL = grids.ACTIVATION_SYMBOL  # (text, font size, dy) in the drawing's nodes


def _label(place: Any, n_layers: int, output_layer: int) -> str:
    """A cell's label as HTML from its place: w<sub>12</sub>, s<sub>1</sub><sup>[2]</sup>."""
    def unit(quantity: str, index: tuple[int, ...], layer: int | None) -> str:
        text = f"{quantity}<sub>{''.join(map(str, index))}</sub>"
        return text + (f"<sup>[{layer}]</sup>" if n_layers > 1 and layer is not None else "")

    # sample k of a round of several: (k) after the label, as after the name (s1[2](3))
    sample = f"({place.sample})" if getattr(place, "sample", 0) else ""
    variable = selectors.variable_of(place)
    if variable is not None:
        return "dL/d" + unit(variable.quantity, variable.index, variable.layer) + sample
    if place.quantity in ("y-f", "(y-f)^2"):
        diff = f"y<sub>{place.index[0]}</sub> − " + unit("f", place.index, output_layer)
        return (diff if place.quantity == "y-f" else f"({diff})<sup>2</sup>") + sample
    if not place.index:
        return escape(place.quantity) + sample
    return unit(place.quantity, place.index, place.layer) + sample


_UPDATE_LABELS = {"mhat": "m̂", "vhat": "v̂"}


@register.filter
def cell_label(name: str, spec: Any = None) -> SafeString:
    """``name|cell_label:spec``: dL/dw<sub>11</sub>, (y<sub>1</sub> − f<sub>1</sub>)<sup>2</sup>,
    s<sub>1</sub><sup>[2]</sup> in a deeper network; an unknown name is shown as text."""
    place = selectors.name_place(str(name), spec)
    if place is None:  # a Q1 update row (m̂ as a handout prints it) or an unknown name
        return escape(_UPDATE_LABELS.get(str(name), str(name)))
    n_layers = len(spec.sizes) - 1 if spec is not None else 1
    return mark_safe(_label(place, n_layers, n_layers))  # noqa: S308 - built from numbers and our own letters


@register.filter
def may_author(user: Any, course: Any) -> bool:
    """``request.user|may_author:course``: whether the user writes this course's assignments."""
    return bool(user and user.is_authenticated and permissions.is_instructor(user, course))


@register.filter
def status_symbol(status: str) -> str:
    return STATUS.get(status, ("•", status, "secondary"))[0]


@register.filter
def label_for(labels: Any, target: Any) -> str:
    """``target_labels|label_for:target``: how the page names what a request, change or withdrawal
    is about ("round 1 s1", never "r1.forward.s1"); a withdrawal's "<kind>:<target>" by its target."""
    target = str(target or "")
    labels = labels or {}
    if target in labels:
        return str(labels[target])
    kind, sep, rest = target.partition(":")
    if sep and rest in labels:
        return str(labels[rest])
    if sep and kind == "total" and not rest:
        return gettext("the total")
    return target


@register.filter
def status_words(status: str) -> str:
    return str(STATUS.get(status, ("•", status, "secondary"))[1])


# What a staff change was made on, as the grade history's "What changed" column says it.
CHANGE_KINDS = {
    "cell": gettext_lazy("cell"), "formula": gettext_lazy("Q1 row"), "question": gettext_lazy("question"),
    "total": gettext_lazy("total"), "root": gettext_lazy("carried credit from"),
    "withdraw": gettext_lazy("withdrawn:"),
}


@register.filter
def change_kind(kind: str) -> str:
    """A ledger change's kind in the reader's language ("cell" -> "ช่อง")."""
    return str(CHANGE_KINDS.get(kind, kind))


# A root of carried credit's state, as staff read it.
ROOT_STATES = {
    "explained": gettext_lazy("explained: carried"),
    "waiting": gettext_lazy("waiting for review"),
    "accepted": gettext_lazy("accepted by staff"),
    "declined": gettext_lazy("declined by staff"),
    "carried": gettext_lazy("carried (no review asked)"),
    "refused": gettext_lazy("no carried credit (assignment's policy)"),
}


@register.filter
def root_state(state: str) -> str:
    """A root's state in words: ``root.state|root_state``."""
    return str(ROOT_STATES.get(state, state))


@register.filter
def status_colour(status: str) -> str:
    return STATUS.get(status, ("•", status, "secondary"))[2]


@register.filter
def points(value: Any) -> str:
    """A score for display, to 2 decimals as a gradebook shows it: 17.5, 35, 11.67; — for None."""
    if value is None or value == "":
        return "—"
    try:
        return format(round(float(value), 2) + 0.0, "g")  # + 0.0: never "-0"
    except (TypeError, ValueError):
        return str(value)


@register.filter
def grace_text(seconds: Any) -> str:
    """A grace period in words: "2 minutes", "90 seconds"."""
    seconds = int(seconds or 0)
    if seconds % 60 == 0 and seconds >= 60:
        minutes = seconds // 60
        return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}
    return ngettext("%(n)s second", "%(n)s seconds", seconds) % {"n": seconds}


def _era(fmt: str, year: int) -> str:
    """``fmt`` with its years in the reader's era: in Thai the Buddhist era (2026 -> 2569), as
    the course's handouts print it, written as escaped digits; in English as it is."""
    if (get_language() or "").split("-")[0] != "th":
        return fmt
    digits = str(year + 543)
    out, k = [], 0
    while k < len(fmt):
        char = fmt[k]
        if char == "\\":  # an escaped character stays as it is
            out.append(fmt[k:k + 2])
            k += 2
            continue
        if char in "Yy":
            out.append("".join("\\" + d for d in (digits if char == "Y" else digits[-2:])))
        else:
            out.append(char)
        k += 1
    return "".join(out)


@register.filter
def dated(value: Any, fmt: str = "j M Y, H:i") -> str:
    """Django's ``date`` filter with the year in the reader's era (Buddhist era in Thai)."""
    if not value:
        return ""
    if not hasattr(value, "year"):
        return date_filter(value, fmt)
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)  # as the date filter shows it: the current zone's time
    return date_filter(value, _era(fmt, value.year))


def zone_names() -> tuple[str, str]:
    """The course's zone as (its tz key, its short name): ("Asia/Bangkok", "UTC+07")."""
    zone = timezone.get_default_timezone()
    abbreviation = timezone.localtime(timezone.now(), zone).tzname() or ""
    if abbreviation[:1] in ("+", "-"):  # tzdata has no letters for many zones: "+07"
        abbreviation = "UTC" + abbreviation
    return getattr(zone, "key", str(zone)), abbreviation


@register.simple_tag
def course_zone(part: str = "key") -> str:
    """The course's zone for a page's scripts: its tz key ("Asia/Bangkok") or short name ("UTC+07")."""
    key, short = zone_names()
    return short if part == "short" else key


@register.filter
def zoned(value: Any, fmt: str = "D j M Y, H:i") -> str:
    """A time in the course's zone with that zone named: "Tue 1 Dec 2026, 23:59 UTC+07 (Asia/Bangkok)".

    The course's zone is the site's TIME_ZONE (DJANGO_TIME_ZONE), whatever the viewer's browser
    says, so a due time reads the same for everyone. Day and month names are in the reader's
    language; in Thai the year is in the Buddhist era ("อ. 1 ธ.ค. 2569, 23:59 UTC+07 ...").
    """
    if not value:
        return ""
    zone = timezone.get_default_timezone()
    local = timezone.localtime(value, zone)
    abbreviation = local.tzname() or ""
    if abbreviation[:1] in ("+", "-"):  # tzdata has no letters for many zones: "+07"
        abbreviation = "UTC" + abbreviation
    name = getattr(zone, "key", str(zone))
    where = f" ({name})" if name != abbreviation else ""
    return f"{dateformat.format(local, _era(fmt, local.year))} {abbreviation}{where}"


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``mapping|lookup:key`` for dicts keyed by non-identifier strings."""
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@lru_cache(maxsize=2048)
def _mathml(text: str, sizes: tuple[int, ...], row: str | None = None) -> str:
    try:
        return selectors.formula_mathml(text, sizes=sizes, row=row)
    except selectors.FormulaTextError:  # an unparsable formula is shown as text by the caller
        return ""


@register.filter
def mathml(text: Any, spec: Any = None) -> SafeString | str:
    """``text|mathml:spec``: a formula drawn by our own MathML renderer; "" if it cannot parse.

    The renderer behind selectors.formula_mathml escapes every token it emits, so its output is
    the one thing besides our SVG that is marked safe.
    """
    if not isinstance(text, str) or not text or len(text) > 600:
        return ""
    return mark_safe(_mathml(text, spec.sizes if spec is not None else (2, 2)))  # noqa: S308


@register.simple_tag
def answer_mathml(text: Any, row: str, spec: Any = None) -> SafeString | str:
    """``{% answer_mathml text row spec %}``: a Q1 answer drawn as the preview and the grader
    read it for ``row`` (a leading "s1 =" of its own name is taken off); "" if it cannot parse."""
    if not isinstance(text, str) or not text or len(text) > 600:
        return ""
    return mark_safe(_mathml(text, spec.sizes if spec is not None else (2, 2), str(row)))  # noqa: S308


@register.simple_tag
def network_svg(spec: Any) -> SafeString:
    """A drawing of the network: inputs, then per layer Σ and the activation per unit, edges
    labelled w_ij (w_ij^[l] with several layers), biases b_j above each Σ. Drawn once per
    network shape and language: it depends on nothing else."""
    key = (tuple(spec.sizes), tuple(layer.activation for layer in spec.layers), get_language())
    svg = _DRAWINGS.get(key)
    if svg is None:
        if len(_DRAWINGS) > 256:
            _DRAWINGS.clear()
        svg = _DRAWINGS[key] = mark_safe(  # noqa: S308 - our own template, escaped as it renders
            render_to_string("grading/includes/network.svg.html", _network_context(spec)))
    return svg


_DRAWINGS: dict[tuple[Any, ...], SafeString] = {}  # (sizes, activations, language) -> the drawing


def _network_context(spec: Any) -> dict[str, Any]:
    picture = drawing.network_drawing(spec.sizes)
    activations = [layer.activation for layer in spec.layers]
    layers = []
    for layer, activation in zip(picture.layers, activations):
        symbol, size, dy = ACTIVATION_SYMBOL[activation]
        layers.append({"layer": layer.layer, "x_sum": layer.x_sum, "x_act": layer.x_act,
                       "units": layer.units, "edges": layer.edges, "labelled": layer.labelled,
                       "output": layer.output, "symbol": symbol, "symbol_size": size, "symbol_dy": dy})
    return {"width": picture.width, "height": picture.height, "title": network_title(spec),
            "inputs": [{"i": i, "y": y} for i, y in picture.inputs], "layers": layers,
            "x_in": drawing.X_INPUT, "x_out": picture.x_out, "multi": spec.n_layers > 1}


@register.simple_tag
def network_caption(spec: Any) -> SafeString:
    """The drawing's caption: the notation of weights, sums and activations for this network."""
    return mark_safe(network_words.network_caption(spec))  # noqa: S308 - our own text and numbers


@register.simple_tag
def loss_text(spec: Any) -> SafeString:
    """The loss in words and symbols (f: the output layer's)."""
    return mark_safe(network_words.loss_text(spec))  # noqa: S308 - our own text and numbers


@register.filter
def kind_of(target_kinds: Any, target: Any) -> str:
    """``target_kinds|kind_of:target``: the override kind of what a request asks about (the
    total for a request about the whole attempt)."""
    if not target:
        return "total"
    return str((target_kinds or {}).get(target, "cell"))


@register.simple_tag
def target_options(targets: Any, selected: Any = "") -> SafeString:
    """The <optgroup>s of a "which mark" select: a page lists every cell, so this is built in
    one pass of escaped text rather than a template loop per option."""
    parts = []
    for group, options in (targets or {}).items():
        parts.append(f'<optgroup label="{escape(group)}">')
        parts.extend(f'<option value="{escape(value)}"{" selected" if value == selected else ""}>'
                     f'{escape(label)}</option>' for value, label in options)
        parts.append("</optgroup>")
    return mark_safe("".join(parts))  # noqa: S308 - every value and label escaped above


@register.simple_tag
def grading_health() -> Any:
    """The health of grading for the staff pages' banner (workers, queue, oldest waiting attempt)."""
    return selectors.grading_health()


def _history_labels() -> dict[str, str]:
    return {"title": _("title"), "slug": _("short name"), "statement": _("statement"), "opens_at": _("opens"),
            "due_at": _("due"), "accept_late": _("late accepted"), "decimals": _("decimals"),
            "max_attempts": _("attempts"), "reveal": _("expected values shown"),
            "carried_credit": _("carried credit"), "carried_cap": _("carried share"),
            "not_chained_credit": _("credit when not chained"), "unexplained_roots": _("unexplained slips"),
            "grace_seconds": _("grace (s)"), "auto_submit": _("submit drafts at the due time"),
            "practice": _("practice mode"), "spec": _("the problem"), "questions": _("question points"),
            "published": _("published")}


@register.filter
def history_fields(changes: Any) -> str:
    """An assignment change's fields as a line: "due: 2026-12-01T10:00 → 2026-12-03T10:00; the
    problem" (long values, the problem's and the statement's, are named, not quoted)."""
    labels = _history_labels()
    parts = []
    for name, change in (changes or {}).items():
        label = labels.get(name, name)
        before, after = change.get("before"), change.get("after")
        if name in ("spec", "statement", "questions") or len(str(before)) + len(str(after)) > 80:
            parts.append(label)
        else:
            parts.append(f"{label}: {before if before is not None else '—'} → {after}")
    return "; ".join(parts)


@register.filter
def epoch_ms(value: Any) -> int:
    """``{{ when|epoch_ms }}``: milliseconds since the epoch (for a script counting to it)."""
    return int(round(value.timestamp() * 1000))


@register.simple_tag
def now_ms() -> int:
    """``{% now_ms %}``: the server's clock now, in milliseconds since the epoch."""
    return int(round(timezone.now().timestamp() * 1000))


@register.simple_tag
def attempt_rows(attempts: Any) -> SafeString:
    """``{% attempt_rows attempts %}``: the assignment page's rows of attempts (number, time,
    score, feedback link), built in one pass of escaped text rather than a template loop per row."""
    from django.utils.html import format_html, format_html_join

    late = format_html(' <span class="badge text-bg-warning">{}</span>', gettext("late"))
    grading = gettext("grading…")
    feedback = gettext("Feedback")
    return format_html_join("\n", '<tr><td>#{}</td><td>{}{}</td>\n      <td class="text-end">{}</td>\n'
                                  '      <td><a href="{}">{}</a></td></tr>', (
        (a.submission.attempt, dated(a.submission.submitted_at, "j M Y, H:i:s"), late if a.submission.late else "",
         f"{points(a.grade.score)} / {points(a.grade.max_score)}" if a.grade else grading,
         a.submission.get_absolute_url(), feedback)
        for a in attempts))
