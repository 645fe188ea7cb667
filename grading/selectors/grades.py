"""Reads of the grade ledger: an attempt's current grade and history, the gradebook, the queue.

An attempt's grade is its latest ``Grading`` record. Lists read the small columns of those
records (score, question scores, the review flag), never a report: a report is loaded only
for the one attempt a page shows, or once per analytics request for the counted attempts.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone


from grading.figures import analytics
from grading.models import Assignment, Grading, RegradeJob, ReviewRequest, Submission
from grading.grade.ledger import DECIDABLE_ROOTS, live_overrides
from grading.grade.report import Report
from grading.marking import CellMark
from grading.marking.tables import Root
from grading.selectors.people import course_students
from grading.selectors.prepared import first_pk

SUMMARY_FIELDS = ("pk", "submission_id", "sequence", "kind", "score", "max_score", "scores",
                  "needs_review", "created_at")


def current_gradings(submissions: Iterable[Submission]) -> dict[int, Grading]:
    """Submission id -> its current record (without the report), in one query for any number:
    the records' small columns only, the latest of each attempt kept."""
    ids = [s.pk for s in submissions]
    if not ids:
        return {}
    latest: dict[int, Grading] = {}
    for g in Grading.objects.filter(submission__in=ids).only(*SUMMARY_FIELDS).order_by("sequence"):
        latest[g.submission_id] = g
    return latest


def current_grading(submission: Submission) -> Grading | None:
    """The attempt's current record (its report is read by ``report_of``, from a cache when it
    can be)."""
    return submission.gradings.defer("report").order_by("-sequence").first()


_REPORTS: OrderedDict[tuple[int, object], Report] = OrderedDict()
_REPORTS_LOCK = threading.Lock()
REPORTS_KEPT = 512  # per process (about 60 KiB each for Homework 4.1): a class of 300 and its readers


def report_of(record: Grading) -> Report:
    """A record's report, typed. A record never changes once written, so its parsed report is
    kept (keyed by the record and its time, never reused for another) and a page read again,
    or its plot, does not parse 30 kB of JSON each time."""
    key = (record.pk, record.created_at)
    with _REPORTS_LOCK:
        report = _REPORTS.get(key)
        if report is not None:
            _REPORTS.move_to_end(key)
            return report
    report = Report.from_json(record.report)  # loads the deferred column when it was left out
    with _REPORTS_LOCK:
        _REPORTS[key] = report
        while len(_REPORTS) > REPORTS_KEPT:
            _REPORTS.popitem(last=False)
    return report


def forget_reports() -> None:
    """Empty the parsed-report cache (tests start from nothing)."""
    with _REPORTS_LOCK:
        _REPORTS.clear()


def current_report(submission: Submission) -> Report | None:
    """The attempt's current grade as a typed report; None while it has none."""
    record = current_grading(submission)
    return report_of(record) if record else None


def grading_history(submission: Submission) -> list[Grading]:
    """Every record of the attempt, oldest first, without their reports: the audit list."""
    return list(submission.gradings.select_related("created_by").defer("report").order_by("sequence"))


def grading_record(submission: Submission, sequence: int) -> Grading | None:
    """One earlier record of the attempt, report included (to read an old grade)."""
    return submission.gradings.filter(sequence=sequence).first()


@dataclass
class Attempt:
    """A submitted attempt with its current grade's summary (None while being graded)."""

    submission: Submission
    grade: Grading | None

    @property
    def score(self) -> float | None:
        return self.grade.score if self.grade else None


def best(attempts: Sequence[Attempt]) -> Attempt | None:
    """The counted attempt: the highest score, the earliest on a tie; None if none is graded."""
    graded = [((a.grade.score, -a.submission.attempt), a) for a in attempts if a.grade is not None]
    top = max(graded, key=lambda ranked: ranked[0], default=None)
    return top[1] if top is not None else None


ATTEMPTS_SHOWN = 10  # the assignment page lists a student's latest attempts, older ones a page at a time


@dataclass
class StudentAttempts:
    """What the assignment page reads of one student's work: the draft, the last attempt handed
    in (both with their answers), how many were handed in, and a bounded list of attempts."""

    draft: Submission | None
    last: Attempt | None
    count: int
    shown: list[Attempt]  # at most ATTEMPTS_SHOWN, oldest first
    older: bool  # attempts older than the oldest shown exist


def student_attempts(assignment: Assignment, student, *, before: int | None = None,
                     limit: int = ATTEMPTS_SHOWN) -> StudentAttempts:
    """The student's draft, last attempt and latest ``limit`` attempts (those numbered below
    ``before`` when given), in a bounded number of queries and rows whatever the number of
    attempts: the page never grows with them."""
    mine = Submission.objects.filter(assignment=assignment, student=student)
    # The draft always holds the highest number (the next attempt), so the newest rows are the
    # draft, the last attempt handed in and the ones before it. Read with their answers: the
    # page starts from the draft's or the last attempt's, and a bounded few answer sheets cost
    # less than a second query.
    top = list(mine.order_by("-attempt")[:limit + 2])
    draft = next((s for s in top if s.is_draft), None)
    newest = [s for s in top if not s.is_draft]
    count = len(newest) if len(newest) <= limit else mine.filter(state=Submission.State.SUBMITTED).count()
    if before is None:
        listed, older = newest[:limit], count > limit
    else:
        rows = list(mine.filter(state=Submission.State.SUBMITTED, attempt__lt=before).defer("answers")
                    .order_by("-attempt")[:limit + 1])
        listed, older = rows[:limit], len(rows) > limit
    grades = current_gradings([*listed, *newest[:1]])
    last = Attempt(newest[0], grades.get(newest[0].pk)) if newest else None
    return StudentAttempts(draft, last, count, [Attempt(s, grades.get(s.pk)) for s in reversed(listed)], older)


@dataclass
class StudentHome:
    """What home shows a student: per assignment their submissions and counted attempt, and the
    notices of changed grades."""

    rows: dict[int, tuple[list[Submission], Attempt | None]]
    notices: list[GradeNotice]


def student_home(assignments: Sequence[Assignment], student) -> StudentHome:
    """The student's submissions and counted attempt per assignment, and their grade notices, in
    two queries, or three when a staff record of the last ``NOTICE_DAYS`` days may be one."""
    subs: dict[int, list[Submission]] = defaultdict(list)
    # Every attempt of the student's, not only those of the listed assignments: their records
    # then tell whether any notice can exist, and the notices are read only when one can.
    for s in Submission.objects.filter(student=student).defer("answers").order_by("attempt"):
        subs[s.assignment_id].append(s)
    submitted = [s.pk for mine in subs.values() for s in mine if not s.is_draft]
    grades: dict[int, Grading] = {}
    since = timezone.now() - timedelta(days=NOTICE_DAYS)
    changed = False
    if submitted:
        for g in (Grading.objects.filter(submission__in=submitted).only(*SUMMARY_FIELDS, "based_on")
                  .order_by("sequence")):
            grades[g.submission_id] = g
            changed = changed or (g.based_on_id is not None and g.kind != Grading.Kind.AUTO and g.created_at >= since)
    rows = {a.pk: (subs.get(a.pk, []), best([Attempt(s, grades.get(s.pk)) for s in subs.get(a.pk, [])
                                            if not s.is_draft]))
            for a in assignments}
    return StudentHome(rows, grade_notices(student) if changed else [])


@dataclass
class ClassRow:
    """One student's line of the gradebook."""

    student: Any
    attempts: list[Attempt]
    counted: Attempt | None
    open_requests: int = 0

    @property
    def total(self) -> float | None:
        return self.counted.score if self.counted else None

    @property
    def counted_grade(self) -> Grading | None:
        """The counted attempt's record (``best`` counts graded attempts only)."""
        return self.counted.grade if self.counted is not None else None

    @property
    def scores(self) -> dict[str, float]:
        grade = self.counted_grade
        return grade.scores if grade is not None else {}

    @property
    def needs_review(self) -> bool:
        return any(a.grade is not None and a.grade.needs_review for a in self.attempts)

    @property
    def grading(self) -> bool:
        """Some attempt is submitted but not graded yet."""
        return any(a.grade is None for a in self.attempts)


def class_rows(assignment: Assignment, students: Sequence[Any] | None = None) -> list[ClassRow]:
    """One row per student of the course: submitted attempts, the counted one, flags. With
    ``students`` (some of the course's, in their order), only their rows: an export built in
    steps reads the class a slice at a time, in the same few queries per slice."""
    attempts: dict[int, list[Submission]] = defaultdict(list)
    handed_in = Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
    asked = ReviewRequest.objects.filter(submission__assignment=assignment, reply__isnull=True)
    if students is not None:
        ids = [s.pk for s in students]
        handed_in, asked = handed_in.filter(student_id__in=ids), asked.filter(submission__student_id__in=ids)
    submitted = list(handed_in.only("pk", "student_id", "attempt", "late", "submitted_at", "assignment_id",
                                    "state").order_by("attempt"))
    for s in submitted:
        attempts[s.student_id].append(s)
    grades = current_gradings(submitted)
    requests: dict[int, int] = defaultdict(int)
    for student_id in asked.values_list("submission__student_id", flat=True):
        requests[student_id] += 1
    rows = []
    for student in (course_students(assignment.course) if students is None else students):
        mine = [Attempt(s, grades.get(s.pk)) for s in attempts.get(student.pk, [])]
        rows.append(ClassRow(student, mine, best(mine), requests.get(student.pk, 0)))
    return rows


def counted_reports(assignment: Assignment, rows: Sequence[ClassRow] | None = None) -> list[tuple[str, Report]]:
    """(username, report) of each student's counted attempt: what analytics are built from."""
    rows = class_rows(assignment) if rows is None else rows
    records = {grade.pk: (r, grade) for r in rows if (grade := r.counted_grade) is not None}
    with _REPORTS_LOCK:  # parsed already (an earlier page, or this one a moment ago)
        known = {pk: _REPORTS[key] for pk, (r, grade) in records.items()
                 if (key := (pk, grade.created_at)) in _REPORTS}
    missing = [pk for pk in records if pk not in known]
    for record in Grading.objects.filter(pk__in=missing).only("pk", "created_at", "report"):
        known[record.pk] = report_of(record)
    return [(r.student.get_username(), known[pk]) for pk, (r, grade) in records.items() if pk in known]


# ---------------------------------------------------------------- the review queue


@dataclass(frozen=True)
class RootLine:
    """A root of carried credit as staff read it: the root, the right value written at the
    report's decimals, its carried cells' marks and how many of them wait for a decision."""

    root: Root
    right: str
    cells: tuple[CellMark, ...]
    waiting: int
    decidable: bool  # staff may accept or decline it (again)

    @property
    def count(self) -> int:
        return len(self.cells)


def root_lines(report: Report, *, waiting_only: bool = False) -> list[RootLine]:
    """The report's roots (only those waiting for staff with ``waiting_only``), in report order."""
    marks = {c.id: c for c in report.cells}
    lines = []
    for root in report.roots:
        if waiting_only and root.state != "waiting":
            continue
        cells = tuple(marks[cell_id] for cell_id in root.carried if cell_id in marks)
        lines.append(RootLine(root, f"{root.right:.{report.decimals}f}", cells,
                              sum(c.status == "pending" for c in cells), root.state in DECIDABLE_ROOTS))
    return lines


@dataclass
class QueueItem:
    """Something staff should look at: undecided Q1 rows, roots of carried credit waiting for a
    decision, or a student's request."""

    kind: str  # undecided | roots | request
    since: datetime
    submission: Submission
    rows: tuple[str, ...] = ()
    request: ReviewRequest | None = None
    roots: tuple[RootLine, ...] = ()


def review_queue(assignment: Assignment) -> list[QueueItem]:
    """Attempts with undecided Q1 rows, attempts whose carried credit waits for staff, and
    unanswered student requests, oldest first."""
    submitted = list(Submission.objects.filter(assignment=assignment, state=Submission.State.SUBMITTED)
                     .select_related("student"))
    grades = current_gradings(submitted)
    flagged = [g.pk for g in grades.values() if g.needs_review]
    by_pk = {s.pk: s for s in submitted}
    items = []
    for submission_id, data in Grading.objects.filter(pk__in=flagged).values_list("submission_id", "report"):
        submission = by_pk[submission_id]
        # A submitted attempt has its time (the check constraint "submitted_has_time").
        assert submission.submitted_at is not None
        report = Report.from_json(data)
        roots = tuple(root_lines(report, waiting_only=True))
        if report.undecided_rows or not roots:
            items.append(QueueItem("undecided", submission.submitted_at, submission,
                                   rows=report.undecided_rows))
        if roots:
            items.append(QueueItem("roots", submission.submitted_at, submission, roots=roots))
    for request in (ReviewRequest.objects.filter(submission__assignment=assignment, reply__isnull=True)
                    .select_related("submission__student", "created_by")):
        items.append(QueueItem("request", request.created_at, request.submission, request=request))
    return sorted(items, key=lambda item: item.since)


def review_request(assignment: Assignment, request_id: int) -> ReviewRequest | None:
    """One request of this assignment, or None."""
    return (ReviewRequest.objects.filter(pk=request_id, submission__assignment=assignment)
            .select_related("submission__student").first())


def requests_of(submission: Submission) -> list[ReviewRequest]:
    """The student's requests on an attempt with their replies, oldest first."""
    # Most attempts have none: asked first by a plain statement (prepared.first_pk), read only then.
    if first_pk(ReviewRequest, submission_id=submission.pk) is None:
        return []
    return list(submission.review_requests.select_related("reply__created_by").order_by("created_at"))


# ---------------------------------------------------------------- regrade jobs


def regrade_jobs(assignment: Assignment, limit: int = 5) -> list[RegradeJob]:
    """The newest regrade jobs of an assignment, without their results."""
    return list(RegradeJob.objects.filter(assignment=assignment).select_related("requested_by")
                .defer("result")[:limit])


def regrade_job(assignment: Assignment, job_id: int) -> RegradeJob | None:
    """One job of this assignment, its result included."""
    return RegradeJob.objects.filter(assignment=assignment, pk=job_id).select_related("requested_by").first()


def copy_signal(reports: Sequence[tuple[str, Report]]) -> list[analytics.CopyPair]:
    """Pairs of students sharing the most identical wrong values (a signal for staff)."""
    return analytics.shared_wrong_values(
        {user: [(c.id, c.given) for c in r.cells if c.status in ("incorrect", "carried")]
         for user, r in reports})


# ---------------------------------------------------------------- a student told of a changed grade

NOTICE_DAYS = 14  # how long a changed grade is announced on the student's pages


@dataclass(frozen=True)
class GradeNotice:
    """A record that changed a student's points (a regrade, a withdrawn override, ...)."""

    submission: Submission
    record: Grading
    old: float
    new: float


def grade_notices(student, submission: Submission | None = None) -> list[GradeNotice]:
    """The student's records of the last ``NOTICE_DAYS`` days that changed their points (of one
    attempt, when ``submission`` is given), newest first: read from the ledger, nothing stored."""
    from datetime import timedelta

    # The columns the notice shows, as plain values: a select_related with deferred columns
    # costs twice the time to build, on every student page.
    records = (Grading.objects.filter(submission__student=student, based_on__isnull=False,
                                      submission__assignment__practice=False,
                                      created_at__gte=timezone.now() - timedelta(days=NOTICE_DAYS))
               .exclude(kind=Grading.Kind.AUTO)
               .order_by("-created_at", "-pk"))
    if submission is not None:
        records = records.filter(submission=submission)
    out = []
    for (pk, kind, score, old, created_at, submission_id, attempt, assignment_id, title,
         title_th) in records.values_list("pk", "kind", "score", "based_on__score", "created_at", "submission_id",
                                          "submission__attempt", "submission__assignment_id",
                                          "submission__assignment__title",
                                          "submission__assignment__title_th")[:50]:
        if abs(score - old) > 1e-9:
            assignment = Assignment(pk=assignment_id, title=title, title_th=title_th)
            record = Grading(pk=pk, kind=kind, score=score, created_at=created_at, submission_id=submission_id)
            out.append(GradeNotice(Submission(pk=submission_id, attempt=attempt, assignment=assignment),
                                   record, old, score))
    return out[:10]
