"""Signal receivers: logins, and before/after values of every change to audited models.

Models are audited generically here; imaging studies are recorded by their services
(sign, amend, draft changes with findings) because findings are written in bulk.
"""

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save

from . import context
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
    "patients.ContactDetails",
    "outreach.LetterTemplate",
    "alerts.Alert",
    "alerts.AlertSettings",
    "surveillance.Protocol",
    "surveillance.ContactLog",
    "surveillance.BiopsyFollowUp",
    "auth.User",
    "auth.Group",
]
ROLE_PERMISSIONS = "auth.Group_permissions"  # the through model of Group.permissions
# Many-to-many relations that grant access: roles and permissions, site membership.
# (model label, field name) — changes from either side are recorded on the instance changed.
AUDITED_RELATIONS = [
    ("auth.User", "groups"),
    ("auth.User", "user_permissions"),
    ("auth.Group", "permissions"),
    ("patients.Site", "members"),
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


def _relation_changed(sender, instance, action, reverse, model, pk_set, **kwargs) -> None:
    """A grant or withdrawal of a role, a permission or a site, by name.

    A role's permissions set outside a request are the post-migrate sync
    (`core.roles.sync_role_permissions`): code, versioned with the migrations, not a
    person's act (and a trail written while migrating would be in the test runner's
    snapshot of the fresh database, which it restores by updating rows)."""
    if sender._meta.label == ROLE_PERMISSIONS and context.get().request is None:
        return
    if action == "pre_clear":
        # What a clear removes, read before it goes (post_clear has no pk_set).
        field = _relation_name(sender, instance, reverse)
        instance._audit_cleared = list(getattr(instance, field).values_list("pk", flat=True))
        return
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if action == "post_clear":
        pk_set = set(getattr(instance, "_audit_cleared", []))
    if not pk_set:
        return
    names = sorted(str(obj) for obj in model._default_manager.filter(pk__in=pk_set))
    change = "added" if action == "post_add" else "removed"
    field = _relation_name(sender, instance, reverse)
    audit_record(action=Action.UPDATE, obj=instance, changes={field: {change: names}})


def _relation_name(through, instance, reverse: bool) -> str:
    """The name of the relation on `instance`'s side (e.g. "groups", or "user_set")."""
    for field in instance._meta.get_fields():
        if not field.many_to_many:
            continue
        if field.auto_created:  # the reverse side: a ManyToManyRel
            if field.through is through:
                return field.get_accessor_name()
        elif field.remote_field.through is through:
            return field.name
    return "relation"


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
    for label, field in AUDITED_RELATIONS:
        through = apps.get_model(label)._meta.get_field(field).remote_field.through
        m2m_changed.connect(_relation_changed, sender=through, dispatch_uid=f"audit-{label}-{field}")
    user_logged_in.connect(_logged_in, dispatch_uid="audit-login")
    user_logged_out.connect(_logged_out, dispatch_uid="audit-logout")
    user_login_failed.connect(_login_failed, dispatch_uid="audit-login-failed")
