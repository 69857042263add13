"""Signal receivers: logins, and before/after values of every change to audited models.

Models are audited generically here; imaging studies are recorded by their services
(sign, amend, draft changes with findings) because findings are written in bulk.
"""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_init, post_save

from .models import Action
from .services import audit_event, audit_record, audit_record_many, plain

AUDITED_MODELS = [
    "patients.Site",
    "patients.Patient",
    "patients.TumourProfile",
    "patients.NacCourse",
    "patients.Radiotherapy",
    "patients.Surgery",
    "patients.Pathology",
    "patients.ClinicVisit",
    "patients.ClinicalEvent",
    "alerts.Alert",
    "surveillance.BiopsyFollowUp",
    "auth.User",
    "auth.Group",
]
# Never copied into the trail: secrets, and bookkeeping that changes on every login.
IGNORED_FIELDS = {"password", "last_login", "updated_at"}


def _snapshot(instance, values: dict | None = None) -> dict:
    """The audited fields' values (JSON-safe) of `instance`, or of `values` (a copy of its
    `__dict__` taken earlier). Reads the dict directly: getattr would load deferred fields
    (a query per row), and a deferred field is left out."""
    values = instance.__dict__ if values is None else values
    return {
        f.attname: plain(values[f.attname])
        for f in instance._meta.concrete_fields
        if f.attname in values and f.attname not in IGNORED_FIELDS
    }


def _values(instance) -> dict:
    values = instance.__dict__.copy()
    values.pop("_audit_before", None)  # not a chain of every earlier copy
    return values


def _remember(sender, instance, **kwargs) -> None:
    # The values as loaded, kept as they are: turned into a snapshot only if the instance is
    # saved (most loaded rows are only shown). Field values are not mutated in place, so a
    # copy of the dict holds them; `plain` would not copy a JSON field's dict either.
    instance._audit_before = _values(instance) if instance.pk is not None else None


def _saved(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:  # fixtures
        return
    after = _snapshot(instance)
    loaded = None if created else getattr(instance, "_audit_before", None)
    before = _snapshot(instance, loaded) if loaded is not None else {}
    changes = {k: {"before": before.get(k), "after": v} for k, v in after.items()
               if created or (k in before and before[k] != v)}
    instance._audit_before = _values(instance)
    if not changes:
        return
    action = Action.CREATE if created else Action.UPDATE
    if sender._meta.label == "alerts.Alert" and "state" in changes and not created:
        action = Action.ALERT_TRANSITION
    audit_record(action=action, obj=instance, changes=changes)


def audit_created(objs: list) -> None:
    """The events `_saved` writes for new rows, for rows inserted in bulk (bulk inserts
    send no signals): one "create" event per row with every field's value, as `_saved`."""
    events = []
    for instance in objs:
        after = _snapshot(instance)
        changes = {k: {"before": None, "after": v} for k, v in after.items()}
        instance._audit_before = _values(instance)
        events.append(audit_event(action=Action.CREATE, obj=instance, changes=changes))
    audit_record_many(events)


def _deleted(sender, instance, **kwargs) -> None:
    before = _snapshot(instance)
    audit_record(action=Action.DELETE, obj=instance,
                 changes={k: {"before": v, "after": None} for k, v in before.items()})


def _logged_in(sender, request, user, **kwargs) -> None:
    audit_record(action=Action.LOGIN, actor=user)


def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user)


def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    audit_record(action=Action.LOGIN_FAILED,
                 actor_username=str(credentials.get("username", ""))[:150] or "(blank)")


def connect() -> None:
    for label in AUDITED_MODELS:
        model = apps.get_model(label)
        uid = f"audit-{label}"
        post_init.connect(_remember, sender=model, dispatch_uid=uid + "-init")
        post_save.connect(_saved, sender=model, dispatch_uid=uid + "-save")
        post_delete.connect(_deleted, sender=model, dispatch_uid=uid + "-delete")
    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
