"""Reads for the clinic pages: the patient list and the patient timeline.

Each selector runs a fixed number of queries whatever the number of patients or studies.
"""

from dataclasses import dataclass
from uuid import UUID

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from alerts.models import Alert, AlertState
from imaging.history import PatientHistory, history_from_patient, history_prefetches
from imaging.models import ImagingStudy

from .access import get_patient_for_user, patients_for
from .models import ClinicVisit, Pathology, Patient, Surgery

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


def patient_list(*, user: AbstractBaseUser, q: str = "", site: int | None = None,
                 follow_up_status: str = "", subtype: str = "", pcr: str = "",
                 has_open_alert: bool | None = None, overdue: bool | None = None,
                 sort: str = "name") -> QuerySet[Patient]:
    """The user's patients, filtered and sorted, with the columns of the list annotated.

    `pcr` is "yes", "no" or "unknown" (no pathology recorded yet).
    """
    # Correlated subqueries, not joins: joining alerts and studies would multiply rows.
    first_pcr = Pathology.objects.filter(surgery__patient=OuterRef("pk")).order_by(
        "surgery__date", "surgery__id").values("pcr")[:1]
    open_alerts = (Alert.objects.filter(patient=OuterRef("pk"), state=AlertState.OPEN)
                   .values("patient").annotate(n=Count("id")).values("n"))
    last_study = (ImagingStudy.objects.filter(patient=OuterRef("pk"))
                  .order_by("-study_date").values("study_date")[:1])
    qs = (
        patients_for(user)
        .select_related("site", "tumour")
        .annotate(
            open_alerts=Coalesce(Subquery(open_alerts, output_field=IntegerField()), Value(0)),
            last_study_date=Subquery(last_study),
            pcr_value=Subquery(first_pcr),
        )
    )
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


@dataclass(frozen=True)
class Timeline:
    """Everything the timeline page shows, loaded in a fixed number of queries."""

    patient: Patient
    history: PatientHistory
    studies: list  # ImagingStudy rows with findings, newest first
    open_alerts: list  # Alert rows
    surgeries: list
    nac_courses: list
    radiotherapy: list
    visits: list
    events: list

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


def patient_timeline(*, user: AbstractBaseUser, uuid: UUID | str) -> Timeline:
    """The patient (404 outside the user's sites) with her whole history."""
    # Pathology and the visit's author joined into their prefetches: two queries fewer.
    prefetches = [p for p in history_prefetches() if p != "surgeries"]
    queryset = Patient.objects.select_related("site", "tumour").prefetch_related(
        *prefetches, Prefetch("surgeries", queryset=Surgery.objects.select_related("pathology")),
        Prefetch("visits", queryset=ClinicVisit.objects.select_related("recorded_by")), "events",
    )
    patient = get_patient_for_user(user, uuid, queryset=queryset)
    alerts = list(
        Alert.objects.filter(patient=patient, state=AlertState.OPEN)
        .select_related("study").order_by("-created_at")
    )
    return Timeline(
        patient=patient,
        history=history_from_patient(patient),
        studies=list(reversed(patient.studies.all())),
        open_alerts=alerts,
        surgeries=list(patient.surgeries.all()),
        nac_courses=list(patient.nac_courses.all()),
        radiotherapy=list(patient.radiotherapy.all()),
        visits=list(reversed(patient.visits.all())),
        events=list(patient.events.all()),
    )
