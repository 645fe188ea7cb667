"""The client's address, for login throttling: the connection's, or the proxy's report of it."""

from __future__ import annotations

from ipaddress import ip_address

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or with PROXY_COUNT proxies in front, the address the outermost one saw.

    Each proxy appends the address it received the request from to X-Forwarded-For, so with N
    trusted proxies the N-th entry from the right is the client's; entries further left are
    whatever the client sent and are never trusted. A header too short or not an address falls
    back to the connection's address (the proxy's): throttling then errs towards one bucket
    for the proxy, which is still per username.
    """
    remote = request.META.get("REMOTE_ADDR")
    count = settings.PROXY_COUNT
    if count <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < count:
        return remote
    candidate = hops[-count]
    try:
        return str(ip_address(candidate))
    except ValueError:
        return remote
