"""What a class regrade reads: each submitted attempt's answers, its current ledger record and
the staff changes on it, a chunk of attempts at a time, as plain rows (no model object per
attempt, no report parsed here: the stored report travels to a grading worker as its text).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import TextField
from django.db.models.functions import Cast

from grading import engine
from grading.models import Assignment, Grading, Submission, Variant


@dataclass(frozen=True)
class AttemptRow:
    """One graded attempt as a regrade needs it. ``answers_text``: the stored answers as the
    database writes them (equal texts are equal answers); ``latest``: (pk, sequence) of its
    current record; ``staff``: its override and review records, in ledger order."""

    pk: int
    student_id: int
    username: str
    attempt: int
    variant_id: int | None
    answers_text: str
    latest: tuple[int, int]
    staff: tuple[Grading, ...]


def submitted_ids(assignment: Assignment) -> list[int]:
    """The assignment's submitted attempts, by student then attempt number."""
    return list(Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
                .order_by("student__username", "attempt").values_list("pk", flat=True))


def attempt_rows(ids: list[int]) -> list[AttemptRow]:
    """These attempts (in this order) that have a grade; an attempt not graded yet is left out.
    Three queries for any number of attempts (records, staff records, attempts), none per row."""
    records: dict[int, tuple[int, int]] = {}
    with_staff: set[int] = set()
    staff_kinds = (Grading.Kind.OVERRIDE, Grading.Kind.REVIEW)
    for pk, submission, sequence, kind in (Grading.objects.filter(submission_id__in=ids)
                                           .order_by("sequence").values_list("pk", "submission_id",
                                                                             "sequence", "kind")):
        records[submission] = (pk, sequence)  # the last record (by sequence) is the current one
        if kind in staff_kinds:
            with_staff.add(submission)
    staff: dict[int, list[Grading]] = {}
    if with_staff:
        for g in (Grading.objects.filter(submission_id__in=with_staff, kind__in=staff_kinds)
                  .select_related("created_by").defer("report").order_by("sequence")):
            staff.setdefault(g.submission_id, []).append(g)
    # Dictionaries, so no ORDER BY: the models' default order joins the course and assignment
    # and sorts every row with its text (measured: three quarters of the reading time).
    rows = {pk: (student, username, attempt, variant, text) for pk, student, username, attempt, variant, text in
            Submission.objects.filter(pk__in=[pk for pk in ids if pk in records]).order_by()
            .annotate(answers_text=Cast("answers", TextField()))
            .values_list("pk", "student_id", "student__username", "attempt", "variant_id", "answers_text")}
    return [AttemptRow(pk, *rows[pk], latest=records[pk], staff=tuple(staff.get(pk, ())))
            for pk in ids if pk in rows]


def report_texts(grading_ids: list[int]) -> dict[int, str]:
    """Each record's stored report as text (parsed by whoever compares it, not here)."""
    return dict(Grading.objects.filter(pk__in=grading_ids).order_by()  # no sort of 40 kB texts
                .annotate(text=Cast("report", TextField())).values_list("pk", "text"))


def chunks(assignment: Assignment, size: int) -> Iterator[list[AttemptRow]]:
    """The graded attempts of the assignment, ``size`` at a time (memory bounded for any class)."""
    ids = submitted_ids(assignment)
    for start in range(0, len(ids), size):
        yield attempt_rows(ids[start:start + size])


def variant_problems(ids: set[int]) -> dict[int, engine.Spec]:
    """Each of these variants' problem, parsed (one query for all)."""
    return {pk: engine.parse_spec(spec) for pk, spec in Variant.objects.filter(pk__in=ids).values_list("pk", "spec")}
