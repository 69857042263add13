from django.urls import path

from . import views

urlpatterns = [
    path("alerts/", views.alert_inbox, name="alert-inbox"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert-detail"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-acknowledge"),
    path("alerts/<int:pk>/resolve/", views.alert_resolve_view, name="alert-resolve"),
]
