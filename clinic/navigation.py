"""The main navigation: each app adds its entry here; entries whose URL is not
installed, or whose capability (core.permissions) the user lacks, are left out."""

from collections.abc import Callable

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from core.http import AnyUser
from core.permissions import (
    can_import_registry,
    can_reconcile_feeds,
    can_view_cohort,
    can_view_worklist,
    has_tracker_role,
    is_site_admin,
)

# (label, url name, who sees it)
NAV: list[tuple[str, str, Callable[[AnyUser], bool]]] = [
    ("Dashboard", "dashboard", has_tracker_role),
    ("Patients", "patient-list", has_tracker_role),
    ("Alerts", "alert-inbox", has_tracker_role),
    ("Worklist", "worklist", can_view_worklist),
    ("Cohort", "cohort", can_view_cohort),
    ("Quality", "cohort-quality", has_tracker_role),
    ("API", "api-docs", has_tracker_role),
    ("Feeds", "feed-queue", can_reconcile_feeds),
    ("Import", "registry-import", can_import_registry),
    ("Letters", "letter-templates", is_site_admin),
    ("Admin", "admin:index", is_site_admin),
]


def navigation(request: HttpRequest) -> dict:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {"nav_items": []}
    items = []
    for label, name, allowed in NAV:
        if not allowed(request.user):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        items.append({"label": label, "url": url,
                      "active": request.path == url or (url != "/" and request.path.startswith(url))})
    return {"nav_items": items}
