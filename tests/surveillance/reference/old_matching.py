"""Matching final studies and clinic visits to scheduled items (and undoing stale matches).

A final MG study fulfils one mammogram and one diagnostic-mammogram item whose window
contains its date and whose breast(s) it covers; a final MR study one MRI item; a
clinical-exam or oncology visit one clinical exam. A study outside every window stays
unmatched and is listed on the patient's plan (`selectors.unmatched_studies`).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient
from patients.vocabulary import FollowUpStatus
from surveillance import schedule
from surveillance.models import ScheduledItem

PENDING, DONE = ScheduledItem.Status.PENDING, ScheduledItem.Status.DONE
MATCH_FIELDS = ["status", "done_on", "done_source", "study", "visit", "updated_at"]


def final_imaging() -> QuerySet[ImagingStudy]:
    return ImagingStudy.objects.filter(status="final", modality__in=list(schedule.STUDY_KINDS))


def exam_visits() -> QuerySet[ClinicVisit]:
    return ClinicVisit.objects.filter(kind__in=schedule.VISIT_KINDS)


@transaction.atomic
def match_patients(patient_ids: Sequence[int]) -> int:
    """Match every final study and exam visit of these patients; returns items marked done.

    Three reads for the whole chunk (studies, visits, items) and one bulk write.
    """
    ids = list(patient_ids)
    if not ids:
        return 0
    studies = list(final_imaging().filter(patient_id__in=ids).order_by("study_date", "id")
                   .values_list("id", "patient_id", "study_date", "modality", "laterality"))
    visits = list(exam_visits().filter(patient_id__in=ids).order_by("date", "id")
                  .values_list("id", "patient_id", "date"))
    if not studies and not visits:
        return 0
    items = list(ScheduledItem.objects.filter(patient_id__in=ids)
                 .exclude(status=ScheduledItem.Status.CANCELLED))
    pending: dict[int, list[schedule.Candidate]] = defaultdict(list)
    study_kinds_done: set[tuple[int, str]] = set()
    visits_done: set[int] = set()
    by_id = {}
    for item in items:
        by_id[item.id] = item
        if item.status == PENDING:
            pending[item.patient_id].append(schedule.Candidate(
                item.id, item.kind, item.laterality, item.due_date, item.window_start, item.window_end))
        elif item.study_id:
            study_kinds_done.add((item.study_id, item.kind))
        elif item.visit_id:
            visits_done.add(item.visit_id)

    now, changed = timezone.now(), []

    def fulfil(candidates: list[schedule.Candidate], chosen: Iterable[schedule.Candidate], on, *,
               study_id=None, visit_id=None) -> None:
        for c in chosen:
            candidates.remove(c)
            item = by_id[c.id]
            item.status, item.done_on, item.updated_at = DONE, on, now
            item.done_source = ScheduledItem.Source.STUDY if study_id else ScheduledItem.Source.VISIT
            item.study_id, item.visit_id = study_id, visit_id
            changed.append(item)

    for study_id, pid, on, modality, laterality in studies:
        kinds = [k for k in schedule.STUDY_KINDS[modality] if (study_id, k) not in study_kinds_done]
        if kinds and pending[pid]:
            fulfil(pending[pid], schedule.choose_items(pending[pid], on, kinds, laterality), on,
                   study_id=study_id)
    for visit_id, pid, on in visits:
        if visit_id not in visits_done and pending[pid]:
            fulfil(pending[pid], schedule.choose_items(pending[pid], on, [schedule.CLINICAL_EXAM], None), on,
                   visit_id=visit_id)
    # Batches of 100: bulk_update writes one CASE WHEN id=… per field, which PostgreSQL
    # evaluates for every row of the batch (rows × batch comparisons); with 1,000 a first
    # sweep of 10,000 patients spent minutes in these statements (docs/performance.md).
    ScheduledItem.objects.bulk_update(changed, MATCH_FIELDS, batch_size=100)
    _bring_back({i.patient_id for i in changed})
    return len(changed)


def _bring_back(patient_ids: set[int]) -> None:
    """A patient marked lost to follow-up who is seen again is active again."""
    if patient_ids:
        Patient.objects.filter(id__in=patient_ids, follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP).update(
            follow_up_status=FollowUpStatus.ACTIVE)


def revert(items: Iterable[ScheduledItem]) -> int:
    """Put items done by a study or visit that no longer fits back to pending."""
    items = list(items)
    now = timezone.now()
    for item in items:
        item.status, item.done_on, item.done_source = PENDING, None, ""
        item.study_id, item.visit_id, item.updated_at = None, None, now
    ScheduledItem.objects.bulk_update(items, MATCH_FIELDS)
    return len(items)


def _still_fits(item: ScheduledItem, study: ImagingStudy | None) -> bool:
    return (study is not None and study.status == "final"
            and item.kind in schedule.STUDY_KINDS.get(study.modality, ())
            and item.window_start <= study.study_date <= item.window_end
            and schedule.covers(item.laterality, study.laterality))


@transaction.atomic
def study_sync(study_id: int) -> None:
    """After a study is saved (finalized, amended): drop links it no longer deserves, then
    regenerate the patient's plan (its breast composition is a risk flag) and match."""
    from surveillance.services.plans import plan_regenerate  # see old_sweep.py

    study = ImagingStudy.objects.filter(id=study_id).first()
    linked = list(ScheduledItem.objects.filter(study_id=study_id))
    revert(i for i in linked if not _still_fits(i, study))
    patient_id = study.patient_id if study else (linked[0].patient_id if linked else None)
    if patient_id is None:
        return
    if study is not None and study.modality == "MG":
        plan_regenerate(patient_id)
    else:
        match_patients([patient_id])


@transaction.atomic
def visit_sync(visit_id: int) -> None:
    """After a clinic visit is saved: drop a link whose date or kind no longer fits, then match."""
    visit = ClinicVisit.objects.filter(id=visit_id).first()
    linked = list(ScheduledItem.objects.filter(visit_id=visit_id))
    revert(i for i in linked if visit is None or visit.kind not in schedule.VISIT_KINDS
           or not i.window_start <= visit.date <= i.window_end)
    if visit is not None:
        match_patients([visit.patient_id])


def unlink_deleted(*, study_id: int | None = None, visit_id: int | None = None) -> int:
    """Before a study or visit is deleted: the items it fulfilled are pending again."""
    qs = ScheduledItem.objects.filter(study_id=study_id) if study_id else ScheduledItem.objects.filter(
        visit_id=visit_id)
    return revert(qs)
