"""The daily sweep: set-based over the whole cohort (a few queries, not one per patient).

1. Plans: generate missing plans and regenerate stale ones (protocol or anchors changed).
2. Matching catch-up: studies and visits saved since the last sweep (their hooks may have
   failed, or they were bulk-loaded).
3. Transitions, each one UPDATE over rows picked by a partial index: newly due, newly
   overdue (alert `surveillance_overdue`), newly lost to follow-up (alert
   `lost_to_follow_up`, patient status `lost_to_follow_up`). A transition older than
   `CATCH_UP_DAYS` (a plan imported with its history, a long outage) is stamped with its
   natural date and raises nothing, so an import does not flood the alert inbox.
4. Patients past the end of their plan with nothing left open become `completed`.
"""

import logging
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from alerts.services import alert_raise
from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient
from patients.vocabulary import FollowUpStatus
from surveillance.models import ScheduledItem, SweepRun

# Issue 16 changed what a regenerated plan is (a fresh patient's plan: items from corrected
# dates are superseded), so both sweeps regenerate with today's service; the equivalence
# checked here is the rest: matching, transitions, alerts, statuses.
from surveillance.services.plans import CHUNK, plans_refresh_stale

from .old_matching import exam_visits, final_imaging, match_patients

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 14
ACTIVE = FollowUpStatus.ACTIVE
KIND_LABEL = dict(ScheduledItem.Kind.choices)


def surveillance_sweep(*, as_of: date | None = None) -> dict[str, int]:
    as_of = as_of or timezone.localdate()
    last = SweepRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    run = SweepRun.objects.create(as_of=as_of, started_at=timezone.now())
    counts: dict[str, int] = {}
    plan_counts = plans_refresh_stale(today=as_of)
    counts["plans_regenerated"] = plan_counts.get("patients", 0)
    counts["matched"] = matching_catch_up(since=last.started_at - timedelta(days=1) if last else None)
    counts.update(transitions(as_of=as_of))
    counts["completed"] = complete_finished(as_of=as_of)
    run.finished_at, run.counts = timezone.now(), counts
    run.save(update_fields=["finished_at", "counts"])
    log.info("surveillance sweep for %s: %s", as_of, counts)
    return counts


def matching_catch_up(*, since) -> int:
    """Match studies and visits saved since `since` (everything on the first run)."""
    studies = final_imaging()
    visits = exam_visits()
    if since is not None:
        studies = studies.filter(updated_at__gte=since)
        visits = visits.filter(created_at__gte=since)
    ids = sorted(set(studies.values_list("patient_id", flat=True))
                 | set(visits.values_list("patient_id", flat=True)))
    matched = 0
    for start in range(0, len(ids), CHUNK):
        matched += match_patients(ids[start:start + CHUNK])
    return matched


def _pending_of_active():
    return ScheduledItem.objects.filter(status=ScheduledItem.Status.PENDING, patient__follow_up_status=ACTIVE)


@transaction.atomic
def transitions(*, as_of: date) -> dict[str, int]:
    recent = as_of - timedelta(days=CATCH_UP_DAYS)
    counts = {}
    # Newly due.
    not_yet_due = _pending_of_active().filter(became_due_on__isnull=True, due_from__lte=as_of)
    counts["newly_due"] = not_yet_due.filter(due_from__gte=recent).update(became_due_on=as_of)
    not_yet_due.update(became_due_on=F("due_from"))
    # Newly overdue.
    not_yet_overdue = _pending_of_active().filter(became_overdue_on__isnull=True, overdue_after__lt=as_of)
    overdue = list(not_yet_overdue.filter(overdue_after__gte=recent)
                   .values_list("id", "patient_id", "kind", "laterality", "due_date"))
    for ids in _chunks(r[0] for r in overdue):
        ScheduledItem.objects.filter(id__in=ids).update(became_overdue_on=as_of, updated_at=timezone.now())
    not_yet_overdue.update(became_overdue_on=F("overdue_after"))
    for item_id, patient_id, kind, laterality, due in overdue:
        _raise(item_id, patient_id, laterality, rule="surveillance_overdue", severity="medium",
               reason=f"{KIND_LABEL[kind]} due {due:%d %b %Y} is overdue: not done within the grace period.")
    counts["newly_overdue"] = len(overdue)
    # Newly lost to follow-up: nothing done (no item, study or visit) since it went overdue.
    done_since = ScheduledItem.objects.filter(patient_id=OuterRef("patient_id"), status="done",
                                              done_on__gt=OuterRef("overdue_after"))
    study_since = ImagingStudy.objects.filter(patient_id=OuterRef("patient_id"), status="final",
                                              study_date__gt=OuterRef("overdue_after"))
    visit_since = ClinicVisit.objects.filter(patient_id=OuterRef("patient_id"),
                                             date__gt=OuterRef("overdue_after"))
    not_yet_lost = (_pending_of_active()
                    .filter(lost_on__isnull=True, became_overdue_on__isnull=False, lost_after_date__lt=as_of)
                    .filter(~Exists(done_since), ~Exists(study_since), ~Exists(visit_since)))
    fresh = list(not_yet_lost.filter(lost_after_date__gte=recent)
                 .values_list("id", "patient_id", "kind", "laterality", "due_date"))
    old = not_yet_lost.filter(lost_after_date__lt=recent)
    lost_patients = {r[1] for r in fresh} | set(old.values_list("patient_id", flat=True))
    old.update(lost_on=F("lost_after_date"), lost_to_follow_up=True)
    for ids in _chunks(r[0] for r in fresh):
        ScheduledItem.objects.filter(id__in=ids).update(lost_on=as_of, lost_to_follow_up=True,
                                                        updated_at=timezone.now())
    for ids in _chunks(lost_patients):
        Patient.objects.filter(id__in=ids, follow_up_status=ACTIVE).update(
            follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP)
    for item_id, patient_id, kind, laterality, due in fresh:
        _raise(item_id, patient_id, laterality, rule="lost_to_follow_up", severity="high",
               reason=f"Lost to follow-up: nothing done for 12 months since the {KIND_LABEL[kind].lower()} "
                      f"due {due:%d %b %Y} became overdue.")
    counts["newly_lost"] = len(fresh)
    return counts


def _raise(item_id: int, patient_id: int, laterality: str, *, rule: str, severity: str, reason: str) -> None:
    breast = laterality if laterality in ("left", "right") else ""
    try:
        alert_raise(patient_id=patient_id, rule=rule, severity=severity, breast=breast,
                    trigger=f"item:{item_id}", reason=reason)
    except Exception:  # one bad row must not stop the sweep; the stamp is kept, log it
        log.exception("could not raise %s for item %s", rule, item_id)


def complete_finished(*, as_of: date) -> int:
    """Active patients whose ten years are over and whose last windows have closed."""
    still_open = ScheduledItem.objects.filter(patient_id=OuterRef("pk"), status=ScheduledItem.Status.PENDING,
                                              window_end__gte=as_of)
    return (Patient.objects.filter(follow_up_status=ACTIVE, surveillance_plan__ends_on__lt=as_of)
            .filter(~Exists(still_open)).update(follow_up_status=FollowUpStatus.COMPLETED))


def _chunks(ids, size: int = 5000):
    ids = sorted(ids)
    for start in range(0, len(ids), size):
        yield ids[start:start + size]
