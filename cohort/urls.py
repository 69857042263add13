from django.urls import path

from . import views

urlpatterns = [
    path("cohort/", views.cohort, name="cohort"),
    path("cohort/export.csv", views.cohort_csv, name="cohort-export"),
]
