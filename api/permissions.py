"""Role permissions for the API: the same split as the web pages.

Clinic staff register patients and record treatment; clinic staff and radiologists
draft studies; only radiologists sign and amend studies and acknowledge and resolve
alerts; coordinators (and everyone else with
access to a site) read. Site scoping is separate: querysets only hold the user's
sites' rows, so another site's object is a 404, never a 403.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import ADMIN, CLINIC_STAFF, NO_ROLE_MESSAGE, RADIOLOGIST, has_role, roles_of
from surveillance.roles import VIEWERS

PATIENT_WRITERS = (CLINIC_STAFF, ADMIN)
STUDY_WRITERS = (CLINIC_STAFF, RADIOLOGIST, ADMIN)
STUDY_SIGNERS = (RADIOLOGIST,)
ALERT_HANDLERS = (RADIOLOGIST,)  # acknowledge and resolve imaging alerts
SCHEDULE_READERS = VIEWERS  # the worklist's roles; contacts are logged by WORKERS only


class ActionRoles(BasePermission):
    """Reads for every authenticated user; writes need the roles in `view.action_roles`."""

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
        roles = getattr(view, "action_roles", {}).get(action)
        if roles is None:
            return request.method in SAFE_METHODS
        if has_role(request.user, *roles):
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
