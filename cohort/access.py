"""Who may see the cohort: radiologists, clinic staff and admins (not coordinators)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.roles import ADMIN, CLINIC_STAFF, RADIOLOGIST, has_role

COHORT_ROLES = (RADIOLOGIST, CLINIC_STAFF, ADMIN)


def may_view_cohort(user: AbstractBaseUser | AnonymousUser) -> bool:
    return user.is_authenticated and has_role(user, *COHORT_ROLES)
