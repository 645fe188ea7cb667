"""The network drawing's words: its title, its caption and the loss, in the reader's language.

The caption and the loss are HTML of our own (sub- and superscripts); the only values put in
are numbers and the activation words below, never anything a user typed, so the template tags
in grading_tags mark them safe.
"""

from __future__ import annotations

from functools import reduce
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

import grading.engine.grids as grids
from grading.figures import drawing

# An activation's and a loss's words are their registry records' (a Text is read in the active language).
ACTIVATION_WORDS = grids.ACTIVATION_WORDS


def _and(items: list[str]) -> str:
    """"1 and 2 and 3", in the reader's language."""
    return reduce(lambda a, b: _("%(first)s and %(second)s") % {"first": a, "second": b}, items)


def network_title(spec: Any) -> str:
    """What the drawing shows, in words (the SVG's title, read by screen readers)."""
    n, m = spec.n_inputs, spec.n_outputs
    inputs = ngettext("%(n)s input node", "%(n)s input nodes", n) % {"n": n}
    if spec.n_layers == 1 and spec.layers[0].activation == "sigmoid":
        return _("The network: %(inputs)s fully connected to %(outputs)s; each output sums its weighted "
                 "inputs and bias (Σ) and applies the sigmoid (σ).") % {
            "inputs": inputs, "outputs": ngettext("%(n)s output node", "%(n)s output nodes", m) % {"n": m}}
    parts = []
    for l, layer in enumerate(spec.layers, start=1):
        units = ngettext("%(n)s unit", "%(n)s units", layer.n_outputs) % {"n": layer.n_outputs}
        values = {"layer": l, "units": units,
                  "activation": str(ACTIVATION_WORDS[layer.activation])}
        if l == spec.n_layers:
            parts.append(_("layer %(layer)s (output) of %(units)s with %(activation)s") % values)
        else:
            parts.append(_("layer %(layer)s (hidden) of %(units)s with %(activation)s") % values)
    return _("The network: %(inputs)s, then %(layers)s; each layer is fully connected to the one "
             "below, and each unit sums its weighted inputs and bias (Σ) and applies its "
             "activation.") % {"inputs": inputs, "layers": ", ".join(parts)}


def network_caption(spec: Any) -> str:
    """The drawing's caption as HTML: the notation of weights, sums and activations."""
    if spec.n_layers == 1 and spec.layers[0].activation == "sigmoid" and spec.update_biases \
            and not drawing.network_drawing(spec.sizes).unlabelled:
        return (
            _("σ: sigmoid function, Σ: sum function. w<sub>ij</sub> goes from input i to output j, so "
              "s<sub>j</sub> = Σ<sub>i</sub> w<sub>ij</sub>·x<sub>i</sub> + b<sub>j</sub> and "
              "f<sub>j</sub> = σ(s<sub>j</sub>)."))
    acts = ", ".join(_("layer %(layer)s: %(activation)s") % {"layer": l, "activation": str(ACTIVATION_WORDS[layer.activation])}
                     for l, layer in enumerate(spec.layers, start=1))
    if spec.n_layers == 1:
        text = _("Σ: sum function; %(activations)s. w<sub>ij</sub> goes from input i to output j, so "
                 "s<sub>j</sub> = Σ<sub>i</sub> w<sub>ij</sub>·x<sub>i</sub> + b<sub>j</sub> and "
                 "f<sub>j</sub> = act(s<sub>j</sub>).") % {"activations": acts}
    else:
        text = _("Σ: sum function; the activation of each layer (%(activations)s). w<sub>ij</sub><sup>[l]</sup> "
                 "goes from unit i of layer l − 1 to unit j of layer l (layer 0 is the inputs, "
                 "f<sup>[0]</sup> = x), so s<sub>j</sub><sup>[l]</sup> = Σ<sub>i</sub> "
                 "w<sub>ij</sub><sup>[l]</sup>·f<sub>i</sub><sup>[l−1]</sup> + b<sub>j</sub><sup>[l]</sup> "
                 "and f<sub>j</sub><sup>[l]</sup> = act(s<sub>j</sub><sup>[l]</sup>). Type the layer in "
                 "brackets after a name: s1[2] for s<sub>1</sub><sup>[2]</sup>, w12[2], dL/ds1[2].") % {"activations": acts}
    if not spec.update_biases:
        text += " " + _("The biases stay fixed: they are not updated.")
    text += training_words(spec)
    unlabelled = drawing.network_drawing(spec.sizes).unlabelled
    if unlabelled:
        if spec.n_layers == 1:
            text += " " + _("The edges are too many to label: the weights are in the table beside the drawing.")
        else:
            text += " " + _("The edges into layer %(layers)s are too many to label: the weights are in the "
                            "table beside the drawing.") % {"layers": _and([str(l) for l in unlabelled])}
    return text


def training_words(spec: Any) -> str:
    """What the caption says of a softmax output, a round of several samples and an optimizer
    (issue 20), each a sentence after a space; "" for a spec of none of them."""
    text = ""
    if spec.layers[-1].activation == "softmax":
        text += " " + _("The output layer is a softmax: f<sub>j</sub> = exp(s<sub>j</sub>) / Σ<sub>k</sub> "
                        "exp(s<sub>k</sub>), every unit's output depending on every s of the layer.")
    batch = getattr(spec, "batch", 1)
    if batch > 1:
        how = _("the mean") if spec.reduce == "mean" else _("the sum")
        text += " " + _("Each round feeds %(k)s samples, all at the weights the round started with; sample k's "
                        "cells carry (k) after their name, s1(2) for sample 2's s<sub>1</sub>, and the update "
                        "uses %(how)s of their gradients.") % {"k": batch, "how": how}
    optimizer = getattr(spec, "optimizer", None)
    if optimizer is not None and optimizer.kind != "sgd":
        settings = ", ".join(f"{name} = {value:g}" for name, value in optimizer.settings)
        text += " " + _("Update rule: %(rule)s (%(settings)s).") % {
            "rule": str(grids.OPTIMIZER_WORDS[optimizer.kind]), "settings": settings}
    return text


_LOSS_TEXT = grids.LOSS_WORDS


def loss_text(spec: Any) -> str:
    """The loss in words and symbols as HTML (f: the output layer's)."""
    text = str(_LOSS_TEXT[spec.loss]) % {"m": spec.n_outputs}
    if spec.n_layers > 1:
        text += " " + _("Here f<sub>n</sub> is f<sub>n</sub><sup>[%(layer)s]</sup>, the output layer's.") % {
            "layer": spec.n_layers}
    return text
