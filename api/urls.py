"""/api/: the REST API, its OpenAPI schema, Swagger UI and the token endpoint.

DRF authenticates API requests itself (token or session) and answers 401, so those
views are `login_not_required` (DRF marks its views so too); the Swagger UI page is a
page for people, so it redirects to the login page like every other page.
"""

from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .token import ObtainTokenView, RevokeTokenView, token_page
from .views import AlertViewSet, PatientViewSet, ScheduleViewSet, StudyViewSet

# No `.json` suffix routes: `?format=` chooses a renderer; the suffix variants of the
# custom actions answered 500 (their views take no `format` argument).
router = DefaultRouter()
router.include_root_view = False
router.include_format_suffixes = False
router.register("patients", PatientViewSet, basename="api-patient")
router.register("studies", StudyViewSet, basename="api-study")
router.register("alerts", AlertViewSet, basename="api-alert")
router.register("schedule", ScheduleViewSet, basename="api-schedule")

urlpatterns = [
    path("auth/token/", login_not_required(ObtainTokenView.as_view()), name="api-token"),
    path("auth/logout/", login_not_required(RevokeTokenView.as_view()), name="api-logout"),
    path("tokens/", token_page, name="api-tokens"),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path("docs/", login_required(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
         name="api-docs"),
]
for pattern in router.urls:
    login_not_required(pattern.callback)
    urlpatterns.append(pattern)
