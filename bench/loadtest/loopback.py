"""What every locust file of the load test shares.

The server runs with production settings, so its cookies are marked Secure; the load test
talks plain http on the loopback (no TLS proxy in front), where a client would not send them
back. ``trust_loopback`` clears that flag on the cookies a locust client holds, so they go
back to 127.0.0.1 as a browser behind the proxy would send them; call it before each request
that needs them. ``record_requests`` writes every request, with when it started, to the file
LOADTEST_REQUESTS names (run.py and stack.py read it to split the burst from the rest)."""

import json
import os
import time


def trust_loopback(client) -> None:
    for cookie in client.cookies:
        cookie.secure = False


def record_requests() -> None:
    """Append every request locust makes (name, ms, error, start, HTTP status) to LOADTEST_REQUESTS."""
    from locust import events

    log = open(os.environ["LOADTEST_REQUESTS"], "a", buffering=1)

    @events.request.add_listener
    def _record(request_type, name, response_time, response_length, exception, start_time=None,
                response=None, **kw) -> None:
        log.write(json.dumps({"name": name, "ms": response_time, "error": exception is not None,
                              "start": start_time or time.time(),
                              "status": getattr(response, "status_code", 0)}) + "\n")

    @events.quitting.add_listener
    def _close(environment, **kwargs) -> None:
        log.close()
