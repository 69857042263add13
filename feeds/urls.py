from django.urls import path

from . import views

urlpatterns = [
    path("queue/", views.queue, name="feed-queue"),
    path("messages/", views.message_log, name="feed-log"),
    path("messages/<uuid:uuid>/", views.message_detail, name="feed-message"),
    path("messages/<uuid:uuid>/match/", views.message_match, name="feed-match"),
    path("messages/<uuid:uuid>/register/", views.message_register, name="feed-register"),
    path("messages/<uuid:uuid>/close/", views.message_close, name="feed-close"),
    path("messages/<uuid:uuid>/process/", views.message_process_again, name="feed-process"),
]
