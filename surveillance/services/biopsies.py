"""Biopsy follow-through: the biopsy an alert's resolution ordered, until its histology.

1. `biopsy_follow_ups_open`: every alert resolved as "biopsy ordered" gets one
   `BiopsyFollowUp` (ordered the day of the resolution, a result due `RESULT_DUE_DAYS`
   later). It runs every few minutes (beat) and in the daily sweep, so no resolution is
   missed whichever path resolved the alert; the unique alert key makes it idempotent.
2. `biopsy_overdue_sweep`: follow-ups without a result past their due date are stamped
   overdue (the worklist and the measures read it).
3. `biopsy_result_record`: the biopsy date and histology; a malignant result (DCIS or
   invasive) records a "confirmed progression (biopsy)" outcome event for the cohort's
   survival analysis, kept in step when the result is corrected.
"""

from datetime import date, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from alerts.models import Alert, Resolution
from patients.models import ClinicalEvent
from patients.services import record_save
from patients.vocabulary import EventKind

from ..models import BiopsyFollowUp

# A core biopsy is usually done within two weeks of being ordered and reported within a
# week or two after: a month without a result needs a coordinator's call.
RESULT_DUE_DAYS = 30


def biopsy_follow_ups_open() -> int:
    """Open the follow-ups of alerts resolved as biopsy ordered that have none. Returns
    how many were opened."""
    missing = (Alert.objects.filter(resolution=Resolution.BIOPSY_ORDERED, resolved_at__isnull=False)
               .filter(~Exists(BiopsyFollowUp.objects.filter(alert_id=OuterRef("pk"))))
               .values_list("id", "patient_id", "resolved_at"))
    rows = []
    for alert_id, patient_id, resolved_at in missing:
        ordered = timezone.localdate(resolved_at)
        rows.append(BiopsyFollowUp(alert_id=alert_id, patient_id=patient_id, ordered_on=ordered,
                                   due_date=ordered + timedelta(days=RESULT_DUE_DAYS)))
    # Two runs at once (beat and the sweep) each insert; the unique alert keeps one.
    BiopsyFollowUp.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


def biopsy_overdue_sweep(*, as_of: date) -> int:
    """Stamp the follow-ups whose result is late; returns how many became overdue."""
    return (BiopsyFollowUp.objects.filter(histology="", became_overdue_on__isnull=True, due_date__lt=as_of)
            .update(became_overdue_on=as_of))


@transaction.atomic
def biopsy_result_record(*, follow_up: BiopsyFollowUp, by: User, biopsy_date: date,
                         histology: str, note: str = "") -> BiopsyFollowUp:
    """Record (or correct) the biopsy's date and histology, with its outcome event."""
    if histology not in BiopsyFollowUp.Histology.values:
        raise ValidationError({"histology": "Choose benign, DCIS, invasive carcinoma or other."})
    follow_up = BiopsyFollowUp.objects.select_for_update().get(pk=follow_up.pk)
    follow_up.biopsy_date, follow_up.histology, follow_up.note = biopsy_date, histology, note.strip()
    follow_up.result_recorded_by, follow_up.result_recorded_at = by, timezone.now()
    follow_up.full_clean(exclude=["patient", "alert", "event", "result_recorded_by"])
    follow_up.event = _sync_event(follow_up)
    follow_up.save()
    return follow_up


def _sync_event(follow_up: BiopsyFollowUp) -> ClinicalEvent | None:
    event = follow_up.event
    if not follow_up.malignant:
        if event is not None:
            event.delete()
        return None
    if event is None:
        event = ClinicalEvent(patient_id=follow_up.patient_id, kind=EventKind.CONFIRMED_PROGRESSION)
    assert follow_up.biopsy_date is not None  # a result has its date (model check)
    event.date = follow_up.biopsy_date
    event.notes = (f"Biopsy ({follow_up.get_histology_display()}) after the alert "
                   f"\"{follow_up.alert.get_rule_display()}\".")
    return record_save(event)
