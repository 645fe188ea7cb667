"""Reads for the LTI pages: the LMS course of a launch, line items, what was sent, roster syncs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from grading.models import (Assignment, Course, LtiCourse, LtiIdentity, LtiLineItem, LtiRosterSync,
                            Membership, ScorePassback)


def lti_course_of_context(context: Any) -> Course | None:
    """The Course an LMS context is linked to, if any."""
    link = LtiCourse.objects.select_related("course").filter(context=context).first()
    return link.course if link else None


def lti_assignment_choices(course: Course) -> list[Assignment]:
    """The course's assignments an instructor may link from the LMS (published or not)."""
    return list(Assignment.objects.filter(course=course).only("pk", "title", "slug", "due_at", "course_id")
                .order_by("due_at", "pk"))


def lti_line_item(assignment: Assignment, pk: Any) -> LtiLineItem | None:
    """One of the assignment's line items, by id from a form (None if not its own)."""
    try:
        return LtiLineItem.objects.filter(assignment=assignment, pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def lti_course_student(assignment: Assignment, pk: Any) -> Any:
    """A student of the assignment's course, by id from a form (None if not one)."""
    try:
        return get_user_model().objects.filter(
            pk=int(pk), memberships__course=assignment.course_id,
            memberships__role=Membership.Role.STUDENT).first()
    except (TypeError, ValueError):
        return None


@dataclass
class PassbackRow:
    line_item: LtiLineItem
    student: Any
    last: ScorePassback | None
    last_sent: ScorePassback | None


def lti_passback_rows(assignment: Assignment) -> list[PassbackRow]:
    """Per line item and student with an LMS account: the last try and the last score sent."""
    items = list(LtiLineItem.objects.filter(assignment=assignment)
                 .select_related("lti_course__context__deployment__registration"))
    students = list(get_user_model().objects.filter(
        memberships__course=assignment.course_id, memberships__role=Membership.Role.STUDENT)
        .order_by("username"))
    linked = set(LtiIdentity.objects.filter(user__in=students).values_list("issuer", "user_id"))
    tries: dict[tuple[int, int], list[ScorePassback]] = {}
    for p in ScorePassback.objects.filter(line_item__in=items).order_by("pk"):
        tries.setdefault((p.line_item_id, p.student_id), []).append(p)
    rows = []
    for item in items:
        issuer = item.lti_course.context.deployment.registration.issuer
        for s in students:
            if (issuer, s.pk) not in linked:
                continue
            mine = tries.get((item.pk, s.pk), [])
            sent = [p for p in mine if p.status == ScorePassback.Status.SENT]
            rows.append(PassbackRow(item, s, mine[-1] if mine else None, sent[-1] if sent else None))
    return rows


@dataclass
class RosterSync:
    """A roster sync as the page shows it: its record, and its lines with roles in words."""

    record: LtiRosterSync
    added: list[dict[str, Any]]
    changed: list[dict[str, Any]]
    dropped: list[dict[str, Any]]


def _worded(lines: Any) -> list[dict[str, Any]]:
    labels = dict(Membership.Role.choices)
    out = []
    for line in lines if isinstance(lines, list) else []:
        out.append({**line, "before": labels.get(line.get("before"), line.get("before", "")),
                    "after": labels.get(line.get("after"), line.get("after", ""))})
    return out


def lti_roster_syncs(course: Course) -> list[RosterSync]:
    """The course's last roster syncs (and role changes by launches), newest first."""
    return [RosterSync(s, _worded(s.result.get("added")), _worded(s.result.get("changed")),
                       _worded(s.result.get("dropped")))
            for s in LtiRosterSync.objects.filter(course=course).select_related("requested_by")[:10]]
