"""Top-level URLs: auth, admin and the grading app."""
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path


def favicon(request):
    """Browsers (and the admin's pages, which name no icon) ask for /favicon.ico: send ours."""
    return redirect(static("grading/favicon.svg"), permanent=True)


urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/", admin.site.urls),
    path("favicon.ico", favicon),
    path("", include("grading.urls")),
]
