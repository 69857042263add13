"""Who may do what on the surveillance pages (roles are Django groups, patients/roles.py)."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from patients.roles import ADMIN, CLINIC_STAFF, COORDINATOR, RADIOLOGIST, has_role

WORKERS = (COORDINATOR, CLINIC_STAFF, ADMIN)
VIEWERS = (*WORKERS, RADIOLOGIST)


def can_view_worklist(user: AbstractBaseUser | AnonymousUser) -> bool:
    return has_role(user, *VIEWERS)


def can_work_worklist(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Coordinators, clinic staff and admins log contacts; radiologists only look."""
    return has_role(user, *WORKERS)


def grant_admin_permissions(**kwargs) -> None:
    """Give the admin role this app's model permissions (protocols are edited in the admin).

    patients.roles.sync_role_permissions covers the foundation's apps only; this runs after
    every migrate, like it.
    """
    from django.contrib.auth.models import Group, Permission

    admin, _ = Group.objects.get_or_create(name=ADMIN)
    admin.permissions.add(*Permission.objects.filter(content_type__app_label="surveillance"))
