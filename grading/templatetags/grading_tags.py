"""Template helpers: cell labels, status marks, the network drawing and server-side MathML.

The only strings marked safe here are built from escaped text (labels) or produced by our
own renderers (the SVG template, selectors.formula_mathml); never student text as is. A cell's
label is drawn from the cell it names (its place), never from the letters of its name.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.translation import get_language
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from grading import drawing, permissions, selectors

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
ACTIVATION_SYMBOL = {"sigmoid": ("σ", 20, 7), "tanh": ("tanh", 12, 4), "relu": ("ReLU", 11, 4),
                     "linear": ("lin", 12, 4)}  # (text, font size, dy) in the drawing's nodes
ACTIVATION_WORDS = {"sigmoid": "the sigmoid (σ)", "tanh": "tanh", "relu": "ReLU", "linear": "no activation (linear)"}


def _label(place: Any, n_layers: int, output_layer: int) -> str:
    """A cell's label as HTML from its place: w<sub>12</sub>, s<sub>1</sub><sup>[2]</sup>."""
    def unit(quantity: str, index: tuple[int, ...], layer: int | None) -> str:
        text = f"{quantity}<sub>{''.join(map(str, index))}</sub>"
        return text + (f"<sup>[{layer}]</sup>" if n_layers > 1 and layer is not None else "")

    variable = selectors.variable_of(place)
    if variable is not None:
        return "dL/d" + unit(variable.quantity, variable.index, variable.layer)
    if place.quantity in ("y-f", "(y-f)^2"):
        diff = f"y<sub>{place.index[0]}</sub> − " + unit("f", place.index, output_layer)
        return diff if place.quantity == "y-f" else f"({diff})<sup>2</sup>"
    if not place.index:
        return escape(place.quantity)
    return unit(place.quantity, place.index, place.layer)


@register.filter
def cell_label(name: str, spec: Any = None) -> SafeString:
    """``name|cell_label:spec``: dL/dw<sub>11</sub>, (y<sub>1</sub> − f<sub>1</sub>)<sup>2</sup>,
    s<sub>1</sub><sup>[2]</sup> in a deeper network; an unknown name is shown as text."""
    place = selectors.name_place(str(name), spec)
    if place is None:
        return escape(str(name))
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
        return format(round(float(value), 2) + 0.0, "g")  # + 0.0: never "-0"
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


def network_title(spec: Any) -> str:
    """What the drawing shows, in words (the SVG's title, read by screen readers)."""
    n, m = spec.n_inputs, spec.n_outputs
    if spec.n_layers == 1 and spec.layers[0].activation == "sigmoid":
        return (f"The network: {n} input node{'s' if n != 1 else ''} fully connected to {m} output "
                f"node{'s' if m != 1 else ''}; each output sums its weighted inputs and bias (Σ) and "
                "applies the sigmoid (σ).")
    parts = [f"layer {l} ({'output' if l == spec.n_layers else 'hidden'}) of {layer.n_outputs} "
             f"unit{'s' if layer.n_outputs != 1 else ''} with {ACTIVATION_WORDS[layer.activation]}"
             for l, layer in enumerate(spec.layers, start=1)]
    return (f"The network: {n} input node{'s' if n != 1 else ''}, then " + ", ".join(parts)
            + "; each layer is fully connected to the one below, and each unit sums its weighted "
              "inputs and bias (Σ) and applies its activation.")


@register.simple_tag
def network_caption(spec: Any) -> SafeString:
    """The drawing's caption: the notation of weights, sums and activations for this network."""
    if spec.n_layers == 1 and spec.layers[0].activation == "sigmoid" and spec.update_biases \
            and not drawing.network_drawing(spec.sizes).unlabelled:
        return mark_safe(  # noqa: S308 - our own text
            "σ: sigmoid function, Σ: sum function. w<sub>ij</sub> goes from input i to output j, so "
            "s<sub>j</sub> = Σ<sub>i</sub> w<sub>ij</sub>·x<sub>i</sub> + b<sub>j</sub> and "
            "f<sub>j</sub> = σ(s<sub>j</sub>).")
    acts = ", ".join(f"layer {l}: {ACTIVATION_WORDS[layer.activation]}" for l, layer in enumerate(spec.layers, start=1))
    if spec.n_layers == 1:
        text = (f"Σ: sum function; {acts}. w<sub>ij</sub> goes from input i to output j, so "
                "s<sub>j</sub> = Σ<sub>i</sub> w<sub>ij</sub>·x<sub>i</sub> + b<sub>j</sub> and "
                "f<sub>j</sub> = act(s<sub>j</sub>).")
    else:
        text = (f"Σ: sum function; the activation of each layer ({acts}). w<sub>ij</sub><sup>[l]</sup> "
                "goes from unit i of layer l − 1 to unit j of layer l (layer 0 is the inputs, "
                "f<sup>[0]</sup> = x), so s<sub>j</sub><sup>[l]</sup> = Σ<sub>i</sub> "
                "w<sub>ij</sub><sup>[l]</sup>·f<sub>i</sub><sup>[l−1]</sup> + b<sub>j</sub><sup>[l]</sup> "
                "and f<sub>j</sub><sup>[l]</sup> = act(s<sub>j</sub><sup>[l]</sup>). Type the layer in "
                "brackets after a name: s1[2] for s<sub>1</sub><sup>[2]</sup>, w12[2], dL/ds1[2].")
    if not spec.update_biases:
        text += " The biases stay fixed: they are not updated."
    unlabelled = drawing.network_drawing(spec.sizes).unlabelled
    if unlabelled:
        which = "The edges" if spec.n_layers == 1 else "The edges into layer " + " and ".join(map(str, unlabelled))
        text += f" {which} are too many to label: the weights are in the table beside the drawing."
    return mark_safe(text)  # noqa: S308 - our own text


_LOSS_TEXT = {
    "half_sse": "Loss (MSE): L = Σ<sub>n</sub> (y<sub>n</sub> − f<sub>n</sub>)<sup>2</sup> / 2.",
    "sse": "Loss (sum of squared errors): L = Σ<sub>n</sub> (y<sub>n</sub> − f<sub>n</sub>)<sup>2</sup>.",
    "mse": "Loss (mean squared error): L = Σ<sub>n</sub> (y<sub>n</sub> − f<sub>n</sub>)<sup>2</sup> / {m}, "
           "the mean over the {m} outputs.",
    "bce": "Loss (binary cross-entropy): L = −Σ<sub>n</sub> [y<sub>n</sub> ln f<sub>n</sub> + "
           "(1 − y<sub>n</sub>) ln(1 − f<sub>n</sub>)].",
}


@register.simple_tag
def loss_text(spec: Any) -> SafeString:
    """The loss in words and symbols (f: the output layer's)."""
    text = _LOSS_TEXT[spec.loss].format(m=spec.n_outputs)
    if spec.n_layers > 1:
        text += f" Here f<sub>n</sub> is f<sub>n</sub><sup>[{spec.n_layers}]</sup>, the output layer's."
    return mark_safe(text)  # noqa: S308 - our own text


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
