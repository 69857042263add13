"""Matching final studies and clinic visits to scheduled items (and undoing stale matches).

A final MG study fulfils one mammogram and one diagnostic-mammogram item whose window
contains its date and whose breast(s) it covers; a final MR study one MRI item; a
clinical-exam or oncology visit one clinical exam. A study outside every window stays
unmatched and is listed on the patient's plan (`selectors.unmatched_studies`).
"""

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core.bulk import update_rows
from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient
from patients.vocabulary import FollowUpStatus

from .. import schedule
from ..models import ScheduledItem

PENDING, DONE = ScheduledItem.Status.PENDING, ScheduledItem.Status.DONE
MATCH_FIELDS = ["status", "done_on", "done_source", "study", "visit", "updated_at"]


def final_imaging() -> QuerySet[ImagingStudy]:
    return ImagingStudy.objects.filter(status="final", modality__in=list(schedule.STUDY_KINDS))


def exam_visits() -> QuerySet[ClinicVisit]:
    return ClinicVisit.objects.filter(kind__in=schedule.VISIT_KINDS)


@dataclass(frozen=True)
class Fulfilment:
    """A pending item done by a study or a visit on `on`."""

    item_id: int
    patient_id: int
    on: date
    study_id: int | None = None
    visit_id: int | None = None


@dataclass
class Evidence:
    """What can fulfil a chunk's items: final studies (id, patient, date, modality,
    laterality) and exam visits (id, patient, date), each in (date, id) order, by patient."""

    studies: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))
    visits: dict[int, list[tuple]] = field(default_factory=lambda: defaultdict(list))

    def __bool__(self) -> bool:
        return bool(self.studies or self.visits)


def load_evidence(patient_ids: Sequence[int]) -> Evidence:
    """The chunk's final studies and exam visits, in two queries."""
    evidence = Evidence()
    for row in (final_imaging().filter(patient_id__in=patient_ids).order_by("study_date", "id")
                .values_list("id", "patient_id", "study_date", "modality", "laterality")):
        evidence.studies[row[1]].append(row)
    for visit in (exam_visits().filter(patient_id__in=patient_ids).order_by("date", "id")
                  .values_list("id", "patient_id", "date")):
        evidence.visits[visit[1]].append(visit)
    return evidence


def assign(patient_id: int, pending: list[schedule.Candidate], evidence: Evidence, *,
           study_kinds_done: Collection[tuple[int, str]] = (),
           visits_done: Collection[int] = ()) -> list[Fulfilment]:
    """Which pending items of one patient her studies and visits fulfil (pure).

    Studies first, then visits, each in date order; a study or visit already linked to an
    item (of that kind) fulfils no other. `pending` is consumed.
    """
    by_kind: dict[str, list[schedule.Candidate]] = defaultdict(list)
    for c in pending:
        by_kind[c.kind].append(c)
    done: list[Fulfilment] = []

    def fulfil(kind: str, on: date, laterality: str | None, **source) -> None:
        # choose_items per kind: the same choice as over all candidates, fewer to look at.
        for c in schedule.choose_items(by_kind[kind], on, [kind], laterality):
            by_kind[kind].remove(c)
            pending.remove(c)
            done.append(Fulfilment(c.id, patient_id, on, **source))

    for study_id, _, on, modality, laterality in evidence.studies.get(patient_id, ()):
        kinds = [k for k in schedule.STUDY_KINDS[modality] if (study_id, k) not in study_kinds_done]
        if kinds and pending:
            for kind in kinds:
                fulfil(kind, on, laterality, study_id=study_id)
    for visit_id, _, on in evidence.visits.get(patient_id, ()):
        if visit_id not in visits_done and pending:
            fulfil(schedule.CLINICAL_EXAM, on, None, visit_id=visit_id)
    return done


@transaction.atomic
def match_patients(patient_ids: Sequence[int]) -> int:
    """Match every final study and exam visit of these patients; returns items marked done.

    Three reads for the whole chunk (studies, visits, items) and one set-based write.
    """
    ids = list(patient_ids)
    if not ids:
        return 0
    evidence = load_evidence(ids)
    if not evidence:
        return 0
    pending: dict[int, list[schedule.Candidate]] = defaultdict(list)
    study_kinds_done: set[tuple[int, str]] = set()
    visits_done: set[int] = set()
    items = (ScheduledItem.objects.filter(patient_id__in=ids).exclude(status=ScheduledItem.Status.CANCELLED)
             .values_list("id", "patient_id", "status", "kind", "laterality", "due_date", "window_start",
                          "window_end", "study_id", "visit_id"))
    for item_id, pid, status, kind, laterality, due, start, end, study_id, visit_id in items:
        if status == PENDING:
            pending[pid].append(schedule.Candidate(item_id, kind, laterality, due, start, end))
        elif study_id:
            study_kinds_done.add((study_id, kind))
        elif visit_id:
            visits_done.add(visit_id)
    done = [f for pid in sorted(pending) for f in assign(pid, pending[pid], evidence,
                                                        study_kinds_done=study_kinds_done,
                                                        visits_done=visits_done)]
    mark_done(done)
    bring_back({f.patient_id for f in done})
    return len(done)


def done_values(f: Fulfilment) -> dict:
    """The fields of an item done by `f` (for an item written or updated)."""
    return {"status": DONE, "done_on": f.on,
            "done_source": ScheduledItem.Source.STUDY if f.study_id else ScheduledItem.Source.VISIT,
            "study_id": f.study_id, "visit_id": f.visit_id}


def mark_done(done: Sequence[Fulfilment]) -> int:
    """One UPDATE … FROM (VALUES …) per batch, not bulk_update's CASE per field (core.bulk)."""
    now = timezone.now()
    return update_rows(ScheduledItem, MATCH_FIELDS, [
        (f.item_id, DONE, f.on, done_values(f)["done_source"], f.study_id, f.visit_id, now) for f in done])


def bring_back(patient_ids: set[int]) -> None:
    """A patient marked lost to follow-up who is seen again is active again."""
    if patient_ids:
        Patient.objects.filter(id__in=patient_ids, follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP).update(
            follow_up_status=FollowUpStatus.ACTIVE)


def revert(items: Iterable[ScheduledItem]) -> int:
    """Put items done by a study or visit that no longer fits back to pending."""
    now = timezone.now()
    rows = [(i.id, PENDING, None, "", None, None, now) for i in items]
    return update_rows(ScheduledItem, MATCH_FIELDS, rows)


def _still_fits(item: ScheduledItem, study: ImagingStudy | None) -> bool:
    return (study is not None and study.status == "final"
            and item.kind in schedule.STUDY_KINDS.get(study.modality, ())
            and item.window_start <= study.study_date <= item.window_end
            and schedule.covers(item.laterality, study.laterality))


@transaction.atomic
def study_sync(study_id: int) -> None:
    """After a study is saved (finalized, amended): drop links it no longer deserves, then
    regenerate the patient's plan (its breast composition is a risk flag) and match."""
    from .plans import plan_regenerate

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
