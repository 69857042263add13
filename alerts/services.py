"""Writes for alerts: raise one (exactly once), its lifecycle, and the thresholds."""

from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.bulk import insert_values
from core.permissions import can_act_on_alert
from core.tasks import enqueue

from .models import Alert, AlertSettings, AlertState, Resolution, ThresholdChange


def alert_raise(*, patient_id: int, rule: str, severity: str, breast: str = "",
                trigger: str, reason: str, study_id: int | None = None,
                details: dict | None = None) -> tuple[Alert, bool]:
    """Create the alert for (patient, rule, breast, trigger) unless it exists.

    `trigger` names what raised it: ``study:<id>`` or ``item:<id>``. Returns
    (alert, created); safe under concurrent deliveries of the same work.
    """
    key = Alert.make_dedup_key(patient_id=patient_id, rule=rule, breast=breast, trigger=trigger)
    existing = Alert.objects.filter(dedup_key=key).first()
    if existing:
        return existing, False
    try:
        with transaction.atomic():
            alert = Alert.objects.create(
                patient_id=patient_id, rule=rule, severity=severity, breast=breast,
                study_id=study_id, dedup_key=key, reason=reason, details=details or {},
            )
    except IntegrityError:
        return Alert.objects.get(dedup_key=key), False
    return alert, True


def alerts_supersede(alerts) -> int:
    """Close the open and acknowledged alerts of `alerts` (a queryset) as superseded: what
    raised them no longer holds (a voided study, a plan item from corrected treatment
    dates). Saved one by one, so the audit trail records each transition."""
    count = 0
    for alert in alerts.filter(state__in=[AlertState.OPEN, AlertState.ACKNOWLEDGED]).select_for_update():
        alert.state = AlertState.SUPERSEDED
        alert.save(update_fields=["state"])
        count += 1
    return count


def item_alerts(item_ids) -> "Any":
    """The surveillance alerts raised for these scheduled items (trigger ``item:<id>``)."""
    keys = Q()
    for item_id in item_ids:
        keys |= Q(dedup_key__endswith=f":item:{item_id}")
    return Alert.objects.filter(keys) if keys else Alert.objects.none()


def alerts_raise_many(alerts: list[Alert]) -> list[Alert]:
    """Insert the unsaved `alerts` not raised yet, at once; returns those inserted.

    `alert_raise` for many alerts (each built with its `dedup_key`). Raised alerts are
    skipped by the database itself (`INSERT … ON CONFLICT (dedup_key) DO NOTHING
    RETURNING`), so when a concurrent delivery raised some of them first, only the rows
    this statement inserted come back. Bulk inserts send no signals: the caller writes
    their audit events (`audit.receivers.audit_created`) and notifications.
    """
    unique: dict[str, Alert] = {}
    for alert in alerts:
        unique.setdefault(alert.dedup_key, alert)
    rows = insert_values(list(unique.values()), on_conflict="ON CONFLICT (dedup_key) DO NOTHING",
                       returning=("dedup_key",))
    ids = {key: pk for pk, key in rows}
    created = []
    for alert in unique.values():
        if alert.dedup_key in ids:
            alert.pk = ids[alert.dedup_key]
            alert._state.adding, alert._state.db = False, connection.alias
            created.append(alert)
    return created


def _require_capability(by: User, alert: Alert) -> None:
    if not can_act_on_alert(by, alert):
        raise PermissionDenied("Only a radiologist can acknowledge or resolve alerts.")


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, note: str = "") -> tuple[Alert, bool]:
    """open → acknowledged. Returns (alert, changed).

    The row is locked and its state re-read, so two radiologists acknowledging at once
    record one acknowledgement (the first); the other sees it, without an error.
    """
    _require_capability(by, alert)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.state != AlertState.OPEN:
        return alert, False
    alert.state = AlertState.ACKNOWLEDGED
    alert.acknowledged_by = by
    alert.acknowledged_at = timezone.now()
    alert.acknowledge_note = note.strip()
    alert.save(update_fields=["state", "acknowledged_by", "acknowledged_at", "acknowledge_note"])
    return alert, True


@transaction.atomic
def alert_resolve(*, alert: Alert, by: User, resolution: str,
                  note: str = "") -> tuple[Alert, bool]:
    """open or acknowledged → resolved, with a resolution. Returns (alert, changed).

    Resolving an open alert records the acknowledgement too (same person, same time),
    so the history always reads open → acknowledged → resolved.
    """
    _require_capability(by, alert)
    if resolution not in Resolution.values:
        raise ValidationError({"resolution": f"Choose one of: {', '.join(Resolution.labels)}."})
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.state == AlertState.RESOLVED:
        return alert, False
    now = timezone.now()
    if alert.state == AlertState.OPEN:
        alert.acknowledged_by, alert.acknowledged_at = by, now
    alert.state = AlertState.RESOLVED
    alert.resolved_by, alert.resolved_at = by, now
    alert.resolution = resolution
    alert.resolve_note = note.strip()
    alert.save()
    return alert, True


@transaction.atomic
def thresholds_update(*, by: User, values: dict[str, Any], note: str = "",
                      reevaluate: bool = True) -> ThresholdChange | None:
    """Change the rule thresholds, auditing who, when, before and after.

    Returns None when nothing changed. With `reevaluate`, a full-cohort re-evaluation is
    enqueued after commit so the new thresholds apply to every patient.
    """
    AlertSettings.current()  # creates the row with the defaults on first use
    current = AlertSettings.objects.select_for_update().get(pk=1)
    before = current.as_dict()
    unknown = set(values) - set(AlertSettings.FIELDS)
    if unknown:
        raise ValidationError(f"Unknown thresholds: {', '.join(sorted(unknown))}.")
    for name, value in values.items():
        setattr(current, name, value)
    current.full_clean()
    current.save()
    current.refresh_from_db()
    after = current.as_dict()
    if after == before:
        return None
    change = ThresholdChange.objects.create(changed_by=by, before=before, after=after,
                                            note=note.strip())
    if reevaluate:
        from .tasks import reevaluate_cohort

        transaction.on_commit(lambda: enqueue(reevaluate_cohort, by.pk))
    return change
