"""The class's numbers per cell, for the copy signal on roots of carried credit.

A wrong typed value that equals, at the assignment's decimals, another student's number for the
same cell is a copy signal (``grading.marking.roots.Others``): that student's *expected* value
(per-student variants: their own key) or their *typed* value there (a root of their carried
credit that no slip made the same way by everyone explains: a right value, or a mistake many
make independently, is no evidence).

One index per assignment (cell id -> value text -> the students who have it), built once per
process for a state of the class (the newest submitted attempt, the newest grading, the
variants' count) and shared by every grading; a student's view of it leaves them out, and their
own expected values, without copying the index.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Max

from grading import engine
from grading.marking import parse_number
from grading.marking.roots import Others
from grading.models import Assignment, Grading, Submission, Variant

# Explanations of a root that are chance slips of the written digits: two students make the
# same one only by copying (the others are made the same way by anyone who shares the key).
CHANCE_SLIPS = frozenset({"digit", "swapped_digits", "dropped_digit", "doubled_digit", "decimal_point"})
INDEXES_KEPT = 16  # per process: the assignments being graded now


@dataclass(frozen=True)
class ClassIndex:
    """Cell id -> value text -> usernames who have that number there, and each student's own
    expected value texts per cell (per-student variants only; a shared key is everyone's)."""

    decimals: int
    numbers: dict[str, dict[str, frozenset[str]]]
    expected: dict[str, dict[str, frozenset[str]]]

    def view(self, username: str) -> Others:
        """The index as one student's ``Others``: without them, and without their own expected
        values (a value right for them is never a root)."""
        return _View(self, username)


class _Values(Mapping[str, tuple[str, ...]]):
    __slots__ = ("_values", "_student", "_own")

    def __init__(self, values: dict[str, frozenset[str]], student: str, own: frozenset[str]) -> None:
        self._values, self._student, self._own = values, student, own

    def __getitem__(self, text: str) -> tuple[str, ...]:
        if text in self._own:
            raise KeyError(text)
        found = tuple(sorted(self._values[text] - {self._student}))
        if not found:
            raise KeyError(text)
        return found

    def __iter__(self) -> Iterator[str]:
        return (t for t, users in self._values.items() if t not in self._own and users - {self._student})

    def __len__(self) -> int:
        return sum(1 for _ in self)


class _View(Mapping[str, Mapping[str, tuple[str, ...]]]):
    __slots__ = ("_index", "_student")

    def __init__(self, index: ClassIndex, student: str) -> None:
        self._index, self._student = index, student

    def __getitem__(self, cell_id: str) -> Mapping[str, tuple[str, ...]]:
        values = self._index.numbers[cell_id]
        own = self._index.expected.get(self._student, {}).get(cell_id, frozenset())
        return _Values(values, self._student, own)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.numbers)

    def __len__(self) -> int:
        return len(self._index.numbers)


_INDEXES: OrderedDict[tuple[int, ...], ClassIndex] = OrderedDict()
_LOCK = threading.Lock()


def forget_class_numbers() -> None:
    """Empty the per-process cache of class indexes (tests start from nothing)."""
    with _LOCK:
        _INDEXES.clear()
        _EXPECTED.clear()
        _TYPED.clear()


def _state(assignment: Assignment) -> tuple[int, ...]:
    """What the index of ``assignment`` depends on: a newer attempt, grading or variant builds
    a new one."""
    submitted = Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
    newest = submitted.aggregate(m=Max("pk"))["m"] or 0
    graded = Grading.objects.filter(submission__assignment=assignment).aggregate(m=Max("pk"))["m"] or 0
    variants = Variant.objects.filter(assignment=assignment).aggregate(n=Count("pk"))["n"]
    return (assignment.pk, newest, variants, graded, assignment.decimals)


def class_index(assignment: Assignment) -> ClassIndex:
    """The assignment's index of the class's numbers, built once per state of the class."""
    key = _state(assignment)
    with _LOCK:
        found = _INDEXES.get(key)
        if found is not None:
            _INDEXES.move_to_end(key)
            return found
    index = build_class_index(assignment)
    with _LOCK:
        _INDEXES[key] = index
        while len(_INDEXES) > INDEXES_KEPT:
            _INDEXES.popitem(last=False)
    return index


def class_numbers(assignment: Assignment, *, exclude_student) -> Others:
    """Every other student's number per cell (expected where theirs differs from this student's,
    typed where wrong for them and not a named mistake) -> who has it: the ``others`` of
    ``grading.grade.grader.grade_submission`` for ``exclude_student``'s attempts."""
    return class_index(assignment).view(exclude_student.get_username())


def build_class_index(assignment: Assignment) -> ClassIndex:
    """Build the index from the variants' keys (one vectorised pass per network shape over the
    variants not seen before) and the wrong typed values of each student's latest submitted
    attempt (its current grading's report, read once per process: a record never changes)."""
    decimals = assignment.decimals
    numbers: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    expected: dict[str, dict[str, frozenset[str]]] = {}
    if assignment.has_variants:
        mine: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        for user, texts in _expected(assignment, decimals):
            for cell, text in texts:
                numbers[cell][text].add(user)
                mine[user][cell].add(text)
        expected = {user: {cell: frozenset(t) for cell, t in cells.items()} for user, cells in mine.items()}
    for user, entries in _typed(assignment, decimals):
        for cell, text in entries:
            numbers[cell][text].add(user)
    return ClassIndex(
        decimals,
        {cell: {text: frozenset(users) for text, users in values.items()} for cell, values in numbers.items()},
        expected)


Entries = tuple[tuple[str, str], ...]  # (cell id, value text)
_EXPECTED: OrderedDict[tuple[int, int], Entries] = OrderedDict()  # (variant pk, decimals)
_TYPED: OrderedDict[tuple[int, int], Entries] = OrderedDict()  # (grading pk, decimals)
RECORDS_KEPT = 20_000  # per process: a few large classes


def _keep(cache: OrderedDict[tuple[int, int], Entries], key: tuple[int, int], entries: Entries) -> None:
    with _LOCK:
        cache[key] = entries
        while len(cache) > RECORDS_KEPT:
            cache.popitem(last=False)


def _known(cache: OrderedDict[tuple[int, int], Entries], key: tuple[int, int]) -> Entries | None:
    with _LOCK:
        return cache.get(key)


def _expected(assignment: Assignment, decimals: int) -> list[tuple[str, Entries]]:
    """Each variant's student and expected value texts per gradable cell (a variant never
    changes: its texts are computed once per process)."""
    rows = list(Variant.objects.filter(assignment=assignment).values_list("pk", "student__username"))
    found = {pk: entries for pk, _ in rows if (entries := _known(_EXPECTED, (pk, decimals))) is not None}
    groups: dict[tuple[object, int], list[tuple[int, engine.Spec]]] = defaultdict(list)
    for pk, spec in Variant.objects.filter(pk__in=[pk for pk, _ in rows if pk not in found]).values_list("pk", "spec"):
        parsed = engine.parse_spec(spec)
        groups[(engine.Shape.of(parsed), parsed.n_rounds)].append((pk, parsed))
    for members in groups.values():
        trace = engine.train(engine.stack([s for _, s in members]))
        graph = engine.build_graph(members[0][1])
        columns: list[tuple[str, list[float]]] = []
        for key, cell in graph.cells.items():
            if cell.gradable:
                columns.append((cell.id, engine.cell_across(trace, key).tolist()))
        for p, (pk, _) in enumerate(members):
            entries = tuple((cell_id, f"{values[p]:.{decimals}f}") for cell_id, values in columns)
            found[pk] = entries
            _keep(_EXPECTED, (pk, decimals), entries)
    return [(user, found[pk]) for pk, user in rows if pk in found]


def _typed(assignment: Assignment, decimals: int) -> list[tuple[str, Entries]]:
    """Each student's wrong typed values (not a named mistake) in their latest submitted attempt."""
    latest: dict[str, int] = {}
    for pk, user in (Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
                     .order_by("attempt").values_list("pk", "student__username")):
        latest[user] = pk  # the last attempt of each student wins
    owner = {pk: user for user, pk in latest.items()}
    current: dict[int, int] = {}
    for grading, submission in (Grading.objects.filter(submission__assignment=assignment)
                                .order_by("sequence").values_list("pk", "submission_id")):
        if submission in owner:
            current[submission] = grading
    found = {g: entries for g in current.values() if (entries := _known(_TYPED, (g, decimals))) is not None}
    # Only the roots of each report are read (the database extracts them): the rest of a 40 kB
    # report is never needed here, and parsing it was most of a class regrade's first second.
    for grading, roots in (Grading.objects.filter(pk__in=[g for g in current.values() if g not in found])
                           .values_list("pk", "report__roots")):
        entries = _wrong_typed({"roots": roots or ()}, decimals)
        found[grading] = entries
        _keep(_TYPED, (grading, decimals), entries)
    return [(owner[s], found[g]) for s, g in current.items() if g in found]


def _wrong_typed(report: Mapping[str, Any], decimals: int) -> Entries:
    """The values a copier would take from this report: its roots (the first wrong value of each
    chain), unless a slip everyone who shares the key makes the same way explains them (a flipped
    sign, a rounding or cut-off, a wrong operand, a term, a named mistake: two honest students
    who both truncate s1 must not look like copies of each other). A chance slip of the digits
    or a value nothing explains is kept."""
    out = []
    for root in report.get("roots", ()):
        explanation = root.get("explanation")
        if explanation is not None and explanation.get("kind") not in CHANCE_SLIPS:
            continue
        parsed = parse_number(str(root.get("given", "")))
        if parsed.status == "number" and parsed.value is not None and root.get("id"):
            out.append((str(root["id"]), f"{parsed.value:.{decimals}f}"))
    return tuple(out)


def numbers_for_answers(others: Others | None, answers: Any, decimals: int, *,
                        written: dict[str, str | None] | None = None) -> dict[str, dict[str, tuple[str, ...]]] | None:
    """The part of ``others`` that one attempt's typed values can meet: what a regrade sends to a
    worker process with each attempt (the whole class's index once per attempt would be pickled
    hundreds of times). Cell ids are the answer form's names, as the answers store them.
    ``written``: typed text -> its number at ``decimals`` (None: not a number), kept by a caller
    that asks for many attempts at the same decimals (a class types the same texts again and again)."""
    if others is None:
        return None
    memo: dict[str, str | None] = {} if written is None else written
    # A student's view of the index is read straight from its dictionaries (a class regrade
    # asks this for every typed cell of every attempt); any other ``Others`` through its mapping.
    view = others if isinstance(others, _View) else None
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for table in (answers.get("rounds") or []) if isinstance(answers, Mapping) else []:
        if not isinstance(table, Mapping):
            continue
        for column, cells in table.items():
            if column == "round" or not isinstance(cells, Mapping):
                continue
            for name, text in cells.items():
                cell_id = f"r{table.get('round')}.{column}.{name}"
                if view is not None and cell_id not in view._index.numbers:
                    continue
                text = str(text)
                if text not in memo:
                    memo[text] = _written(text, decimals)
                number = memo[text]
                if number is None:
                    continue
                found = _met(view, cell_id, number) if view is not None else others.get(cell_id, {}).get(number)
                if found:
                    out.setdefault(cell_id, {})[number] = tuple(found)
    return out


def _written(text: str, decimals: int) -> str | None:
    """A typed text's number as the index writes it at ``decimals``; None when not a number."""
    parsed = parse_number(text)
    if parsed.status != "number" or parsed.value is None:
        return None
    return f"{parsed.value:.{decimals}f}"


def _met(view: _View, cell_id: str, written: str) -> tuple[str, ...] | None:
    """``view[cell_id].get(written)`` without the mapping's objects and exceptions."""
    users = view._index.numbers[cell_id].get(written)
    if users is None or written in view._index.expected.get(view._student, {}).get(cell_id, frozenset()):
        return None
    return tuple(sorted(users - {view._student})) or None
