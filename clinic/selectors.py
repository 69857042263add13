"""Reads for the clinic pages: the patient list and the patient timeline.

Each selector runs a fixed number of queries whatever the number of patients or studies.
"""

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import (
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone

from alerts.models import LIVE_STATES, Alert, AlertSettings, AlertState
from imaging.charts import ExtentThreshold
from imaging.history import PatientHistory
from imaging.models import ImagingStudy
from imaging.records import StudyRow, active, patient_records, prefetched, with_records
from patients.access import get_patient_for_user, patients_for
from patients.models import ClinicalEvent, ClinicVisit, NacCourse, Pathology, Patient, Radiotherapy, Surgery
from patients.selectors import search_patients
from surveillance.models import PatientPlan, ScheduledItem
from surveillance.selectors import PlanView, overdue_items, plan_view, unmatched_among

# Sort keys offered by the patient list: name in the URL → ORM ordering.
PATIENT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("family_name", "given_name", "id"),
    "-name": ("-family_name", "-given_name", "-id"),
    "mrn": ("mrn", "id"),
    "-mrn": ("-mrn", "-id"),
    "diagnosis": ("tumour__diagnosis_date", "id"),
    "-diagnosis": ("-tumour__diagnosis_date", "-id"),
    "last_study": ("last_study_date", "id"),
    "-last_study": ("-last_study_date", "-id"),
    "alerts": ("open_alerts", "id"),
    "-alerts": ("-open_alerts", "-id"),
}


def _list_columns() -> dict:
    # Correlated subqueries, not joins: joining alerts and studies would multiply rows.
    first_pcr = Pathology.objects.filter(surgery__patient=OuterRef("pk")).order_by(
        "surgery__date", "surgery__id").values("pcr")[:1]
    open_alerts = (Alert.objects.filter(patient=OuterRef("pk"), state=AlertState.OPEN)
                   .values("patient").annotate(n=Count("id")).values("n"))
    last_study = (ImagingStudy.objects.filter(patient=OuterRef("pk"))
                  .order_by("-study_date").values("study_date")[:1])
    return {
        "open_alerts": Coalesce(Subquery(open_alerts, output_field=IntegerField()), Value(0)),
        "last_study_date": Subquery(last_study),
        "pcr_value": Subquery(first_pcr),
    }


def patient_list(*, user: AbstractBaseUser, q: str = "", site: int | None = None,
                 follow_up_status: str = "", subtype: str = "", pcr: str = "",
                 has_open_alert: bool | None = None, overdue: bool | None = None,
                 sort: str = "name") -> QuerySet[Patient]:
    """The user's patients, filtered and sorted, with the columns of the list annotated.

    `pcr` is "yes", "no" or "unknown" (no pathology recorded yet).
    """
    qs = patients_for(user).select_related("site", "tumour").annotate(**_list_columns())
    if q:
        qs = search_patients(qs, q)
    if site:
        qs = qs.filter(site_id=site)
    if follow_up_status:
        qs = qs.filter(follow_up_status=follow_up_status)
    if subtype:
        qs = qs.filter(tumour__subtype=subtype)
    if pcr == "yes":
        qs = qs.filter(pcr_value=True)
    elif pcr == "no":
        qs = qs.filter(pcr_value=False)
    elif pcr == "unknown":
        qs = qs.filter(pcr_value__isnull=True)
    if has_open_alert is not None:
        open_alert = Exists(Alert.objects.filter(patient=OuterRef("pk"), state=AlertState.OPEN))
        qs = qs.filter(open_alert if has_open_alert else ~open_alert)
    if overdue is not None:
        late = Exists(overdue_items(timezone.localdate()).filter(patient_id=OuterRef("pk")))
        qs = qs.filter(late if overdue else ~late)
    return qs.order_by(*PATIENT_SORTS.get(sort, PATIENT_SORTS["name"]))


@dataclass(frozen=True)
class Timeline:
    """Everything the timeline page shows, loaded in a fixed number of queries."""

    patient: Patient
    history: PatientHistory
    studies: list[StudyRow]  # newest first
    open_alerts: list  # Alert rows, newest first
    surgeries: list
    nac_courses: list
    radiotherapy: list
    visits: list  # newest first
    events: list
    plan: PatientPlan | None  # the surveillance plan, with its protocol
    scheduled_items: list[ScheduledItem]  # by due date, with their study (a visit only by id)
    extent_threshold: ExtentThreshold  # the extent rule's thresholds, drawn on the chart
    voided: list["VoidedRecord"]  # struck through in the history, with their reasons

    @property
    def tumour(self):
        return getattr(self.patient, "tumour", None)

    @property
    def pathology(self):
        for surgery in self.surgeries:
            path = getattr(surgery, "pathology", None)
            if path is not None:
                return path
        return None

    def surveillance_plan(self, *, as_of: date) -> PlanView:
        """What `surveillance.selectors.plan_for_patient` gives, from the rows already read."""
        unmatched = unmatched_among([row.study for row in reversed(self.studies)], self.scheduled_items,
                                    since=self.plan.surgery_date if self.plan else None)
        return plan_view(self.plan, self.scheduled_items, unmatched=unmatched, as_of=as_of)


def _timeline_prefetches() -> list[Prefetch]:
    # The alerts' and items' studies are joined in (`select_related`): a few rows each. An
    # item done at a visit says so by its `visit_id`: the visit is not read (0.7 ms a page).
    return [
        # Voided visits and events too, set apart as `patient_records` does (imaging.records).
        Prefetch("visits", to_attr="visit_rows_and_voided",
                 queryset=ClinicVisit.all_objects.select_related("recorded_by").order_by("-date", "-id")),
        Prefetch("events", to_attr="event_rows_and_voided",
                 queryset=ClinicalEvent.all_objects.order_by("date", "id")),
        # Unresolved alerts (open or acknowledged): they keep "stable" off the chart's
        # headline. `details` (JSON) is not shown on the timeline.
        Prefetch("alerts", to_attr="open_alert_rows",
                 queryset=Alert.objects.filter(state__in=LIVE_STATES).select_related("study")
                 .defer("details").order_by("-created_at", "-id")),
        Prefetch("scheduled_items", to_attr="item_rows",
                 queryset=ScheduledItem.objects.select_related("study")
                 .order_by("due_date", "kind", "id")),
    ]


def patient_timeline(*, user: AbstractBaseUser, uuid: UUID | str, with_contact: bool = False) -> Timeline:
    """The patient (404 outside the user's sites) with her whole history, open alerts and
    surveillance plan: one query for the patient with her site, tumour, contact (with
    `with_contact`), plan and
    the alert thresholds, and one per kind of row (`with_records`, `_timeline_prefetches`),
    11 in all; a 12th for the voided records' reasons, only for a patient who has any."""
    settings = AlertSettings.objects.filter(pk=1)
    # Her contact details only for a page that shows them (0.5 ms of CPU a page without).
    contact = ["contact"] if with_contact else []
    queryset = with_records(Patient.objects.select_related(
        "site", "tumour", *contact, "surveillance_plan__protocol")).prefetch_related(
        *_timeline_prefetches()).annotate(
        threshold_mm=Subquery(settings.values("extent_mm")[:1]),
        threshold_percent=Subquery(settings.values("extent_percent")[:1]))
    patient = get_patient_for_user(user, uuid, queryset=queryset)
    records = patient_records(patient)
    visits, voided_visit = active(prefetched(patient, "visit_rows_and_voided"))
    events, voided_event = active(prefetched(patient, "event_rows_and_voided"))
    return Timeline(
        patient=patient,
        history=records.history(patient),
        studies=records.studies[::-1],
        open_alerts=prefetched(patient, "open_alert_rows"),
        surgeries=records.surgeries,
        nac_courses=records.nac_courses,
        radiotherapy=records.radiotherapy,
        visits=visits,
        events=events,
        plan=getattr(patient, "surveillance_plan", None),
        scheduled_items=prefetched(patient, "item_rows"),
        extent_threshold=_threshold(patient),
        # Their reasons and who voided them: a query only for a patient who has any.
        voided=voided_records(patient.pk) if records.has_voided or voided_visit or voided_event else [],
    )


def _threshold(patient: Patient) -> ExtentThreshold:
    """The annotated thresholds; the fields' defaults while nobody has saved any."""
    def value(annotated, field: str) -> float:
        default = AlertSettings._meta.get_field(field).default
        return float(annotated if annotated is not None else default)

    return ExtentThreshold(mm=value(getattr(patient, "threshold_mm", None), "extent_mm"),
                           percent=value(getattr(patient, "threshold_percent", None), "extent_percent"))


@dataclass(frozen=True)
class VoidedRecord:
    kind: str  # what it was, e.g. "Surgery"
    on: date  # its date (start date of a course, study date)
    summary: str  # what it said, in a few words
    voided_at: datetime
    voided_by: str
    reason: str


# Voidable records (core.voiding): (model, label, date field, summary field).
VOIDED_KINDS = (
    (Surgery, "Surgery", "date", "procedure"),
    (NacCourse, "NAC course", "start_date", "regimen"),
    (Radiotherapy, "Radiotherapy", "start_date", "target"),
    (ClinicVisit, "Clinic visit", "date", "kind"),
    (ClinicalEvent, "Outcome event", "date", "kind"),
    (ImagingStudy, "Imaging study", "study_date", "modality"),
)


def voided_records(patient_id: int) -> list[VoidedRecord]:
    """The patient's voided records of every kind, newest void first, in one query (UNION)."""
    parts = [model.all_objects.voided().filter(patient_id=patient_id).order_by().values_list(
        Value(label, output_field=CharField()), F(on), Cast(F(summary), CharField()), "voided_at",
        Coalesce(F("voided_by__username"), Value(""), output_field=CharField()), "void_reason")
        for model, label, on, summary in VOIDED_KINDS]
    rows = parts[0].union(*parts[1:], all=True)
    return sorted((VoidedRecord(label, on, _DISPLAY[label].get(summary, summary), *rest)
                   for label, on, summary, *rest in rows), key=lambda r: r.voided_at, reverse=True)


_DISPLAY = {label: {str(k): str(v) for k, v in getattr(model._meta.get_field(summary), "flatchoices", ())}
            for model, label, _, summary in VOIDED_KINDS}
