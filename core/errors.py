"""The server error page with the app's navigation.

Django's own `server_error` renders 500.html without the request (no user, no
navigation), so a failure looks like leaving the app. This one renders it with the
request; if that fails too (the error may be in what the layout needs, e.g. the
database), it falls back to Django's plain page.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.template.loader import render_to_string
from django.views.decorators.csrf import requires_csrf_token
from django.views.defaults import server_error as plain_server_error


@requires_csrf_token
def server_error(request: HttpRequest, template_name: str = "500.html") -> HttpResponse:
    try:
        return HttpResponseServerError(render_to_string(template_name, request=request))
    except Exception:  # the page must come out whatever broke
        return plain_server_error(request)
