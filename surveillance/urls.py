from django.urls import path

from . import views

urlpatterns = [
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/items/<uuid:uuid>/", views.worklist_item, name="worklist-item"),
    path("worklist/biopsies/", views.biopsies, name="worklist-biopsies"),
    path("worklist/biopsies/<uuid:uuid>/", views.biopsy, name="worklist-biopsy"),
    path("worklist/calendar/", views.calendar_settings, name="worklist-calendar"),
    path("worklist/calendar/<str:token>.ics", views.calendar_feed, name="worklist-calendar-feed"),
]
