from django.urls import path

from . import views

urlpatterns = [
    path("import/", views.registry_import, name="registry-import"),
]
