"""The parts of base.html every page repeats, drawn once per process and filled per request.

The navigation bar and the language switch are rendered from their templates once per language
and signed-in state, with a marker in each place that differs per request (the user's name and
id, the CSRF token, the page's own address); a request fills the markers with its own values,
escaped as the template would have escaped them. The stylesheet links and the scripts are the
same for every reader of a language. Nothing kept depends on anything else, so nothing kept can
go stale: the key names the language, whether a user is signed in, and the static files' storage.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from django import template
from django.conf import settings
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

_KEPT: dict[tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()
# Letters and digits only: escaping leaves a marker as it is, and no page text contains one.
_MARK = "zqslot{}qz"
_MARKS = re.compile(r"zqslot(\w+?)qz")


def _kept(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    with _LOCK:
        found = _KEPT.get(key)
    if found is None:
        found = build()
        with _LOCK:
            if len(_KEPT) > 64:  # a few languages x signed in or not x storages: never near this
                _KEPT.clear()
            _KEPT[key] = found
    return found


def forget() -> None:
    """Empty what is kept (tests start from nothing)."""
    with _LOCK:
        _KEPT.clear()


class Skeleton:
    """Rendered HTML cut at its markers: text pieces, and between each two the slot's name."""

    def __init__(self, html: str) -> None:
        parts = _MARKS.split(html)
        self.pieces, self.names = parts[0::2], parts[1::2]

    def fill(self, values: Mapping[str, str]) -> SafeString:
        out = [self.pieces[0]]
        for name, piece in zip(self.names, self.pieces[1:]):
            out.append(values[name])
            out.append(piece)
        return mark_safe("".join(out))  # noqa: S308 - our own HTML; every value escaped by the caller


def _storage_key() -> tuple[str, str]:
    return settings.STATIC_URL or "", str(settings.STORAGES.get("staticfiles", {}).get("BACKEND", ""))


def _csrf_input(context: template.Context) -> str:
    """What {% csrf_token %} writes for this request's context."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return ""
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


def _signed_in(context: template.Context) -> Any:
    user = context.get("user")
    return user if user is not None and getattr(user, "is_authenticated", False) else None


@register.simple_tag(takes_context=True)
def site_nav(context: template.Context) -> SafeString:
    """The navigation bar with the language switch, for this request's user and page."""
    user = _signed_in(context)
    key = ("nav", get_language(), user is not None, tuple(settings.LANGUAGES))

    def build() -> Skeleton:
        return Skeleton(render_to_string("includes/site_nav.html", {
            "authenticated": user is not None, "who": _MARK.format("who"), "user_pk": _MARK.format("pk"),
            "csrf_input": mark_safe(_MARK.format("csrf")),  # noqa: S308 - letters only
            "next_path": _MARK.format("next")}))

    request = context.get("request")
    csrf = _csrf_input(context)
    return _kept(key, build).fill({
        "who": conditional_escape(user.get_username()) if user is not None else "",
        "pk": conditional_escape(str(user.pk)) if user is not None else "",
        "csrf": csrf,
        "next": conditional_escape(request.get_full_path()) if request is not None else ""})


@register.simple_tag
def site_styles() -> SafeString:
    """The site's stylesheets and icon: the same on every page."""
    return _kept(("styles", *_storage_key()), lambda: format_html(
        '<link rel="stylesheet" href="{}">\n  <link rel="stylesheet" href="{}">\n'
        '  <link rel="icon" href="{}" type="image/svg+xml">',
        static("bootstrap/css/bootstrap.min.css"), static("grading/grading.css"), static("grading/favicon.svg")))


@register.simple_tag(takes_context=True)
def site_scripts(context: template.Context) -> SafeString:
    """Bootstrap, the translation catalogue of the page's language and, for a signed-in user,
    the CSRF refresh and the log-out script."""
    language = get_language()
    signed_in = _signed_in(context) is not None

    def build() -> SafeString:
        # The language is in the address: a browser keeps the catalogue an hour, and the
        # header's switch must not get the other language's copy.
        html = format_html('<script src="{}"></script>\n<script src="{}?l={}"></script>\n',
                           static("bootstrap/js/bootstrap.bundle.min.js"), reverse("javascript-catalog"), language)
        if signed_in:
            html += format_html('<script src="{}"></script>\n<script src="{}"></script>',
                                static("grading/csrf.js"), static("grading/logout.js"))
        return html

    return _kept(("scripts", language, signed_in, *_storage_key()), build)
