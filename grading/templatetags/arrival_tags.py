"""What the arrival stamp of this deployment measures, for the staff pages."""

from django import template

from grading.middleware import arrival_source as _arrival_source

register = template.Library()


@register.simple_tag
def arrival_source() -> str:
    """"proxy" or "server" (see grading.middleware)."""
    return _arrival_source()
