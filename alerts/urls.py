from django.urls import path

from . import views

# The page of one alert and its own actions are the clinic's (`clinic.alert_page`).
urlpatterns = [
    path("alerts/", views.alert_inbox, name="alert-inbox"),
    path("alerts/cases/", views.alert_cases_action, name="alert-cases-action"),
]
