"""Who may do what on the surveillance pages (roles are Django groups, core/roles.py)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.roles import ADMIN, CLINIC_STAFF, COORDINATOR, RADIOLOGIST, has_role

WORKERS = (COORDINATOR, CLINIC_STAFF, ADMIN)
VIEWERS = (*WORKERS, RADIOLOGIST)


def can_view_worklist(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, *VIEWERS)


def can_work_worklist(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Coordinators, clinic staff and admins log contacts; radiologists only look."""
    return has_role(user, *WORKERS)
