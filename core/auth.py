"""Login throttling (django-axes) for HTTP logins only."""

from axes.backends import AxesStandaloneBackend


class ThrottledLoginBackend(AxesStandaloneBackend):
    """Refuses logins while an account/IP pair is locked out.

    Authentication without a request (management commands, the test client's
    `login()`) has no IP to throttle and goes straight to the next backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
