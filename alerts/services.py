"""Writes for alerts: raise one (exactly once), and its lifecycle."""

from django.db import IntegrityError, transaction

from .models import Alert


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
