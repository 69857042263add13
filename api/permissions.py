"""Role permissions for the API: the same split as the web pages.

Clinic staff register patients and record treatment; clinic staff and radiologists
draft studies; only radiologists sign and amend; coordinators (and everyone else with
access to a site) read. Site scoping is separate: querysets only hold the user's
sites' rows, so another site's object is a 404, never a 403.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from patients.roles import ADMIN, CLINIC_STAFF, RADIOLOGIST, has_role

PATIENT_WRITERS = (CLINIC_STAFF, ADMIN)
STUDY_WRITERS = (CLINIC_STAFF, RADIOLOGIST, ADMIN)
STUDY_SIGNERS = (RADIOLOGIST,)


class ActionRoles(BasePermission):
    """Reads for every authenticated user; writes need the roles in `view.action_roles`."""

    message = "Your role does not allow this action."

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        action = getattr(view, "action", None)
        if action is None:
            return True  # a method the view does not route: let DRF answer 405
        roles = getattr(view, "action_roles", {}).get(action)
        if roles is None:
            return request.method in SAFE_METHODS
        return has_role(request.user, *roles)
