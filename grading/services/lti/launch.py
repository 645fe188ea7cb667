"""LTI launches: a launch signs a user in and sets their membership.

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

from grading.lti import claims
from grading.models import Assignment, Course, LtiCourse, LtiIdentity, LtiNonce, LtiRosterSync, Membership
from grading.services.lti.grades import line_item_on_launch

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
                line_item_on_launch(launch, assignment, data)
    deep = bool(data.get(claims.MESSAGE_TYPE) == "LtiDeepLinkingRequest")
    return LaunchOutcome(user=user, course=course, role=role, assignment=assignment,
                         deep_linking=deep, changes=changes)


def _who(user: Any, identity_email: str = "") -> dict[str, str]:
    name = f"{user.first_name} {user.last_name}".strip() or user.username
    return {"name": name, "email": identity_email or user.email, "username": user.username}


def launch_user(*, user_id: int) -> Any:
    """The user a one-time continue link names (an active one)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise LaunchRefused("continue", _("This account is not active."))
    return user
