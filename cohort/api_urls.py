"""Mounted at `/api/analytics/` by tracker/urls.py."""

from django.contrib.auth.decorators import login_not_required
from django.urls import path

from . import api

urlpatterns = [
    path("concordance/", login_not_required(api.ConcordanceView.as_view()),
         name="api-analytics-concordance"),
    path("survival/", login_not_required(api.SurvivalView.as_view()),
         name="api-analytics-survival"),
    path("quality/", login_not_required(api.QualityView.as_view()), name="api-analytics-quality"),
]
