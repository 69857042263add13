"""The URL map: each app's pages under their prefix."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic.account import two_factor

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/two-factor/", two_factor, name="two-factor"),
    path("", include("clinic.urls")),
    path("patients/", include("patients.urls")),
    path("", include("imaging.urls")),
    path("admin/", admin.site.urls),
    path("", include("alerts.urls")),
    path("", include("cohort.urls")),
    path("api/analytics/", include("cohort.api_urls")),
    path("", include("surveillance.urls")),
    path("", include("outreach.urls")),
    path("api/", include("api.urls")),
    path("registry/", include("registry.urls")),
    path("feeds/", include("feeds.urls")),
]

# The error pages keep the navigation (templates/403.html, 404.html, 500.html; the 500
# page needs the request to know the user).
handler500 = "core.errors.server_error"
