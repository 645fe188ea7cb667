"""Calls to an LMS's services (AGS scores and line items, NRPS rosters), over pylti1p3's
service connector: an OAuth2 client-credentials token signed with our key, then the call.
Only tasks reach here (a platform may be slow; a page never waits for it)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from pylti1p3.exception import LtiServiceException
from pylti1p3.service_connector import ServiceConnector

SCORE_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
LINEITEM_SCOPE = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
NRPS_SCOPE = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
TIMEOUT = 20  # seconds per request: a hung platform frees the worker


class PlatformError(Exception):
    """The platform refused or could not be reached; ``status`` is its HTTP status if any."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _TimedSession(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(*args, **kwargs)


def connector(registration: Any) -> ServiceConnector:
    """A service connector for a django-lti registration (its keys, its token URL)."""
    return ServiceConnector(registration.to_registration(), requests_session=_TimedSession())


def _call(conn: ServiceConnector, scopes: list[str], url: str, **kwargs: Any) -> dict[str, Any]:
    try:
        return dict(conn.make_service_request(scopes, url, **kwargs))
    except LtiServiceException as exc:
        response = exc.response if hasattr(exc, "response") else None
        status = getattr(response, "status_code", None)
        raise PlatformError(str(exc)[:500], status) from exc
    except requests.RequestException as exc:
        raise PlatformError(f"{type(exc).__name__}: {exc}"[:500]) from exc


def scores_url(lineitem: str) -> str:
    """A line item's scores endpoint: "/scores" added to its path, its query kept."""
    parts = urlsplit(lineitem)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/scores"))


@dataclass(frozen=True)
class Score:
    user_id: str
    given: float
    maximum: float
    timestamp: datetime

    def to_json(self) -> dict[str, Any]:
        return {"userId": self.user_id, "scoreGiven": self.given, "scoreMaximum": self.maximum,
                "activityProgress": "Completed", "gradingProgress": "FullyGraded",
                "timestamp": self.timestamp.isoformat(timespec="milliseconds")}


def score_post(registration: Any, lineitem: str, score: Score) -> None:
    """Publish one score (AGS) to a line item."""
    _call(connector(registration), [SCORE_SCOPE], scores_url(lineitem), is_post=True,
          data=json.dumps(score.to_json()), content_type="application/vnd.ims.lis.v1.score+json")


def lineitem_create(registration: Any, lineitems: str, *, label: str, maximum: float,
                    resource_link_id: str, tag: str) -> str:
    """Create a line item in the platform's gradebook; its URL."""
    body = {"label": label, "scoreMaximum": maximum, "tag": tag}
    if resource_link_id:
        body["resourceLinkId"] = resource_link_id
    answer = _call(connector(registration), [LINEITEM_SCOPE], lineitems, is_post=True,
                   data=json.dumps(body), content_type="application/vnd.ims.lis.v2.lineitem+json",
                   accept="application/vnd.ims.lis.v2.lineitem+json")
    created = answer.get("body") or {}
    if not isinstance(created, dict) or not created.get("id"):
        raise PlatformError("the platform created a line item without an id")
    return str(created["id"])


def members(registration: Any, memberships_url: str) -> list[dict[str, Any]]:
    """Every member of the context (NRPS), following the "next" pages."""
    conn, url = connector(registration), memberships_url
    out: list[dict[str, Any]] = []
    seen = set()
    while url and url not in seen:
        seen.add(url)
        answer = _call(conn, [NRPS_SCOPE], url,
                       accept="application/vnd.ims.lti-nrps.v2.membershipcontainer+json")
        body = answer.get("body") or {}
        out.extend(m for m in (body.get("members") or []) if isinstance(m, dict))
        url = answer.get("next_page_url") or ""
    return out


def openid_configuration(url: str, token: str) -> dict[str, Any]:
    """The platform's OpenID configuration (dynamic registration, step 1)."""
    try:
        response = requests.get(url, headers={"Authorization": f"Bearer {token}"} if token else {},
                                timeout=TIMEOUT)
        response.raise_for_status()
        body = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise PlatformError(f"the platform's configuration could not be read: {exc}"[:500]) from exc
    if not isinstance(body, dict):
        raise PlatformError("the platform's configuration is not a JSON object")
    return body


def register(endpoint: str, token: str, body: dict[str, Any]) -> dict[str, Any]:
    """Post our registration to the platform (dynamic registration, step 2); its answer."""
    try:
        response = requests.post(endpoint, json=body, timeout=TIMEOUT,
                                 headers={"Authorization": f"Bearer {token}"} if token else {})
        response.raise_for_status()
        answer = response.json()
    except requests.HTTPError as exc:
        raise PlatformError(f"the platform refused the registration: {exc}"[:500],
                            exc.response.status_code if exc.response is not None else None) from exc
    except (requests.RequestException, ValueError) as exc:
        raise PlatformError(f"the registration could not be sent: {exc}"[:500]) from exc
    if not isinstance(answer, dict) or not answer.get("client_id"):
        raise PlatformError("the platform answered the registration without a client id")
    return answer
