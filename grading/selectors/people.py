"""Reads about people: a student's own terms (extensions), memberships, rosters, extensions."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from grading.models import (Assignment, AssignmentChange, Course, Extension, Membership, Question, StaffJob,
                            Submission)
from grading.selectors.prepared import first_pk, rows


@dataclass(frozen=True)
class Terms:
    """One student's terms for one assignment: its own, or as an extension changed them."""

    opens_at: datetime
    due_at: datetime
    accept_late: bool
    max_attempts: int
    extension: Extension | None = None
    grace: timedelta = timedelta(0)
    practice: bool = False  # unlimited attempts
    published: bool = True  # an unpublished assignment never opens

    @property
    def closes_at(self) -> datetime:
        """The last arrival time that is on time: the due time plus the grace period."""
        return self.due_at + self.grace

    def has_opened(self, now: datetime | None = None) -> bool:
        return self.published and (now or timezone.now()) >= self.opens_at

    def is_open(self, now: datetime | None = None) -> bool:
        """Whether a submission arriving ``now`` is taken: opened, and on time or late accepted."""
        now = now or timezone.now()
        return self.has_opened(now) and (now <= self.closes_at or self.accept_late)

    def is_past_due(self, now: datetime | None = None) -> bool:
        """Whether a submission arriving ``now`` is late (after the due time and the grace)."""
        return (now or timezone.now()) > self.closes_at


def _terms(assignment: Assignment, extension: Extension | None) -> Terms:
    due = assignment.due_at
    attempts = assignment.max_attempts
    if extension is not None:
        due = max(due, extension.due_at) if extension.due_at else due
        attempts += extension.extra_attempts
    return Terms(assignment.opens_at, due, assignment.accept_late, attempts, extension, assignment.grace,
                 assignment.practice, assignment.published)


def student_terms(assignment: Assignment, student) -> Terms:
    """The terms the server's clock applies to this student: the latest extension counts."""
    latest = first_pk(Extension, assignment_id=assignment.pk, student_id=student.pk)  # most have none
    return _terms(assignment, None if latest is None else Extension.objects.get(pk=latest))


def terms_by_assignment(assignments: Iterable[Assignment], student) -> dict[int, Terms]:
    """Assignment id -> the student's terms, for many assignments in one query."""
    assignments = list(assignments)
    latest: dict[int, Extension] = {}
    for ext in Extension.objects.filter(assignment__in=assignments, student=student).order_by("pk"):
        latest[ext.assignment_id] = ext
    return {a.pk: _terms(a, latest.get(a.pk)) for a in assignments}


def last_due(assignment: Assignment) -> datetime:
    """The latest time anyone in the class may still submit on time: the assignment's due time
    or an extension's in force, plus the grace period."""
    latest: dict[int, Extension] = {}
    for ext in Extension.objects.filter(assignment=assignment).order_by("pk"):
        latest[ext.student_id] = ext
    return max([assignment.due_at, *(e.due_at for e in latest.values() if e.due_at)]) + assignment.grace


def questions_of(assignment: Assignment) -> list[Question]:
    """The assignment's questions in order."""
    # By number within the assignment: the model's default order starts with the assignment,
    # whose own order would join its course on every page that reads its questions.
    return rows(Question, order=("number",), assignment_id=assignment.pk)


def extension_list(assignment: Assignment) -> list[Extension]:
    """Every extension record of an assignment, newest first, with who granted it (the audit)."""
    return list(Extension.objects.filter(assignment=assignment)
                .select_related("student", "created_by").order_by("-pk"))


def extensions_by_student(assignment: Assignment) -> dict[int, Extension]:
    """Student id -> the extension in force (the latest record; one with neither a due time nor
    attempts took an earlier one back and is left out)."""
    latest: dict[int, Extension] = {}
    for ext in Extension.objects.filter(assignment=assignment).order_by("pk"):
        latest[ext.student_id] = ext
    return {k: e for k, e in latest.items() if e.due_at or e.extra_attempts}


def drafts_by_student(assignment: Assignment) -> dict[int, datetime]:
    """Student id -> when their unsubmitted draft was last saved (students with a draft only)."""
    return dict(Submission.objects.filter(assignment=assignment, state=Submission.State.DRAFT)
                .values_list("student_id", "updated_at"))


def memberships_of(user) -> list[Membership]:
    """The user's memberships with their courses, by course code."""
    return list(Membership.objects.filter(user=user).select_related("course").order_by("course__code"))


def assignments_of(courses: Iterable[Course]) -> list[Assignment]:
    """The assignments of these courses, by due time (for lists: without the spec and statement)."""
    return list(Assignment.objects.filter(course__in=list(courses)).defer("spec", "statement").order_by("due_at"))


def _students_of(course: Course):
    """The course's students. A site account (superuser or Django staff) is never one, even where
    an older roster import enrolled it: not in the gradebook, analytics or exports."""
    return get_user_model().objects.filter(memberships__course=course, memberships__role=Membership.Role.STUDENT,
                                           is_superuser=False, is_staff=False)


def course_students(course: Course) -> list:
    """The course's students, by username."""
    return list(_students_of(course).order_by("username"))


def course_student_count(course: Course) -> int:
    """How many students ``course_students`` lists (one count query, no rows read)."""
    return _students_of(course).count()


def course_student(course: Course, username: str):
    """One student of the course by username, or None."""
    return (get_user_model().objects.filter(memberships__course=course, username=username,
                                            memberships__role=Membership.Role.STUDENT).first())


def all_courses() -> list[Course]:
    """Every course, by code (a superuser's home page)."""
    return list(Course.objects.order_by("code"))


def assignment_history(assignment: Assignment) -> list[AssignmentChange]:
    """Every staff change to the assignment (made, edited, published, unpublished), newest first."""
    return list(AssignmentChange.objects.filter(assignment=assignment).select_related("created_by")
                .order_by("-created_at", "-pk"))


def staff_job(assignment: Assignment, job_id: int, kind: str) -> StaffJob | None:
    """A staff job of this assignment, of this kind (None if there is none); without an export's
    file (``staff_job_file`` reads it)."""
    return (StaffJob.objects.filter(assignment=assignment, pk=job_id, kind=kind).select_related("requested_by")
            .defer("output").first())


def staff_job_file(job: StaffJob) -> str:
    """The file an export job built ("" before it is done, or once its page expired)."""
    return StaffJob.objects.filter(pk=job.pk).values_list("output", flat=True).first() or ""


def staff_jobs(assignment: Assignment, kind: str, limit: int = 10) -> list[StaffJob]:
    """The latest staff jobs of this kind for the assignment's page, newest first (without the
    uploaded roster or an export's file)."""
    return list(StaffJob.objects.filter(assignment=assignment, kind=kind).select_related("requested_by")
                .defer("output", "payload")[:limit])


# The passwords a roster job made are kept sealed in its row until downloaded once: encrypted and
# authenticated with Fernet (the `cryptography` package: AES-128-CBC and HMAC-SHA256, a fresh IV
# each time) under a key derived from SECRET_KEY with HKDF, so a database dump alone does not
# reveal them, and a changed token is refused.

def _fernet() -> Fernet:
    key = HKDF(algorithm=SHA256(), length=32, salt=None,
               info=b"grading.staffjob.passwords").derive(settings.SECRET_KEY.encode())
    return Fernet(base64.urlsafe_b64encode(key))


class SealBroken(ValueError):
    """A sealed token that was changed, or sealed under another secret key."""


def seal(data: dict) -> str:
    """``data`` encrypted and authenticated (Fernet) under a key derived from the site's secret key."""
    return _fernet().encrypt(json.dumps(data).encode()).decode()


def unseal(token: str) -> dict:
    """What ``seal`` sealed; SealBroken if the token was changed or sealed under another key."""
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as error:
        raise SealBroken("the sealed passwords were changed or sealed under another secret key") from error


def roster_passwords_shown(job: StaffJob, user) -> dict[str, str]:
    """The passwords of a finished roster job, for the instructor who started it, while they are
    held (until downloaded once or expired); empty for anyone else."""
    if job.requested_by_id != user.pk or job.secret_state != StaffJob.Secret.HELD or not job.secret \
            or job.status != StaffJob.Status.DONE or job.expires_at <= timezone.now():
        return {}
    try:
        return unseal(job.secret)
    except SealBroken:
        return {}  # the download says why
