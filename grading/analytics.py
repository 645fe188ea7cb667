"""Class-level summaries computed from grading reports: pure functions, no Django, no database.

The views pick each student's counted report (see `best_attempt`) and hand the reports here;
what comes back is plain data for the plots and the gradebook.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

WRONG = frozenset({"incorrect", "blank", "invalid"})
# One shared NaN object: tuples holding it compare equal by identity, so the plot cache hits.
NAN = float("nan")
_COLUMN_PREFIX = {"parameters": "old ", "updated": "new "}


@dataclass(frozen=True)
class Heatmap:
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    shares: tuple[tuple[float, ...], ...]  # NaN where no report has that cell (e.g. given cells)


def column_label(column: str, name: str) -> str:
    """A short label for a cell column of the heatmap: `s1`, `old w11`, `new w11`."""
    return _COLUMN_PREFIX.get(column, "") + name


def wrong_share(reports: Iterable[Mapping[str, Any]], *, n_rounds: int,
                cells: Sequence[tuple[str, str]]) -> Heatmap:
    """Share of reports whose cell is incorrect, blank or invalid, per round (rows) and cell (columns).

    ``cells`` is the ordered list of (column, name) pairs to show; a cell absent from every
    report in a round (round 1's given parameters) gets NaN, not 0.
    """
    index = {cell: k for k, cell in enumerate(cells)}
    wrong = [[0] * len(cells) for _ in range(n_rounds)]
    seen = [[0] * len(cells) for _ in range(n_rounds)]
    for report in reports:
        for cell in report.get("cells", ()):
            r, k = cell.get("round"), index.get((cell.get("column"), cell.get("name")))
            if k is None or not isinstance(r, int) or not 1 <= r <= n_rounds:
                continue
            seen[r - 1][k] += 1
            wrong[r - 1][k] += cell.get("status") in WRONG
    shares = tuple(
        tuple(wrong[r][k] / seen[r][k] if seen[r][k] else NAN for k in range(len(cells)))
        for r in range(n_rounds))
    return Heatmap(rows=tuple(f"Round {r}" for r in range(1, n_rounds + 1)),
                   columns=tuple(column_label(c, n) for c, n in cells), shares=shares)


def mistake_ids(report: Mapping[str, Any]) -> set[str]:
    """The named mistakes one report shows (the grader lists each once in "mistakes")."""
    return {m["id"] for m in report.get("mistakes", ())}


def mistake_counts(reports: Iterable[Mapping[str, Any]],
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


def report_total(report: Mapping[str, Any] | None) -> float | None:
    """The report's total score, or None for a missing report."""
    if not report:
        return None
    total = report.get("total")
    return float(total) if isinstance(total, (int, float)) else None


def best_attempt(attempts: Sequence[tuple[Any, Mapping[str, Any] | None]]) -> tuple[Any, Mapping[str, Any]] | None:
    """The counted attempt: the highest total, the earliest one on a tie; None if nothing counts.

    ``attempts`` are (attempt, report) pairs in submission order; attempts without a report
    (never graded) are skipped.
    """
    best = None
    for attempt, report in attempts:
        total = report_total(report)
        if total is None:
            continue
        if best is None or total > report_total(best[1]):
            best = (attempt, report)
    return best


def question_scores(report: Mapping[str, Any] | None) -> dict[str, float]:
    """Question id -> score, from a report (empty for no report)."""
    return {q["id"]: q["score"] for q in (report or {}).get("questions", ())
            if isinstance(q, Mapping) and "id" in q}


def csv_safe(value: Any) -> Any:
    """A cell for a CSV file that a spreadsheet will not run as a formula (OWASP CSV injection).

    Text that starts with = + - @, a tab or a carriage return gets a leading apostrophe;
    numbers we computed pass unchanged.
    """
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
