"""Stamp every request with when it arrived, before any queue inside the server delays it.

A submit that waited in a busy server's queue must be judged by when the student sent it. The
proxy in front (nginx: ``proxy_set_header X-Request-Start "t=${msec}";``) knows that best; its
header is trusted when DJANGO_TRUST_X_REQUEST_START is on (the proxy must then overwrite any
header a client sends). Otherwise the arrival is the moment this middleware runs, first of all.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from django.conf import settings
from django.http import HttpRequest

MAX_QUEUE_SECONDS = 300  # an older header is not a queue delay but a wrong clock


def arrival(request, now: float | None = None) -> datetime:
    """When the request arrived: the trusted proxy's stamp (never in the future nor more than
    MAX_QUEUE_SECONDS old), else now."""
    now = time.time() if now is None else now
    stamp = now
    header = request.META.get("HTTP_X_REQUEST_START", "") if getattr(
        settings, "TRUST_X_REQUEST_START", False) else ""
    if header:
        try:
            value = float(header.removeprefix("t="))
        except ValueError:
            value = None
        if value is not None:
            value = value / 1000 if value > 1e11 else value  # milliseconds or seconds
            if now - MAX_QUEUE_SECONDS <= value <= now:
                stamp = value
    return datetime.fromtimestamp(stamp, tz=timezone.utc)


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
