"""Writes about people: per-student extensions and importing a roster of students."""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from grading.models import Assignment, Course, Extension, Membership, StaffJob
from grading.selectors.people import SealBroken, seal, unseal

MAX_ROSTER_ROWS = 5000
MAX_ROSTER_BYTES = 1_000_000


def extension_create(*, assignment: Assignment, student, by, reason: str,
                     due_at: datetime | None = None, extra_attempts: int = 0) -> Extension:
    """Give one student a later due time and/or extra attempts; a new record, the latest counts.

    A record with neither (no due time, 0 attempts) takes an earlier extension back.
    """
    if not Membership.objects.filter(course=assignment.course, user=student,
                                     role=Membership.Role.STUDENT).exists():
        raise ValidationError(_("Extensions are for students of this course."), code="not_student")
    if due_at is not None and due_at <= assignment.due_at:
        raise ValidationError(_("The new due time must be after the assignment's own."), code="not_later")
    extension = Extension(assignment=assignment, student=student, due_at=due_at,
                          extra_attempts=extra_attempts, reason=(reason or "").strip(), created_by=by)
    extension.full_clean()
    extension.save()
    return extension


# ---------------------------------------------------------------- set-up (seed_demo)


def course_ensure(*, code: str, title: str) -> Course:
    """The course with this code; created with ``title`` if there is none (an existing one is kept)."""
    course, _created = Course.objects.get_or_create(code=code, defaults={"title": title})
    return course


def user_ensure(*, username: str, password: str, first_name: str = "", last_name: str = "",
                email: str = "", is_staff: bool = False, is_superuser: bool = False):
    """The account ``username``; created with these names, flags and password if missing. An
    existing account is left as it is (its password too), so running a set-up again changes nothing."""
    user, created = get_user_model().objects.get_or_create(
        username=username, defaults={"first_name": first_name, "last_name": last_name, "email": email,
                                     "is_staff": is_staff, "is_superuser": is_superuser})
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def membership_ensure(*, course: Course, user, role: str) -> Membership:
    """``user``'s membership of ``course``; created with ``role`` if missing (an existing role is kept)."""
    membership, _created = Membership.objects.get_or_create(course=course, user=user, defaults={"role": role})
    return membership


# ---------------------------------------------------------------- roster import


@dataclass
class RosterLine:
    """What became of one line of the roster file."""

    line: int
    username: str
    outcome: str  # created | enrolled | already enrolled | skipped
    why: str = ""
    password: str = ""  # only when one was generated, shown once
    warning: bool = False  # accepted, with something the instructor should fix (no email)


@dataclass
class RosterResult:
    lines: list[RosterLine] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for line in self.lines if line.outcome == outcome)

    @property
    def count_created(self) -> int:
        return self.count("created")

    @property
    def count_enrolled(self) -> int:
        return self.count("enrolled")

    @property
    def count_already(self) -> int:
        return self.count("already enrolled")

    @property
    def skipped(self) -> list[RosterLine]:
        return [line for line in self.lines if line.outcome == "skipped"]


_HEADERS = {"username": "username", "user": "username", "login": "username",
            "email": "email", "e-mail": "email", "email address": "email",
            "name": "name", "full name": "name", "ชื่อ-นามสกุล": "name", "ชื่อ นามสกุล": "name",
            "first name": "first", "given name": "first", "ชื่อ": "first",
            "last name": "last", "surname": "last", "family name": "last", "นามสกุล": "last"}


def _rows(text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The column names and the numbered data rows of a roster CSV (header optional)."""
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = [(n, row) for n, row in enumerate(csv.reader(io.StringIO(text), dialect), start=1)
            if any(cell.strip() for cell in row)]
    if rows and _HEADERS.get(rows[0][1][0].strip().lower()) == "username":
        columns = [_HEADERS.get(c.strip().lower(), c.strip().lower()) for c in rows[0][1]]
        return columns, rows[1:]
    return ["username", "email", "name"], rows


def roster_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    """The numbered rows of a roster CSV as {column: value}; refuses a file too big, too long or
    without a username column (before anything is written or queued)."""
    if len(text.encode("utf-8", "replace")) > MAX_ROSTER_BYTES:
        raise ValidationError(_("The roster is larger than %(n)s kB.") % {"n": MAX_ROSTER_BYTES // 1000},
                              code="too_big")
    text = text.lstrip("\ufeff")  # Excel's byte order mark
    columns, rows = _rows(text)
    if "username" not in columns:
        raise ValidationError(_("The first column must be the username (a header row is optional: "
                                "username, email, name)."), code="no_username")
    if len(rows) > MAX_ROSTER_ROWS:
        raise ValidationError(_("At most %(n)s students per import.") % {"n": MAX_ROSTER_ROWS},
                              code="too_many")
    return [(number, dict(zip(columns, (cell.strip() for cell in row)))) for number, row in rows]


def split_name(name: str) -> tuple[str, str]:
    """(first, last) of a full name: the family name is the last word (Thai: ชื่อ นามสกุล, a title
    such as นาย stays with the given name); runs of spaces count as one."""
    words = name.split()
    if len(words) < 2:
        return (words[0] if words else "")[:150], ""
    return " ".join(words[:-1])[:150], words[-1][:150]


ROSTER_BATCH = 20  # rows written per transaction: SQLite's write lock is held for one batch only


def _roster_check(line: RosterLine, values: dict[str, str], seen: set[str]) -> bool:
    """Whether a row may go on; when not, ``line.why`` says why."""
    username, email = line.username, values.get("email", "")
    try:
        UnicodeUsernameValidator()(username)
        if len(username) > 150:
            raise ValidationError("too long")
    except ValidationError:
        line.why = _("not a valid username (letters, digits and @.+-_ only, at most 150)")
        return False
    if username.lower() in seen:
        line.why = _("appears earlier in the file")
        return False
    seen.add(username.lower())
    if email:
        try:
            validate_email(email)
        except ValidationError:
            line.why = _("not a valid email address: %(email)s") % {"email": email[:80]}
            return False
    return True


def _roster_batch(course: Course, batch: list[tuple[RosterLine, dict[str, str]]], passwords: bool) -> None:
    """Write one batch of checked rows: the slow password hashing first, outside the transaction,
    then the accounts and memberships in one short transaction (the caller's, when it has one)."""
    User = get_user_model()
    wanted = Q(pk__in=[])
    for line, _values in batch:
        wanted |= Q(username__iexact=line.username)
    existing = {u.username.lower(): u for u in User.objects.filter(wanted).order_by("pk")} if batch else {}
    elsewhere = set(Membership.objects.filter(user__in=existing.values()).exclude(course=course)
                    .values_list("user_id", flat=True)) if existing else set()
    hashes: dict[str, str] = {}
    for line, _values in batch:
        user = existing.get(line.username.lower())
        if passwords and (user is None or (_never_signed_in(user) and user.pk not in elsewhere)):
            line.password = secrets.token_urlsafe(9)
            hashes[line.username.lower()] = make_password(line.password)
    for line, values in batch:
        _roster_write(course, line, values, existing.get(line.username.lower()),
                      hashes.get(line.username.lower()))


def _never_signed_in(user) -> bool:
    """An account nobody has used: a new password for it loses no one's access (the caller also
    leaves alone an account of another course, whose password another instructor may have given)."""
    return user.last_login is None and not user.is_staff and not user.is_superuser


def _roster_write(course: Course, line: RosterLine, values: dict[str, str], user, password_hash: str | None) -> None:
    User = get_user_model()
    email, name = values.get("email", ""), values.get("name", "")
    if user is not None and (user.is_superuser or user.is_staff):
        line.why = _("a staff account (site administrator): not enrolled as a student")
        line.password = ""
        return
    membership = Membership.objects.filter(course=course, user=user).first() if user is not None else None
    if membership is not None and membership.role != Membership.Role.STUDENT:
        line.why = _("is %(role)s of this course") % {"role": membership.get_role_display().lower()}
        line.password = ""
        return
    notes = []
    if user is None:
        first, last = split_name(name)
        if values.get("first") or values.get("last"):  # the file says which is which: no guessing
            first, last = " ".join(values.get("first", "").split())[:150], " ".join(values.get("last", "").split())[:150]
        user = User(username=line.username, email=email, first_name=first, last_name=last)
        if password_hash:
            user.password = password_hash
        else:
            user.set_unusable_password()
        user.full_clean()
        user.save()
        line.outcome = "created"
    else:
        changed = []
        if password_hash:
            user.password = password_hash
            changed.append("password")
            notes.append(_("never signed in: a new password was made (an earlier one no longer works)"))
        if email and not user.email:
            user.email = email
            changed.append("email")
            notes.append(_("its missing email was set from the file"))
        elif email and user.email.lower() != email.lower():
            notes.append(_("existing account; its email %(email)s was kept") % {"email": user.email})
        if changed:
            user.save(update_fields=changed)
    if membership is None:
        Membership.objects.create(course=course, user=user, role=Membership.Role.STUDENT)
        if line.outcome != "created":
            line.outcome = "enrolled"
    elif line.outcome != "created":
        line.outcome = "already enrolled"
    if not user.email:
        # Accepted with a warning: every export matches a student on the username, so a missing
        # address blocks nothing, but the instructor should know (no mail, an empty LMS column).
        line.warning = True
        notes.append(_("no email address: enrolled without one (add it by importing again with it)"))
    line.why = "; ".join(str(n) for n in notes)


def roster_import(*, course: Course, text: str, passwords: bool = False,
                  on_batch: Callable[[list[RosterLine]], None] | None = None) -> RosterResult:
    """Enrol the students of a CSV (username, email, name): create missing accounts, enrol
    existing ones, and say for every line what happened and why a line was skipped. Running it
    again changes nothing (every line is "already enrolled") -- except that, with ``passwords``,
    an account that never signed in gets a new password (one made before may never have been
    seen). Site staff accounts are never enrolled as students. Rows are written ROSTER_BATCH at a
    time; ``on_batch(lines)`` runs inside each batch's transaction (a job records its progress)."""
    rows = roster_rows(text)
    result = RosterResult()
    seen: set[str] = set()
    batch: list[tuple[RosterLine, dict[str, str]]] = []
    pending: list[RosterLine] = []

    def flush() -> None:
        with transaction.atomic():
            _roster_batch(course, batch, passwords)
            if on_batch is not None:
                on_batch(list(pending))
        batch.clear()
        pending.clear()

    for number, values in rows:
        line = RosterLine(number, values.get("username", ""), "skipped")
        result.lines.append(line)
        pending.append(line)
        if _roster_check(line, values, seen):
            batch.append((line, values))
        if len(pending) >= ROSTER_BATCH:
            flush()
    if pending or not rows:
        flush()
    return result


# ---------------------------------------------------------------- the roster as a background job

JOB_LIFETIME = timedelta(days=1)  # how long a job's page (and its passwords) lives


def roster_job_create(*, assignment: Assignment, by, text: str, passwords: bool) -> StaffJob:
    """Queue a roster import for a task worker; the file is checked first (a bad file is refused
    here, nothing queued)."""
    from grading import tasks

    rows = roster_rows(text)
    now = timezone.now()
    job = StaffJob(kind=StaffJob.Kind.ROSTER, assignment=assignment, requested_by=by, created_at=now,
                   expires_at=now + JOB_LIFETIME,
                   options={"passwords": bool(passwords), "language": translation.get_language() or ""},
                   payload=text, total=len(rows))
    job.full_clean()
    job.save()
    tasks.enqueue_staff_job(job.pk)
    return job


def _line_json(line: RosterLine) -> dict:
    return {"line": line.line, "username": line.username, "outcome": line.outcome, "why": str(line.why),
            "warning": line.warning, "password": bool(line.password)}


def staff_job_run(*, job_id: int) -> None:
    """Run a queued staff job. A roster import commits ROSTER_BATCH rows at a time and, in the
    same transaction, the job's progress and the passwords made so far (sealed): a job that dies
    half way loses no password, and importing the file again finishes it. An export is
    ``exports.export_job_run``'s."""
    from grading.services.exports import export_job_run

    jobs = StaffJob.objects.filter(pk=job_id)
    if jobs.filter(kind=StaffJob.Kind.EXPORT).exists():
        export_job_run(job_id=job_id)
        return
    jobs = jobs.filter(kind=StaffJob.Kind.ROSTER)
    job = jobs.select_related("assignment__course").first()
    if job is None or not jobs.filter(status=StaffJob.Status.QUEUED).update(status=StaffJob.Status.RUNNING):
        return  # gone, or another worker took it
    lines: list[dict] = []
    made: dict[str, str] = {}

    def on_batch(batch: list[RosterLine]) -> None:
        lines.extend(_line_json(line) for line in batch)
        made.update({line.username: line.password for line in batch if line.password})
        fields: dict = {"done": len(lines), "result": {"lines": lines}}
        if made:
            fields.update(secret=seal(made), secret_state=StaffJob.Secret.HELD)
        jobs.update(**fields)

    try:
        # The lines' reasons are written in the language of the instructor who started the import.
        with translation.override(job.options.get("language") or None):
            roster_import(course=job.assignment.course, text=job.payload,
                          passwords=bool(job.options.get("passwords")), on_batch=on_batch)
    except Exception as exc:  # noqa: BLE001 - the job records the failure; the worker goes on
        jobs.update(status=StaffJob.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000],
                    payload="", finished_at=timezone.now())
        raise
    jobs.update(status=StaffJob.Status.DONE, payload="", finished_at=timezone.now())


def staff_jobs_expire(*, now: datetime | None = None) -> int:
    """Empty the passwords and the exported files of every job whose page has expired; how many
    jobs were emptied."""
    now = now or timezone.now()
    files = StaffJob.objects.filter(expires_at__lte=now).exclude(output="")
    secrets_ = StaffJob.objects.filter(secret_state=StaffJob.Secret.HELD, expires_at__lte=now)
    # Looked for first: most calls (every job page, every worker's heartbeat) find nothing and write nothing.
    emptied = files.update(output="") if files.exists() else 0
    if secrets_.exists():
        emptied += secrets_.update(secret="", secret_state=StaffJob.Secret.EXPIRED)
    return emptied


def roster_passwords_take(*, job: StaffJob, by) -> dict[str, str] | None:
    """The job's passwords (username -> password), once: they are deleted as they are taken.
    None when they are gone (taken before, expired, or never made) or not ``by``'s to take."""
    staff_jobs_expire()
    if job.requested_by_id != by.pk:
        return None
    with transaction.atomic():
        jobs = StaffJob.objects.filter(pk=job.pk, secret_state=StaffJob.Secret.HELD, status=StaffJob.Status.DONE)
        current = jobs.values_list("secret", flat=True).first()
        if not current:
            return None
        passwords = unseal(current)  # SealBroken (the secret key changed): kept, and said
        if not jobs.update(secret="", secret_state=StaffJob.Secret.TAKEN, secret_taken_at=timezone.now()):
            return None
    return passwords
