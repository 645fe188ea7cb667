"""Site-wide middleware: the Content-Security-Policy, and a clear answer to an oversized body."""

from __future__ import annotations

from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from grading.views.session import wants_json


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp's policy everywhere; under the admin, inline styles are allowed too.

    Django's admin change list writes one inline <style> (when a list has no actions, as the
    append-only lists here); its scripts are all files, so script-src stays 'self' there too.
    """

    def get_policy_parts(self, request: HttpRequest, response: HttpResponseBase,
                         report_only: bool = False) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if not report_only and request.path_info.startswith(settings.CSP_ADMIN_PREFIX):
            parts.update = {**(parts.update or {}), "style-src": ["'unsafe-inline'"]}
        return parts


def _megabytes(size: int) -> str:
    return _("%(n)s MB") % {"n": f"{size / (1024 * 1024):g}"}


class BodyLimitMiddleware:
    """A body over DATA_UPLOAD_MAX_MEMORY_SIZE or with too many fields gets a message, not a bare 400.

    JSON for scripts (413 for size, so the autosave shows it once and stops retrying that body),
    a page in the site's layout for a form post. Django would refuse these bodies anyway, in
    the CSRF check that reads the form first; this answers before that, without reading a body
    that is announced too large.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method == "POST":
            refusal = self._refusal(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def _refusal(self, request: HttpRequest) -> HttpResponseBase | None:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        multipart = request.content_type == "multipart/form-data"  # files are limited apart
        try:
            if limit is not None and length > limit and not multipart:
                raise RequestDataTooBig
            request.POST  # noqa: B018 - parse now, inside this try, as the CSRF check would next
        except RequestDataTooBig:
            return self._answer(request, status=413, title=_("Too large to save"), message=_(
                "This was not saved: it is larger than %(size)s, the most one page can send. "
                "Shorten the longest answer and try again; everything you typed is still in this "
                "browser.") % {"size": _megabytes(limit)})
        except TooManyFieldsSent:
            return self._answer(request, status=400, title=_("Too many fields"), message=_(
                "This was not saved: it has more than %(n)s fields, more than any page here has.")
                % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})
        return None

    @staticmethod
    def _answer(request: HttpRequest, *, status: int, title: str, message: str) -> HttpResponseBase:
        if wants_json(request):
            return JsonResponse({"ok": False, "error": message, "too_large": status == 413},
                                status=status)
        return render(request, "request_refused.html", {"title": title, "message": message},
                      status=status)
