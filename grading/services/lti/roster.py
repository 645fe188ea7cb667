"""LTI rosters (NRPS): "Sync roster" and the nightly sync make the course's memberships what the
LMS lists; a dropped student's attempts and grades stay."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from grading import tasks
from grading.lti import claims, platform
from grading.models import Course, LtiCourse, LtiIdentity, LtiRosterSync, Membership
from grading.services.lti.launch import _who, lti_membership_set, lti_user_ensure


# ---------------------------------------------------------------- roster (NRPS)


def roster_sync_request(*, course: Course, by: Any) -> LtiRosterSync:
    """Queue a roster sync of the course from each LMS course linked to it."""
    job = LtiRosterSync(course=course, requested_by=by)
    job.full_clean()
    job.save()
    transaction.on_commit(lambda: tasks.enqueue_roster_sync(job.pk))
    return job


def roster_sync_run(*, job_id: int) -> LtiRosterSync:
    """Read the LMS's members (NRPS) and make the course's student and staff memberships match:
    new members added (their LMS account tied as a launch would), roles changed as the LMS says,
    students no longer listed (or inactive) dropped from the course. Their attempts and grades
    stay (records); only the membership goes."""
    job = LtiRosterSync.objects.select_related("course").get(pk=job_id)
    added: list[dict[str, str]] = []
    dropped: list[dict[str, str]] = []
    changed: list[dict[str, str]] = []
    try:
        for link in LtiCourse.objects.filter(course=job.course).select_related(
                "context__deployment__registration"):
            context = link.context
            if not context.memberships_url:
                continue
            registration = context.deployment.registration
            listed = platform.members(registration, context.memberships_url)
            with transaction.atomic():
                _roster_apply(job.course, registration.issuer, listed, added, dropped, changed)
    except platform.PlatformError as exc:
        job.status, job.error = LtiRosterSync.Status.FAILED, str(exc)[:2000]
    else:
        job.status = LtiRosterSync.Status.DONE
    job.result = {"added": added, "dropped": dropped, "changed": changed}
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "error", "result", "finished_at"])
    return job


def _roster_apply(course: Course, issuer: str, listed: list[dict[str, Any]], added: list[dict[str, str]],
                  dropped: list[dict[str, str]], changed: list[dict[str, str]]) -> None:
    active_subs = set()
    for member in listed:
        sub = str(member.get("user_id") or "")
        if not sub or str(member.get("status", "Active")) != "Active":
            continue
        role = claims.course_role(member.get("roles") or [])
        if role is None:
            continue
        active_subs.add(sub)
        user = lti_user_ensure(issuer=issuer, sub=sub, data=member)
        done = lti_membership_set(course=course, user=user, role=role)
        for change in done:
            (changed if change.before else added).append(
                {**_who(user), "before": change.before, "after": change.after})
    linked = LtiIdentity.objects.filter(issuer=issuer).select_related("user")
    by_user = {i.user_id: i for i in linked}
    for membership in Membership.objects.filter(course=course, role=Membership.Role.STUDENT,
                                                user__in=[i.user_id for i in linked]).select_related("user"):
        identity = by_user[membership.user_id]
        if identity.sub not in active_subs:
            dropped.append({**_who(membership.user, identity.email), "before": membership.role, "after": ""})
            membership.delete()


def roster_sync_all() -> list[LtiRosterSync]:
    """Queue a roster sync of every course linked to an LMS course with a roster service (the
    periodic sync; nobody requested it)."""
    courses = Course.objects.filter(lti_courses__context__memberships_url__gt="").distinct()
    return [roster_sync_request(course=course, by=None) for course in courses]
