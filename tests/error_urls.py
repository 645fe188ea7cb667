"""The site's URLs plus views that fail on purpose, for the error page tests."""
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.urls import path

from backprop_site.urls import urlpatterns as site_urls


def server_error(request):
    raise RuntimeError("a deliberate failure for the 500 page test")


def forbidden(request):
    raise PermissionDenied


def bad_request(request):
    raise SuspiciousOperation("a deliberate bad request for the 400 page test")


urlpatterns = [
    path("test-errors/500/", server_error),
    path("test-errors/403/", forbidden),
    path("test-errors/400/", bad_request),
    *site_urls,
]
