"""The daily sweep: set-based over the whole cohort (a few queries, not one per patient).

1. Plans: generate missing plans and regenerate stale ones (protocol or anchors changed).
2. Matching catch-up: studies and visits saved since the last sweep (their hooks may have
   failed, or they were bulk-loaded).
3. Transitions, each one UPDATE over rows picked by a partial index: newly due, newly
   overdue (alert `surveillance_overdue`), newly lost to follow-up (alert
   `lost_to_follow_up`, patient status `lost_to_follow_up`). A transition older than
   `CATCH_UP_DAYS` (a plan imported with its history, a long outage) is stamped with its
   natural date and raises nothing, so an import does not flood the alert inbox.
4. Biopsy follow-through: follow-ups opened for alerts resolved as biopsy ordered, late
   results stamped overdue (`biopsies`; beat also runs it every few minutes).
5. Patients past the end of their plan with nothing left open become `completed`.
"""

import logging
from collections.abc import Collection
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Subquery
from django.utils import timezone

from alerts.services import alert_raise
from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient
from patients.vocabulary import FollowUpStatus

from ..models import ScheduledItem, SweepRun, Transition
from .biopsies import biopsy_follow_ups_open, biopsy_overdue_sweep
from .fan_out import matched_by_chunks
from .matching import exam_visits, final_imaging, match_patients
from .plans import CHUNK, plans_refresh_stale

log = logging.getLogger(__name__)

CATCH_UP_DAYS = 14
ACTIVE = FollowUpStatus.ACTIVE
KIND_LABEL = dict(ScheduledItem.Kind.choices)


def surveillance_sweep(*, as_of: date | None = None, skip_plans: Collection[int] = (),
                       stale: list[int] | None = None) -> dict[str, int]:
    """The day's sweep. The plans of the patients in `skip_plans` are left to the workers
    generating them (services/fan_out.py); everything else is done here. `stale`: the
    missing or stale plans, when the caller just read them."""
    return _sweep(as_of=as_of or timezone.localdate(), skip_plans=skip_plans, stale=stale)


def _sweep(*, as_of: date, skip_plans: Collection[int] = (),
           stale: list[int] | None = None) -> dict[str, int]:
    last = SweepRun.objects.filter(finished_at__isnull=False).order_by("-started_at").first()
    run = SweepRun.objects.create(as_of=as_of, started_at=timezone.now())
    counts: dict[str, int] = {}
    planned: set[int] = set()
    plan_counts = plans_refresh_stale(today=as_of, done=planned, skip=skip_plans, stale=stale)
    counts["plans_regenerated"] = plan_counts.get("patients", 0)
    # Patients whose plans were just generated were matched with them, here or by a
    # fanned-out chunk (which also matches those still waiting for it).
    since = last.started_at - timedelta(days=1) if last else None
    by_chunks = matched_by_chunks(since=last.started_at if last else None)
    counts["matched"] = matching_catch_up(since=since, skip=planned | set(skip_plans) | by_chunks)
    counts.update(transitions(as_of=as_of))
    counts["biopsies_opened"] = biopsy_follow_ups_open()
    counts["biopsies_overdue"] = biopsy_overdue_sweep(as_of=as_of)
    counts["completed"] = complete_finished(as_of=as_of)
    run.finished_at, run.counts = timezone.now(), counts
    run.save(update_fields=["finished_at", "counts"])
    log.info("surveillance sweep for %s: %s", as_of, counts)
    return counts


def matching_catch_up(*, since, skip: Collection[int] = ()) -> int:
    """Match studies and visits saved since `since` (everything on the first run), except
    those of the patients in `skip`."""
    studies = final_imaging()
    visits = exam_visits()
    if since is not None:
        studies = studies.filter(updated_at__gte=since)
        visits = visits.filter(created_at__gte=since)
    ids = sorted((set(studies.order_by().values_list("patient_id", flat=True).distinct())
                  | set(visits.order_by().values_list("patient_id", flat=True).distinct())) - set(skip))
    matched = 0
    for start in range(0, len(ids), CHUNK):
        matched += match_patients(ids[start:start + CHUNK])
    return matched


@transaction.atomic
def transitions(*, as_of: date) -> dict[str, int]:
    """Each transition reads its candidate rows once (a partial index range) and stamps
    them by id. The patients' status is read once for all of them, by primary key: joined
    in each statement, PostgreSQL hash-joined the whole patient table every time (100,000
    rows, for a few hundred items a day)."""
    recent = as_of - timedelta(days=CATCH_UP_DAYS)
    pending = ScheduledItem.objects.filter(status=ScheduledItem.Status.PENDING)
    not_yet_due = list(pending.filter(became_due_on__isnull=True, due_from__lte=as_of)
                       .values_list("id", "patient_id", "due_from"))
    not_yet_overdue = list(
        pending.filter(became_overdue_on__isnull=True, overdue_after__lt=as_of)
        .values_list("id", "patient_id", "kind", "laterality", "due_date", "overdue_after"))
    active = ActivePatients()
    active.load({r[1] for r in not_yet_due} | {r[1] for r in not_yet_overdue})
    counts = {}
    # Newly due.
    not_yet_due = [r for r in not_yet_due if r[1] in active]
    fresh_due = [r[0] for r in not_yet_due if r[2] >= recent]
    _update(fresh_due, became_due_on=as_of)
    _update([r[0] for r in not_yet_due if r[2] < recent], became_due_on=F("due_from"))
    counts["newly_due"] = len(fresh_due)
    news: list[tuple[int, int, str]] = [(r[0], r[1], Transition.Kind.DUE)
                                        for r in not_yet_due if r[2] >= recent]
    # Newly overdue.
    not_yet_overdue = [r for r in not_yet_overdue if r[1] in active]
    overdue = [r[:5] for r in not_yet_overdue if r[5] >= recent]
    _update([r[0] for r in overdue], became_overdue_on=as_of, updated_at=timezone.now())
    _update([r[0] for r in not_yet_overdue if r[5] < recent], became_overdue_on=F("overdue_after"))
    for item_id, patient_id, kind, laterality, due in overdue:
        _raise(item_id, patient_id, laterality, rule="surveillance_overdue", severity="medium",
               reason=f"{KIND_LABEL[kind]} due {due:%d %b %Y} is overdue: not done within the grace period.")
    counts["newly_overdue"] = len(overdue)
    news += [(r[0], r[1], Transition.Kind.OVERDUE) for r in overdue]
    # Newly lost to follow-up: nothing done (no item, study or visit) since it went overdue.
    candidates = list(pending.filter(lost_on__isnull=True, became_overdue_on__isnull=False,
                                     lost_after_date__lt=as_of)
                      .values_list("id", "patient_id", "kind", "laterality", "due_date", "overdue_after",
                                   "lost_after_date"))
    active.load({r[1] for r in candidates})
    candidates = [r for r in candidates if r[1] in active]
    last_overdue: dict[int, date] = {}
    for r in candidates:
        last_overdue[r[1]] = max(r[5], last_overdue.get(r[1], r[5]))
    latest = latest_activity(last_overdue)
    lost = [r for r in candidates if latest.get(r[1]) is None or latest[r[1]] <= r[5]]
    fresh = [r[:5] for r in lost if r[6] >= recent]
    lost_patients = {r[1] for r in lost}
    _update([r[0] for r in lost if r[6] < recent], lost_on=F("lost_after_date"), lost_to_follow_up=True)
    _update([r[0] for r in fresh], lost_on=as_of, lost_to_follow_up=True, updated_at=timezone.now())
    for ids in _chunks(lost_patients):
        Patient.objects.filter(id__in=ids, follow_up_status=ACTIVE).update(
            follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP)
    for item_id, patient_id, kind, laterality, due in fresh:
        _raise(item_id, patient_id, laterality, rule="lost_to_follow_up", severity="high",
               reason=f"Lost to follow-up: nothing done for 12 months since the {KIND_LABEL[kind].lower()} "
                      f"due {due:%d %b %Y} became overdue.")
    counts["newly_lost"] = len(fresh)
    news += [(r[0], r[1], Transition.Kind.LOST) for r in fresh]
    transitions_record(news, on=as_of)
    return counts


def transitions_record(news: list[tuple[int, int, str]], *, on: date) -> None:
    """One `Transition` row per (item, patient, kind) stamped now: the digests claim them
    (services/digests.py), so a transition reaches every coordinator whenever it happened,
    even after the day's digest went out. A silent catch-up stamp is no news."""
    if not news:
        return
    site_of: dict[int, int] = {}
    for ids in _chunks({pid for _, pid, _ in news}):
        site_of.update(Patient.objects.filter(id__in=ids).order_by().values_list("id", "site_id"))
    now = timezone.now()
    Transition.objects.bulk_create(
        [Transition(item_id=item_id, site_id=site_of[pid], kind=kind, on=on, created_at=now)
         for item_id, pid, kind in news], batch_size=1000, ignore_conflicts=True)


class ActivePatients:
    """Which patients are active, read by primary key for the ids asked about (once each)."""

    def __init__(self) -> None:
        self.known: dict[int, bool] = {}

    def load(self, patient_ids: Collection[int]) -> None:
        new = set(patient_ids) - self.known.keys()
        for ids in _chunks(new):
            active = set(Patient.objects.filter(id__in=ids, follow_up_status=ACTIVE)
                         .order_by().values_list("id", flat=True))
            self.known.update((pid, pid in active) for pid in ids)

    def __contains__(self, patient_id: int) -> bool:
        return self.known[patient_id]


def _update(ids: list[int], **values) -> None:
    for chunk in _chunks(ids):
        ScheduledItem.objects.filter(id__in=chunk).update(**values)


def latest_activity(last_overdue: dict[int, date]) -> dict[int, date]:
    """For each patient (id → the latest overdue date of her candidate items), the date of
    her latest done item, final study or visit when it could make an item lost: patients
    with none are left out, and a patient whose latest done item is after all her overdue
    dates may be given that date alone (no item of hers is lost either way).

    "Nothing done since the item went overdue" is "the latest activity is not later than
    its overdue date". Per patient, with one-row index probes (backward scans): first the
    done items, which settle most patients (they keep coming), then studies and visits for
    the rest. Three NOT EXISTS per candidate item were planned as hash anti-joins over
    every study and visit of the cohort.
    """
    def latest(qs, field: str) -> Subquery:
        return Subquery(qs.filter(patient_id=OuterRef("pk")).order_by(f"-{field}").values(field)[:1])

    result: dict[int, date] = {}
    unsettled = []
    for ids in _chunks(last_overdue):
        for pid, done_on in (Patient.objects.filter(id__in=ids).order_by().values_list(
                "id", latest(ScheduledItem.objects.filter(status="done"), "done_on"))):
            if done_on is not None and done_on > last_overdue[pid]:
                result[pid] = done_on
            else:
                unsettled.append(pid)
                if done_on is not None:
                    result[pid] = done_on
    for ids in _chunks(unsettled):
        rows = Patient.objects.filter(id__in=ids).order_by().values_list(
            "id", latest(ImagingStudy.objects.filter(status="final"), "study_date"),
            latest(ClinicVisit.objects.all(), "date"))
        for pid, *days in rows:
            days = [d for d in [*days, result.get(pid)] if d is not None]
            if days:
                result[pid] = max(days)
    return result


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
