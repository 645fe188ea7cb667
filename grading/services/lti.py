"""LTI writes: a launch signs a user in and sets their membership; scores and rosters sync.

A launch has been checked by pylti1p3 before it reaches here (state, signature, issuer,
audience, deployment id); here the nonce is spent (a replayed id_token is refused), the
platform's account is tied to one user (issuer + ``sub``, never the e-mail), the LMS course to
a Course, and the roles the launch names in that course to the membership, nothing more.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from lti_tool.models import LtiContext, LtiLaunch, LtiRegistration
from lti_tool.utils import sync_data_from_launch

from grading import tasks
from grading.lti import claims, platform
from grading.models import (Assignment, Course, LtiCourse, LtiIdentity, LtiLineItem, LtiNonce, LtiRosterSync,
                            Membership, ScorePassback, Submission)
from grading.selectors.grades import Attempt, best, current_gradings

log = logging.getLogger("grading.lti")

ROLE_OF = {"instructor": Membership.Role.INSTRUCTOR, "ta": Membership.Role.TA,
           "student": Membership.Role.STUDENT}


class LaunchRefused(Exception):
    """A launch we do not honour; ``code`` names the check, the message is for the person."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class MembershipChange:
    """A membership the LMS changed: ``before`` is "" for one added."""

    before: str
    after: str


@dataclass
class LaunchOutcome:
    user: Any
    course: Course | None
    role: str | None
    assignment: Assignment | None
    deep_linking: bool
    language: str | None = None
    changes: list[MembershipChange] = field(default_factory=list)


def lti_nonce_spend(*, issuer: str, nonce: str) -> None:
    """Mark a launch's nonce used; a second use is a replay and is refused."""
    try:
        with transaction.atomic():
            LtiNonce.objects.create(issuer=issuer, nonce=nonce)
    except IntegrityError as exc:
        raise LaunchRefused("nonce_replay", _("This launch was already used. Open the activity "
                                              "from your course page again.")) from exc


def lti_nonces_forget(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Drop spent nonces older than any token could be (ours refuse a token an hour old)."""
    count, _rest = LtiNonce.objects.filter(used_at__lt=timezone.now() - older_than).delete()
    return count


def lti_jwks_forget() -> None:
    """Drop the platforms' cached JWKS (pylti1p3 keeps them by URL, without a session): the
    next launch reads them again."""
    import hashlib

    from django.core.cache import cache

    for url in LtiRegistration.objects.values_list("keyset_url", flat=True):
        cache.delete("lti1p3-key-set-url-" + hashlib.md5(url.encode("utf-8")).hexdigest())


def _email(value: Any) -> str:
    """The claim's e-mail if it is one; a malformed one is dropped, not a reason to refuse."""
    from django.core.validators import validate_email

    text = str(value or "")[:254]
    try:
        validate_email(text)
    except ValidationError:
        return ""
    return text


def _username(issuer: str, sub: str) -> str:
    return "lti-" + hashlib.sha256(f"{issuer}\n{sub}".encode()).hexdigest()[:24]


def lti_user_ensure(*, issuer: str, sub: str, data: dict[str, Any]) -> Any:
    """The user a platform account signs in as: found by issuer + sub, created on the first
    launch (no usable password: this account signs in through its LMS only)."""
    if not sub or len(sub) > 255:
        raise LaunchRefused("no_sub", _("The LMS sent this launch without a usable user id."))
    email = _email(data.get("email"))
    identity = LtiIdentity.objects.select_related("user").filter(issuer=issuer, sub=sub).first()
    if identity is None:
        User = get_user_model()
        user = User.objects.filter(username=_username(issuer, sub)).first()
        if user is None:
            user = User(username=_username(issuer, sub), email=email,
                        first_name=str(data.get("given_name") or "")[:150],
                        last_name=str(data.get("family_name") or "")[:150])
            user.set_unusable_password()
            user.full_clean()
            user.save()
        identity = LtiIdentity(issuer=issuer, sub=sub, user=user, email=email)
        identity.full_clean()
        identity.save()
        return user
    identity.email = email or identity.email
    identity.last_launch_at = timezone.now()
    identity.save(update_fields=["email", "last_launch_at"])
    return identity.user


def _course_code(context: LtiContext) -> str:
    digest = hashlib.sha256(f"{context.deployment_id}\n{context.id_on_platform}".encode()).hexdigest()[:8]
    base = slugify(context.label or context.title or "lms")[:30].strip("-") or "lms"
    return f"{base}-{digest}"


def lti_course_ensure(*, context: LtiContext) -> Course:
    """The Course an LMS course is here: linked once (an admin may point it at an existing
    course in the admin), created from the context's label and title otherwise."""
    link = LtiCourse.objects.select_related("course").filter(context=context).first()
    if link is not None:
        return link.course
    course = Course.objects.filter(code=_course_code(context)).first()
    if course is None:
        course = Course(code=_course_code(context), title=(context.title or context.label or "LMS course")[:200])
        course.full_clean()
        course.save()
    link = LtiCourse(context=context, course=course)
    link.full_clean()
    link.save()
    return course


def lti_membership_set(*, course: Course, user: Any, role: str | None) -> list[MembershipChange]:
    """Make the membership what the platform says for this course; what changed. No role named
    in the course: nothing is given (and nothing taken)."""
    if role is None:
        return []
    wanted = ROLE_OF[role]
    membership = Membership.objects.filter(course=course, user=user).first()
    if membership is None:
        membership = Membership(course=course, user=user, role=wanted)
        membership.full_clean()
        membership.save()
        return [MembershipChange(before="", after=wanted)]
    if membership.role != wanted:
        before = membership.role
        membership.role = wanted
        membership.full_clean()
        membership.save(update_fields=["role"])
        log.warning("LTI changed %s's role in %s from %s to %s", user, course.code, before, wanted)
        return [MembershipChange(before=before, after=wanted)]
    return []


def _record_launch_changes(course: Course, user: Any, changes: list[MembershipChange]) -> None:
    """A role a launch changed (not a first membership) is kept with the roster syncs: who,
    when, before, after, and why (the LMS said so in a launch)."""
    changed = [{**_who(user), "before": c.before, "after": c.after} for c in changes if c.before]
    if changed:
        record = LtiRosterSync(course=course, status=LtiRosterSync.Status.DONE, finished_at=timezone.now(),
                               result={"added": [], "dropped": [], "changed": changed, "by_launch": True})
        record.full_clean()
        record.save()


def lti_launch_sign_in(*, launch: LtiLaunch) -> LaunchOutcome:
    """Honour a checked launch: spend its nonce, record it (django-lti), tie the user, course
    and membership, and find the assignment it opens (only one of this course)."""
    data = launch.get_launch_data()
    issuer = str(data.get("iss") or "")
    wrong = claims.misshapen(data)
    if wrong:
        raise LaunchRefused("claims", _("The LMS sent this launch with details in a form LTI does "
                                        "not allow (%(claims)s).") % {"claims": ", ".join(wrong)})
    lti_nonce_spend(issuer=issuer, nonce=str(data.get("nonce") or ""))
    with transaction.atomic():
        sync_data_from_launch(launch)
        if not launch.deployment.is_active:
            raise LaunchRefused("deployment_inactive", _(
                "This LMS deployment is not enabled here yet. Ask the site's administrator to "
                "activate it (deployment %(id)s).") % {"id": launch.deployment.deployment_id})
        user = lti_user_ensure(issuer=issuer, sub=str(data.get("sub") or ""), data=data)
        role = claims.course_role(data.get(claims.ROLES) or [])
        assignment = None
        if not claims.context_id(data):  # a launch outside any course: sign in, nothing more
            return LaunchOutcome(user=user, course=None, role=None, assignment=None,
                                 deep_linking=data.get(claims.MESSAGE_TYPE) == "LtiDeepLinkingRequest")
        course = lti_course_ensure(context=launch.context)
        changes = lti_membership_set(course=course, user=user, role=role)
        _record_launch_changes(course, user, changes)
        number = claims.assignment_id(data)
        if number is not None:
            assignment = Assignment.objects.filter(pk=number, course=course).first()
            if assignment is not None:
                _line_item_on_launch(launch, assignment, data)
    deep = bool(data.get(claims.MESSAGE_TYPE) == "LtiDeepLinkingRequest")
    return LaunchOutcome(user=user, course=course, role=role, assignment=assignment,
                         deep_linking=deep, changes=changes)


def _line_item_on_launch(launch: LtiLaunch, assignment: Assignment, data: dict[str, Any]) -> None:
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


def launch_user(*, user_id: int) -> Any:
    """The user a one-time continue link names (an active one)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise LaunchRefused("continue", _("This account is not active."))
    return user


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


def _who(user: Any, identity_email: str = "") -> dict[str, str]:
    name = f"{user.first_name} {user.last_name}".strip() or user.username
    return {"name": name, "email": identity_email or user.email, "username": user.username}


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


# ---------------------------------------------------------------- dynamic registration


def lti_dynamic_register(*, openid_configuration_url: str, registration_token: str,
                         base: str, title: str) -> LtiRegistration:
    """Register with a platform that opened our dynamic registration link: read its OpenID
    configuration, send ours, and keep its registration and deployment (active: our admin made
    the one-time link that started this)."""
    from grading.lti import registration as dr

    config = platform.openid_configuration(openid_configuration_url, registration_token)
    try:
        issuer = dr.check_openid_configuration(openid_configuration_url, config)
    except ValueError as exc:
        raise LaunchRefused("registration_config", _("The LMS's configuration cannot be used: %(why)s.")
                            % {"why": exc}) from exc
    answer = platform.register(str(config["registration_endpoint"]), registration_token,
                               dr.tool_registration(base=base, title=title))
    deployment_id = str((answer.get(dr.TOOL_CONFIGURATION) or {}).get("deployment_id") or "")
    product = (config.get("https://purl.imsglobal.org/spec/lti-platform-configuration") or {})
    with transaction.atomic():
        registration = LtiRegistration(
            name=str(product.get("product_family_code") or issuer)[:255], issuer=issuer,
            client_id=str(answer["client_id"]), auth_url=str(config["authorization_endpoint"]),
            token_url=str(config["token_endpoint"]), keyset_url=str(config["jwks_uri"]))
        registration.full_clean()
        registration.save()
        if deployment_id:
            registration.deployments.create(deployment_id=deployment_id, is_active=True)
    log.warning("LTI dynamic registration: %s, client %s, deployment %s", issuer,
                registration.client_id, deployment_id or "(none yet)")
    return registration
