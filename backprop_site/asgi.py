"""ASGI entry point: refuses to start without DJANGO_SECRET_KEY when debug is off."""
import os

from django.core.exceptions import ImproperlyConfigured
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backprop_site.settings")
application = get_asgi_application()

from django.conf import settings  # noqa: E402

if not settings.SECRET_KEY:
    raise ImproperlyConfigured("Set DJANGO_SECRET_KEY (or DJANGO_DEBUG=1 for local development).")
