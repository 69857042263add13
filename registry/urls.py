from django.urls import path

from . import views

urlpatterns = [
    path("import/", views.registry_import, name="registry-import"),
    path("import/<uuid:uuid>/", views.registry_upload, name="registry-upload"),
    path("import/<uuid:uuid>/status/", views.registry_upload_status, name="registry-upload-status"),
    path("import/<uuid:uuid>/confirm/", views.registry_upload_confirm, name="registry-upload-confirm"),
]
