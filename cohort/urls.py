from django.urls import path

from . import views

urlpatterns = [
    path("cohort/", views.cohort, name="cohort"),
    path("cohort/export.csv", views.cohort_csv, name="cohort-export"),
    path("quality/", views.quality, name="cohort-quality"),
    path("quality/export.csv", views.quality_csv, name="cohort-quality-export"),
]
