"""The framework floor: a view that does nothing, behind the same middleware and login."""

from django.http import HttpRequest, HttpResponse


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")
