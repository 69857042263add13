"""Login throttling (django-axes) for HTTP logins only, per account and per source."""

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from .clientip import client_ip


def source_failures(request) -> int:
    """Failed logins from the request's address, over every username, in the cool-off."""
    ip = client_ip(request)
    if ip is None:
        return 0
    attempts = AccessAttempt.objects.filter(ip_address=ip)
    cool_off = get_cool_off(request)
    if cool_off is not None:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - cool_off)
    return attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0


class ThrottledLoginBackend(AxesStandaloneBackend):
    """Refuses logins while an account/address pair is locked out (django-axes, after
    AXES_FAILURE_LIMIT failures), or the address itself (after LOGIN_SOURCE_FAILURE_LIMIT
    failures whatever the usernames: password spraying).

    Authentication without a request (management commands, the test client's
    `login()`) has no address to throttle and goes straight to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        throttled = getattr(settings, "AXES_ENABLED", True)  # django-axes' default: on
        if throttled and source_failures(request) >= settings.LOGIN_SOURCE_FAILURE_LIMIT:
            request.axes_locked_out = True  # AxesMiddleware answers with the lockout page
            raise AxesBackendPermissionDenied("Too many failed logins from this address.")
        return super().authenticate(request, username=username, password=password, **kwargs)
