"""Generating and regenerating patients' plans, for one patient or a chunk of thousands.

Every function loads its inputs for the whole chunk in a fixed number of queries, so the
same code serves a form save (one patient) and the daily sweep (the cohort, in chunks).
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.utils import timezone

from imaging.models import ImagingStudy
from patients.models import Patient, Radiotherapy, Surgery, TumourProfile
from patients.vocabulary import FollowUpStatus
from surveillance import schedule
from surveillance.models import ContactLog, PatientPlan, Protocol, ScheduledItem

log = logging.getLogger(__name__)

CHUNK = 500
# Patients in these states get no new items; their future pending items are cancelled.
CLOSED_STATUSES = (FollowUpStatus.DECEASED, FollowUpStatus.TRANSFERRED)


@dataclass(frozen=True)
class PatientInputs:
    patient_id: int
    site_id: int
    status: str
    inputs: schedule.PlanInputs | None  # None: no surgery recorded, so no plan


class Protocols:
    """All protocols, loaded once: a site's own protocol, else the network default."""

    def __init__(self) -> None:
        rows = list(Protocol.objects.all())
        self.by_site = {p.site_id: p for p in rows if p.site_id}
        self.default = next((p for p in rows if p.is_default), None)
        if self.default is None:
            # The data migration creates it; recreate it if an admin deleted it.
            self.default = Protocol.objects.create(name="Default (DESIGN.md)", is_default=True)
        self._rules = {p.id: p.rules() for p in [*rows, self.default]}

    def for_site(self, site_id: int) -> Protocol:
        return self.by_site.get(site_id, self.default)

    def rules(self, protocol: Protocol) -> schedule.ProtocolRules:
        return self._rules[protocol.id]


def load_inputs(patient_ids: Sequence[int]) -> dict[int, PatientInputs]:
    """Plan inputs of many patients in five queries."""
    latest_surgery: dict[int, dict] = {}
    for row in (Surgery.objects.filter(patient_id__in=patient_ids).order_by("patient_id", "date", "id")
                .values("patient_id", "date", "procedure", "laterality", "residual_calcifications_in_place")):
        latest_surgery[row["patient_id"]] = row
    rt_end = dict(Radiotherapy.objects.filter(patient_id__in=patient_ids, end_date__isnull=False)
                  .values("patient_id").annotate(end=Max("end_date")).values_list("patient_id", "end"))
    tumours = {row["patient_id"]: row for row in TumourProfile.objects.filter(patient_id__in=patient_ids)
               .values("patient_id", "diagnosis_date", "diagnosis_mammogram_date")}
    composition: dict[int, str] = {}
    for pid, comp in (ImagingStudy.objects.filter(patient_id__in=patient_ids, modality="MG", status="final")
                      .exclude(breast_composition="").order_by("patient_id", "study_date", "id")
                      .values_list("patient_id", "breast_composition")):
        composition[pid] = comp
    result = {}
    for p in Patient.objects.filter(id__in=patient_ids).values(
            "id", "site_id", "follow_up_status", "date_of_birth", "pathogenic_variant",
            "chest_radiation_before_30", "lifetime_risk_percent"):
        surgery, tumour = latest_surgery.get(p["id"]), tumours.get(p["id"], {})
        inputs = None
        if surgery:
            risk = p["lifetime_risk_percent"]
            inputs = schedule.PlanInputs(
                surgery_date=surgery["date"], procedure=surgery["procedure"],
                surgery_laterality=surgery["laterality"], date_of_birth=p["date_of_birth"],
                rt_end_date=rt_end.get(p["id"]), diagnosis_date=tumour.get("diagnosis_date"),
                diagnosis_mammogram_date=tumour.get("diagnosis_mammogram_date"),
                residual_calcifications_in_place=surgery["residual_calcifications_in_place"],
                latest_breast_composition=composition.get(p["id"], ""),
                pathogenic_variant=p["pathogenic_variant"],
                chest_radiation_before_30=p["chest_radiation_before_30"],
                lifetime_risk_percent=float(risk) if risk is not None else None,
            )
        result[p["id"]] = PatientInputs(p["id"], p["site_id"], p["follow_up_status"], inputs)
    return result


def _new_item(patient_id: int, planned: schedule.PlannedItem, today: date) -> ScheduledItem:
    """A new item. Transitions older than the sweep's catch-up window (a patient entered
    with years of history) are stamped now with their natural dates: they raise no alert
    and fill no digest, and the sweep does not have to rewrite them row by row."""
    from .old_sweep import CATCH_UP_DAYS

    item = ScheduledItem(patient_id=patient_id)
    _set_dates(item, planned)
    silent_before = today - timedelta(days=CATCH_UP_DAYS)
    if planned.due_from < silent_before:
        item.became_due_on = planned.due_from
    if planned.overdue_after < silent_before:
        item.became_overdue_on = planned.overdue_after
    return item


def _set_dates(item: ScheduledItem, planned: schedule.PlannedItem) -> None:
    item.kind, item.laterality = planned.kind, planned.laterality
    item.due_date, item.interval_months = planned.due_date, planned.interval_months
    item.due_from, item.overdue_after = planned.due_from, planned.overdue_after
    item.window_start, item.window_end = planned.window_start, planned.window_end
    item.lost_after_date = planned.lost_after_date


DATE_FIELDS = ["kind", "laterality", "due_date", "interval_months", "due_from", "overdue_after",
               "window_start", "window_end", "lost_after_date", "became_due_on", "became_overdue_on",
               "updated_at"]


@transaction.atomic
def plans_generate(patient_ids: Iterable[int], *, today: date | None = None) -> dict[str, int]:
    """Create or regenerate the plans of these patients, then match their studies and visits.

    1. Load every input and every existing item of the chunk (fixed number of queries).
    2. First plan of a patient: create all items, past ones included.
    3. Later: only FUTURE pending items (not yet overdue) change. They are paired with the
       new plan's items that are not yet overdue and not already represented by a kept item
       (`schedule.still_to_plan`), series by series, so ids and contact logs survive; a
       rescheduled item keeps its coordinator's date. Done, cancelled and overdue items
       are never touched. Surplus future items are deleted, or cancelled when they carry
       a contact log.
    4. Closed patients (deceased, transferred) and patients without surgery: future pending
       items are cancelled.
    """
    today = today or timezone.localdate()
    ids = list(patient_ids)
    counts = {"created": 0, "updated": 0, "removed": 0, "cancelled": 0}
    if not ids:
        return counts
    protocols = Protocols()
    inputs = load_inputs(ids)
    plans = {p.patient_id: p for p in PatientPlan.objects.filter(patient_id__in=ids)}
    existing: dict[int, list[ScheduledItem]] = {}
    has_contact = ContactLog.objects.filter(item_id=OuterRef("pk"))
    for item in ScheduledItem.objects.filter(patient_id__in=ids).annotate(has_contact=Exists(has_contact)):
        existing.setdefault(item.patient_id, []).append(item)

    to_create, to_update, to_delete, to_cancel = [], [], [], []
    plans_new, plans_changed = [], []
    for pid in ids:
        pin = inputs.get(pid)
        if pin is None:
            continue
        items = existing.get(pid, [])
        # Regenerable: pending and not yet overdue. Done, cancelled and overdue items are kept.
        future = [i for i in items if i.status == ScheduledItem.Status.PENDING and i.overdue_after >= today]
        if pin.inputs is None or pin.status in CLOSED_STATUSES:
            reason = "no surgery recorded" if pin.inputs is None else f"patient {pin.status}"
            to_cancel.extend((i, reason) for i in future)
            continue
        protocol = protocols.for_site(pin.site_id)
        rules = protocols.rules(protocol)
        wanted = schedule.plan_items(pin.inputs, rules)
        if not items:
            to_create.extend(_new_item(pid, p, today) for p in wanted)
        else:
            by_id = {i.id: i for i in future}
            kept = [(i.kind, i.laterality, i.done_on or i.due_date) for i in items if i.id not in by_id]
            pairs, surplus, new = schedule.pair_for_regeneration(
                [(i.id, i.kind, i.laterality, i.due_date) for i in future],
                _still_to_plan(wanted, kept, today))
            for item_id, planned in pairs:
                item = by_id[item_id]
                if item.original_due_date is None and _dates_differ(item, planned):
                    _set_dates(item, planned)
                    item.became_due_on = item.became_due_on if planned.due_from <= today else None
                    item.became_overdue_on = None
                    to_update.append(item)
            for item_id in surplus:
                item = by_id[item_id]
                if item.has_contact:
                    to_cancel.append((item, "no longer in the plan (protocol or treatment dates changed)"))
                else:
                    to_delete.append(item_id)
            to_create.extend(_new_item(pid, p, today) for p in new)
        reasons = schedule.high_risk_reasons(pin.inputs, rules)
        values = dict(protocol=protocol, protocol_version=protocol.version,
                      surgery_date=pin.inputs.surgery_date, rt_end_date=pin.inputs.rt_end_date,
                      high_risk=bool(reasons), high_risk_reasons=", ".join(reasons)[:200],
                      ends_on=schedule.ends_on(pin.inputs, rules))
        plan = plans.get(pid)
        if plan is None:
            plans_new.append(PatientPlan(patient_id=pid, **values))
        elif any(getattr(plan, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(plan, k, v)
            plans_changed.append(plan)

    now = timezone.now()
    ScheduledItem.objects.bulk_create(to_create, batch_size=1000)
    for item in to_update:
        item.updated_at = now
    ScheduledItem.objects.bulk_update(to_update, DATE_FIELDS, batch_size=1000)
    if to_delete:
        ScheduledItem.objects.filter(id__in=to_delete).delete()
    for item, reason in to_cancel:
        item.status, item.cancel_reason, item.updated_at = ScheduledItem.Status.CANCELLED, reason, now
    ScheduledItem.objects.bulk_update([i for i, _ in to_cancel], ["status", "cancel_reason", "updated_at"],
                                      batch_size=1000)
    PatientPlan.objects.bulk_create(plans_new, batch_size=1000)
    PatientPlan.objects.bulk_update(plans_changed, ["protocol", "protocol_version", "surgery_date",
                                                    "rt_end_date", "high_risk", "high_risk_reasons",
                                                    "ends_on", "generated_at"], batch_size=1000)
    if plans_changed:
        PatientPlan.objects.filter(id__in=[p.id for p in plans_changed]).update(generated_at=now)
    counts.update(created=len(to_create), updated=len(to_update), removed=len(to_delete),
                  cancelled=len(to_cancel))

    from .old_matching import match_patients

    counts["matched"] = match_patients(ids)
    return counts


def _dates_differ(item: ScheduledItem, planned: schedule.PlannedItem) -> bool:
    return (item.due_date, item.interval_months, item.due_from, item.overdue_after, item.window_start,
            item.window_end, item.lost_after_date) != (
        planned.due_date, planned.interval_months, planned.due_from, planned.overdue_after,
        planned.window_start, planned.window_end, planned.lost_after_date)


def plan_regenerate(patient: Patient | int, *, today: date | None = None) -> dict[str, int]:
    """Regenerate one patient's plan (future items only; done items and links are kept)."""
    patient_id = patient if isinstance(patient, int) else patient.id
    return plans_generate([patient_id], today=today)


def stale_plan_patient_ids() -> list[int]:
    """Patients whose plan is missing or out of date with its protocol, surgery or RT end.

    Set-based (three queries for the cohort): the safety net behind the save signals, for
    changes made with queryset.update(), bulk loads, or a failed after-commit hook.
    Risk-flag changes are caught by the signals only (see docs/surveillance.md).
    """
    open_statuses = [FollowUpStatus.ACTIVE, FollowUpStatus.LOST_TO_FOLLOW_UP]
    has_surgery = Surgery.objects.filter(patient_id=OuterRef("pk"))
    missing = (Patient.objects.filter(follow_up_status__in=open_statuses, surveillance_plan__isnull=True)
               .filter(Exists(has_surgery)).values_list("id", flat=True))
    site_protocol = Protocol.objects.filter(site_id=OuterRef("patient__site_id")).values("id")[:1]
    default_id = Protocol.objects.filter(is_default=True).values_list("id", flat=True).first()
    latest_surgery = (Surgery.objects.filter(patient_id=OuterRef("patient_id"))
                      .order_by("-date", "-id").values("date")[:1])
    latest_rt = (Radiotherapy.objects.filter(patient_id=OuterRef("patient_id"), end_date__isnull=False)
                 .order_by("-end_date").values("end_date")[:1])
    plans = PatientPlan.objects.filter(patient__follow_up_status__in=open_statuses).annotate(
        site_protocol=Subquery(site_protocol), current_surgery=Subquery(latest_surgery),
        current_rt=Subquery(latest_rt))
    protocol_changed = Q(protocol_version__lt=Subquery(
        Protocol.objects.filter(id=OuterRef("protocol_id")).values("version")[:1]))
    wrong_protocol = (Q(site_protocol__isnull=False) & ~Q(protocol_id=F("site_protocol"))) | (
        Q(site_protocol__isnull=True) & ~Q(protocol_id=default_id))
    both_rt = Q(rt_end_date__isnull=False, current_rt__isnull=False)
    anchors_changed = (Q(current_surgery__isnull=True) | ~Q(surgery_date=F("current_surgery"))
                       | Q(rt_end_date__isnull=True, current_rt__isnull=False)
                       | Q(rt_end_date__isnull=False, current_rt__isnull=True)
                       | (both_rt & ~Q(rt_end_date=F("current_rt"))))
    stale = plans.filter(protocol_changed | wrong_protocol | anchors_changed)
    return sorted(set(missing) | set(stale.values_list("patient_id", flat=True)))


def plans_refresh_stale(*, today: date | None = None) -> dict[str, int]:
    """Regenerate every stale or missing plan, in chunks (each chunk its own transaction)."""
    ids = stale_plan_patient_ids()
    total = {"patients": len(ids)}
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start:start + CHUNK]
        try:
            counts = plans_generate(chunk, today=today)
        except Exception:  # one bad chunk must not stop the sweep
            log.exception("plan generation failed for a chunk of %d patients starting at id %s",
                          len(chunk), chunk[0])
            continue
        for k, v in counts.items():
            total[k] = total.get(k, 0) + v
    return total


def _still_to_plan(wanted, kept, today):
    """`schedule.still_to_plan` as it was: future items only (the old regeneration)."""
    return [p for p in schedule.still_to_plan(wanted, kept) if p.overdue_after >= today]
