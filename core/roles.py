"""Roles are Django groups, created by migration 0002 and given permissions after migrate."""

from .http import AnyUser

CLINIC_STAFF = "clinic_staff"
RADIOLOGIST = "radiologist"
COORDINATOR = "coordinator"
ADMIN = "admin"
ALL_ROLES = (CLINIC_STAFF, RADIOLOGIST, COORDINATOR, ADMIN)

ROLE_LABELS = {
    CLINIC_STAFF: "Clinic staff",
    RADIOLOGIST: "Radiologist",
    COORDINATOR: "Coordinator",
    ADMIN: "Administrator",
}


def roles_of(user: AnyUser) -> frozenset[str]:
    """The user's role names, cached on the user object for the request."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_tracker_roles", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, "_tracker_roles", cached)  # noqa: B010 (not a declared attribute)
    return cached


def has_role(user: AnyUser, *roles: str) -> bool:
    return bool(roles_of(user) & set(roles)) or bool(getattr(user, "is_superuser", False))


def sync_role_permissions(**kwargs) -> None:
    """Give the admin role every permission of the tracker's apps and of users/groups.

    Runs after every migrate (permissions do not exist yet inside migrations). Other roles
    work through the app's own pages, which check roles, not model permissions.
    """
    from django.contrib.auth.models import Group, Permission

    admin, _ = Group.objects.get_or_create(name=ADMIN)
    perms = Permission.objects.filter(
        content_type__app_label__in=["patients", "imaging", "alerts", "audit", "surveillance",
                                      "outbox", "authtoken"]
    ) | Permission.objects.filter(content_type__app_label="auth",
                                  content_type__model__in=["user", "group"])
    admin.permissions.add(*perms)
