"""Stamp every request with when it arrived, and defer what nobody waits on when a server is
serving both lanes.

A submit that waited in a busy server's queue must be judged by when the student sent it. The
proxy in front knows that best (nginx: ``proxy_set_header X-Request-Start "t=${msec}";``, the
moment nginx read the request's first bytes). Its header is used when
DJANGO_TRUST_X_REQUEST_START is on AND the connection comes from one of the trusted proxies
(DJANGO_TRUSTED_PROXIES, default the loopback); the proxy must overwrite any header a client
sends. A stamp that cannot be read, lies in the future beyond a small clock skew, or is older
than MAX_QUEUE_SECONDS is ignored.

Otherwise the arrival is the moment this middleware runs, first of all. That is NOT when the
student's request reached the machine: the time a connection waited in the kernel's accept
queue, and for a busy gunicorn worker, is not counted (in a burst, seconds). Only the proxy's
stamp measures arrival; ``arrival_source()`` says which of the two a deployment uses.

Lanes. The production proxy sends what nobody waits on (an autosave, the grading status) to a
background app server and the rest (submits, pages) to an interactive one, each the other's
backup, and names the lane in ``X-Lane`` (README, "Production"). A background request that has
already waited in the queue longer than LANE_BACKGROUND_MAX_WAIT seconds (by the proxy's stamp)
is answered at once with 503 and ``Retry-After``, touching nothing: the page keeps every value
and saves it again after that (autosave.js says so in its status line; the grading status asks
again later). So the background queue stays short, and when the interactive server is down and
its traffic comes to the background one, the submits do not wait behind seconds of autosaves.
An app server that has served the interactive lane within the last LANE_MEMORY_SECONDS (it serves
both lanes: the other one is down) defers sooner, after LANE_DEFER_AFTER seconds. Only a trusted
proxy's headers count, as for the stamp.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import lru_cache
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest, JsonResponse

MAX_QUEUE_SECONDS = 300  # an older header is not a queue delay but a wrong clock
MAX_SKEW_SECONDS = 2.0   # a proxy's clock a little ahead of this server's: taken as now


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]):
    return tuple(ip_network(p.strip(), strict=False) for p in proxies if p.strip())


def from_trusted_proxy(request) -> bool:
    """Whether the connection's address is one of TRUSTED_PROXIES (addresses or networks)."""
    try:
        remote = ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    return any(remote in network for network in _networks(tuple(getattr(settings, "TRUSTED_PROXIES", ()))))


def parse_request_start(header: str) -> float | None:
    """Epoch seconds from ``t=<seconds.millis>`` (nginx's ``${msec}``), also ``t=<milliseconds>``
    or ``t=<microseconds>`` (other proxies); None when it is not such a number."""
    text = header.strip()
    text = text[2:] if text[:2].lower() == "t=" else text
    try:
        value = float(text)
    except ValueError:
        return None
    if value != value or value in (float("inf"), float("-inf")) or value <= 0:
        return None
    if value > 1e14:      # microseconds
        value /= 1e6
    elif value > 1e11:    # milliseconds
        value /= 1e3
    return value


def proxy_stamp(request, now: float) -> float | None:
    """The trusted proxy's arrival stamp of ``request`` (epoch seconds, at most now), or None:
    untrusted, unreadable, more than MAX_SKEW_SECONDS in the future or MAX_QUEUE_SECONDS old."""
    if not (getattr(settings, "TRUST_X_REQUEST_START", False) and from_trusted_proxy(request)):
        return None
    value = parse_request_start(request.META.get("HTTP_X_REQUEST_START", ""))
    if value is not None and now - MAX_QUEUE_SECONDS <= value <= now + MAX_SKEW_SECONDS:
        return min(value, now)
    return None


def arrival(request, now: float | None = None) -> datetime:
    """When the request arrived: the trusted proxy's stamp (at most MAX_SKEW_SECONDS in the future,
    then taken as now; at most MAX_QUEUE_SECONDS old), else now."""
    now = time.time() if now is None else now
    stamp = proxy_stamp(request, now)
    return datetime.fromtimestamp(now if stamp is None else stamp, tz=timezone.utc)


LANE_MEMORY_SECONDS = 10.0  # an interactive request this recent: this server serves both lanes
RETRY_AFTER_SECONDS = 5


class Lanes:
    """What this process has seen of the proxy's lanes: when it last served the interactive one.
    One per process (each gunicorn worker learns it from its own requests within milliseconds)."""

    def __init__(self) -> None:
        self.interactive_at = float("-inf")  # time.monotonic() of the last interactive request

    def defer(self, request, now: float, stamp: float | None) -> bool:
        """Whether to answer ``request`` 503 now rather than serve it (see the module's note)."""
        if stamp is None:  # no trusted proxy: no lanes either
            return False
        lane = request.META.get("HTTP_X_LANE", "")
        clock = time.monotonic()
        if lane == "interactive":
            self.interactive_at = clock
            return False
        if lane != "background":
            return False
        both = clock - self.interactive_at <= LANE_MEMORY_SECONDS
        return now - stamp > (settings.LANE_DEFER_AFTER if both else settings.LANE_BACKGROUND_MAX_WAIT)


LANES = Lanes()


def deferred() -> JsonResponse:
    """503 with Retry-After, before the session, the database or the view: nothing is read or written."""
    response = JsonResponse({"ok": False, "busy": True, "retry_after": RETRY_AFTER_SECONDS,
                             "error": "The server is busy; nothing was saved. Send it again after Retry-After seconds."},
                            status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def arrival_source() -> str:
    """"proxy" when arrival is the proxy's stamp, "server" when it is this server's own clock."""
    return "proxy" if getattr(settings, "TRUST_X_REQUEST_START", False) else "server"


class ArrivedRequest(HttpRequest):
    """The type of a request that went through ``ArrivalTimeMiddleware`` (first in MIDDLEWARE,
    so every request a view gets): for annotations only, no request is made of this class."""

    arrived_at: datetime


class ArrivalTimeMiddleware:
    """Set ``request.arrived_at`` (an aware datetime), or defer a stale background request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        now = time.time()
        stamp = proxy_stamp(request, now)
        if LANES.defer(request, now, stamp):
            return deferred()
        request.arrived_at = datetime.fromtimestamp(now if stamp is None else stamp, tz=timezone.utc)
        return self.get_response(request)
