"""Who sees and changes a patient's contact details (roles are groups, core/roles.py).

The people who bring patients back (coordinators, clinic staff, admins) see and keep the
phone numbers, addresses and consents; radiologists read images and have no need of them.
"""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from core.roles import ADMIN, CLINIC_STAFF, COORDINATOR, has_role

CONTACT_ROLES = (COORDINATOR, CLINIC_STAFF, ADMIN)


def can_see_contact(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, *CONTACT_ROLES)


def can_edit_contact(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, *CONTACT_ROLES)
