"""/api/: the REST API, its OpenAPI schema, Swagger UI and the token endpoint.

DRF authenticates API requests itself (token or session), so those views are marked
`login_not_required`; the Swagger UI page stays behind the login page like every page.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from .token import ObtainTokenView
from .views import AlertViewSet, PatientViewSet, StudyViewSet

router = DefaultRouter()
router.include_root_view = False
router.register("patients", PatientViewSet, basename="api-patient")
router.register("studies", StudyViewSet, basename="api-study")
router.register("alerts", AlertViewSet, basename="api-alert")

urlpatterns = [
    path("auth/token/", login_not_required(ObtainTokenView.as_view()), name="api-token"),
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
for pattern in router.urls:
    login_not_required(pattern.callback)
    urlpatterns.append(pattern)
