"""Two-factor authentication (TOTP, django-otp): who must use it, and the middleware that
holds a signed-in user at the second step until they have given a code.

Policy: with `TWO_FACTOR_REQUIRED` (on by default when DEBUG is false) radiologists,
administrators, staff and superusers must verify a code from an authenticator app after
their password; everyone else may enrol, and once enrolled is asked too.
"""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django_otp import user_has_device

from .middleware import wants_json
from .roles import ADMIN, RADIOLOGIST, AnyUser, roles_of

POLICY_ROLES = (RADIOLOGIST, ADMIN)
SECOND_STEP_MESSAGE = "Two-factor verification needed: enter the code of your authenticator app."


def policy_applies(user: AnyUser) -> bool:
    """The user's roles require a second factor (when the policy is on)."""
    return bool(settings.TWO_FACTOR_REQUIRED and (
        user.is_staff or user.is_superuser or roles_of(user) & set(POLICY_ROLES)))


HAS_DEVICE = "two_factor_device"  # session key: the user had an authenticator at login


def needs_second_factor(user: AnyUser, session=None) -> bool:
    """The user must give a code before doing anything: the policy applies, or they
    enrolled an authenticator of their own accord (read once per session, at login)."""
    if not user.is_authenticated:
        return False
    if policy_applies(user):
        return True
    if session is not None:
        return bool(session.get(HAS_DEVICE))
    return user_has_device(user)


@receiver(user_logged_in, dispatch_uid="two-factor-device-at-login")
def _note_device(sender, request, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[HAS_DEVICE] = user_has_device(user)


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: an unverified user who needs a second factor
    reaches only the two-factor page and the logout. (API tokens are issued only against
    a code for such users: api/token.py.)"""

    ALLOWED = ("/account/two-factor/", "/logout/", "/login/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # django_otp's OTPMiddleware (before this one) adds is_verified() to the user.
        if (user.is_authenticated and not user.is_verified()  # type: ignore[attr-defined]
                and not request.path.startswith(self.ALLOWED)
                and needs_second_factor(user, getattr(request, "session", None))):
            if wants_json(request):
                return JsonResponse({"detail": SECOND_STEP_MESSAGE}, status=403)
            return redirect_to_login(request.get_full_path(), reverse("two-factor"), "next")
        return self.get_response(request)
