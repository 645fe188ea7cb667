"""Top-level URLs: auth, admin and the grading app."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.cache import cache_page
from django.views.i18n import JavaScriptCatalog


def favicon(request):
    """Browsers (and the admin's pages, which name no icon) ask for /favicon.ico: send ours."""
    return redirect(static("grading/favicon.svg"), permanent=True)


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    # The header's language switch (POST, CSRF-protected; remembered in a cookie) and the
    # scripts' messages in the page's language (cached: the catalogue changes only on deploy).
    path("i18n/", include("django.conf.urls.i18n")),
    path("jsi18n/", cache_page(3600)(JavaScriptCatalog.as_view(packages=["grading"])), name="javascript-catalog"),
    path("favicon.ico", favicon),
    path("", include("grading.urls")),
]
