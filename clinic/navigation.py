"""The main navigation: each app adds its entry here; entries whose URL is not
installed, or whose roles the user lacks, are left out."""

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from core.roles import ADMIN, CLINIC_STAFF, COORDINATOR, RADIOLOGIST, has_role

EVERYONE = (CLINIC_STAFF, RADIOLOGIST, COORDINATOR, ADMIN)

# (label, url name, roles that see it)
NAV: list[tuple[str, str, tuple[str, ...]]] = [
    ("Dashboard", "dashboard", EVERYONE),
    ("Patients", "patient-list", EVERYONE),
    ("Alerts", "alert-inbox", EVERYONE),
    ("Worklist", "worklist", (COORDINATOR, CLINIC_STAFF, ADMIN, RADIOLOGIST)),
    ("Cohort", "cohort", (RADIOLOGIST, ADMIN, CLINIC_STAFF)),
    ("API", "api-docs", EVERYONE),
    ("Feeds", "feed-queue", (CLINIC_STAFF, ADMIN)),
    ("Import", "registry-import", (ADMIN,)),
    ("Admin", "admin:index", (ADMIN,)),
]


def navigation(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, roles in NAV:
        if not has_role(request.user, *roles):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url,
                      "active": request.path == url or (url != "/" and request.path.startswith(url))})
    return {"nav_items": items}
