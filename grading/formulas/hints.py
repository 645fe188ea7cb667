"""What is off in a wrong formula: a sign or factor, a swapped index, a named mistake.

Runs in the server's own process, so it is bounded: no index search on long formulas, at most
_HINT_TRIES candidates per row, and none once the check's time budget is spent.
"""

from __future__ import annotations

from functools import lru_cache

from grading.engine import Shape
from grading.mistakes import alternatives_by_cell, get_mistake
from grading.engine.text import Text, _, join

from .budget import Budget
from .names import Vocabulary, update_vocabulary, vocabulary
from .nodes import Expr, FormulaError, Name, Neg, names_in, walk
from .numeric import Points, compare, hint_for, substitute
from .parser import parse_formula, parse_with_notes
from .rows import UPDATE, Row, Table, circular

_HINT_NODES = 80   # no "x1 in place of x2" search on long formulas: it is a hint, not a verdict
_HINT_TRIES = 120  # nor more candidates than this per row (a 9x9 network has 80 other w's)


def wrong_message(row: Row, expr: Expr, table: Table, points: Points,
                  budget: Budget | None = None) -> tuple[Text, bool]:
    """The message for a formula that is not ``row``'s, and whether the hint search finished."""
    # What is off (a sign, a factor, an index), then the idea behind it when it is a named mistake.
    swap: Text | str | None = ""
    factor = hint_for(expr, row.expr, points)
    if not factor and row.column != UPDATE:  # the update rows' few names have no look-alikes
        swap = _swap_hint(row, expr, table, points, budget)
    hints = [h for h in (factor or swap or "", _mistake_hint(row, expr, table, points)) if h]
    if not hints:
        return _("not equivalent to %(row)s", row=row.name), swap is not None
    return (_("not equivalent to %(row)s: %(hint)s", row=row.name, hint=join("; ", hints)),
            swap is not None)


@lru_cache(maxsize=128)  # one entry per network shape in use
def _row_mistakes(shape: Shape) -> dict[str, tuple[tuple[Text, Expr, frozenset[str]], ...]]:
    """Q1 row -> (message, mistaken formula, names the answer must not use) from the named
    mistakes the tables are marked with, made in the row or carried into it from an earlier one."""
    rows = {row.place: row.name for row in _table(shape).rows}
    out: dict[str, list[tuple[Text, Expr, frozenset[str]]]] = {}
    for place, found in alternatives_by_cell(shape, 1.0).items():
        if place not in rows:
            continue  # a cell that is no Q1 row (y - f, the updates)
        for mistake, alt in found:
            try:
                wrong = parse_formula(alt.formula, sizes=shape.sizes)
            except FormulaError:
                continue  # written over cells that Q1 has no name for
            out.setdefault(rows[place], []).append((
                _("%(title)s. %(explanation)s", title=mistake.title, explanation=mistake.explanation),
                wrong, frozenset()))
            # The same slip carried into every row computed from this one: dL/ds1 written as
            # (y1 - f1)*f1*(1 - f1) has dL/df's flipped sign in it. Not when the answer names
            # the row or one computed from it: -dL/ds1*x2 flips its own sign.
            source = rows[place]
            through = frozenset([source, *_table(shape).descendants(source)])
            for later in _table(shape).rows:
                if source in later.ancestors:
                    carried = _expand(later.expr, source, wrong, _table(shape))
                    out.setdefault(later.name, []).append(
                        (_("%(title)s, carried into %(row)s from %(source)s. %(explanation)s",
                           title=mistake.title, row=later.name, source=source,
                           explanation=mistake.explanation), carried, through))
    return {name: tuple(v) for name, v in out.items()}


def _expand(expr: Expr, target: str, replacement: Expr, table: Table) -> Expr:
    """``expr`` with ``target`` replaced, and every row computed from it written out down to it."""
    mapping: dict[str, Expr] = {}
    for name in names_in(expr):
        if name == target:
            mapping[name] = replacement
        elif name in table.by_name and target in table[name].ancestors:
            mapping[name] = _expand(table[name].expr, target, replacement, table)
    return substitute(expr, mapping)


def _table(shape: Shape) -> Table:
    from .rows import q1_table

    return q1_table(shape)


def _update_mistakes(table: Table, row: Row) -> list[tuple[Text, str]]:
    """An update row's classic mistakes: (message, the mistaken formula as written), the
    catalogue's own titles and explanations where it has the mistake."""
    def named(mistake_id: str) -> Text:
        m = get_mistake(mistake_id)
        return _("%(title)s. %(explanation)s", title=m.title, explanation=m.explanation)

    training = table.training
    if training is None:
        return []
    kind, out = training.optimizer.kind, []
    if row.name == "g" and training.batch > 1:
        k, total = training.batch, " + ".join(f"g{i}" for i in range(1, training.batch + 1))
        out.append((named("mean_for_sum"), total if training.reduce == "mean" else f"({total})/{k}"))
    if row.name == "Δw" and kind == "momentum":
        out += [(named("momentum_sign"), "-lr*g - beta*Δw"),
                (_("The step goes against the gradient: Δw = −lr·g + β·Δw, with −lr·g, not +lr·g."),
                 "lr*g + beta*Δw"),
                (named("velocity_not_carried"), "-lr*g")]
    if kind == "adam" and row.name in ("Δw", "mhat", "vhat"):
        out.append((named("no_bias_correction"),
                    {"Δw": "-lr*m/(sqrt(v) + eps)", "mhat": "m", "vhat": "v"}[row.name]))
    if row.name == "Δw" and kind in ("adam", "rmsprop"):
        out.append((_("ε left out: the step divides by √v + ε (ε keeps it finite while v is still 0), not by √v alone."),
                    "-lr*mhat/sqrt(vhat)" if kind == "adam" else "-lr*g/sqrt(v)"))
    if row.name == "w" and kind != "sgd":
        out.append((_("Δw is added: w = w + Δw (the step already carries its minus sign)."), "w - Δw"))
    if row.name == "w" and kind == "sgd":
        out.append((_("The step goes against the gradient: w = w − lr·g."), "w + lr*g"))
    return out


def _mistake_hint(row: Row, expr: Expr, table: Table, points: Points) -> Text | str:
    """The named mistake a wrong formula is, when it is one of them (same data as the tables)."""
    if row.column == UPDATE:
        for message, text in _update_mistakes(table, row):
            wrong = table.bind(row, parse_with_notes(text, vocab=update_vocabulary())[0])
            if compare(expr, wrong, points).verdict == "equal":
                return message
        return ""
    used = set(names_in(expr))
    for message, wrong, through in _row_mistakes(table.shape).get(row.name, ()):
        if not (used & through) and compare(expr, wrong, points).verdict == "equal":
            return message
    return ""


def _swap_hint(row: Row, expr: Expr, table: Table, points: Points,
               budget: Budget | None = None) -> Text | str | None:
    """'with x1 in place of x2 it would be right': the usual slips of index and of s for f.

    None when the time budget cut the search short (so the message is not the whole answer).
    """
    if sum(1 for _node in walk(expr)) > _HINT_NODES:
        return ""
    vocab = vocabulary(*table.sizes)
    names = sorted(vocab.all)
    tries = 0
    for used in names_in(expr):
        # Another name in its place, or its own sign flipped (1/(1 + e^s1) for the sigmoid).
        for other in [*_look_alikes(used, names, vocab), None]:
            tries += 1
            if tries > _HINT_TRIES:
                return ""
            if budget is not None and budget.expired():
                return None
            candidate = substitute(expr, {used: Name(other) if other else Neg(Name(used))})
            if circular(row, candidate, table):
                continue
            try:
                if compare(candidate, row.expr, points).verdict == "equal":
                    if other is None:
                        return _("with −%(name)s in place of %(name)s it would be right", name=used)
                    return _("with %(other)s in place of %(name)s it would be right", other=other, name=used)
            except ArithmeticError:
                continue
    return ""


_SWAPS = {"s": "f", "f": "s", "dL/ds": "dL/df", "dL/df": "dL/ds"}


def _look_alikes(name: str, names: list[str], vocab: Vocabulary) -> list[str]:
    """Names a slip of the pen turns ``name`` into: another index of the same quantity and
    layer, s for f (dL/ds for dL/df) of the same unit, the same unit of another layer."""
    place = vocab.place(name)
    if place is None:
        return []
    places = [(n, vocab.place(n)) for n in names if n != name]
    out = [n for n, p in places if p is not None and (p.quantity, p.layer) == (place.quantity, place.layer)]
    if place.quantity in _SWAPS:
        out += [n for n, p in places if p == place._replace(quantity=_SWAPS[place.quantity])]
    out += [n for n, p in places if p is not None and p.layer != place.layer
            and (p.quantity, p.index) == (place.quantity, place.index)]
    return out
