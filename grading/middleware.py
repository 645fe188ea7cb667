"""Stamp every request with when it arrived.

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
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from functools import lru_cache
from ipaddress import ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest

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


def arrival(request, now: float | None = None) -> datetime:
    """When the request arrived: the trusted proxy's stamp (at most MAX_SKEW_SECONDS in the future,
    then taken as now; at most MAX_QUEUE_SECONDS old), else now."""
    now = time.time() if now is None else now
    stamp = now
    if getattr(settings, "TRUST_X_REQUEST_START", False) and from_trusted_proxy(request):
        value = parse_request_start(request.META.get("HTTP_X_REQUEST_START", ""))
        if value is not None and now - MAX_QUEUE_SECONDS <= value <= now + MAX_SKEW_SECONDS:
            stamp = min(value, now)
    return datetime.fromtimestamp(stamp, tz=timezone.utc)


def arrival_source() -> str:
    """"proxy" when arrival is the proxy's stamp, "server" when it is this server's own clock."""
    return "proxy" if getattr(settings, "TRUST_X_REQUEST_START", False) else "server"


class ArrivedRequest(HttpRequest):
    """The type of a request that went through ``ArrivalTimeMiddleware`` (first in MIDDLEWARE,
    so every request a view gets): for annotations only, no request is made of this class."""

    arrived_at: datetime


class ArrivalTimeMiddleware:
    """Set ``request.arrived_at`` (an aware datetime)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.arrived_at = arrival(request)
        return self.get_response(request)
