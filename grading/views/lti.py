"""LTI 1.3 pages: OIDC login initiation, the launch (which signs the user in), the JWKS, deep
linking, and the staff's passback page. The login and launch endpoints are csrf_exempt as LTI
requires: the platform posts them cross-site, and the signed id_token, the state cookie and the
one-time nonce are what protect them."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlencode, urlsplit

from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from lti_tool.utils import get_launch_from_request
from lti_tool.views import jwks as lti_jwks
from pylti1p3.contrib.django import DjangoCacheDataStorage, DjangoOIDCLogin
from pylti1p3.exception import LtiException, OIDCException

from grading import permissions
from grading.selectors import lti as selectors
from grading.lti import claims
from grading.lti.launch import ToolConfig, validated_launch
from grading.lti.middleware import SESSION_FRAME_ORIGIN
from grading.lti.platform import PlatformError
from grading.services import lti as lti_services

log = logging.getLogger("grading.lti")

LOGIN_PARAMS = ("iss", "login_hint", "target_link_uri", "lti_message_hint", "client_id",
                "lti_deployment_id")
SESSION_LAUNCH = "lti_launch_id"
CONTINUE_SALT = "grading.lti.continue"
CONTINUE_SECONDS = 120

jwks = lti_jwks  # django-lti's: our active public keys (``manage.py rotate_keys`` adds one)


def _refused(request: HttpRequest, code: str, message: str, *, detail: str = "") -> HttpResponse:
    log.warning("LTI launch refused (%s): %s", code, detail or message)
    return render(request, "grading/lti/refused.html", {
        "title": _("This launch from your LMS was refused"), "message": message, "code": code},
        status=403)


# What went wrong, in words a student can act on, from pylti1p3's messages.
REASONS = (
    ("State not found", "state", lambda: _("This launch does not match the sign-in your browser "
                                           "started (its state differs). Open the activity from "
                                           "your course page again.")),
    ("Missing state", "state", lambda: _("This launch came without its sign-in state. Open the "
                                         "activity from your course page again.")),
    ("Invalid Nonce", "nonce", lambda: _("This launch's one-time code was not issued here or has "
                                         "expired. Open the activity from your course page again.")),
    ("Could not find registration", "registration", lambda: _(
        "This LMS (its issuer and client id) is not registered here. Ask the site's administrator.")),
    ("Registration not found", "registration", lambda: _(
        "This LMS (its issuer and client id) is not registered here. Ask the site's administrator.")),
    ("Client id not registered", "registration", lambda: _(
        "This launch was meant for another tool (its audience is not ours).")),
    ("Unable to find public key", "key", lambda: _(
        "The LMS signed this launch with a key it does not publish. Ask the LMS administrator.")),
    ("JWT KID not found", "key", lambda: _("The launch names no signing key.")),
    ("Signature has expired", "expired", lambda: _(
        "This launch has expired. Open the activity from your course page again.")),
    ("not yet valid", "future", lambda: _(
        "This launch is dated in the future: the LMS's clock or ours is wrong. Try again in a "
        "minute; if it persists, tell the site's administrator.")),
    ("Can't decode id_token", "signature", lambda: _(
        "This launch's signature does not verify: it was altered or not signed by your LMS.")),
    ("deployment", "deployment", lambda: _("This LMS deployment is not known here.")),
)


def _reason(exc: Exception) -> tuple[str, str]:
    text = str(exc)
    for needle, code, message in REASONS:
        if needle in text:
            return code, message()
    return "invalid", _("This launch from your LMS could not be checked, so you were not signed in.")


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def lti_login(request: HttpRequest, registration_uuid: str | None = None) -> HttpResponse:
    """OIDC third-party login initiation: send the browser to the platform's auth URL with a
    fresh state (in a cookie) and nonce; the login's parameters are kept by state, so a launch
    whose cookie the browser withheld can offer to start again in a new window."""
    params = request.POST if request.method == "POST" else request.GET
    target = params.get("target_link_uri")
    if not target or not params.get("iss"):
        return _refused(request, "login", _("The LMS started a sign-in without saying where to "
                                            "(no issuer or target link)."))
    oidc = DjangoOIDCLogin(request, ToolConfig(registration_uuid),
                           launch_data_storage=DjangoCacheDataStorage())
    try:
        response = oidc.disable_check_cookies().redirect(target)
    except (LtiException, OIDCException) as exc:
        code, message = _reason(exc)
        return _refused(request, code, message, detail=str(exc))
    state = parse_qs(urlsplit(response["Location"]).query).get("state", [""])[0]
    if state:
        kept = {k: params[k] for k in LOGIN_PARAMS if params.get(k)}
        cache.set(f"lti-login:{state}", {"params": kept, "uuid": str(registration_uuid or "")}, 300)
    return response


def _login_again_url(state: str) -> str | None:
    kept = cache.get(f"lti-login:{state}") if state else None
    if not kept:
        return None
    if kept["uuid"]:
        url = reverse("grading:lti_login_for", args=[kept["uuid"]])
    else:
        url = reverse("grading:lti_login")
    return f"{url}?{urlencode(kept['params'])}"


def _origin(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in {"http", "https"} and parts.netloc else ""


@csrf_exempt
@xframe_options_exempt
@require_POST
def lti_launch(request: HttpRequest) -> HttpResponse:
    """The launch: checked, then the user is signed in and sent to the assignment (or course)."""
    state = request.POST.get("state", "")
    try:
        launch = validated_launch(request)
    except LtiException as exc:
        code, message = _reason(exc)
        again = _login_again_url(state)
        cookie = request.COOKIES.get(f"lti1p3-{state}")
        if again and cookie is None and (code == "state" or "cookie" in str(exc)):
            # A state we issued, whose cookie did not come back: the browser blocks cookies here.
            log.info("LTI launch without its state cookie (third-party cookies blocked)")
            return render(request, "grading/lti/new_window.html", {"url": again, "blocked": True})
        return _refused(request, code, message, detail=str(exc))
    except Exception as exc:  # a malformed token: pylti1p3 raises plain errors for some shapes
        log.warning("LTI launch failed to parse: %r", exc)
        return _refused(request, "invalid", _("This launch from your LMS could not be read."),
                        detail=repr(exc))
    try:
        outcome = lti_services.lti_launch_sign_in(launch=launch)
    except lti_services.LaunchRefused as exc:
        return _refused(request, exc.code, exc.message)
    except (ValidationError, DatabaseError) as exc:  # a claim our records cannot hold
        return _refused(request, "invalid", _("This launch from your LMS carries details this site "
                                              "cannot store, so you were not signed in."), detail=repr(exc))
    data = launch.get_launch_data()
    if outcome.deep_linking:
        if outcome.role != "instructor":
            return _refused(request, "deep_link_role", _("Only an instructor of the course can add "
                                                         "an assignment to it."))
        target = reverse("grading:lti_deep_link")
    elif outcome.assignment is not None:
        target = reverse("grading:assignment", args=[outcome.assignment.pk])
    else:
        target = reverse("grading:home")
    origins = sorted({o for o in (_origin(str(data.get("iss", ""))),
                                  _origin(str(claims.presentation(data).get("return_url") or ""))) if o})
    framed = claims.presentation(data).get("document_target") == "iframe"
    language = claims.language(data, [code for code, _name in settings.LANGUAGES])
    if framed and not settings.LTI_IN_FRAME:
        # Our cookies are SameSite=Lax: an LMS's iframe would not keep this session. A one-time
        # link signs the same user in, in a window of its own.
        token = signing.dumps({"u": outcome.user.pk, "n": data.get("nonce"), "t": target,
                               "l": language or "", "i": launch.get_launch_id()}, salt=CONTINUE_SALT)
        return render(request, "grading/lti/new_window.html", {
            "url": reverse("grading:lti_continue", args=[token]), "blocked": False})
    login(request, outcome.user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_FRAME_ORIGIN] = " ".join(origins)
    request.session[SESSION_LAUNCH] = launch.get_launch_id()
    response = redirect(target)
    _language_cookie(request, response, language)
    return response


def _language_cookie(request: HttpRequest, response: HttpResponse, language: str | None) -> None:
    """The launch's language, unless the user chose one here (the switch's cookie)."""
    if language and settings.LANGUAGE_COOKIE_NAME not in request.COOKIES:
        response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language, max_age=settings.LANGUAGE_COOKIE_AGE,
                            samesite="Lax", httponly=True,
                            secure=settings.SESSION_COOKIE_SECURE)


@require_http_methods(["GET"])
def lti_continue(request: HttpRequest, token: str) -> HttpResponse:
    """The new window's one-time link from a framed launch: signs the same user in, once, within
    two minutes."""
    try:
        data = signing.loads(token, salt=CONTINUE_SALT, max_age=CONTINUE_SECONDS)
        lti_services.lti_nonce_spend(issuer="continue", nonce=str(data["n"]))
        user = lti_services.launch_user(user_id=int(data["u"]))
    except (signing.BadSignature, KeyError, ValueError, TypeError):
        return _refused(request, "continue", _("This link has expired or was already used. Open the "
                                               "activity from your course page again."))
    except lti_services.LaunchRefused as exc:
        return _refused(request, "continue", exc.message)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session[SESSION_LAUNCH] = str(data.get("i") or "")  # a deep-linking launch goes on here
    target = str(data.get("t") or reverse("grading:home"))
    response = redirect(target if target.startswith("/") and not target.startswith("//") else "/")
    _language_cookie(request, response, data.get("l") or None)
    return response


def _session_launch(request: HttpRequest):
    launch_id = request.session.get(SESSION_LAUNCH)
    if not launch_id:
        return None
    try:
        return get_launch_from_request(request, launch_id)
    except LtiException:
        return None


@login_required
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def lti_deep_link(request: HttpRequest) -> HttpResponse:
    """Deep linking: the instructor picks one of the course's assignments; the LMS gets a
    resource link naming it, with a line item of its maximum."""
    launch = _session_launch(request)
    if launch is None or not launch.is_deep_link_launch:
        raise Http404
    course = selectors.lti_course_of_context(launch.context)
    if course is None or not permissions.is_instructor(request.user, course):
        raise Http404
    assignments = selectors.lti_assignment_choices(course)
    if request.method == "POST":
        chosen = next((a for a in assignments if str(a.pk) == request.POST.get("assignment")), None)
        if chosen is None:
            return render(request, "grading/lti/deep_link.html", {
                "assignments": assignments, "course": course,
                "error": _("Pick one of the assignments listed.")}, status=400)
        jwt_value, return_url = lti_services.deep_link_response(
            launch=launch, assignment=chosen,
            url=request.build_absolute_uri(reverse("grading:lti_launch")))
        return render(request, "grading/lti/deep_link_return.html",
                      {"jwt": jwt_value, "return_url": return_url, "assignment": chosen})
    return render(request, "grading/lti/deep_link.html", {"assignments": assignments, "course": course})


@login_required
@require_http_methods(["GET", "POST"])
def passback_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: each student's last score sent to the LMS, when, and the error; "send again"."""
    assignment = permissions.access_assignment_as_staff(request.user, pk)
    if request.method == "POST":
        line_item = selectors.lti_line_item(assignment, request.POST.get("line_item"))
        student = selectors.lti_course_student(assignment, request.POST.get("student"))
        if line_item is None or student is None:
            raise Http404
        lti_services.passback_again(line_item=line_item, student=student, by=request.user)
        return redirect("grading:lti_passback", pk=pk)
    rows = selectors.lti_passback_rows(assignment)
    return render(request, "grading/lti/passback.html", {"assignment": assignment, "rows": rows})


@login_required
@require_http_methods(["GET", "POST"])
def roster_sync(request: HttpRequest, code: str) -> HttpResponse:
    """Staff: "Sync roster" from the LMS (NRPS, in a task); the last syncs' added, dropped and
    changed members."""
    course = permissions.access_course_as_staff(request.user, code)
    if request.method == "POST":
        lti_services.roster_sync_request(course=course, by=request.user)
        return redirect("grading:lti_roster", code=code)
    return render(request, "grading/lti/roster.html", {
        "course": course, "syncs": selectors.lti_roster_syncs(course)})


REGISTER_SALT = "grading.lti.register"
REGISTER_SECONDS = 24 * 3600


def registration_link(nonce: str) -> str:
    """The path of a one-time dynamic registration link (``manage.py lti_registration_link``)."""
    return reverse("grading:lti_register", args=[signing.dumps({"n": nonce}, salt=REGISTER_SALT)])


@xframe_options_exempt
@require_http_methods(["GET"])
def lti_register(request: HttpRequest, token: str) -> HttpResponse:
    """Dynamic registration: the LMS opens this one-time link (made by our admin) with its
    OpenID configuration URL and a registration token; we register and say so to the LMS."""
    try:
        data = signing.loads(token, salt=REGISTER_SALT, max_age=REGISTER_SECONDS)
    except signing.BadSignature:
        return _refused(request, "registration_link", _("This registration link is not valid or has "
                                                        "expired; ask the site's administrator for a new one."))
    config_url = request.GET.get("openid_configuration", "")
    if not config_url:
        return _refused(request, "registration_link", _("Open this link from your LMS's tool "
                                                        "registration page (it adds the LMS's details)."))
    try:
        lti_services.lti_nonce_spend(issuer="dynamic-registration", nonce=str(data.get("n")))
        registration = lti_services.lti_dynamic_register(
            openid_configuration_url=config_url, registration_token=request.GET.get("registration_token", ""),
            base=request.build_absolute_uri("/"), title=settings.LTI_TOOL_TITLE)
    except lti_services.LaunchRefused as exc:
        code = "registration_link" if exc.code == "nonce_replay" else exc.code
        return _refused(request, code, exc.message if code != "registration_link" else _(
            "This registration link was already used; ask the site's administrator for a new one."))
    except PlatformError as exc:
        return _refused(request, "registration_platform", _("The LMS did not accept the registration: "
                                                            "%(why)s") % {"why": exc})
    return render(request, "grading/lti/registered.html", {"registration": registration})
