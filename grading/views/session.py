"""Keeping a session going: a fresh CSRF token, the CSRF failure page, the login lockout page."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE, get_token
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from grading import selectors

CSRF_EXPIRED = gettext_lazy(
    "This page's security token has expired, most often because you logged in again "
    "(or logged out) in another tab. Nothing was saved or submitted by this click. "
    "Your answers are kept in this browser: reload the page and submit again.")


def wants_json(request: HttpRequest) -> bool:
    """The autosave and other scripts ask for JSON; a browser's form post does not."""
    return ("application/json" in request.headers.get("Accept", "")
            or request.headers.get("X-Requested-With") == "XMLHttpRequest")


@never_cache
@require_GET
def csrf_token(request: HttpRequest) -> JsonResponse:
    """The session's current CSRF token, for a page whose token went stale after a re-login."""
    if not request.user.is_authenticated:
        # JSON, not a redirect to the login page: the caller is a script, not a person.
        return JsonResponse({"ok": False, "error": _("Your session has expired; log in again.")},
                            status=401)
    return JsonResponse({"ok": True, "token": get_token(request)})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: say plainly what happened and how to go on, instead of Django's page."""
    if wants_json(request):
        return JsonResponse({"ok": False, "csrf": True, "error": str(CSRF_EXPIRED)}, status=403)
    # Back to the page that was posted, by GET; logging out has no page of its own.
    back = reverse("grading:home") if request.path == reverse("logout") else request.get_full_path()
    context = {"back": back, "no_cookie": reason == REASON_NO_CSRF_COOKIE}
    return render(request, "403_csrf.html", context, status=403)


def locked_out(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' lockout response: what happened and what to do, in the site's layout."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "registration/locked_out.html", {
        "minutes": minutes, "failure_limit": settings.AXES_FAILURE_LIMIT,
        "username": request.POST.get("username", "")[:150],
    }, status=429)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """For a load balancer or a monitor, no login: 200 when the app, its database and (with the
    database task backend) a task worker are alive, else 503 with what is wrong. Counts only:
    no names, no settings."""
    health = selectors.grading_health()
    body = {
        "status": "ok" if health.ok else "fail",
        "problems": health.problems,
        "database": "ok" if health.database else "unavailable",
        "workers_needed": health.workers_needed,
        "workers_alive": health.workers_alive,
        "queue_depth": health.queue_depth,
        "running": health.running,
        "waiting_attempts": health.waiting,
        "oldest_waiting_seconds": None if health.oldest_waiting_seconds is None
        else round(health.oldest_waiting_seconds, 1),
    }
    return JsonResponse(body, status=200 if health.ok else 503)
