"""LTI grades: an assignment's line item in the LMS, and each new current grade sent to it (AGS).
Every try to send is a ``ScorePassback`` record; the sends run in tasks."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from lti_tool.models import LtiLaunch, LtiRegistration

from grading import tasks
from grading.lti import claims, platform
from grading.models import Assignment, LtiCourse, LtiIdentity, LtiLineItem, ScorePassback, Submission
from grading.selectors.grades import Attempt, best, current_gradings

log = logging.getLogger("grading.lti")


def line_item_on_launch(launch: LtiLaunch, assignment: Assignment, data: dict[str, Any]) -> None:
    """The link's own line item when the platform gave one; otherwise, where the platform lets
    us manage line items, one is created (in a task: no page waits for the LMS)."""
    link = LtiCourse.objects.get(context=launch.context)
    resource_link_id = claims.resource_link_id(data)
    if claims.lineitem_url(data):
        lti_line_item_ensure(lti_course=link, assignment=assignment, url=claims.lineitem_url(data),
                             resource_link_id=resource_link_id)
        return
    context = launch.context
    if not (context.lineitems_url and context.can_manage_lineitems):
        return
    item = lti_line_item_ensure(lti_course=link, assignment=assignment, url="",
                                resource_link_id=resource_link_id)
    if not item.url:
        transaction.on_commit(lambda: tasks.enqueue_line_item_create(item.pk))


def line_item_create_remote(*, line_item_id: int) -> LtiLineItem:
    """Create the assignment's column in the LMS gradebook (AGS), then send the grades it
    already has."""
    item = LtiLineItem.objects.select_related("lti_course__context__deployment__registration",
                                              "assignment").get(pk=line_item_id)
    if item.url:
        return item
    context = item.lti_course.context
    url = platform.lineitem_create(
        context.deployment.registration, context.lineitems_url, label=item.assignment.title,
        maximum=assignment_maximum(item.assignment), resource_link_id=item.resource_link_id,
        tag="backprop")
    item.url = url
    item.full_clean()
    item.save(update_fields=["url"])
    students = set(Submission.objects.filter(assignment=item.assignment, gradings__isnull=False)
                   .values_list("student_id", flat=True))
    for student_id in sorted(students):
        tasks.enqueue_passback(item.pk, student_id)
    return item


def assignment_maximum(assignment: Assignment) -> float:
    """The assignment's maximum as the LMS column shows it: its questions' points without extra
    credit."""
    from grading.services.assignments import grading_config

    return float(sum(q.points for q in grading_config(assignment).questions if not q.extra_credit))


def lti_line_item_ensure(*, lti_course: LtiCourse, assignment: Assignment, url: str,
                         resource_link_id: str = "") -> LtiLineItem:
    """The assignment's line item in an LMS course (its URL kept up to date)."""
    item = LtiLineItem.objects.filter(lti_course=lti_course, assignment=assignment).first()
    if item is None:
        item = LtiLineItem(lti_course=lti_course, assignment=assignment, url=url,
                           resource_link_id=resource_link_id)
        item.full_clean()
        item.save()
    elif url and item.url != url:
        item.url = url
        item.save(update_fields=["url"])
    return item


# ---------------------------------------------------------------- grade passback (AGS)


def passback_queue(*, assignment_id: int, student_id: int) -> int:
    """Queue a send of the student's current grade to every LMS the assignment is linked to."""
    items = list(LtiLineItem.objects.filter(assignment_id=assignment_id).exclude(url="")
                 .values_list("pk", flat=True))
    for pk in items:
        tasks.enqueue_passback(pk, student_id)
    return len(items)


@dataclass(frozen=True)
class CurrentScore:
    grading_id: int
    given: float
    maximum: float


def current_score(assignment: Assignment, student: Any, over_max: str) -> CurrentScore | None:
    """The student's counted grade as the LMS gets it: the best attempt's current record, capped
    at the maximum unless the line item sends raw scores."""
    submitted = list(Submission.objects.filter(assignment=assignment, student=student)
                     .exclude(state=Submission.State.DRAFT).only("pk", "attempt"))
    grades = current_gradings(submitted)
    counted = best([Attempt(s, grades.get(s.pk)) for s in submitted])
    if counted is None or counted.grade is None:
        return None
    g = counted.grade
    given = g.score if over_max == LtiLineItem.OverMax.RAW else min(g.score, g.max_score)
    return CurrentScore(grading_id=g.pk, given=given, maximum=g.max_score)


def passback_send(*, line_item_id: int, student_id: int, by: Any = None,
                  force: bool = False) -> ScorePassback | None:
    """Send the student's current grade to the line item, once: the same grade already sent is
    not sent again (unless forced: "send again"). A new row records every try; a platform that
    refuses raises PlatformError after its row is written (the task tries again later)."""
    item = LtiLineItem.objects.select_related("lti_course__context__deployment__registration",
                                              "assignment").get(pk=line_item_id)
    registration: LtiRegistration = item.lti_course.context.deployment.registration
    student = get_user_model().objects.get(pk=student_id)
    identity = LtiIdentity.objects.filter(issuer=registration.issuer, user=student).first()
    score = current_score(item.assignment, student, item.over_max)
    if identity is None or score is None or not item.url:
        return None
    last = ScorePassback.objects.filter(line_item=item, student=student).order_by("-pk").first()
    if (not force and last is not None and last.status == ScorePassback.Status.SENT
            and last.grading_id == score.grading_id and last.score_given == score.given
            and last.score_maximum == score.maximum):
        return None
    instant = timezone.now()
    now = instant.replace(microsecond=instant.microsecond // 1000 * 1000)  # sent in milliseconds
    stamp = now if last is None or now > last.timestamp else last.timestamp + timedelta(milliseconds=1)
    row = ScorePassback(line_item=item, student=student, grading_id=score.grading_id,
                        score_given=score.given, score_maximum=score.maximum, timestamp=stamp,
                        status=ScorePassback.Status.SENT, requested_by=by)
    try:
        platform.score_post(registration, item.url, platform.Score(
            user_id=identity.sub, given=score.given, maximum=score.maximum, timestamp=stamp))
    except platform.PlatformError as exc:
        row.status, row.http_status, row.error = ScorePassback.Status.FAILED, exc.status, str(exc)[:2000]
        row.full_clean()
        row.save()
        log.warning("LTI score for %s on %s not sent: %s", student, item, exc)
        raise
    row.full_clean()
    row.save()
    return row


def passback_again(*, line_item: LtiLineItem, student: Any, by: Any) -> None:
    """Staff's "send again": queue a forced send of the student's current grade."""
    tasks.enqueue_passback(line_item.pk, student.pk, force=True, by_id=by.pk)


# ---------------------------------------------------------------- deep linking


def deep_link_response(*, launch: LtiLaunch, assignment: Assignment, url: str) -> tuple[str, str]:
    """The signed deep-linking answer naming the assignment (a resource link with a custom
    parameter and a line item of its maximum), and where the browser posts it."""
    from pylti1p3.deep_link_resource import DeepLinkResource
    from pylti1p3.lineitem import LineItem

    maximum = assignment_maximum(assignment)
    resource = (DeepLinkResource().set_url(url).set_title(assignment.title)
                .set_custom_params({claims.ASSIGNMENT_PARAM: str(assignment.pk)})
                .set_lineitem(LineItem().set_label(assignment.title).set_score_maximum(maximum)
                              .set_resource_id(str(assignment.pk)).set_tag("backprop")))
    deep_link = launch.get_message_launch().get_deep_link()
    jwt_value = deep_link.get_response_jwt([resource])
    settings_claim = launch.get_launch_data().get(claims.DEEP_LINKING) or {}
    return jwt_value, str(settings_claim.get("deep_link_return_url") or "")
