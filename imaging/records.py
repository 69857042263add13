"""A patient's studies with their findings, and her treatment, read with prefetches.

Used by the pages and the API that show a patient's whole record (clinic, api):
`with_records(queryset)` adds one prefetch per table (`Prefetch(to_attr=…)`, ordered by
the database), `patient_records(patient)` reads them back without a further query.

The prefetches read voided rows too (`all_objects`), and `patient_records` sets them apart:
what it gives holds the active rows only, and says whether any were voided. Asking that of
the database instead (six EXISTS in the patient's query, one per voidable table) cost the
timeline page ~3.6 ms of CPU per request at 100,000 patients; voided rows are few.
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
    # Voided rows included (module docstring): `patient_records` sets them apart.
    return [
        Prefetch("studies", to_attr="study_rows_and_voided",
                 queryset=ImagingStudy.all_objects.order_by("study_date", "id").prefetch_related(*findings)),
        Prefetch("surgeries", to_attr="surgery_rows_and_voided",
                 queryset=Surgery.all_objects.select_related("pathology").order_by("date", "id")),
        Prefetch("radiotherapy", to_attr="radiotherapy_rows_and_voided",
                 queryset=Radiotherapy.all_objects.order_by("start_date", "id")),
        Prefetch("nac_courses", to_attr="nac_course_rows_and_voided",
                 queryset=NacCourse.all_objects.order_by("start_date", "id")),
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
    has_voided: bool  # whether any of them was voided (left out of the lists above)

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


def active(rows: list) -> tuple[list, bool]:
    """`rows` (voidable, voided ones included) without the voided; and whether any was."""
    kept = [row for row in rows if row.voided_at is None]
    return kept, len(kept) != len(rows)


def patient_records(patient: Patient) -> PatientRecords:
    """The active records of a patient fetched through `with_records` (no query)."""
    studies, voided_study = active(prefetched(patient, "study_rows_and_voided"))
    surgeries, voided_surgery = active(prefetched(patient, "surgery_rows_and_voided"))
    radiotherapy, voided_rt = active(prefetched(patient, "radiotherapy_rows_and_voided"))
    nac_courses, voided_nac = active(prefetched(patient, "nac_course_rows_and_voided"))
    return PatientRecords(
        studies=[StudyRow(s, prefetched(s, "calcification_rows"), prefetched(s, "enhancement_rows"))
                 for s in studies],
        surgeries=surgeries, radiotherapy=radiotherapy, nac_courses=nac_courses,
        has_voided=voided_study or voided_surgery or voided_rt or voided_nac,
    )
