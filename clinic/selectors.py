"""Reads for the clinic pages: the patient list and the patient timeline.

Each selector runs a fixed number of queries whatever the number of patients or studies.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert, AlertState
from core.jsonrows import CompiledAnnotations, JsonRows, RowSet
from imaging.history import PatientHistory
from imaging.models import ImagingStudy
from imaging.records import HISTORY_KINDS, MINE, StudyRow, records_from_rows
from patients.access import get_patient_for_user, patients_for
from patients.models import ClinicalEvent, ClinicVisit, Pathology, Patient
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


# The list's computed columns, compiled once (core/jsonrows.py: Django's building and
# compiling of the three subqueries took longer than running the page's query).
LIST_COLUMNS = CompiledAnnotations(Patient, _list_columns)


def patient_list(*, user: AbstractBaseUser, q: str = "", site: int | None = None,
                 follow_up_status: str = "", subtype: str = "", pcr: str = "",
                 has_open_alert: bool | None = None, overdue: bool | None = None,
                 sort: str = "name") -> QuerySet[Patient]:
    """The user's patients, filtered and sorted, with the columns of the list annotated.

    `pcr` is "yes", "no" or "unknown" (no pathology recorded yet).
    """
    qs = LIST_COLUMNS.annotate(patients_for(user).select_related("site", "tumour"))
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


VISITS = JsonRows(ClinicVisit, order_by=("-date", "-id"), related=("recorded_by",))
EVENTS = JsonRows(ClinicalEvent, order_by=("date", "id"))
# `details` (JSON) is not shown on the timeline; the alert's study is one of the studies.
OPEN_ALERTS = JsonRows(Alert, order_by=("-created_at", "-id"), defer=("details",))
PLAN = JsonRows(PatientPlan, order_by=("id",), related=("protocol",))
SCHEDULED_ITEMS = JsonRows(ScheduledItem, order_by=("due_date", "kind", "id"))  # study, visit: below

TIMELINE_ROWS = RowSet(Patient, {
    **HISTORY_KINDS,
    "visits": (VISITS, MINE),
    "events": (EVENTS, MINE),
    "open_alerts": (OPEN_ALERTS, MINE & Q(state=AlertState.OPEN)),
    "plan": (PLAN, MINE),
    "scheduled_items": (SCHEDULED_ITEMS, MINE),
})


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
    scheduled_items: list[ScheduledItem]  # by due date, with their study and visit

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


def _link(objects: list, field: str, targets: dict[int, object]) -> None:
    """Cache each object's `field` (a foreign key) from `targets`, rows already read; one
    not among them (none expected) is left to load on access."""
    cache = objects[0]._meta.get_field(field) if objects else None
    for obj in objects:
        target_id = getattr(obj, f"{field}_id")
        if target_id is None or target_id in targets:
            cache.set_cached_value(obj, targets.get(target_id))


def patient_timeline(*, user: AbstractBaseUser, uuid: UUID | str) -> Timeline:
    """The patient (404 outside the user's sites) with her whole history, open alerts and
    surveillance plan, in one query (every related row as JSON: `TIMELINE_ROWS`)."""
    queryset = TIMELINE_ROWS.annotate(Patient.objects.select_related("site", "tumour", "contact"))
    patient = get_patient_for_user(user, uuid, queryset=queryset)
    rows = TIMELINE_ROWS.read(patient)
    records = records_from_rows(rows)
    studies = {r.study.id: r.study for r in records.studies}
    _link(rows["open_alerts"], "study", studies)
    _link(rows["scheduled_items"], "study", studies)
    _link(rows["scheduled_items"], "visit", {v.id: v for v in rows["visits"]})
    return Timeline(
        patient=patient,
        history=records.history(patient),
        studies=records.studies[::-1],
        open_alerts=rows["open_alerts"],
        surgeries=records.surgeries,
        nac_courses=records.nac_courses,
        radiotherapy=records.radiotherapy,
        visits=rows["visits"],
        events=rows["events"],
        plan=rows["plan"][0] if rows["plan"] else None,
        scheduled_items=rows["scheduled_items"],
    )
