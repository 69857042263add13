"""Writes for alerts: raise one (exactly once), keep a patient's alerts in step with her
history (`alerts_sync`), their lifecycle, and the thresholds."""

import logging
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from core.permissions import can_act_on_alert
from core.tasks import enqueue
from imaging.history import PatientHistory, load_history
from patients.models import Patient

from .models import (
    LIVE_STATES,
    SURVEILLANCE_RULES,
    Alert,
    AlertSettings,
    AlertState,
    ThresholdChange,
    resolutions_for,
)
from .notifications.alerts import notifications_create_for
from .rules import Decision, Thresholds, evaluate

logger = logging.getLogger(__name__)


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


def alerts_supersede(alerts, *, reason: str) -> int:
    """Close the open and acknowledged alerts of `alerts` (a queryset) as superseded, with
    `reason` in words the reader understands: what raised them no longer holds (a voided
    study, a plan item from corrected treatment dates). Saved one by one, so the audit
    trail records each transition."""
    count = 0
    now = timezone.now()
    for alert in alerts.filter(state__in=LIVE_STATES).select_for_update():
        alert.state, alert.superseded_at, alert.superseded_reason = AlertState.SUPERSEDED, now, reason
        alert.save(update_fields=["state", "superseded_at", "superseded_reason"])
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

    `alert_raise` for many alerts (each built with its `dedup_key`), with one
    `bulk_create`. The caller has left out the keys it knows are raised; when a
    concurrent delivery raised some of the others first, the unique `dedup_key` refuses
    the insert, and the keys raised by then are read and the rest inserted (a key raised
    again in between refuses that too: the caller's transaction rolls back and it falls
    back to `alert_raise`, one alert at a time). Bulk inserts send no signals: the caller
    writes their audit events (`audit.receivers.audit_created`) and notifications.
    """
    unique: dict[str, Alert] = {}
    for alert in alerts:
        unique.setdefault(alert.dedup_key, alert)
    try:
        with transaction.atomic():
            return Alert.objects.bulk_create(list(unique.values()))
    except IntegrityError:
        raised = set(Alert.objects.filter(dedup_key__in=list(unique)).values_list("dedup_key", flat=True))
        return Alert.objects.bulk_create([a for key, a in unique.items() if key not in raised])


@dataclass
class Synced:
    """What `alerts_sync` changed for one patient."""

    created: list[Alert] = field(default_factory=list)
    superseded: list[Alert] = field(default_factory=list)
    reinstated: list[Alert] = field(default_factory=list)
    reworded: list[Alert] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.superseded or self.reinstated or self.reworded)


def imaging_alerts(patient_id: int):
    """The patient's alerts raised by the imaging rules (not the surveillance sweep)."""
    return Alert.objects.filter(patient_id=patient_id).exclude(rule__in=SURVEILLANCE_RULES)


def resolved_keys(alerts) -> frozenset[tuple[str, str, int]]:
    """(rule, breast, study id) of the resolved alerts: where the rules restart an episode."""
    return frozenset((a.rule, a.breast, a.study_id) for a in alerts
                     if a.state == AlertState.RESOLVED and a.study_id is not None)


@transaction.atomic(savepoint=False)  # one transaction with the caller's, when it has one
def alerts_sync(*, history: PatientHistory, thresholds: Thresholds, reason: str) -> Synced:
    """Make the patient's imaging alerts the decisions of her signed history.

    1. Her imaging alerts are locked; the resolved ones tell the rules where an episode
       was closed (`alerts.rules.Episode`).
    2. A decision without an alert raises one (with its notifications); a decision whose
       alert was superseded reinstates it (open, or acknowledged if it was); an open or
       acknowledged alert whose wording changed takes the new wording.
    3. An open or acknowledged alert that no decision supports any more is superseded with
       `reason`: kept, never deleted. A resolved alert stays resolved: the radiologist's
       decision on it is part of the record.
    The result depends on the history and the thresholds only, not on the order in which
    the studies were signed (tests/alerts/test_determinism.py).
    """
    patient_id = history.patient_id
    existing = {a.dedup_key: a for a in imaging_alerts(patient_id).select_for_update().order_by("id")}
    decisions = evaluate(history, thresholds, resolved_keys(existing.values()))
    result = Synced()
    wanted: set[str] = set()
    for d in decisions:
        key = Alert.make_dedup_key(patient_id=patient_id, rule=d.rule, breast=d.breast,
                                   trigger=d.trigger)
        wanted.add(key)
        alert = existing.get(key)
        if alert is None:
            alert, new = alert_raise(patient_id=patient_id, rule=d.rule, severity=d.severity,
                                     breast=d.breast, trigger=d.trigger, reason=d.reason,
                                     study_id=d.study_id, details=d.details)
            if new:
                notifications_create_for(alert)
                result.created.append(alert)
        elif alert.state == AlertState.SUPERSEDED:
            _reword(alert, d)
            alert.state = AlertState.ACKNOWLEDGED if alert.acknowledged_at else AlertState.OPEN
            alert.superseded_at, alert.superseded_reason = None, ""
            alert.save()
            result.reinstated.append(alert)
        elif alert.state in LIVE_STATES and _reword(alert, d):
            alert.save(update_fields=["severity", "reason", "details"])
            result.reworded.append(alert)
    now = timezone.now()
    for key, alert in existing.items():
        if key not in wanted and alert.state in LIVE_STATES:
            alert.state, alert.superseded_at = AlertState.SUPERSEDED, now
            alert.superseded_reason = reason
            alert.save(update_fields=["state", "superseded_at", "superseded_reason"])
            result.superseded.append(alert)
    if result.superseded or result.reinstated:
        logger.info("patient %s: %d alert(s) superseded, %d reinstated", patient_id,
                    len(result.superseded), len(result.reinstated))
    return result


def _reword(alert: Alert, decision: Decision) -> bool:
    """Give the alert the decision's severity, reason and details; whether any changed."""
    new = (decision.severity, decision.reason, decision.details)
    if (alert.severity, alert.reason, alert.details) == new:
        return False
    alert.severity, alert.reason, alert.details = new
    return True


def supersede_stale_alerts(patient: Patient | int, *, reason: str,
                           thresholds: Thresholds | None = None) -> Synced:
    """Re-evaluate the patient over her signed history now and supersede what no longer
    holds (and raise what now does): `alerts_sync` for callers that changed her history,
    e.g. an amendment or a voided study."""
    patient_id = patient if isinstance(patient, int) else patient.pk
    return alerts_sync(history=load_history(patient_id), reason=reason,
                       thresholds=thresholds or AlertSettings.current().thresholds())


def refusal(alert: Alert) -> str:
    """Why someone may not act on this alert (the 403's message)."""
    if alert.is_surveillance:
        return "Only coordinators and clinic staff can acknowledge or resolve surveillance alerts."
    return "Only a radiologist can acknowledge or resolve imaging alerts."


def _require_capability(by: User, alert: Alert) -> None:
    if not can_act_on_alert(by, alert):
        raise PermissionDenied(refusal(alert))


@transaction.atomic
def alert_acknowledge(*, alert: Alert, by: User, note: str = "") -> tuple[Alert, bool]:
    """open → acknowledged. Returns (alert, changed).

    The row is locked and its state re-read, so two radiologists acknowledging at once
    record one acknowledgement (the first); the other sees it, without an error.
    """
    _require_capability(by, alert)
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.state != AlertState.OPEN:
        return alert, False  # acknowledged, resolved or superseded already
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
    fitting = resolutions_for(surveillance=alert.is_surveillance)
    if resolution not in fitting:
        raise ValidationError({"resolution": f"Choose one of: {', '.join(r.label for r in fitting)}."})
    alert = Alert.objects.select_for_update().get(pk=alert.pk)
    if alert.state in (AlertState.RESOLVED, AlertState.SUPERSEDED):
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
def cases_acknowledge(*, alerts: list[Alert], by: User, note: str = "") -> int:
    """Acknowledge every open alert of the chosen cases; returns how many changed.

    All or nothing: one alert the user may not act on refuses the whole action, before
    any is changed.
    """
    for alert in alerts:
        _require_capability(by, alert)
    return sum(alert_acknowledge(alert=a, by=by, note=note)[1] for a in alerts)


@transaction.atomic
def cases_resolve(*, alerts: list[Alert], by: User, resolution: str, note: str = "") -> int:
    """Resolve every unresolved alert of the chosen cases with one resolution, which must
    fit each alert's kind; returns how many changed. All or nothing, as `cases_acknowledge`."""
    for alert in alerts:
        _require_capability(by, alert)
    return sum(alert_resolve(alert=a, by=by, resolution=resolution, note=note)[1] for a in alerts)


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
