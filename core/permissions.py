"""What each role may do: the one place that says so.

Every check of a role goes through a capability below: the clinic pages, the API's
permission class (`api.permissions.ActionCapabilities`), the services (which refuse a
write the user's role does not allow, whatever called them) and the templates (the
`can` context value, e.g. `{% if can.sign_studies %}`). `docs/permissions.md` lists the
capabilities with the roles they are given to; a test keeps the two in step.

Capabilities answer "may this kind of user do this?". Which patients a user may see at
all is site scoping, checked by `patients.access` (404 outside the user's sites) before
any capability. Roles are Django groups (`core.roles`); a superuser passes every check.
"""

from collections.abc import Callable
from typing import Protocol

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest

from .http import AnyUser
from .roles import ADMIN, ALL_ROLES, CLINIC_STAFF, COORDINATOR, RADIOLOGIST, has_role


class AlertLike(Protocol):
    """What the alert capability reads of an alert (core imports no domain app)."""

    @property
    def is_surveillance(self) -> bool: ...


def has_tracker_role(user: AnyUser) -> bool:
    """Holds any of the tracker's roles: sees the main navigation."""
    return has_role(user, *ALL_ROLES)


def can_register_patients(user: AnyUser) -> bool:
    """Register a new patient (page and API)."""
    return has_role(user, CLINIC_STAFF, ADMIN)


def can_edit_records(user: AnyUser) -> bool:
    """Edit a patient's details, tumour profile, NAC, surgery and pathology,
    radiotherapy and outcome events (page and API)."""
    return has_role(user, CLINIC_STAFF, ADMIN)


def can_log_visits(user: AnyUser) -> bool:
    """Add and edit clinic visits."""
    return has_role(user, CLINIC_STAFF, RADIOLOGIST, COORDINATOR, ADMIN)


def can_draft_studies(user: AnyUser) -> bool:
    """Enter and edit draft imaging studies with their findings (page and API)."""
    return has_role(user, CLINIC_STAFF, RADIOLOGIST, ADMIN)


def can_sign_studies(user: AnyUser) -> bool:
    """Sign a draft study and amend a signed one (page, API and `imaging.services`)."""
    return has_role(user, RADIOLOGIST)


def can_act_on_imaging_alerts(user: AnyUser) -> bool:
    """Acknowledge and resolve the alerts raised by the imaging rules."""
    return has_role(user, RADIOLOGIST)


def can_act_on_alerts(user: AnyUser) -> bool:
    """Acknowledge and resolve some kind of alert (which kinds: `can_act_on_alert`)."""
    return can_act_on_imaging_alerts(user) or can_act_on_surveillance_alerts(user)


def can_act_on_alert(user: AnyUser, alert: AlertLike) -> bool:
    """Acknowledge and resolve this alert: by its kind, imaging or surveillance."""
    if alert.is_surveillance:
        return can_act_on_surveillance_alerts(user)
    return can_act_on_imaging_alerts(user)


def can_view_worklist(user: AnyUser) -> bool:
    """See the surveillance worklist, its items and contact logs, and the calendar feed
    (the API's schedule endpoints too)."""
    return has_role(user, COORDINATOR, CLINIC_STAFF, ADMIN, RADIOLOGIST)


# The roles that work the worklist: also who items can be assigned to (a query by group).
WORKLIST_WORKER_ROLES = (COORDINATOR, CLINIC_STAFF, ADMIN)


def can_work_worklist(user: AnyUser) -> bool:
    """Log contacts on worklist items (which may reschedule, cancel or complete them)."""
    return has_role(user, *WORKLIST_WORKER_ROLES)


def can_act_on_surveillance_alerts(user: AnyUser) -> bool:
    """Acknowledge and resolve the surveillance alerts (overdue, lost to follow-up), with
    the surveillance resolutions: who works the worklist brings the patient back, so the
    alert is theirs; radiologists keep the imaging alerts."""
    return can_work_worklist(user)


def can_record_biopsy_results(user: AnyUser) -> bool:
    """Record or correct the result of a biopsy ordered after an alert: who works the
    worklist, and radiologists."""
    return can_work_worklist(user) or can_sign_studies(user)


def can_see_contact(user: AnyUser) -> bool:
    """See a patient's phones, e-mail, address, preferences and consent: the people who
    bring patients back; radiologists read images and have no need of them."""
    return has_role(user, COORDINATOR, CLINIC_STAFF, ADMIN)


def can_edit_contact(user: AnyUser) -> bool:
    """Change a patient's contact details and consent."""
    return has_role(user, COORDINATOR, CLINIC_STAFF, ADMIN)


def can_write_letters(user: AnyUser) -> bool:
    """Write and print letters to patients and GPs (recorded in the contact log)."""
    return can_work_worklist(user)


def can_view_cohort(user: AnyUser) -> bool:
    """See the cohort statistics: page, CSV export and the analytics API."""
    return has_role(user, RADIOLOGIST, CLINIC_STAFF, ADMIN)


def can_reconcile_feeds(user: AnyUser) -> bool:
    """See the hospital feeds' message log and reconciliation queue, and match or register
    the patients of held messages."""
    return has_role(user, CLINIC_STAFF, ADMIN)


def can_import_registry(user: AnyUser) -> bool:
    """Upload and import a registry CSV file."""
    return has_role(user, ADMIN)


def is_site_admin(user: AnyUser) -> bool:
    """Administers the tracker (the Admin entry of the navigation; the Django admin
    itself also needs `is_staff` and the admin group's model permissions)."""
    return has_role(user, ADMIN)


# The capabilities that depend on the user only, by the name templates use (`can.<name>`).
CAPABILITIES: dict[str, Callable[[AnyUser], bool]] = {
    "register_patients": can_register_patients,
    "edit_records": can_edit_records,
    "log_visits": can_log_visits,
    "draft_studies": can_draft_studies,
    "sign_studies": can_sign_studies,
    "act_on_imaging_alerts": can_act_on_imaging_alerts,
    "act_on_surveillance_alerts": can_act_on_surveillance_alerts,
    "act_on_alerts": can_act_on_alerts,
    "view_worklist": can_view_worklist,
    "work_worklist": can_work_worklist,
    "record_biopsy_results": can_record_biopsy_results,
    "see_contact": can_see_contact,
    "edit_contact": can_edit_contact,
    "write_letters": can_write_letters,
    "view_cohort": can_view_cohort,
    "import_registry": can_import_registry,
    "reconcile_feeds": can_reconcile_feeds,
    "site_admin": is_site_admin,
}


class UnknownCapability(LookupError):
    """A template asked for a capability that does not exist (a typo, or a removed one)."""


class Capabilities:
    """The user's capabilities for templates: `{% if can.edit_records %}`.

    Each is answered on first use (roles are read once per request, `core.roles`). An
    unknown name raises `UnknownCapability` rather than reading as false, so a typo in a
    template fails its tests instead of silently hiding a button.
    """

    def __init__(self, user: AnyUser):
        self._user = user
        self._answers: dict[str, bool] = {}

    def __getitem__(self, name: str) -> bool:
        # Django's templates look `can.x` up as an item first.
        if name not in CAPABILITIES:
            raise UnknownCapability(f"No capability called {name!r} (core/permissions.py).")
        if name not in self._answers:
            self._answers[name] = CAPABILITIES[name](self._user)
        return self._answers[name]

    def __getattr__(self, name: str) -> bool:
        if name.startswith("_") or name not in CAPABILITIES:
            raise AttributeError(name)
        return self[name]


def capabilities(request: HttpRequest) -> dict[str, Capabilities]:
    """Context processor: `can`, the request user's capabilities."""
    user = getattr(request, "user", None) or AnonymousUser()
    return {"can": Capabilities(user)}
