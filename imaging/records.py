"""A patient's studies with their findings, and her treatment, read with prefetches.

Used by the pages and the API that show a patient's whole record (clinic, api):
`with_records(queryset)` adds one prefetch per table (`Prefetch(to_attr=…)`, ordered by
the database), `patient_records(patient)` reads them back without a further query.
"""

from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from patients.models import NacCourse, Patient, Radiotherapy, Surgery

from .history import PatientHistory, history_of
from .models import CalcificationFinding, EnhancementFinding, ImagingStudy


def record_prefetches() -> list[Prefetch]:
    """The prefetches of `with_records`: six queries whatever the number of rows."""
    findings = [
        Prefetch("calcifications", to_attr="calcification_rows",
                 queryset=CalcificationFinding.objects.order_by("laterality", "group", "id")),
        Prefetch("enhancements", to_attr="enhancement_rows",
                 queryset=EnhancementFinding.objects.order_by("laterality", "lesion", "id")),
    ]
    return [
        Prefetch("studies", to_attr="study_rows",
                 queryset=ImagingStudy.objects.order_by("study_date", "id").prefetch_related(*findings)),
        Prefetch("surgeries", to_attr="surgery_rows",
                 queryset=Surgery.objects.select_related("pathology").order_by("date", "id")),
        Prefetch("radiotherapy", to_attr="radiotherapy_rows",
                 queryset=Radiotherapy.objects.order_by("start_date", "id")),
        Prefetch("nac_courses", to_attr="nac_course_rows",
                 queryset=NacCourse.objects.order_by("start_date", "id")),
    ]


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


def with_records(queryset: QuerySet[Patient]) -> QuerySet[Patient]:
    """`queryset` with each patient's tumour, studies, findings and treatment rows
    (`patient_records`): 1 + 6 queries."""
    return queryset.select_related("tumour").prefetch_related(*record_prefetches())


def prefetched(obj: object, to_attr: str) -> list:
    """The rows a `Prefetch(to_attr=…)` put on `obj`."""
    return getattr(obj, to_attr)


def patient_records(patient: Patient) -> PatientRecords:
    """The records of a patient fetched through `with_records` (no query)."""
    return PatientRecords(
        studies=[StudyRow(s, prefetched(s, "calcification_rows"), prefetched(s, "enhancement_rows"))
                 for s in prefetched(patient, "study_rows")],
        surgeries=prefetched(patient, "surgery_rows"),
        radiotherapy=prefetched(patient, "radiotherapy_rows"),
        nac_courses=prefetched(patient, "nac_course_rows"),
    )
