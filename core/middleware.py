"""Request middleware: the idle timeout, no caching of responses, and no data without a role."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.cache import patch_cache_control

from .roles import NO_ROLE_MESSAGE, roles_of

LAST_SEEN = "last_seen"
# Refresh the timestamp at most once a minute, so most requests write no session.
REFRESH_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="idle-timeout-login")
def _start_clock(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[LAST_SEEN] = int(time.time())


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and hasattr(request, "session"):
            now = int(time.time())
            last_seen = request.session.get(LAST_SEEN, now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                if request.path.startswith("/api/"):
                    return self.get_response(request)
                return redirect_to_login(request.get_full_path())
            if now - last_seen >= REFRESH_SECONDS or LAST_SEEN not in request.session:
                request.session[LAST_SEEN] = now
        return self.get_response(request)


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every response the application writes: pages, API,
    FHIR and CSV hold patient data, which no browser or proxy cache may keep (static
    files are served before this runs, by whitenoise, and stay cacheable)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response


def wants_json(request: HttpRequest) -> bool:
    """An API call rather than a page (the API's pages, e.g. its tokens page and the
    Swagger UI, are asked for by browsers, which accept HTML)."""
    return request.path.startswith("/api/") and "text/html" not in request.headers.get("Accept", "")


# Pages a signed-in user without a role may still reach: signing out, the second factor.
ROLELESS_PATHS = ("/logout/", "/login/", "/account/two-factor/")


class RoleRequiredMiddleware:
    """No role, no data: a signed-in user who holds no role (and is not a superuser) gets a
    page saying so, whatever the page asked for. The API refuses such users in its
    permission class (token users are known only inside DRF), and `patients.access` gives
    them no sites and no patients."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (user.is_authenticated and not user.is_superuser and not roles_of(user)
                and not request.path.startswith(ROLELESS_PATHS)):
            if wants_json(request):
                return JsonResponse({"detail": NO_ROLE_MESSAGE}, status=403)
            return render(request, "no_role.html", {"message": NO_ROLE_MESSAGE}, status=403)
        return self.get_response(request)
