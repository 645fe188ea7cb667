"""Framing by the LMS: a session that came from a launch may be shown in its platform's iframe."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase

SESSION_FRAME_ORIGIN = "lti_frame_origin"


class LmsFrameMiddleware:
    """Everywhere else frame-ancestors is 'none' and X-Frame-Options DENY. A session signed in
    by a launch names its platform's origin (from the registration, never from the request):
    its pages may be framed by that origin alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        origin = request.session.get(SESSION_FRAME_ORIGIN) if hasattr(request, "session") else None
        if origin and not request.path_info.startswith("/admin/"):
            response._csp_replace = {"frame-ancestors": ["'self'", origin]}  # type: ignore[attr-defined]
            if "X-Frame-Options" in response:
                del response["X-Frame-Options"]
            response.xframe_options_exempt = True  # type: ignore[attr-defined]
        return response
