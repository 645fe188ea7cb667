"""Mark every gradable cell of a submission: correct, carried, incorrect (maybe a named mistake)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from grading.engine import COLUMNS, Cell, CellId, Key, Place
from grading.marking.explain import CarriedMistakes, factor_note
from grading.marking.intervals import Interval, recompute, typed_interval
from grading.marking.numbers import ParsedNumber, band, band_text, hints
from grading.marking.plausible import implausible, repeated_in
from grading.marking.roots import (Explanation, Others, Policy, RootState, copied_from, explain,
                                   honest_alternatives, sentence)
from grading.marking.typed import answer_tables, typed_text
from grading.mistakes import Mistake, alternatives_by_cell, get_mistake
from grading.mistakes.base import Alternative
from grading.engine.text import Text, _, join

# The two commonest messages, made once (a Text renders in the reader's language when read).
CORRECT = _("correct")
BLANK = _("blank")


@dataclass(frozen=True)
class MarkingRules:
    """An assignment's marking settings; every field has the default Homework 4.1 uses."""

    decimals: int = 4
    carried_credit: float = 1.0   # credit of a carried cell (0..1)
    carried_cap: float = 1.0      # share of a round's cells that may earn carried credit
    max_wrong_share: float = 0.5  # above this share of plainly wrong answers, a round earns none
    max_repeats: int = 5          # a value typed in more cells of a round is not plausible
    follow_through: bool = True
    detect_mistakes: bool = True
    unexplained_roots: Policy = "review"  # what a root no honest slip explains does to its carried cells


# A cell's mark, stored in reports as this string.
# "pending": carried from a root no honest slip explains, waiting for staff (no points yet).
MarkStatus = Literal["correct", "carried", "pending", "incorrect", "blank", "invalid"]


@dataclass(frozen=True, slots=True)
class CellMark:
    """The mark of one gradable cell; ``message`` already includes ``hint``.

    ``message`` and ``hint`` are ``grading.engine.text.Text`` where the marking wrote them (their
    English is the string itself), plain strings where a report stored before schema 3 had them.
    """

    round: int
    column: str
    name: str
    given: str
    expected: float
    status: MarkStatus
    message: str  # a Text
    credit: float
    mistake: str | None = None
    upstream: dict[str, float] = field(default_factory=dict)
    hint: str = ""
    id: str = ""  # the cell's stable id (engine.Cell.id), e.g. "r2.forward.s1"
    layer: int | None = None  # the cell's structure (engine.CellId); layer None for x, y, y-f, L
    quantity: str = ""
    index: tuple[int, ...] = ()


class _Unfrozen:
    """``CellMark``'s slots without its frozen ``__setattr__``: a mark is filled in here and then
    made a ``CellMark`` by ``__class__`` assignment (allowed between classes of one slot layout;
    the object is a frozen ``CellMark`` from then on). The frozen dataclass's own ``__init__``
    sets each field through ``object.__setattr__``: about 2 µs a mark, which was a third of the
    time marking a complete 2,000-cell submission took."""

    __slots__ = CellMark.__slots__

    def __init__(self, round: int, column: str, name: str, given: str, expected: float, status: MarkStatus,
                 message: str, credit: float, mistake: str | None, upstream: dict[str, float], hint: str,
                 id: str, layer: int | None, quantity: str, index: tuple[int, ...]) -> None:
        self.round, self.column, self.name, self.given, self.expected = round, column, name, given, expected
        self.status, self.message, self.credit, self.mistake, self.upstream = status, message, credit, mistake, upstream
        self.hint, self.id, self.layer, self.quantity, self.index = hint, id, layer, quantity, index


def _safe(fn: Any, values: list[float]) -> float | None:
    try:
        v = float(fn(*values))
    except (ArithmeticError, ValueError, TypeError):
        return None
    return v if math.isfinite(v) else None


@dataclass(slots=True)
class _Draft:
    """A cell's mark while the round-wide rules are still to be applied."""

    cell: Cell
    text: str
    parsed: ParsedNumber
    status: MarkStatus = "incorrect"
    message: str = ""  # a Text once marked
    mistake: str | None = None
    upstream: dict[str, float] = field(default_factory=dict)
    hint: str = ""
    given_your: str = ""  # the wrong upstream values a carried cell follows from (a Text)
    follows: bool = False  # the typed value follows from its own (or an honest alternative's) inputs
    exact: bool = False  # ... from their values as typed, not only within their rounding
    span: Interval | None = None  # what its own formula gives over what its inputs stand for
    deps: tuple[CellId, ...] = ()  # the inputs it follows from
    ups: list[float | None] = field(default_factory=list)  # their values
    rights: tuple[float, ...] = ()  # what it should have been from the student's inputs, then the exact ones
    roots: frozenset[CellId] = frozenset()  # the roots a carried cell's wrong inputs come from


@dataclass(frozen=True, slots=True)
class Root:
    """A wrong typed cell that does not follow from its own inputs, with what explains it (None:
    nothing honest does), who else has its value, its state and the carried cells after it."""

    id: str
    round: int
    column: str
    name: str
    given: str
    value: float
    right: float
    explanation: Explanation | None
    copied_from: tuple[str, ...]
    state: RootState
    carried: tuple[str, ...]  # ids of the cells carried from it (after the round's limits)
    credit: float = 1.0  # what each of them earns when carried (the assignment's carried credit)
    layer: int | None = None
    quantity: str = ""
    index: tuple[int, ...] = ()


class _Marker:
    def __init__(self, key: Key, answers: Any, rules: MarkingRules, others: Others | None = None,
                 *, shortcut: bool = True) -> None:
        self.key, self.rules, self.others = key, rules, others
        self.graph = key.graph
        self.tol = tol = band(rules.decimals)
        spec = self.graph.spec
        self.alternatives = (alternatives_by_cell(self.graph.shape, float(spec.learning_rate))
                             if rules.detect_mistakes else {})
        tables = self.tables = answer_tables(answers)
        values = key.values
        cells = self.graph.cells
        # Given cells keep the key's value; every gradable one is set below to what was typed.
        student: dict[CellId, float | None] = dict(values)
        self.student = student
        self.spans: dict[CellId, Interval] = {}
        # Only the cells that are not plainly correct become drafts: a value within the band of
        # the key is correct whatever else the submission holds (no rule below changes such a
        # mark), and in a complete submission that is almost every cell. ``shortcut=False``
        # drafts every cell (the straightforward path; the tests compare the two).
        self.drafts: list[_Draft] = []
        drafts = self.drafts
        # Every gradable cell in graph order: (cell, the text as typed, its reading, expected,
        # its draft or None when it is correct).
        self.order: list[tuple[Cell, str, ParsedNumber, float, _Draft | None]] = []
        order = self.order
        # The key's values in the graph's order (the engine builds them so): no lookups by id.
        expected_values = values.values() if list(values) == list(cells) else [values[k] for k in cells]
        round_no, column_name = 0, ""
        here: Mapping[str, Any] = {}
        for (k, cell), expected in zip(cells.items(), expected_values):
            if not cell.gradable:
                continue
            if k.round != round_no or k.column != column_name:
                round_no, column_name = k.round, k.column
                column = tables.get(round_no, {}).get(column_name)
                here = column if isinstance(column, Mapping) else {}
            text, parsed = typed_text(here.get(cell.name))
            value = parsed.value
            student[k] = value
            if shortcut and value is not None and abs(value - expected) < tol:
                order.append((cell, text, parsed, expected, None))
                continue
            d = _Draft(cell, text, parsed)
            drafts.append(d)
            order.append((cell, text, parsed, expected, d))
        self._repeated: dict[int, set[float]] | None = None
        # A parameter cell of round 2+ is a copy of the previous round's updated value: left
        # blank, the student's own updated value stands in for it downstream (the cell itself
        # stays blank and earns nothing), so the rest of their round can still follow through.
        self.filled: dict[CellId, CellId] = {}
        for d in drafts:
            k, cell = d.cell.key, d.cell
            if (d.parsed.status == "blank" and k.column == "parameters" and len(cell.deps) == 1
                    and cell.deps[0].column == "updated" and student.get(cell.deps[0]) is not None):
                student[k] = student[cell.deps[0]]
                self.filled[k] = cell.deps[0]
        self.carried_mistakes = CarriedMistakes(self.graph, values, student, self.alternatives)
        self.by_key = {d.cell.key: d for d in drafts}
        self.honest = honest_alternatives(self.graph)
        self._explained: dict[CellId, tuple[Explanation | None, tuple[str, ...]]] = {}
        self.crowded: set[int] = set()  # rounds with more roots than honest slips explain
        self._mistakes: dict[tuple[CellId, float], tuple[Mistake, Alternative, dict[str, float]] | None] = {}

    def _typed(self, k: CellId) -> tuple[str, ParsedNumber]:
        """Gradable cell ``k``'s text as typed and its reading (read again from the answers: only
        the few cells a message quotes are ever asked for)."""
        column = self.tables.get(k.round, {}).get(k.column)
        return typed_text((column if isinstance(column, Mapping) else {}).get(self.graph[k].name))

    def _text(self, k: CellId) -> str:
        """What the student typed in ``k``, stripped; "" for a given cell."""
        return self._typed(k)[0].strip() if self.graph[k].gradable else ""

    def _decimals(self, k: CellId) -> int:
        """The decimals of the number typed in ``k``, for what it stands for; a blank parameter
        cell filled from the round before's update has that update's."""
        return self._typed(self.filled.get(k, k))[1].decimals

    def repeated(self, r: int) -> set[float]:
        """The values typed in too many cells of round ``r`` (every round's worked out when first asked)."""
        if self._repeated is None:
            typed: dict[int, tuple[list[float], list[float]]] = {}
            for cell, _text, parsed, expected, _d in self.order:
                if parsed.value is not None:
                    mine = typed.setdefault(cell.key.round, ([], []))
                    mine[0].append(parsed.value)
                    mine[1].append(expected)
            self._repeated = {round_no: repeated_in(values, expected, self.tol, self.rules.max_repeats)
                              for round_no, (values, expected) in typed.items()}
        return self._repeated.get(r, set())

    def _name(self, k: CellId) -> str:
        return self.graph[k].name

    def _label(self, k: CellId) -> str:
        """How a message names an upstream cell: an updated value only ever feeds the next
        round's parameters, so it says whose: "round 1 updated w11", not "w11"."""
        name = self._name(k)
        return _("round %(round)s updated %(name)s", round=k.round, name=name) if k.column == "updated" else name

    def _shown(self, k: CellId) -> str:
        source = self.filled.get(k)
        if source is not None:
            return _("%(name)s = %(typed)s (blank here, from your round %(round)s update)",
                     name=self._name(k), typed=self._text(source), round=source.round)
        text = self._text(k)
        return join(" = ", [self._label(k), text]) if text else self._label(k)

    def trace(self, d: _Draft) -> None:
        """Whether a wrong typed value follows from its own inputs (or an honest alternative's),
        allowing for the rounding of the values typed: a carried candidate, or a root."""
        if d.parsed.status != "number":
            return
        k, tol, v = d.cell.key, self.tol, d.parsed.value
        expected = self.key.values[k]
        if abs(v - expected) < tol:
            return
        ups = [self.student[u] for u in d.cell.deps]
        own = _safe(d.cell.fn, ups) if None not in ups else None  # type: ignore[arg-type]
        span = None
        if own is not None:
            # The student may have computed from more digits than they typed: recompute the
            # cell over what their typed upstream values stand for.
            span = None if abs(v - own) < tol else self._recomputed(d.cell)
        d.exact, d.span = own is not None and abs(v - own) < tol, span
        d.follows = d.exact or (span is not None and span.distance(v) < tol)
        d.deps, d.ups = tuple(d.cell.deps), ups
        d.rights = tuple(x for x in (own, expected) if x is not None)
        if not d.follows:
            for deps, fn in self.honest.get(d.cell.place, ()):
                honest = self._follows_from(v, [p.at(k.round) for p in deps], fn)
                if honest is not None:
                    d.follows, d.deps, (d.ups, d.exact) = True, tuple(p.at(k.round) for p in deps), honest
                    break

    def _usable(self, u: CellId) -> bool:
        """A number a slip may take from the wrong place: right, or worked from the student's own inputs."""
        if not self._wrong(u):
            return True
        source = self.by_key.get(self._source(u))
        return source is not None and source.follows

    def _counts_as_slip(self, d: _Draft) -> bool:
        """A root that only a slip of the written digits could explain: its inputs all typed (a
        root after a blank cell cannot be checked at all), no named mistake (a misconception
        applied everywhere it fits is one mistake), and neither a value rounded or cut off early
        nor one worked from the table's own numbers (a wrong operand, a term)."""
        if d.parsed.status != "number" or d.follows or not self._wrong(d.cell.key):
            return False
        if any(self.student.get(u) is None for u in d.cell.deps):
            return False
        if self.alternatives and self._mistake(d.cell, d.parsed.value) is not None:
            return False
        return explain(self.graph, d.cell.key, d.parsed.value, d.parsed.decimals, d.rights,
                       self.student, self.rules.decimals, self.tol, digits=False,
                       usable=self._usable) is None

    def first_pass(self, d: _Draft) -> None:
        """Correct, a carried candidate, or incorrect (with a named mistake when one fits)."""
        k = d.cell.key
        if d.parsed.status != "number":
            d.status, d.message = d.parsed.status, d.parsed.message or BLANK
            return
        v, expected = d.parsed.value, self.key.values[k]
        if abs(v - expected) < self.tol:
            d.status, d.message = "correct", CORRECT
            return
        notes: list[str] = [self._not_within()]
        ups, exact = d.ups, d.exact
        own = d.rights[0] if len(d.rights) == 2 else None
        span = d.span
        if self.rules.follow_through and d.follows:
            reason = self._implausible_deps(d.deps)
            if reason is None:
                d.status, d.upstream = "carried", {self._name(u): x for u, x in zip(d.deps, ups) if x is not None}
                d.given_your = self._wrong_upstream(d.deps)
                d.message = (_("correct given your %(values)s", values=d.given_your) if exact else
                             _("correct given your %(values)s, allowing for the rounding of the values you typed",
                               values=d.given_your))
                return
            notes.append(_("no carried credit: %(reason)s", reason=reason))
            if (carried := self._carried_mistake(d.cell, v)) is not None:
                d.mistake = carried[0].id
                notes.append(self._carried_text(d.cell, *carried))
        else:
            blank = [u for u, x in zip(d.cell.deps, ups) if x is None]
            if blank and self.rules.follow_through:
                notes.append(_("no carried credit: your %(cell)s is blank or invalid", cell=self._label(blank[0])))
            if k.column == "parameters" and own is not None:
                source = d.cell.deps[0]
                notes.append(_("round %(round)s starts from round %(previous)s's updated values: "
                               "your updated %(name)s there is %(typed)s", round=k.round,
                               previous=source.round, name=self._name(source),
                               typed=self._text(source)))
            found = self._mistake(d.cell, v)
            if found is not None:
                mistake, alt, values = found
                d.mistake, d.upstream = mistake.id, values
                notes = [_("%(title)s (%(cell)s = %(formula)s): %(explanation)s", title=mistake.title,
                           cell=alt.name, formula=alt.formula, explanation=mistake.explanation)]
            elif (carried := self._carried_mistake(d.cell, v)) is not None:
                d.mistake = carried[0].id
                notes = [self._carried_text(d.cell, *carried)]
            elif note := factor_note(v, expected if own is None else own, self.tol):
                notes.append(note)
        ranges = [(span.lo, span.hi)] if span is not None else []
        # "Truncated" only of what the student's own upstream values give: after a blank or
        # invalid upstream cell there is no such value, and the key's is not what they rounded.
        found_hints = hints(d.parsed, self.rules.decimals, [own] if own is not None else [], ranges)
        d.hint = join("; ", found_hints) if found_hints else ""
        d.message = join("; ", notes + ([d.hint] if d.hint else []))

    def _not_within(self) -> Text:
        return _("not within %(band)s of the expected value", band=band_text(self.rules.decimals))

    def _span(self, k: CellId) -> Interval:
        """What the student's value of ``k`` stands for: a given value exactly, a typed one ± its rounding."""
        span = self.spans.get(k)
        if span is None:
            value = self.student[k]
            span = (typed_interval(value, self._decimals(k), self.rules.decimals)  # type: ignore[arg-type]
                    if self.graph[k].gradable else Interval.point(value))  # type: ignore[arg-type]
            self.spans[k] = span
        return span

    def _recomputed(self, cell: Cell) -> Interval | None:
        """The cell's formula over what its upstream values stand for (None if unbounded)."""
        return recompute(cell.fn, [self._span(u) for u in cell.deps])  # type: ignore[arg-type]

    def _follows_from(self, v: float, deps: list[CellId], fn: Callable[..., float]
                      ) -> tuple[list[float | None], bool] | None:
        """(the inputs, exactly) when ``v`` follows from ``deps`` by ``fn`` (an honest
        alternative derivation), allowing for the rounding of typed inputs; else None."""
        ups = [self.student.get(u) for u in deps]
        typed = [x for x in ups if x is not None]
        if len(typed) != len(ups):
            return None
        own = _safe(fn, typed)
        if own is not None and abs(v - own) < self.tol:
            return ups, True
        span = recompute(fn, [self._span(u) for u in deps])
        return (ups, False) if span is not None and span.distance(v) < self.tol else None

    def _wrong(self, u: CellId) -> bool:
        x = self.student.get(u)
        return x is not None and self.graph[u].gradable and abs(x - self.key.values[u]) >= self.tol

    def _source(self, u: CellId) -> CellId:
        """A blank parameter cell stands for the student's own previous updated value."""
        return self.filled.get(u, u)

    def _implausible_deps(self, deps: Any) -> str | None:
        for u in deps:
            if not self.graph[u].gradable or self.student[u] is None:
                continue
            # The blunt rules (0, σ(0), a copy of y, the same number everywhere) speak only of a
            # root no honest slip explains; a carried value or an explained slip is judged by
            # its kind's ranges alone.
            source = self.by_key.get(self._source(u))
            blunt = (source is None or not self._wrong(source.cell.key)
                     or any(self._is_unexplained_root(self.by_key[r])
                            for r in (source.roots if source.follows else (source.cell.key,))))
            reason = implausible(u, self.student[u], self.student, self.key.values,  # type: ignore[arg-type]
                                 self.tol, self.repeated(u.round), self.graph, blunt=blunt)
            if reason is not None:
                return _("your %(value)s %(reason)s", value=self._shown(u), reason=reason)
        return None

    def _is_unexplained_root(self, d: _Draft) -> bool:
        if d.follows or d.parsed.status != "number":
            return False
        explanation, copied = self.explained(d)
        return explanation is None or bool(copied)

    def explained(self, d: _Draft) -> tuple[Explanation | None, tuple[str, ...]]:
        """What explains root ``d`` (None: nothing honest), and who else has its value."""
        k = d.cell.key
        known = self._explained.get(k)
        if known is None:
            v, places = d.parsed.value, d.parsed.decimals
            assert v is not None  # a root is a typed number
            copied = copied_from(self.others, d.cell.id, v, self.rules.decimals)
            if d.mistake is not None:
                found: Explanation | None = Explanation("named_mistake", get_mistake(d.mistake).title)
            else:
                found = explain(self.graph, k, v, places, d.rights, self.student, self.rules.decimals,
                                self.tol, digits=k.round not in self.crowded, usable=self._usable)
            known = self._explained[k] = (found, copied)
        return known

    def _wrong_upstream(self, deps: Any) -> str:
        own = [u for u in deps if self.graph[u].gradable]
        wrong = [u for u in own if abs(self.student[u] - self.key.values[u]) >= self.tol]  # type: ignore[operator]
        shown = [self._shown(u) for u in (wrong or own)]
        return join(", ", shown) if shown else _("own values")

    def _mistake(self, cell: Cell, v: float) -> tuple[Mistake, Alternative, dict[str, float]] | None:
        key = (cell.key, v)
        if key not in self._mistakes:
            self._mistakes[key] = self._find_mistake(cell, v)
        return self._mistakes[key]

    def _find_mistake(self, cell: Cell, v: float) -> tuple[Mistake, Alternative, dict[str, float]] | None:
        candidates = self.alternatives.get(cell.place)
        r = cell.key.round
        if not candidates or round(v, 12) in self.repeated(r):
            return None  # no misconception is read into "the same number everywhere"

        def value_of(place: Place) -> float:
            # A blank upstream falls back to the key, so a mistake is still recognised.
            u = place.at(r)
            x = self.student.get(u)
            return self.key.values[u] if x is None else x

        def exact(place: Place) -> float:
            return self.key.values[place.at(r)]

        # The student's own upstream values first; then the exact ones, for a student who
        # carried more digits than they typed.
        for source in (value_of, exact):
            right = _safe(cell.fn, [source(u.place) for u in cell.deps])
            for mistake, alt in candidates:
                if self._implausible_deps([p.at(r) for p in alt.deps]):
                    continue  # a mistake is only read into believable inputs
                values = [source(p) for p in alt.deps]
                wrong = _safe(alt.fn, values)
                if wrong is None or right is None or abs(wrong - right) < self.tol:
                    continue  # this mistake would not change the cell here
                if abs(v - wrong) < self.tol:
                    return mistake, alt, self._used(alt.deps, r)
        return None

    def _used(self, deps: tuple[Place, ...], r: int) -> dict[str, float]:
        """The values a named mistake is shown to use ("Uses your ..."): the student's own, as they
        typed them (or given, or carried from their own update), even where the search matched with
        more digits than they typed; a blank one, which the search took from the key, is left out."""
        used = {}
        for p in deps:
            own = self.student.get(p.at(r))
            if own is not None:
                used[self._name(p.at(r))] = own
        return used

    def _carried_mistake(self, cell: Cell, v: float) -> tuple[Mistake, str] | None:
        """A named mistake made upstream that this cell carries (a right or blank dL/df typed,
        the flip still in dL/ds): from the round's parameters, as the tables' search cannot see it."""
        if not self.alternatives or round(v, 12) in self.repeated(cell.key.round):
            return None
        return self.carried_mistakes.find(cell, v, self.tol)

    @staticmethod
    def _carried_text(cell: Cell, mistake: Mistake, source: str) -> str:
        return _("%(title)s, carried into %(cell)s from %(source)s: %(explanation)s", title=mistake.title,
                 cell=cell.name, source=source, explanation=mistake.explanation)

    def round_rules(self, mine: list[_Draft], correct: int) -> None:
        """The per-round limits: no carried credit in a mostly wrong round, and the cap.
        ``mine``: the round's drafts, ``correct``: how many of its cells are correct without one."""
        carried = [d for d in mine if d.status == "carried"]
        if not carried:
            return
        answered = correct + sum(1 for d in mine if d.status != "blank")
        wrong = [d for d in mine if d.status in ("incorrect", "invalid")]
        if len(wrong) > self.rules.max_wrong_share * answered:
            self._deny(carried, _("there is no carried credit in a round where more than "
                                  "%(share)s of the answers are wrong",
                                  share=f"{self.rules.max_wrong_share:.0%}"))
            return
        allowed = math.floor(self.rules.carried_cap * (len(mine) + correct) + 1e-9)
        # Always "cells" (the English said so before messages were translated, and Thai has
        # no plural): a cap of 1 reads "at most 1 cells".
        self._deny(carried[allowed:], _("at most %(n)s cells of a round may earn carried credit", n=allowed))

    def _deny(self, drafts: list[_Draft], why: str) -> None:
        for d in drafts:
            d.status, d.upstream = "incorrect", {}
            d.message = join("; ", [self._not_within(),
                                    _("it follows from your %(values)s, but %(why)s",
                                      values=d.given_your, why=why)])

    def marks(self) -> tuple[list[CellMark], list[Root]]:
        rounds: dict[int, list[_Draft]] = {}
        for d in self.drafts:
            self.trace(d)
        self.provenance()
        # A round with more roots than one careful student slips into is not a few honest slips:
        # there, slips of the written digits explain nothing (they can make any value, 0 included).
        # Counted: roots something is carried from, that nothing else explains.
        carried_from = {r for d in self.drafts if d.follows for r in d.roots}
        roots_in: dict[int, int] = {}
        for d in self.drafts:
            if d.cell.key in carried_from and self._counts_as_slip(d):
                roots_in[d.cell.key.round] = roots_in.get(d.cell.key.round, 0) + 1
        self.crowded = {r for r, n in roots_in.items() if n > MAX_SLIPS_PER_ROUND}
        # The mistake search above asked before the crowded rounds were known: ask again.
        self._explained.clear()
        self._mistakes.clear()
        correct: dict[int, int] = {}
        for cell, _text, _parsed, _expected, draft in self.order:
            r = cell.key.round
            if draft is None:
                correct[r] = correct.get(r, 0) + 1
            else:
                self.first_pass(draft)
                rounds.setdefault(r, []).append(draft)
        for r, mine in rounds.items():
            self.round_rules(mine, correct.get(r, 0))
        roots = self.roots()
        credit = {"correct": 1.0, "carried": float(self.rules.carried_credit)}
        cells: list[Any] = []
        append = cells.append
        for cell, text, _parsed, expected, draft in self.order:
            k = cell.key
            if draft is None:
                mark = _Unfrozen(k.round, k.column, cell.name, text, expected, "correct", CORRECT, 1.0,
                                 None, {}, "", cell.id, k.layer, k.quantity, k.index)
            else:
                mark = _Unfrozen(k.round, k.column, cell.name, draft.text, expected, draft.status, draft.message,
                                 credit.get(draft.status, 0.0), draft.mistake, draft.upstream, draft.hint, cell.id,
                                 k.layer, k.quantity, k.index)
            mark.__class__ = CellMark  # type: ignore[assignment]
            append(mark)
        return cells, roots

    def provenance(self) -> None:
        """The roots each carried candidate's wrong inputs come from, traced in graph order."""
        for d in self.drafts:
            if not d.follows:
                continue
            found: set[CellId] = set()
            for u in d.deps:
                source = self.by_key.get(self._source(u))
                if source is None or not self._wrong(source.cell.key):
                    continue
                if source.follows:
                    found |= source.roots
                elif source.parsed.status == "number":
                    found.add(source.cell.key)
            d.roots = frozenset(found)

    def roots(self) -> list[Root]:
        """Trace each carried cell to its roots, explain each root, and apply the assignment's
        policy to the cells carried from the roots nothing honest explains."""
        followers: dict[CellId, list[_Draft]] = {}
        for d in self.drafts:
            if d.follows and d.status == "carried":
                for root in d.roots:
                    followers.setdefault(root, []).append(d)
        out: list[Root] = []
        waiting: set[CellId] = set()
        for d in self.drafts:
            if d.follows or d.parsed.status != "number" or not self._wrong(d.cell.key):
                continue
            explanation, copied = self.explained(d)
            honest = explanation is not None and not copied
            after = followers.get(d.cell.key, [])
            if not after:
                continue
            if honest and explanation is not None and explanation.kind != "named_mistake":
                # (A flipped sign is already said by the factor note.)
                said = (_("the cells after it are marked from your value") if explanation.kind == "sign"
                        else sentence(explanation, d.text, d.rights[0], self.rules.decimals))
                d.message = join("; ", [d.message, said])
            state: RootState = "explained" if honest else _STATE_OF[self.rules.unexplained_roots]
            if state in ("waiting", "refused"):
                waiting.add(d.cell.key)
            k = d.cell.key
            out.append(Root(id=d.cell.id, round=k.round, column=k.column, name=d.cell.name, given=d.text,
                            value=float(d.parsed.value or 0.0), right=d.rights[0],
                            explanation=explanation if honest else None, copied_from=copied,
                            state=state, carried=tuple(f.cell.id for f in after),
                            credit=float(self.rules.carried_credit), layer=k.layer, quantity=k.quantity, index=k.index))
        for d in self.drafts:
            stopped = sorted(d.roots & waiting, key=lambda c: (c.round, self.graph[c].id))
            if d.status != "carried" or not stopped:
                continue
            names = join(", ", [self._shown(r) for r in stopped])
            if self.rules.unexplained_roots == "review":
                d.status = "pending"
                d.message = _("correct given your %(values)s, but %(roots)s is not a slip the grader "
                              "can name: this cell's carried credit waits for review by staff",
                              values=d.given_your, roots=names)
            else:
                d.status, d.upstream = "incorrect", {}
                d.message = join("; ", [self._not_within(), _(
                    "no carried credit: %(roots)s is not a slip the grader can name", roots=names)])
        return out


MAX_SLIPS_PER_ROUND = 2  # roots in one round that honest slips may explain
_STATE_OF: dict[Policy, RootState] = {"review": "waiting", "carry": "carried", "none": "refused"}


def mark_tables(key: Key, answers: Any, rules: MarkingRules = MarkingRules()) -> list[CellMark]:
    """One mark per gradable cell of ``key``'s graph, in graph order; never raises on bad input."""
    return _Marker(key, answers, rules).marks()[0]


def mark_tables_with_roots(key: Key, answers: Any, rules: MarkingRules = MarkingRules(),
                           others: Others | None = None) -> tuple[list[CellMark], list[Root]]:
    """The marks, and the roots of the carried credit in them (``others``: the class's numbers,
    for the copy signal)."""
    return _Marker(key, answers, rules, others).marks()


def round_score(marks: list[CellMark], round_no: int, points: float) -> float:
    """The round's points split evenly over its gradable cells, each times its credit."""
    mine = [m for m in marks if m.round == round_no]
    return points * sum(m.credit for m in mine) / len(mine) if mine else 0.0


def summarize_mistakes(marks: list[CellMark]) -> list[dict[str, Any]]:
    """Each named mistake once, in order of first appearance, with the cells it explains."""
    out: dict[str, dict[str, Any]] = {}
    for m in marks:
        if m.mistake is None:
            continue
        if m.mistake not in out:
            mistake = get_mistake(m.mistake)
            out[m.mistake] = {"id": mistake.id, "title": mistake.title,
                              "explanation": mistake.explanation, "cells": []}
        out[m.mistake]["cells"].append({"id": m.id, "round": m.round, "column": m.column,
                                         "name": m.name, "layer": m.layer, "quantity": m.quantity,
                                         "index": m.index})
    for entry in out.values():
        entry["count"] = len(entry["cells"])
    return list(out.values())


__all__ = ["COLUMNS", "CellMark", "MarkingRules", "Root", "mark_tables", "mark_tables_with_roots",
           "round_score", "summarize_mistakes"]
