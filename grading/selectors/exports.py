"""The gradebook as a CSV file: one layout of three (``full``, ``moodle``, ``canvas``), written the
same whether a request builds it at once (a small class) or a staff job builds it a slice of
students at a time (a large one): the header lines, then one line per student in username order.

UTF-8 with a byte order mark (Excel reads it as UTF-8), every value through ``csv_safe`` (no
live formulas). The headers are English: an LMS reads them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.utils import timezone

from grading.figures import analytics
from grading.models import Assignment, Question
from grading.selectors.grades import ClassRow, class_rows
from grading.selectors.people import course_students, questions_of

CSV_FORMATS = ("full", "moodle", "canvas")
BOM = "\ufeff"


def export_allowed(assignment: Assignment, layout: str) -> bool:
    """Whether this layout exists for the assignment: practice counts for nothing, so it has no
    grade to import into an LMS (only the full file)."""
    return layout in CSV_FORMATS and (layout == "full" or not assignment.practice)


def export_filename(assignment: Assignment, layout: str) -> str:
    """The file's name: ``FRA501-hw4-gradebook.csv``, ``...-gradebook-moodle.csv``."""
    suffix = "" if layout == "full" else f"-{layout}"
    return f"{assignment.course.code}-{assignment.slug}-gradebook{suffix}.csv"


def question_header(q: Question) -> str:
    """A question's CSV heading: "Q4 Round 3 (35, extra credit)" (English: an LMS reads it)."""
    what = {"formulas": "Formulas", "plot": "Loss plot"}.get(q.kind, f"Round {q.round}")
    return f"Q{q.number} {what} ({q.points:g}{', extra credit' if q.extra_credit else ''})"


def round2(value: Any) -> Any:
    """A score as the pages show it (2 decimals, no trailing zeros); blank for none."""
    return "" if value is None else float(f"{round(float(value), 2):g}")


def sortable_name(student: Any) -> str:
    """Canvas's sortable name, "Last, First", from the account's own two parts (the roster split
    them, or the file named them); a name with one part is written whole, never split again."""
    first, last = " ".join(student.first_name.split()), " ".join(student.last_name.split())
    if first and last:
        return f"{last}, {first}"
    return first or last or student.get_username()


def csv_header(assignment: Assignment, questions: Sequence[Question], layout: str) -> list[list[Any]]:
    """The lines before the students' (one, or Canvas's two with its "Points Possible")."""
    main = sum(q.points for q in questions if not q.extra_credit)
    if layout == "moodle":
        # Moodle's "Import grades: CSV file": an identifier column mapped to a user field
        # (username or email), one column per grade item.
        return [["Username", "Email address", assignment.title]]
    if layout == "canvas":
        # Canvas's gradebook import: its five student columns, the assignment by name, and the
        # "Points Possible" row; students are matched on SIS Login ID (our username).
        return [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment.title],
                ["Points Possible", "", "", "", "", f"{main:g}"]]
    extra = sum(q.points for q in questions if q.extra_credit)
    total_header = f"Total ({main:g}{f' + {extra:g} extra credit' if extra else ''})"
    if assignment.practice:
        total_header = f"Best practice score, not counted ({main:g})"
    return [["username", "name", "email", *(question_header(q) for q in questions), total_header,
             "attempts", "late", "submitted_at", "needs_review"]]


def csv_line(assignment: Assignment, questions: Sequence[Question], r: ClassRow, layout: str) -> list[Any]:
    """One student's line."""
    if layout == "moodle":
        return [r.student.get_username(), r.student.email, round2(r.total)]
    if layout == "canvas":
        return [sortable_name(r.student), "", "", r.student.get_username(), assignment.course.code,
                round2(r.total)]
    counted = r.counted
    return [
        r.student.get_username(), r.student.get_full_name(), r.student.email,
        *[round2(r.scores.get(f"Q{q.number}")) for q in questions],
        round2(r.total), len(r.attempts),
        ("yes" if counted.submission.late else "no") if counted else "",
        timezone.localtime(counted.submission.submitted_at).isoformat() if counted else "",
        "yes" if r.needs_review or r.open_requests else "no",
    ]


def csv_text(lines: Iterable[list[Any]]) -> str:
    """Lines as CSV text (``csv_safe`` on every value; no byte order mark)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for line in lines:
        writer.writerow([analytics.csv_safe(v) for v in line])
    return buffer.getvalue()


def gradebook_csv(assignment: Assignment, layout: str) -> str:
    """The whole file at once, byte order mark first (a small class, in the request)."""
    questions = questions_of(assignment)
    rows = class_rows(assignment)
    return BOM + csv_text([*csv_header(assignment, questions, layout),
                           *(csv_line(assignment, questions, r, layout) for r in rows)])


def gradebook_csv_steps(assignment: Assignment, layout: str, *, batch: int) -> Iterator[tuple[str, int, int]]:
    """The same file in steps of ``batch`` students: (text, students done, students in all) per
    step, the byte order mark and the header with the first; the pieces joined are the file
    ``gradebook_csv`` writes for the same class. Each step reads only its own students' attempts
    and grades, so no step holds much and a job can record its progress between them."""
    questions = questions_of(assignment)
    students = course_students(assignment.course)
    text = BOM + csv_text(csv_header(assignment, questions, layout))
    if not students:
        yield text, 0, 0
        return
    for start in range(0, len(students), batch):
        chunk = students[start:start + batch]
        text += csv_text(csv_line(assignment, questions, r, layout) for r in class_rows(assignment, chunk))
        yield text, start + len(chunk), len(students)
        text = ""
