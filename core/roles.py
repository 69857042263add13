"""Roles are Django groups, created by migration 0002 and given permissions after migrate."""

from .http import AnyUser

CLINIC_STAFF = "clinic_staff"
RADIOLOGIST = "radiologist"
COORDINATOR = "coordinator"
ADMIN = "admin"
ALL_ROLES = (CLINIC_STAFF, RADIOLOGIST, COORDINATOR, ADMIN)

NO_ROLE_MESSAGE = ("Your account has no role yet, so it shows no patient data. "
                   "Ask an administrator of your clinic to give you a role.")

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


# The Django admin of the `admin` role: it views the clinical apps' rows (the admins
# make them read-only and site-scoped anyway), changes what it administers through the
# services (protocols, alert thresholds), and manages accounts without granting roles
# (patients/admin.py). Nothing here lets it write a clinical record.
ADMIN_VIEWS = ("patients", "imaging", "alerts", "surveillance", "outbox", "audit", "feeds")
ADMIN_WRITES = {
    ("surveillance", "protocol"): ("add", "change", "delete"),
    ("alerts", "alertsettings"): ("change",),
    # Where HL7 messages come from and how procedure codes map to modalities (docs/hl7.md).
    ("feeds", "feedsource"): ("add", "change", "delete"),
    ("feeds", "procedurecode"): ("add", "change", "delete"),
    ("auth", "user"): ("add", "change"),
}
ADMIN_AUTH_VIEWS = ("user", "group")


def sync_role_permissions(**kwargs) -> None:
    """Give the admin role exactly the model permissions above, removing any other.

    Runs after every migrate (permissions do not exist yet inside migrations). Other roles
    work through the app's own pages, which check roles, not model permissions.
    """
    from django.contrib.auth.models import Group, Permission
    from django.db.models import Q

    admin, _ = Group.objects.get_or_create(name=ADMIN)
    wanted = Q(content_type__app_label__in=ADMIN_VIEWS, codename__startswith="view_") | Q(
        content_type__app_label="auth", content_type__model__in=ADMIN_AUTH_VIEWS,
        codename__startswith="view_")
    for (app_label, model), actions in ADMIN_WRITES.items():
        wanted |= Q(content_type__app_label=app_label, content_type__model=model,
                    codename__in=[f"{action}_{model}" for action in actions])
    admin.permissions.set(Permission.objects.filter(wanted))
