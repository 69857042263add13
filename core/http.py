"""Types of the users and requests the views and services handle (for mypy)."""

from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest

# Whoever made a request: a user, or nobody logged in.
AnyUser = User | AnonymousUser


class AuthenticatedHttpRequest(HttpRequest):
    """A request of a logged-in user: what every view receives except those marked
    `login_not_required` (LoginRequiredMiddleware redirects the others to the login page)."""

    user: User
