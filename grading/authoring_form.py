"""The authoring page's form: an assignment's settings, its network, and every number in grids.

The network's structure (inputs, layers with their units and activations, the loss, whether
biases are updated, the rounds) decides which grid cells the form has: each weight ``w-l-i-j``,
bias ``b-l-j``, sample value ``x-r-i`` / ``y-r-j`` and the learning rate ``lr`` is a text field
read by ``grading.engine.grids.parse_cell`` (a number, a range or a choice). The spec they make is
checked by the engine (``selectors.check_spec``); its message is put on the cell it names, and a
degenerate problem is refused with the reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext, gettext_lazy as _

from grading import selectors

import grading.engine.grids as authoring

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise  # the stubs' type of a lazy translation

STRUCTURE = ("n_inputs", "n_layers", "units_1", "units_2", "units_3", "units_4", "activation_1",
             "activation_2", "activation_3", "activation_4", "loss", "update_biases", "rounds", "batch")
TRAINING = ("reduce", "optimizer", *authoring.SETTING_NAMES)  # how a round trains (issue 20)
SETTINGS = ("title", "title_th", "slug", "statement", "statement_th", "opens_at", "due_at", "accept_late", "decimals",
            "max_attempts", "reveal", "carried_credit", "carried_cap", "not_chained_credit",
            "unexplained_roots",
            "grace_seconds", "auto_submit", "practice")
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _count(label: str | _StrPromise, top: int, required: bool = True) -> forms.TypedChoiceField:
    return forms.TypedChoiceField(label=label, coerce=int, required=required,
                                  choices=[(k, str(k)) for k in range(1, top + 1)])


def _activation(label: str | _StrPromise) -> forms.ChoiceField:
    # Only the layers in use are posted: a missing one keeps its default (structure_of).
    return forms.ChoiceField(label=label, required=False, choices=[(a, a) for a in authoring.OUTPUT_ACTIVATIONS])


@dataclass(frozen=True)
class Structure:
    """The network and rounds the grids are laid out for."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    loss: str
    update_biases: bool
    rounds: int
    batch: int = 1  # samples a round

    @property
    def n_layers(self) -> int:
        return len(self.activations)


def _int(value: Any, low: int, high: int, default: int) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return default
    return number if low <= number <= high else default


def structure_of(data: Any, initial: dict[str, Any]) -> Structure:
    """The structure posted (a bad or missing value keeps the initial one's)."""
    def get(name: str) -> Any:
        return data.get(name, initial.get(name)) if data is not None else initial.get(name)

    n_layers = _int(get("n_layers"), 1, authoring.MAX_LAYERS, initial["n_layers"])
    sizes = [_int(get("n_inputs"), 1, authoring.MAX_UNITS, initial["n_inputs"])]
    activations = []
    for l in range(1, n_layers + 1):
        sizes.append(_int(get(f"units_{l}"), 1, authoring.MAX_UNITS, initial.get(f"units_{l}", 2)))
        activation = get(f"activation_{l}")
        activations.append(activation if activation in authoring.OUTPUT_ACTIVATIONS else "sigmoid")
    loss = get("loss") if get("loss") in authoring.LOSSES else "half_sse"
    update = get("update_biases")
    update = bool(update) and update not in ("", "false", "off", "0") if data is not None else bool(update)
    return Structure(tuple(sizes), tuple(activations), loss, update,
                     _int(get("rounds"), 1, authoring.MAX_ROUNDS, initial["rounds"]),
                     _int(get("batch"), 1, authoring.MAX_BATCH, initial.get("batch", 1)))


def question_key(q: Any) -> str:
    """A question's field key by its kind, never by its position: ``formulas``, ``round-<r>``,
    ``plot`` (the plot stays the plot, and round 3 stays round 3, when rounds are added)."""
    return f"round-{q.round}" if q.kind == "round" else str(q.kind)


def questions_of(rounds: int, initial: Mapping[str, Any]) -> list[Any]:
    """The questions of a problem of ``rounds`` rounds, numbered by position, each with the points
    and extra credit ``initial`` gives its kind (``points-<key>``), else its kind's default."""
    out = []
    for q in selectors.default_questions(rounds):
        key = question_key(q)
        points = initial.get(f"points-{key}", q.points)
        extra = initial.get(f"extra-{key}", q.extra_credit)
        out.append(replace(q, points=points, extra_credit=bool(extra)))
    return out


def initial_of(grids: authoring.Grids, settings: dict[str, Any]) -> dict[str, Any]:
    """The form's initial data: the settings, the structure and every cell of ``grids``."""
    data = dict(settings)
    data.update(n_inputs=grids.n_inputs, n_layers=len(grids.layers), loss=grids.loss,
                update_biases=grids.update_biases, rounds=grids.rounds, lr=grids.lr, batch=grids.batch,
                reduce=grids.reduce, optimizer=grids.optimizer)
    data.update({name: grids.settings.get(name, "") for name in authoring.SETTING_NAMES})
    for l, layer in enumerate(grids.layers, start=1):
        data[f"units_{l}"], data[f"activation_{l}"] = len(layer.biases), layer.activation
        for i, row in enumerate(layer.weights, start=1):
            for j, text in enumerate(row, start=1):
                data[f"w-{l}-{i}-{j}"] = text
        for j, text in enumerate(layer.biases, start=1):
            data[f"b-{l}-{j}"] = text
    for r, (x, y) in enumerate(grids.samples, start=1):
        data.update({f"x-{r}-{i}": t for i, t in enumerate(x, start=1)})
        data.update({f"y-{r}-{j}": t for j, t in enumerate(y, start=1)})
    return data


class AuthoringForm(forms.Form):
    """An assignment as its author writes it. ``seed``: the draws of the example and the probe
    students (the assignment's own, or ``selectors.PREVIEW_SEED`` before it exists)."""

    # Both languages optional, one title at least: students read theirs, else the other.
    title = forms.CharField(label=_("Title in English"), max_length=200, required=False)
    title_th = forms.CharField(label=_("Title in Thai"), max_length=200, required=False)
    slug = forms.SlugField(label=_("Short name in addresses"), max_length=80)
    statement = forms.CharField(label=_("Statement in English (plain text)"), required=False,
                                widget=forms.Textarea(attrs={"rows": 4}))
    statement_th = forms.CharField(label=_("Statement in Thai (plain text)"), required=False,
                                   widget=forms.Textarea(attrs={"rows": 4}))
    n_inputs = _count(_("Inputs"), authoring.MAX_UNITS)
    n_layers = _count(_("Layers"), authoring.MAX_LAYERS)
    units_1 = _count(_("Units of layer 1"), authoring.MAX_UNITS, required=False)
    units_2 = _count(_("Units of layer 2"), authoring.MAX_UNITS, required=False)
    units_3 = _count(_("Units of layer 3"), authoring.MAX_UNITS, required=False)
    units_4 = _count(_("Units of layer 4"), authoring.MAX_UNITS, required=False)
    activation_1 = _activation(_("Activation of layer 1"))
    activation_2 = _activation(_("Activation of layer 2"))
    activation_3 = _activation(_("Activation of layer 3"))
    activation_4 = _activation(_("Activation of layer 4"))
    loss = forms.ChoiceField(label=_("Loss"), choices=[
        ("half_sse", _("Σ(y − f)²/2 (half the squared error, Homework 4.1's)")),
        ("sse", _("Σ(y − f)² (squared error)")), ("mse", _("Σ(y − f)²/m (mean over the outputs)")),
        ("bce", _("binary cross-entropy (sigmoid output)")),
        ("ce", _("cross-entropy −Σ y ln f (softmax output)"))])
    update_biases = forms.BooleanField(label=_("Biases are updated"), required=False)
    rounds = _count(_("Rounds (one sample each)"), authoring.MAX_ROUNDS)
    batch = _count(_("Samples a round (batch)"), authoring.MAX_BATCH, required=False)
    reduce = forms.ChoiceField(label=_("A round's gradients combine as their"), required=False,
                               choices=[("mean", _("mean")), ("sum", _("sum"))])
    optimizer = forms.ChoiceField(label=_("Update rule"), required=False, choices=[
        ("sgd", _("gradient descent")), ("momentum", _("momentum")), ("adam", _("Adam")),
        ("rmsprop", _("RMSProp"))])
    beta = forms.CharField(label=_("momentum β (blank: 0.9)"), required=False, max_length=40)
    beta1 = forms.CharField(label=_("Adam β₁ (blank: 0.9)"), required=False, max_length=40)
    beta2 = forms.CharField(label=_("Adam β₂ (blank: 0.999)"), required=False, max_length=40)
    rho = forms.CharField(label=_("RMSProp ρ (blank: 0.9)"), required=False, max_length=40)
    eps = forms.CharField(label=_("ε of Adam and RMSProp (blank: 1e-8)"), required=False, max_length=40)
    lr = forms.CharField(label=_("Learning rate"), max_length=authoring.MAX_CELL_CHARS)
    decimals = forms.IntegerField(label=_("Decimal places asked"), min_value=1, max_value=8)
    max_attempts = forms.IntegerField(label=_("Attempts"), min_value=1, max_value=1000)
    practice = forms.BooleanField(label=_("Practice mode (unlimited attempts, new numbers each attempt, "
                                          "expected values at once, counted in no total)"), required=False)
    opens_at = forms.DateTimeField(label=_("Opens"), widget=DATETIME)
    due_at = forms.DateTimeField(label=_("Due"), widget=DATETIME)
    grace_seconds = forms.IntegerField(label=_("Grace after the due time (seconds)"), min_value=0,
                                       max_value=86_400)
    accept_late = forms.BooleanField(label=_("Accept late work (flagged)"), required=False)
    auto_submit = forms.BooleanField(label=_("Submit unsubmitted drafts at the due time"), required=False)
    reveal = forms.ChoiceField(label=_("Expected values are shown"), choices=selectors.REVEAL_CHOICES)
    reason = forms.CharField(label=_("Why this change (kept in the assignment's history; needed once it is "
                                     "published)"), required=False, max_length=2000)
    carried_credit = forms.FloatField(label=_("Carried credit (0 to 1)"), min_value=0, max_value=1)
    carried_cap = forms.FloatField(label=_("Share of a round that may carry (0 to 1)"), min_value=0,
                                   max_value=1)
    not_chained_credit = forms.FloatField(label=_("Credit for a Q1 formula not chained (0 to 1)"),
                                          min_value=0, max_value=1)
    unexplained_roots = forms.ChoiceField(
        label=_("Cells carried from a wrong value no honest slip explains"),
        choices=selectors.UNEXPLAINED_ROOTS_CHOICES)

    def __init__(self, data: Any = None, *, initial: dict[str, Any], seed: int, course: Any = None,
                 editing: int | None = None, example: int = 0) -> None:
        structure = structure_of(data, initial)
        if data is not None:
            # A layer just added has no units or activation posted yet: its selects show the
            # structure the grids are laid out for, not their first option.
            data = data.copy()
            # A question the page did not show yet (a round just added) has no points posted: it
            # starts from the saved (or default) points of its kind, never from another position's.
            for q in questions_of(structure.rounds, initial):
                if f"points-{question_key(q)}" not in data:
                    data[f"points-{question_key(q)}"] = str(q.points)
                    data[f"extra-{question_key(q)}"] = "on" if q.extra_credit else ""
            for l in range(1, structure.n_layers + 1):
                if str(data.get(f"units_{l}", "")) != str(structure.sizes[l]):
                    data[f"units_{l}"] = str(structure.sizes[l])
                if data.get(f"activation_{l}") != structure.activations[l - 1]:
                    data[f"activation_{l}"] = structure.activations[l - 1]
        super().__init__(data, initial=initial)
        self.seed, self.course, self.editing, self.example = seed, course, editing, example
        self.structure = structure
        self.spec: dict[str, Any] | None = None
        self.check: selectors.Check | None = None
        self.problems: list[str] = []  # why the problem itself is refused (not one cell's fault)
        for name in self.cell_names():
            self.fields[name] = forms.CharField(
                max_length=authoring.MAX_CELL_CHARS, label=self.label(name),
                error_messages={"required": gettext("Type %(what)s.") % {"what": authoring.HELP}})
        for q in self.question_layout():
            key = question_key(q)
            self.fields[f"points-{key}"] = forms.FloatField(label=self.question_label(q), min_value=0)
            self.fields[f"extra-{key}"] = forms.BooleanField(label=_("extra credit"), required=False)
            self.initial[f"points-{key}"] = q.points
            self.initial[f"extra-{key}"] = q.extra_credit

    # ------------------------------------------------------------ layout

    def cell_names(self) -> list[str]:
        """Every grid cell's field name for the structure (``lr`` is a declared field)."""
        return [n for n in authoring.cell_names(self._blank()) if n != "lr"]

    def _blank(self) -> authoring.Grids:
        s = self.structure
        return authoring.blank_grids(list(s.sizes), list(s.activations), s.rounds, s.loss, s.update_biases,
                                     s.batch)

    def label(self, name: str) -> str:
        return authoring.cell_label(name, self.structure.n_layers, self.structure.batch)

    def question_layout(self) -> list[Any]:
        """The questions of a problem of these rounds: Q1 formulas, a table a round, the plot,
        each with the points its kind has in ``initial`` (else the default of its kind)."""
        return questions_of(self.structure.rounds, self.initial)

    @staticmethod
    def question_label(q: Any) -> str:
        """A question as every page titles it ("Q1 · Forward and backward formulas", as
        ``views.common.question_title``): one wording for each kind."""
        if q.kind == "formulas":
            what = gettext("Forward and backward formulas")
        elif q.kind == "plot":
            what = gettext("Loss plot")
        else:
            what = gettext("Round %(round)s table") % {"round": q.round}
        return gettext("%(question)s · %(what)s") % {"question": f"Q{q.number}", "what": what}

    def layers(self) -> list[dict[str, Any]]:
        """Each layer's grid for the template: rows from the units below, a column per unit."""
        s = self.structure
        out = []
        for l in range(1, s.n_layers + 1):
            below = s.sizes[l - 1]
            out.append({"layer": l, "units": list(range(1, s.sizes[l] + 1)),
                        "below": gettext("input") if l == 1 else gettext("unit of layer %(l)s") % {"l": l - 1},
                        "rows": [(i, [self[f"w-{l}-{i}-{j}"] for j in range(1, s.sizes[l] + 1)])
                                 for i in range(1, below + 1)],
                        "biases": [self[f"b-{l}-{j}"] for j in range(1, s.sizes[l] + 1)],
                        "units_field": self[f"units_{l}"], "activation_field": self[f"activation_{l}"]})
        return out

    def sample_rows(self) -> list[dict[str, Any]]:
        """A row per sample: ``round`` its round, ``sample`` its place in it (0: one a round)."""
        s = self.structure
        return [{"round": (n - 1) // s.batch + 1, "sample": (n - 1) % s.batch + 1 if s.batch > 1 else 0,
                 "x": [self[f"x-{n}-{i}"] for i in range(1, s.sizes[0] + 1)],
                 "y": [self[f"y-{n}-{j}"] for j in range(1, s.sizes[-1] + 1)]}
                for n in range(1, s.rounds * s.batch + 1)]

    def training_fields(self) -> list[Any]:
        return [self[name] for name in TRAINING]

    def optimizer_json(self) -> dict[str, Any] | None:
        """The optimizer as the spec writes it (its settings typed, the rest left to their
        defaults); None with an error on the field where a setting is not a number."""
        kind = self.cleaned_data.get("optimizer") or "sgd"
        out: dict[str, Any] = {"kind": kind}
        for name, _default in authoring.OPTIMIZER_SETTINGS.get(kind, ()):
            text = (self.cleaned_data.get(name) or "").strip()
            if not text:
                continue
            try:
                out[name] = float(text.replace("\u2212", "-"))
            except ValueError:
                self.add_error(name, forms.ValidationError(
                    gettext("Type a number, such as 0.9."), code="setting"))
                return None
        return out

    def question_rows(self) -> list[dict[str, Any]]:
        return [{"q": q, "points": self[f"points-{question_key(q)}"], "extra": self[f"extra-{question_key(q)}"]}
                for q in self.question_layout()]

    def structure_fields(self) -> list[Any]:
        return [self[name] for name in STRUCTURE]

    # ------------------------------------------------------------ validation

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if "title" in data and "title_th" in data and not (data["title"].strip() or data["title_th"].strip()):
            self.add_error("title", forms.ValidationError(_("Give a title, in English or in Thai (or both)."),
                                                          code="no_title"))
        if data.get("opens_at") and data.get("due_at") and data["due_at"] <= data["opens_at"]:
            self.add_error("due_at", forms.ValidationError(_("The due time must be after the opening."),
                                                           code="due_before_opening"))
        if self.course is not None and data.get("slug") and selectors.slug_taken(
                self.course, data["slug"], but=self.editing):
            self.add_error("slug", forms.ValidationError(_("Another assignment of this course has this "
                                                           "short name."), code="slug_taken"))
        values: dict[str, Any] = {}
        for name in [*self.cell_names(), "lr"]:
            text = data.get(name)
            if text is None:
                continue  # required, already refused
            try:
                values[name] = authoring.parse_cell(text)
            except authoring.CellError as exc:
                self.add_error(name, forms.ValidationError(str(exc), code="cell"))
        optimizer = self.optimizer_json()
        if len(values) == len(self.cell_names()) + 1 and optimizer is not None:
            s = self.structure
            self.spec = authoring.spec_from(values, sizes=list(s.sizes), activations=list(s.activations),
                                            rounds=s.rounds, loss=s.loss, update_biases=s.update_biases,
                                            batch=s.batch, reduce=data.get("reduce") or "mean",
                                            optimizer=optimizer)
            decimals = data.get("decimals") or 4
            self.check = selectors.check_spec(self.spec, decimals=decimals, seed=self.seed,
                                              example=self.example)
            if self.check.error:
                self.add_spec_error(self.check.error)
            for reason in self.check.degenerate:
                self.add_problem(gettext("The problem is degenerate: %(reason)s") % {"reason": reason})
        return data

    def add_spec_error(self, message: str) -> None:
        """Put an engine message on the cell its position names, else on the whole problem."""
        name, rest = authoring.position_field(message)
        if name in self.fields and name not in ("loss",):
            self.add_error(name, forms.ValidationError(f"{self.fields[name].label}: {rest}", code="spec"))
        elif name == "loss":
            self.add_error("loss", forms.ValidationError(rest, code="spec"))
        else:
            self.add_problem(message)

    def add_problem(self, message: str) -> None:
        self.problems.append(message)
        self.add_error(None, forms.ValidationError(message, code="problem"))

    def add_model_errors(self, errors: dict[str, list[str]]) -> None:
        """A service's refusal (a model's ValidationError) on the fields it names."""
        for name, messages in errors.items():
            for message in messages:
                if name == "spec":
                    self.add_spec_error(message)
                elif name in self.fields and name not in self.errors:
                    self.add_error(name, forms.ValidationError(message, code="model"))
                else:
                    self.add_problem(message)

    # ------------------------------------------------------------ what the service takes

    def settings(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in SETTINGS}

    def points(self) -> list[Any]:
        return [{"number": q.number, "kind": q.kind, "round": q.round,
                 "points": self.cleaned_data[f"points-{question_key(q)}"],
                 "extra_credit": self.cleaned_data[f"extra-{question_key(q)}"]} for q in self.question_layout()]

    def drawing_spec(self) -> dict[str, Any]:
        """A spec of the structure with every number 0 (the drawing needs only the shape; its
        loss is left out, so that no loss can make it invalid; a softmax output keeps its ce and
        one-hot targets, and a softmax in a hidden layer is drawn as a sigmoid)."""
        s = self.structure
        zeros = {name: 0 for name in authoring.cell_names(self._blank())}
        zeros["lr"] = 1
        loss = "half_sse"
        activations = [a if a in authoring.ACTIVATIONS or l == s.n_layers else "sigmoid"
                       for l, a in enumerate(s.activations, start=1)]
        if activations[-1] not in authoring.ACTIVATIONS:  # softmax: its loss, one-hot targets
            loss = "ce"
            zeros.update({f"y-{n}-1": 1 for n in range(1, s.rounds * s.batch + 1)})
        return authoring.spec_from(zeros, sizes=list(s.sizes), activations=activations,
                                   rounds=s.rounds, loss=loss, update_biases=s.update_biases, batch=s.batch)

    def problem_errors(self) -> dict[str, list[str]]:
        """The field errors about the problem (cells, structure, decimals), for the preview."""
        wanted = {*self.cell_names(), "lr", "decimals", *STRUCTURE, *TRAINING}
        return {name: [str(m) for m in errors] for name, errors in self.errors.items() if name in wanted}
