"""The project's URLs plus two the permission matrix does not list (one without a name)."""

from django.http import HttpResponse
from django.urls import path

from tracker.urls import urlpatterns as project


def _view(request, **kwargs):
    return HttpResponse("new")


urlpatterns = [*project, path("brand-new/<uuid:uuid>/", _view, name="brand-new"),
               path("unnamed/", _view)]
