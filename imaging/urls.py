from django.urls import path

from . import views

urlpatterns = [
    path("<uuid:uuid>/", views.study_detail, name="study-detail"),
    path("<uuid:uuid>/edit/", views.study_edit, name="study-edit"),
    path("<uuid:uuid>/sign/", views.study_sign, name="study-sign"),
    path("<uuid:uuid>/amend/", views.study_amend_view, name="study-amend"),
]
