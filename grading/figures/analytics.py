"""Class-level summaries computed from grading reports: pure functions, no Django, no database.

The selectors pick each student's counted report and hand the reports here; what comes back
is plain data for the plots, the analytics page and the gradebook's export.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any

from grading.grade.report import Report
from grading.mistakes import canonical_id
from grading.engine.text import Text, _, join

WRONG = frozenset({"incorrect", "invalid"})  # typed and wrong; blank is counted apart
# One shared NaN object: tuples holding it compare equal by identity, so the plot cache hits.
NAN = float("nan")


@dataclass(frozen=True)
class Heatmap:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    shares: tuple[tuple[float, ...], ...]  # share typed and wrong; NaN where no report has the cell
    blank: tuple[tuple[float, ...], ...] = ()  # share left blank, apart from the wrong ones
    given: tuple[tuple[bool, ...], ...] = ()   # cells given to the students (nothing to type)


def column_label(column: str, name: str) -> str:
    """A short label for a cell column of the heatmap: `s1`, `old w11`, `new w11` (a Text for
    the last two, in the reader's language where Django renders it)."""
    if column == "parameters":
        return _("old %(name)s", name=name)
    if column == "updated":
        return _("new %(name)s", name=name)
    return name


def wrong_share(reports: Iterable[Report], *, n_rounds: int,
                cells: Sequence[tuple[str, str]],
                given: Collection[tuple[int, str, str]] = frozenset()) -> Heatmap:
    """Per round (rows) and cell (columns): the share of reports whose cell is typed and wrong
    (incorrect or invalid), and apart from it the share left blank.

    A blank cell is not counted as wrong: an extra-credit round most students skip is blank, not
    red. ``cells`` is the ordered list of (column, name) pairs to show; ``given`` the (round,
    column, name) cells the students were given (round 1's parameters), marked as such; a cell
    absent from every report gets NaN, not 0.
    """
    index = {cell: k for k, cell in enumerate(cells)}
    wrong = [[0] * len(cells) for _ in range(n_rounds)]
    blank = [[0] * len(cells) for _ in range(n_rounds)]
    seen = [[0] * len(cells) for _ in range(n_rounds)]
    for report in reports:
        for cell in report.cells:
            r, k = cell.round, index.get((cell.column, cell.name))
            if k is None or not isinstance(r, int) or not 1 <= r <= n_rounds:
                continue
            seen[r - 1][k] += 1
            wrong[r - 1][k] += cell.status in WRONG
            blank[r - 1][k] += cell.status == "blank"

    def share(counts: list[list[int]]) -> tuple[tuple[float, ...], ...]:
        return tuple(tuple(counts[r][k] / seen[r][k] if seen[r][k] else NAN for k in range(len(cells)))
                     for r in range(n_rounds))

    return Heatmap(rows=tuple(_("Round %(round)s", round=r) for r in range(1, n_rounds + 1)),
                   columns=tuple(column_label(c, n) for c, n in cells), shares=share(wrong),
                   blank=share(blank),
                   given=tuple(tuple((r, c, n) in given for c, n in cells) for r in range(1, n_rounds + 1)))


def mistake_ids(report: Report) -> set[str]:
    """The named mistakes one report shows (the grader lists each once; an old id of a merged
    entry counts as the entry it joined, so one mistake is one line)."""
    return {canonical_id(m.id) for m in report.mistakes}


def mistake_counts(reports: Iterable[Report],
                   mistakes: Sequence[tuple[str, str]]) -> list[tuple[str, str, int]]:
    """How many reports (students) show each named mistake: (id, title, count) in catalogue order.

    Every catalogued mistake is listed, zero included; an id not in the catalogue is appended
    under its own name, so nothing a grader reports is hidden.
    """
    counts: dict[str, int] = {ident: 0 for ident, _ in mistakes}
    for report in reports:
        for ident in mistake_ids(report):
            counts[ident] = counts.get(ident, 0) + 1
    titles = dict(mistakes)
    return [(ident, titles.get(ident, ident), count) for ident, count in counts.items()]


@dataclass(frozen=True)
class CopyPair:
    """Two students and the wrong values they typed alike (same cell, same text)."""

    first: str
    second: str
    cells: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.cells)


def shared_wrong_values(wrong: Mapping[str, Sequence[tuple[str, str]]], *, top: int = 10,
                        min_shared: int = 2, common_share: float = 0.2) -> list[CopyPair]:
    """The pairs of students who typed the most identical wrong values, most first.

    ``wrong`` maps a student to their (cell id, typed text) pairs that are wrong by the key. A
    value that more than ``common_share`` of the class typed is a common mistake, not a sign of
    copying, and is left out; pairs sharing fewer than ``min_shared`` values are not listed.
    """
    holders: dict[tuple[str, str], list[str]] = defaultdict(list)
    for student, values in wrong.items():
        for cell, text in set((c, t.strip()) for c, t in values if t.strip()):
            holders[(cell, text)].append(student)
    limit = max(2, int(common_share * len(wrong)))
    shared: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (cell, _), students in holders.items():
        if 2 <= len(students) <= limit:
            for a, b in combinations(sorted(students), 2):
                shared[(a, b)].append(cell)
    pairs = [CopyPair(a, b, tuple(sorted(cells))) for (a, b), cells in shared.items()
             if len(cells) >= min_shared]
    return sorted(pairs, key=lambda p: (-p.count, p.first, p.second))[:top]


@dataclass(frozen=True)
class CopiedRoots:
    """A student whose roots (wrong values nothing honest explains) are another student's
    numbers for the same cells: ``cells`` as (round, name, cell id), in table order."""

    student: str
    other: str
    cells: tuple[tuple[int, str, str], ...]

    @property
    def count(self) -> int:
        return len(self.cells)

    @property
    def where(self) -> Text:
        """The cells round by round: "round 1 s1, s2; round 2 f1"."""
        rounds: dict[int, list[str]] = defaultdict(list)
        for r, name, _id in self.cells:
            rounds[r].append(name)
        return join("; ", (_("round %(round)s %(cells)s", round=r, cells=", ".join(names))
                           for r, names in sorted(rounds.items())))


def copied_roots(reports: Iterable[tuple[str, Report]]) -> list[CopiedRoots]:
    """From each student's report, their roots whose value another student has for that cell
    (``Root.copied_from``), grouped by (student, other) with the cells listed; most cells first.
    A signal for staff, never shown to students."""
    found: dict[tuple[str, str], list[tuple[int, str, str]]] = defaultdict(list)
    for student, report in reports:
        for root in report.roots:
            for other in root.copied_from:
                found[(student, other)].append((root.round, root.name, root.id))
    # In the report's order (table order) within a round, each cell once.
    pairs = [CopiedRoots(s, o, tuple(sorted(dict.fromkeys(cells), key=lambda c: c[0])))
             for (s, o), cells in found.items()]
    return sorted(pairs, key=lambda p: (-p.count, p.student, p.other))


@dataclass(frozen=True)
class RootSummary:
    """The class's roots of carried credit by state, and the share of the points carried."""

    explained: int = 0
    waiting: int = 0
    accepted: int = 0
    declined: int = 0
    carried: int = 0  # unexplained, carried under the "carry" policy
    refused: int = 0  # unexplained, no carried credit under the "none" policy
    carried_points: float = 0.0
    total_points: float = 0.0

    @property
    def roots(self) -> int:
        return self.explained + self.waiting + self.accepted + self.declined + self.carried + self.refused

    @property
    def carried_share(self) -> float | None:
        """Carried points over all points scored (None when nothing was scored)."""
        return self.carried_points / self.total_points if self.total_points > 0 else None


def root_summary(reports: Iterable[Report]) -> RootSummary:
    """How many roots were explained, wait for review, were accepted or declined (or carried,
    or refused, by the policy), and the carried points against all points scored."""
    counts: dict[str, int] = defaultdict(int)
    carried = total = 0.0
    for report in reports:
        for root in report.roots:
            counts[root.state] += 1
        carried += report.carried_points
        total += report.total
    return RootSummary(explained=counts["explained"], waiting=counts["waiting"],
                       accepted=counts["accepted"], declined=counts["declined"],
                       carried=counts["carried"], refused=counts["refused"],
                       carried_points=round(carried, 4), total_points=round(total, 4))


def csv_safe(value: Any) -> Any:
    """A cell for a CSV file that a spreadsheet will not run as a formula (OWASP CSV injection).

    Text that starts with = + - @, a tab or a carriage return gets a leading apostrophe;
    numbers we computed pass unchanged.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
