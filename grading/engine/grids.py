"""The authoring page's grids: a spec as small grids of text cells, and back. Pure (no Django).

A grid cell holds one number of the spec, written

* ``0.25`` (or ``-1``, ``.5``, ``2e-3``): that number;
* ``0.1..0.9 step 0.1``: a range, every student drawing one value of the grid 0.1, 0.2, ..., 0.9
  (``{"range": [0.1, 0.9], "step": 0.1}`` in the spec);
* ``{0.2, 0.5, 0.8}``: a choice of these values (``{"choice": [0.2, 0.5, 0.8]}``).

Cells are named by structure: ``w-l-i-j`` (the weight from unit i of layer l - 1 to unit j of
layer l, layer 0 the inputs), ``b-l-j``, ``x-r-i`` and ``y-r-j`` (round r's sample) and ``lr``.
``position_field`` finds the cell an engine message is about from the position it starts with
(``layers[0].weights[1][0]: ...``), so the message can sit on that cell.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from grading.engine import registry
from grading.engine.text import _

MAX_CELL_CHARS = 300
MAX_UNITS, MAX_LAYERS, MAX_ROUNDS, MAX_BATCH = 9, 4, 12, 8
ACTIVATIONS, LOSSES = registry.ACTIVATIONS, registry.LOSSES  # the authoring page's choices
OUTPUT_ACTIVATIONS = registry.OUTPUT_ACTIVATIONS  # an output layer's choices (softmax too)
OPTIMIZERS = registry.OPTIMIZERS
REDUCTIONS = ("mean", "sum")
# Each optimizer's settings: (name, default), in the record's order.
OPTIMIZER_SETTINGS = {o.name: tuple((p.name, p.default) for p in o.parameters) for o in registry.optimizers()}
SETTING_NAMES = tuple(dict.fromkeys(name for settings in OPTIMIZER_SETTINGS.values() for name, _ in settings))
# What the pages show of each (the web layer reads the registry through this module):
# the drawing's node (text, font size, dy), the caption's words, the loss's words.
ACTIVATION_SYMBOL = {a.name: a.symbol for a in registry.activations()}
ACTIVATION_WORDS = {a.name: a.words for a in registry.activations()}
LOSS_WORDS = {name: registry.loss(name).words for name in LOSSES}
OPTIMIZER_WORDS = {o.name: o.words for o in registry.optimizers()}

_NUM = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_NUMBER = re.compile(rf"\s*({_NUM})\s*")
_RANGE = re.compile(rf"\s*({_NUM})\s*\.\.\s*({_NUM})\s*(?:step\s*({_NUM}))?\s*", re.IGNORECASE)
_CHOICE = re.compile(r"\s*\{(.*)\}\s*", re.DOTALL)
HELP = _("a number (0.25), a range (0.1..0.9 step 0.1) or a choice ({0.2, 0.5})")


class CellError(ValueError):
    """A grid cell that is not a number, a range or a choice; the message says how to write it."""


def _number(text: str) -> int | float:
    # A number typed without a point or exponent stays an integer (Homework 4.1's "1" and "0").
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)


def parse_cell(text: str) -> int | float | dict[str, Any]:
    """A grid cell's value in the spec: a number, ``{"range": [lo, hi], "step": s}`` or
    ``{"choice": [...]}``; CellError says why not."""
    if not isinstance(text, str) or not text.strip():
        raise CellError(_("Type %(what)s.", what=HELP))
    if len(text) > MAX_CELL_CHARS:
        raise CellError(_("Longer than %(n)s characters.", n=MAX_CELL_CHARS))
    text = text.replace("\u2212", "-")  # a typeset minus pasted from a handout
    if match := _NUMBER.fullmatch(text):
        return _number(match.group(1))
    if match := _RANGE.fullmatch(text):
        lo, hi, step = match.groups()
        if step is None:
            raise CellError(_("A range needs its step: %(low)s..%(high)s step 0.1, for example.",
                              low=lo.strip(), high=hi.strip()))
        return {"range": [_number(lo), _number(hi)], "step": _number(step)}
    if match := _CHOICE.fullmatch(text):
        items = [item.strip() for item in match.group(1).split(",")]
        if not all(re.fullmatch(_NUM, item) for item in items):
            raise CellError(_("A choice lists numbers between braces, separated by commas: {0.2, 0.5}."))
        return {"choice": [_number(item) for item in items]}
    raise CellError(_("Not understood: type %(what)s.", what=HELP))


def number_text(value: Any) -> str:
    """A number as the grid shows it: the shortest text that reads back as the same number."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)


def cell_text(value: Any) -> str:
    """A spec's number, range or choice as a grid cell's text (``parse_cell`` reads it back)."""
    if isinstance(value, dict) and "range" in value:
        lo, hi = value.get("range", [None, None])[:2]
        return f"{number_text(lo)}..{number_text(hi)} step {number_text(value.get('step'))}"
    if isinstance(value, dict) and "choice" in value:
        return "{" + ", ".join(number_text(v) for v in value.get("choice", [])) + "}"
    return number_text(value)


def is_ranged(value: Any) -> bool:
    return isinstance(value, dict) and ("range" in value or "choice" in value)


# ---------------------------------------------------------------- the grids of a spec


@dataclass
class LayerGrid:
    """One layer's cells: ``weights[i][j]`` from unit i + 1 below to unit j + 1, and biases."""

    activation: str
    weights: list[list[str]]
    biases: list[str]


@dataclass
class Grids:
    """A spec as the authoring page shows it: the network's structure and every number as text."""

    n_inputs: int
    layers: list[LayerGrid]
    loss: str = "half_sse"
    update_biases: bool = True
    lr: str = "1"
    samples: list[tuple[list[str], list[str]]] = field(default_factory=list)  # batch of them a round
    batch: int = 1
    reduce: str = "mean"
    optimizer: str = "sgd"
    settings: dict[str, str] = field(default_factory=dict)  # the optimizer's, as typed (blank: default)

    @property
    def rounds(self) -> int:
        return len(self.samples) // self.batch

    @property
    def sizes(self) -> list[int]:
        return [self.n_inputs, *(len(layer.biases) for layer in self.layers)]

    @property
    def n_outputs(self) -> int:
        return len(self.layers[-1].biases)


def grids_of(spec: Any) -> Grids:
    """The grids of a spec in either form (the single-layer form: one sigmoid layer, half-SSE)."""
    if "layers" in spec:
        raw = [(layer["weights"], layer["biases"], layer["activation"]) for layer in spec["layers"]]
        loss, update = spec["loss"], spec.get("update_biases", True)
    else:
        raw = [(spec["weights"], spec["biases"], "sigmoid")]
        loss, update = "half_sse", True
    layers = [LayerGrid(activation, [[cell_text(v) for v in row] for row in weights],
                        [cell_text(v) for v in biases]) for weights, biases, activation in raw]
    samples = [([cell_text(v) for v in s["x"]], [cell_text(v) for v in s["y"]]) for s in spec["samples"]]
    optimizer = spec.get("optimizer") or {"kind": "sgd"}
    kind = optimizer.get("kind", "sgd")
    settings = {name: cell_text(optimizer[name]) for name, _default in OPTIMIZER_SETTINGS.get(kind, ())
                if name in optimizer}
    return Grids(n_inputs=len(raw[0][0]), layers=layers, loss=loss, update_biases=update,
                 lr=cell_text(spec["learning_rate"]), samples=samples, batch=spec.get("batch", 1),
                 reduce=spec.get("reduce", "mean"), optimizer=kind, settings=settings)


def blank_grids(sizes: list[int], activations: list[str], rounds: int, loss: str = "half_sse",
                update_biases: bool = True, batch: int = 1) -> Grids:
    """Empty grids of a network of these layer sizes (inputs first), ``batch`` samples a round."""
    layers = [LayerGrid(activations[l - 1], [[""] * sizes[l] for _ in range(sizes[l - 1])], [""] * sizes[l])
              for l in range(1, len(sizes))]
    return Grids(n_inputs=sizes[0], layers=layers, loss=loss, update_biases=update_biases, lr="",
                 samples=[([""] * sizes[0], [""] * sizes[-1]) for _ in range(rounds * batch)], batch=batch)


def resized(grids: Grids, sizes: list[int], activations: list[str], rounds: int, loss: str,
            update_biases: bool, batch: int = 1) -> Grids:
    """The grids of a network of new sizes, keeping every cell that still exists."""
    out = blank_grids(sizes, activations, rounds, loss, update_biases, batch)
    out.lr = grids.lr
    for l, layer in enumerate(out.layers):
        if l < len(grids.layers):
            old = grids.layers[l]
            for i, row in enumerate(layer.weights):
                for j in range(len(row)):
                    if i < len(old.weights) and j < len(old.weights[i]):
                        row[j] = old.weights[i][j]
            for j in range(len(layer.biases)):
                if j < len(old.biases):
                    layer.biases[j] = old.biases[j]
    for r, (x, y) in enumerate(out.samples):
        if r < len(grids.samples):
            old_x, old_y = grids.samples[r]
            x[:] = [old_x[i] if i < len(old_x) else "" for i in range(len(x))]
            y[:] = [old_y[j] if j < len(old_y) else "" for j in range(len(y))]
    return out


# ---------------------------------------------------------------- cell names and positions


def cell_names(grids: Grids) -> list[str]:
    """Every cell's field name, in the page's order: each layer's weights and biases, the
    learning rate, then the samples round by round."""
    names = []
    for l, layer in enumerate(grids.layers, start=1):
        names += [f"w-{l}-{i}-{j}" for i in range(1, len(layer.weights) + 1)
                  for j in range(1, len(layer.biases) + 1)]
        names += [f"b-{l}-{j}" for j in range(1, len(layer.biases) + 1)]
    names.append("lr")
    for r, (x, y) in enumerate(grids.samples, start=1):
        names += [f"x-{r}-{i}" for i in range(1, len(x) + 1)] + [f"y-{r}-{j}" for j in range(1, len(y) + 1)]
    return names


def cell_label(name: str, n_layers: int, batch: int = 1) -> str:
    """How a message names a cell: "w12", "w21[2]" with layers, "b1", "round 3 x2" (with several
    samples a round, "sample 5 x2"), "learning rate"."""
    parts = name.split("-")
    if parts[0] == "lr":
        return _("learning rate")
    if parts[0] in ("x", "y") and batch > 1:
        return _("sample %(sample)s %(cell)s", sample=parts[1], cell=f"{parts[0]}{parts[2]}")
    if parts[0] in ("x", "y"):
        return _("round %(round)s %(cell)s", round=parts[1], cell=f"{parts[0]}{parts[2]}")
    suffix = f"[{parts[1]}]" if n_layers > 1 else ""
    return f"{parts[0]}{''.join(parts[2:])}{suffix}"


_POSITION = re.compile(
    r"^(?:layers\[(?P<layer>\d+)\]\.)?(?:weights\[(?P<wi>\d+)\]\[(?P<wj>\d+)\]|biases\[(?P<bj>\d+)\]|"
    r"(?P<act>activation))"
    r"|^samples\[(?P<round>\d+)\]\.(?P<xy>[xy])\[(?P<k>\d+)\]"
    r"|^(?P<lr>learning_rate)|^(?P<loss>loss)\b|^(?P<batch>batch)\b|^(?P<reduce>reduce)\b"
    r"|^optimizer\.(?P<setting>\w+)")


def position_field(message: str) -> tuple[str | None, str]:
    """(the field an engine message is about, the message after its position), from the position
    it starts with: ``layers[0].weights[1][0]: ...`` -> ``w-1-2-1``; (None, message) when it
    names no cell."""
    match = _POSITION.match(message)
    if match is None:
        return None, message
    g = match.groupdict()
    rest = message[match.end():].lstrip(":").strip()
    layer = int(g["layer"]) + 1 if g["layer"] is not None else 1
    if g["wi"] is not None:
        return f"w-{layer}-{int(g['wi']) + 1}-{int(g['wj']) + 1}", rest
    if g["bj"] is not None:
        return f"b-{layer}-{int(g['bj']) + 1}", rest
    if g["act"]:
        return f"activation_{layer}", rest
    if g["round"] is not None:
        return f"{g['xy']}-{int(g['round']) + 1}-{int(g['k']) + 1}", rest
    if g["lr"]:
        return "lr", rest
    if g["batch"] or g["reduce"]:
        return g["batch"] or g["reduce"], message
    if g["setting"]:
        return ("optimizer" if g["setting"] == "kind" else g["setting"]), rest
    return "loss", message


def spec_from(values: dict[str, Any], *, sizes: list[int], activations: list[str], rounds: int,
              loss: str, update_biases: bool, batch: int = 1, reduce: str = "mean",
              optimizer: dict[str, Any] | None = None) -> dict[str, Any]:
    """The spec (JSON) of parsed cell values (field name -> number, range or choice): the
    single-layer form when it means the same (one sigmoid layer, half-SSE, biases updated, one
    sample a round, plain SGD), as Homework 4.1 is written; otherwise the layers form, with
    ``batch``, ``reduce`` and ``optimizer`` (``{"kind": ..., settings}``) where they are not the
    defaults."""
    layers = []
    for l in range(1, len(sizes)):
        weights = [[values[f"w-{l}-{i}-{j}"] for j in range(1, sizes[l] + 1)]
                   for i in range(1, sizes[l - 1] + 1)]
        layers.append({"weights": weights, "biases": [values[f"b-{l}-{j}"] for j in range(1, sizes[l] + 1)],
                       "activation": activations[l - 1]})
    samples = [{"x": [values[f"x-{r}-{i}"] for i in range(1, sizes[0] + 1)],
                "y": [values[f"y-{r}-{j}"] for j in range(1, sizes[-1] + 1)]} for r in range(1, rounds * batch + 1)]
    plain = batch == 1 and (optimizer is None or optimizer.get("kind", "sgd") == "sgd")
    if len(layers) == 1 and activations[0] == "sigmoid" and loss == "half_sse" and update_biases and plain:
        return {"weights": layers[0]["weights"], "biases": layers[0]["biases"],
                "learning_rate": values["lr"], "samples": samples}
    spec: dict[str, Any] = {"layers": layers, "loss": loss, "learning_rate": values["lr"],
                            "update_biases": update_biases}
    if batch != 1:
        spec["batch"], spec["reduce"] = batch, reduce
    if optimizer is not None and optimizer.get("kind", "sgd") != "sgd":
        spec["optimizer"] = optimizer
    spec["samples"] = samples
    return spec
