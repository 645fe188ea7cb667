"""Writes about people: per-student extensions and importing a roster of students."""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

from grading.models import Assignment, Course, Extension, Membership

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
    password: str = ""  # only when one was generated for a new account, shown once


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
            "name": "name", "full name": "name"}


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


def roster_import(*, course: Course, text: str, passwords: bool = False) -> RosterResult:
    """Enrol the students of a CSV (username, email, name): create missing accounts, enrol
    existing ones, and say for every line what happened and why a line was skipped. Running it
    again changes nothing (every line is "already enrolled")."""
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
    User = get_user_model()
    check_username = UnicodeUsernameValidator()
    result = RosterResult()
    seen: set[str] = set()
    for number, row in rows:
        values = dict(zip(columns, (cell.strip() for cell in row)))
        username, email, name = values.get("username", ""), values.get("email", ""), values.get("name", "")
        line = RosterLine(number, username, "skipped")
        result.lines.append(line)
        try:
            check_username(username)
            if len(username) > 150:
                raise ValidationError("too long")
        except ValidationError:
            line.why = _("not a valid username (letters, digits and @.+-_ only, at most 150)")
            continue
        if username.lower() in seen:
            line.why = _("appears earlier in the file")
            continue
        seen.add(username.lower())
        if email:
            try:
                validate_email(email)
            except ValidationError:
                line.why = _("not a valid email address: %(email)s") % {"email": email[:80]}
                continue
        with transaction.atomic():
            user = User.objects.filter(username__iexact=username).first()
            if user is None:
                first, _space, last = name.rpartition(" ") if " " in name else (name, "", "")
                user = User(username=username, email=email, first_name=first[:150], last_name=last[:150])
                if passwords:
                    line.password = secrets.token_urlsafe(9)
                    user.set_password(line.password)
                else:
                    user.set_unusable_password()
                user.full_clean()
                user.save()
                line.outcome = "created"
            membership = Membership.objects.filter(course=course, user=user).first()
            if membership is None:
                Membership.objects.create(course=course, user=user, role=Membership.Role.STUDENT)
                line.outcome = line.outcome if line.outcome == "created" else "enrolled"
                if line.outcome == "enrolled" and email and user.email and user.email.lower() != email.lower():
                    line.why = _("existing account; its email %(email)s was kept") % {"email": user.email}
            elif membership.role != Membership.Role.STUDENT:
                line.why = _("is %(role)s of this course") % {"role": membership.get_role_display().lower()}
            else:
                line.outcome = "already enrolled"
    return result
