"""The API's permission class: the same capabilities as the web pages (core.permissions).

Reads are open to every authenticated user of a site; each write action names the
capability it needs in `view.action_capabilities`. Site scoping is separate: querysets
only hold the user's sites' rows, so another site's object is a 404, never a 403.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import NO_ROLE_MESSAGE, roles_of


class ActionCapabilities(BasePermission):
    """Reads for every authenticated user; an action listed in `view.action_capabilities`
    needs that capability (a function of the user, core.permissions)."""

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        if not request.user.is_superuser and not roles_of(request.user):
            self.message = NO_ROLE_MESSAGE  # no role, no data
            return False
        action = getattr(view, "action", None)
        if action is None:
            return True  # a method the view does not route: let DRF answer 405
        capability = getattr(view, "action_capabilities", {}).get(action)
        if capability is None:
            # `read_actions`: POSTs that only read, their body carrying what must stay out
            # of a URL (the MRN lookup).
            return request.method in SAFE_METHODS or action in getattr(view, "read_actions", ())
        if capability(request.user):
            return True
        self._not_found_unless_visible(view)
        return False

    @staticmethod
    def _not_found_unless_visible(view) -> None:
        """On an object route, another site's object is a 404 (never a 403) for every role:
        look it up in the view's site-scoped queryset before refusing the action."""
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", "pk")
        if lookup in getattr(view, "kwargs", {}):
            view.get_object()  # raises Http404 (DRF answers 404) when not in the user's sites
