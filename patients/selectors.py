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
from imaging.history import PatientHistory, history_of
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from surveillance.models import PatientPlan, ScheduledItem
from surveillance.selectors import PlanView, plan_view, unmatched_among
from tracker.jsonrows import CompiledAnnotations, JsonRows, RowSet

from .access import get_patient_for_user, patients_for
from .models import ClinicalEvent, ClinicVisit, NacCourse, Pathology, Patient, Radiotherapy, Surgery

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


# The list's computed columns, compiled once (tracker/jsonrows.py: Django's building and
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
    for token in q.split():
        qs = qs.filter(Q(family_name__icontains=token) | Q(given_name__icontains=token)
                       | Q(mrn__istartswith=token))
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
        from surveillance.selectors import overdue_items

        late = Exists(overdue_items(timezone.localdate()).filter(patient_id=OuterRef("pk")))
        qs = qs.filter(late if overdue else ~late)
    return qs.order_by(*PATIENT_SORTS.get(sort, PATIENT_SORTS["name"]))


# The rows of a patient's record, read as JSON arrays with the patient (tracker/jsonrows.py)
# instead of a prefetch per table.
STUDIES = JsonRows(ImagingStudy, order_by=("study_date", "id"))
CALCIFICATIONS = JsonRows(CalcificationFinding, order_by=("laterality", "group", "id"))
ENHANCEMENTS = JsonRows(EnhancementFinding, order_by=("laterality", "lesion", "id"))
SURGERIES = JsonRows(Surgery, order_by=("date", "id"), related=("pathology",))
RADIOTHERAPY = JsonRows(Radiotherapy, order_by=("start_date", "id"))
NAC_COURSES = JsonRows(NacCourse, order_by=("start_date", "id"))
VISITS = JsonRows(ClinicVisit, order_by=("-date", "-id"), related=("recorded_by",))
EVENTS = JsonRows(ClinicalEvent, order_by=("date", "id"))
# `details` (JSON) is not shown on the timeline; the alert's study is one of the studies.
OPEN_ALERTS = JsonRows(Alert, order_by=("-created_at", "-id"), defer=("details",))
PLAN = JsonRows(PatientPlan, order_by=("id",), related=("protocol",))
SCHEDULED_ITEMS = JsonRows(ScheduledItem, order_by=("due_date", "kind", "id"))  # study, visit: below

_MINE = Q(patient=OuterRef("pk"))
_HISTORY_KINDS = {
    "studies": (STUDIES, _MINE),
    "calcifications": (CALCIFICATIONS, Q(study__patient=OuterRef("pk"))),
    "enhancements": (ENHANCEMENTS, Q(study__patient=OuterRef("pk"))),
    "surgeries": (SURGERIES, _MINE),
    "radiotherapy": (RADIOTHERAPY, _MINE),
    "nac_courses": (NAC_COURSES, _MINE),
}
HISTORY_ROWS = RowSet(Patient, _HISTORY_KINDS)
TIMELINE_ROWS = RowSet(Patient, {
    **_HISTORY_KINDS,
    "visits": (VISITS, _MINE),
    "events": (EVENTS, _MINE),
    "open_alerts": (OPEN_ALERTS, _MINE & Q(state=AlertState.OPEN)),
    "plan": (PLAN, _MINE),
    "scheduled_items": (SCHEDULED_ITEMS, _MINE),
})


@dataclass(frozen=True)
class StudyRow:
    study: ImagingStudy
    calcifications: list[CalcificationFinding]
    enhancements: list[EnhancementFinding]


@dataclass(frozen=True)
class PatientRecords:
    """A patient's studies with their findings, and her treatment, in date order."""

    studies: list[StudyRow]
    surgeries: list[Surgery]  # with `pathology` loaded
    radiotherapy: list[Radiotherapy]
    nac_courses: list[NacCourse]

    def history(self, patient: Patient) -> PatientHistory:
        return history_of(
            patient, studies=[(r.study, r.calcifications, r.enhancements) for r in self.studies],
            surgeries=self.surgeries, radiotherapy=self.radiotherapy, nac_courses=self.nac_courses)


def _records(rows: dict[str, list]) -> PatientRecords:
    calcifications: dict[int, list] = {}
    for c in rows["calcifications"]:
        calcifications.setdefault(c.study_id, []).append(c)
    enhancements: dict[int, list] = {}
    for e in rows["enhancements"]:
        enhancements.setdefault(e.study_id, []).append(e)
    return PatientRecords(
        studies=[StudyRow(s, calcifications.get(s.id, []), enhancements.get(s.id, []))
                 for s in rows["studies"]],
        surgeries=rows["surgeries"], radiotherapy=rows["radiotherapy"], nac_courses=rows["nac_courses"],
    )


def with_records(queryset: QuerySet[Patient]) -> QuerySet[Patient]:
    """`queryset` with each patient's studies, findings and treatment rows (`patient_records`)."""
    return HISTORY_ROWS.annotate(queryset.select_related("tumour"))


def patient_records(patient: Patient, *, plain: bool = False) -> PatientRecords:
    """The records of a patient fetched through `with_records` (no query). `plain`: the rows
    as attribute objects with the same values, not model instances (cheaper; for values only,
    e.g. `history`)."""
    return _records(HISTORY_ROWS.read(patient, plain=plain))


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
    queryset = TIMELINE_ROWS.annotate(Patient.objects.select_related("site", "tumour"))
    patient = get_patient_for_user(user, uuid, queryset=queryset)
    rows = TIMELINE_ROWS.read(patient)
    records = _records(rows)
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
