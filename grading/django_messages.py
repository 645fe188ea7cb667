"""Django's own form and validator messages that Django's Thai catalogue leaves in English.

Listed here (``gettext_noop``: nothing changes at run time) so that ``makemessages`` copies them
into our catalogue, where they are translated: Django reads LOCALE_PATHS before its own
catalogues, so "Enter a valid “slug” …" reaches a Thai author in Thai. tests/test_i18n_django_forms.py
finds every such message our forms can raise and fails when one is missing here.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop, ngettext_lazy

UNTRANSLATED = (
    gettext_noop("Enter a valid “slug” consisting of letters, numbers, underscores or hyphens."),
    gettext_noop("Enter a valid integer."),
    gettext_noop("Ensure that there are no more than %(max)s digits in total."),
    gettext_noop("Null characters are not allowed."),
    gettext_noop("The value must be between %(min_value)s and %(max_value)s."),
    gettext_noop("“%(value)s” value must be either True or False."),
)
# Plural messages: their two forms.
UNTRANSLATED_PLURAL = (
    ngettext_lazy("Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
                  "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
                  "limit_value"),
    ngettext_lazy("Ensure this value has at least %(limit_value)d character (it has %(show_value)d).",
                  "Ensure this value has at least %(limit_value)d characters (it has %(show_value)d).",
                  "limit_value"),
)
