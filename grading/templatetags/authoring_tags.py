"""Template helpers of the authoring page: a form field's widget with its state on it."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def widget(field: Any, extra: str = "") -> SafeString:
    """``field|widget:"classes"``: the field's input with Bootstrap's class for its kind, marked
    invalid (class and aria-invalid) when it has errors, and described by its error line."""
    if isinstance(field.field.widget, forms.CheckboxInput):
        base = "form-check-input"
    elif isinstance(field.field.widget, forms.Select):
        base = "form-select form-select-sm"
    else:
        base = "form-control form-control-sm"
    attrs = {"class": f"{base} {extra}".strip() + (" is-invalid" if field.errors else ""),
             "aria-describedby": f"{field.html_name}-error"}
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)
