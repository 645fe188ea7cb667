"""Django's own messages in our forms reach a Thai reader in Thai (issue 21, item 7): every
message a field or validator of our forms can raise, which Django's Thai catalogue leaves in
English, is listed in grading.django_messages for our catalogue to translate."""

from __future__ import annotations

import gettext
from pathlib import Path

import django
from django import forms
from django.core import validators
from django.utils import translation

from grading import authoring_form, django_messages
from grading import forms as answer_forms

DJANGO_THAI = gettext.translation("django", Path(django.__file__).parent / "conf" / "locale", languages=["th"])


ARGS = {"limit_value": 1, "show_value": 2}  # fills a plural message (its number is limit_value)


def text(message, language: str) -> str:
    """A Django message as a reader of ``language`` reads it (a plural one filled with ARGS)."""
    with translation.override(language):
        return str(message) if str(message) else str(message % ARGS)


def django_messages_of(form_class: type[forms.Form]) -> set:
    """Django's default messages (lazy) that the form's fields and validators may raise."""
    found: set = set()
    for field in form_class.base_fields.values():
        for klass in type(field).__mro__:
            found.update(getattr(klass, "default_error_messages", {}).values())
        found.update(v.message for v in field.validators if type(v).__module__.startswith("django."))
    return found


def our_forms() -> list[type[forms.Form]]:
    classes = [c for module in (answer_forms, authoring_form) for c in vars(module).values()
               if isinstance(c, type) and issubclass(c, forms.Form) and c is not forms.Form]
    return [c for c in classes if c.__module__.startswith("grading.")]


def listed() -> set[str]:
    return set(django_messages.UNTRANSLATED) | {text(m, "en") for m in django_messages.UNTRANSLATED_PLURAL}


def test_every_untranslated_django_message_of_our_forms_is_listed_for_our_catalogue() -> None:
    """The slug message of the issue and the length limit are among them; none is missing from the list."""
    messages = set().union(*(django_messages_of(c) for c in our_forms()))
    english = {text(m, "en") for m in messages}
    # Left in English by Django's own catalogue (a plural one: as the site reads it, ours included).
    untranslated = {text(m, "en") for m in messages
                    if (DJANGO_THAI.gettext(str(m)) == str(m) if str(m) else text(m, "th") == text(m, "en"))}
    assert "Enter a valid “slug” consisting of letters, numbers, underscores or hyphens." in untranslated
    assert "Ensure this value has at most 1 character (it has 2)." in english
    assert "Enter a whole number." in english and "Enter a whole number." not in untranslated  # Django has it
    assert sorted(untranslated - listed()) == []


def test_the_list_names_only_messages_django_leaves_in_english() -> None:
    """A message Django's Thai catalogue already translates needs no entry (it would only drift)."""
    assert [m for m in django_messages.UNTRANSLATED if DJANGO_THAI.gettext(m) != m] == []
    assert str(validators.validate_slug.message) in django_messages.UNTRANSLATED
