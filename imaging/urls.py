from django.urls import path

from . import views

urlpatterns = [
    path("patients/<uuid:uuid>/studies/new/", views.study_create, name="study-create"),
    path("studies/<uuid:uuid>/", views.study_detail, name="study-detail"),
    path("studies/<uuid:uuid>/edit/", views.study_edit, name="study-edit"),
    path("studies/<uuid:uuid>/sign/", views.study_sign, name="study-sign"),
    path("studies/<uuid:uuid>/amend/", views.study_amend_view, name="study-amend"),
    path("studies/<uuid:uuid>/void/", views.study_void_view, name="study-void"),
]
