"""Template helpers: cell labels, status marks, the network drawing and server-side MathML.

The only strings marked safe here are built from escaped text (labels) or produced by our
own renderers (the SVG template, selectors.formula_mathml); never student text as is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from django import template
from django.utils import dateformat, timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from grading import selectors

register = template.Library()

# status -> (symbol, words, Bootstrap colour): colour always comes with a symbol and a word.
STATUS = {
    "correct": ("✓", "correct", "success"),
    "carried": ("↪", "carried", "info"),
    "incorrect": ("✗", "incorrect", "danger"),
    "blank": ("○", "blank", "secondary"),
    "invalid": ("⚠", "invalid", "warning"),
    "not_chained": ("½", "equivalent, not chained", "warning"),
    "undecided": ("?", "could not decide", "primary"),
}
_INDEX = re.compile(r"([A-Za-z])(\d+)")


@register.filter
def cell_label(name: str) -> SafeString:
    """``dL/dw11`` -> dL/dw<sub>11</sub>; ``(y1-f1)^2`` -> (y<sub>1</sub> − f<sub>1</sub>)<sup>2</sup>."""
    text = escape(str(name))
    text = _INDEX.sub(r"\1<sub>\2</sub>", text)
    text = text.replace("^2", "<sup>2</sup>").replace("-", " − ")
    return mark_safe(text)  # noqa: S308 - escaped above; only our own tags added


@register.filter
def status_symbol(status: str) -> str:
    return STATUS.get(status, ("•", status, "secondary"))[0]


@register.filter
def status_words(status: str) -> str:
    return STATUS.get(status, ("•", status, "secondary"))[1]


@register.filter
def status_colour(status: str) -> str:
    return STATUS.get(status, ("•", status, "secondary"))[2]


@register.filter
def points(value: Any) -> str:
    """A score for display, to 2 decimals as a gradebook shows it: 17.5, 35, 11.67; — for None."""
    if value is None or value == "":
        return "—"
    try:
        return format(round(float(value), 2), "g")
    except (TypeError, ValueError):
        return str(value)


@register.filter
def grace_text(seconds: Any) -> str:
    """A grace period in words: "2 minutes", "90 seconds"."""
    seconds = int(seconds or 0)
    if seconds % 60 == 0 and seconds >= 60:
        minutes = seconds // 60
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


@register.filter
def zoned(value: Any, fmt: str = "D j M Y, H:i") -> str:
    """A time in the course's zone with that zone named: "Tue 1 Dec 2026, 23:59 UTC+07 (Asia/Bangkok)".

    The course's zone is the site's TIME_ZONE (DJANGO_TIME_ZONE), whatever the viewer's browser
    says, so a due time reads the same for everyone.
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
    return f"{dateformat.format(local, fmt)} {abbreviation}{where}"


@register.filter
def lookup(mapping: Any, key: Any) -> Any:
    """``mapping|lookup:key`` for dicts keyed by non-identifier strings."""
    try:
        return mapping.get(key) if hasattr(mapping, "get") else mapping[key]
    except (KeyError, IndexError, TypeError):
        return None


@lru_cache(maxsize=2048)
def _mathml(text: str, n_inputs: int, n_outputs: int) -> str:
    try:
        return selectors.formula_mathml(text, n_inputs=n_inputs, n_outputs=n_outputs)
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
    n, m = (spec.n_inputs, spec.n_outputs) if spec is not None else (2, 2)
    return mark_safe(_mathml(text, n, m))  # noqa: S308


@register.inclusion_tag("grading/includes/network.svg.html")
def network_svg(spec: Any) -> dict[str, Any]:
    """A drawing of the n×m network: inputs, Σ then σ per output, edges labelled w_ij, biases b_j."""
    n, m = spec.n_inputs, spec.n_outputs
    gap, top = 110, 70
    height = top + (max(n, m) - 1) * gap + 45
    x_in, x_sum, x_sig, x_out = 60, 330, 430, 520

    def ys(count: int) -> list[float]:
        offset = top + (max(n, m) - count) * gap / 2
        return [offset + k * gap for k in range(count)]

    inputs = [{"i": i, "y": y} for i, y in enumerate(ys(n), start=1)]
    outputs = [{"j": j, "y": y, "bias_y": y - 48} for j, y in enumerate(ys(m), start=1)]
    edges = []
    for a in inputs:
        for b in outputs:
            # Labels sit at a fraction of the edge that depends on the input, so crossing
            # edges of a 2×2 network keep their labels apart.
            t = 0.28 + (0.42 * (a["i"] - 1) / (n - 1) if n > 1 else 0)
            x1, y1, x2, y2 = x_in + 18, a["y"], x_sum - 22, b["y"]
            edges.append({"x1": x1, "y1": y1, "x2": x2, "y2": y2, "i": a["i"], "j": b["j"],
                          "lx": x1 + t * (x2 - x1), "ly": y1 + t * (y2 - y1) - 4})
    return {"width": x_out + 60, "height": height, "inputs": inputs, "outputs": outputs,
            "edges": edges, "x_in": x_in, "x_sum": x_sum, "x_sig": x_sig, "x_out": x_out,
            "n": n, "m": m}
