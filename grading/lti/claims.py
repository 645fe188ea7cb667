"""What a launch's claims mean here: roles, language, the linked assignment. No database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
CUSTOM = CLAIM + "custom"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
RESOURCE_LINK = CLAIM + "resource_link"
DEPLOYMENT_ID = CLAIM + "deployment_id"
MESSAGE_TYPE = CLAIM + "message_type"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
LAUNCH_PRESENTATION = CLAIM + "launch_presentation"

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
CourseRole = Literal["instructor", "ta", "student"]

# The custom parameter a link carries to name its assignment (deep linking writes it).
ASSIGNMENT_PARAM = "assignment"


def _dict(value: Any) -> Mapping[str, Any]:
    """A claim that should be an object; anything else reads as empty (a platform's mistake, or
    a hostile token from a registered platform, is never a crash)."""
    return value if isinstance(value, Mapping) else {}


def _context_role(role: str) -> str | None:
    """A context role's short name ("Instructor", "Instructor#TeachingAssistant"); None for a
    system or institution role, which says nothing about this course. A bare name (LTI 1.3
    allows "Instructor" for the context role) counts as a context role."""
    if role.startswith(MEMBERSHIP):
        return role[len(MEMBERSHIP):]
    if role.startswith("http://purl.imsglobal.org/vocab/lis/v2/membership/"):  # sub-role form
        rest = role[len("http://purl.imsglobal.org/vocab/lis/v2/membership/"):]
        return rest
    if ":" in role or "/" in role:
        return None
    return role


def course_role(roles: Any) -> CourseRole | None:
    """The membership a launch's roles give in its course: instructor for the context's
    Instructor or Administrator, TA for a teaching assistant sub-role, student for a Learner;
    None when the launch names no role in the course (a system or institution role alone never
    makes anyone staff of a course)."""
    if isinstance(roles, (str, bytes)) or not isinstance(roles, Iterable):
        return None
    names = {name for name in (_context_role(r) for r in roles if isinstance(r, str)) if name}
    if any(n.startswith("Instructor#TeachingAssistant") or n.startswith("TeachingAssistant")
           for n in names):
        return "ta"
    if names & {"Instructor", "Administrator"}:
        return "instructor"
    if any(n == "Learner" or n.startswith("Learner#") for n in names):
        return "student"
    return None


def language(launch: Mapping[str, Any], available: Iterable[str]) -> str | None:
    """The site language a launch's locale names ("th-TH" -> "th"), if we have it."""
    locale = _dict(launch.get(LAUNCH_PRESENTATION)).get("locale") or launch.get("locale") or ""
    code = str(locale).replace("_", "-").split("-")[0].lower()
    return code if code in set(available) else None


def assignment_id(launch: Mapping[str, Any]) -> int | None:
    """The assignment a resource link names in its custom parameters, if any."""
    value = _dict(launch.get(CUSTOM)).get(ASSIGNMENT_PARAM)
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def lineitem_url(launch: Mapping[str, Any]) -> str:
    """The resource link's own line item (AGS ``lineitem``), when the platform gave one."""
    return str(_dict(launch.get(AGS)).get("lineitem") or "")


def presentation(launch: Mapping[str, Any]) -> Mapping[str, Any]:
    """The launch presentation claim (document target, return URL, locale), as an object."""
    return _dict(launch.get(LAUNCH_PRESENTATION))


def resource_link_id(launch: Mapping[str, Any]) -> str:
    """The resource link's id, if the launch has one."""
    return str(_dict(launch.get(RESOURCE_LINK)).get("id") or "")


OBJECT_CLAIMS = (CONTEXT, RESOURCE_LINK, CUSTOM, AGS, NRPS, DEEP_LINKING, LAUNCH_PRESENTATION,
                 CLAIM + "tool_platform", CLAIM + "lti1p1",
                 "https://purl.imsglobal.org/spec/lti/claim/platformnotificationservice")


def misshapen(launch: Mapping[str, Any]) -> list[str]:
    """The claims whose shape the LTI specification fixes but this launch breaks (an object
    that is not one, roles that are not a list of strings): such a launch is refused before
    anything is recorded from it."""
    bad = [name for name in OBJECT_CLAIMS if name in launch and not isinstance(launch[name], Mapping)]
    roles = launch.get(ROLES, [])
    if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
        bad.append(ROLES)
    for name in ("sub", "email", "given_name", "family_name", "name"):
        if name in launch and launch[name] is not None and not isinstance(launch[name], str):
            bad.append(name)
    return bad


def context_id(launch: Mapping[str, Any]) -> str:
    """The LMS course's id, if the launch is in one."""
    return str(_dict(launch.get(CONTEXT)).get("id") or "")
