"""A patient's studies with their findings, and her treatment, read in one query.

Used by the pages and the API that show a patient's whole record (clinic, api): the rows
of each table arrive as JSON arrays beside the patient (`core.jsonrows`) instead of a
prefetch per table.
"""

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet

from core.jsonrows import JsonRows, RowSet
from patients.models import NacCourse, Patient, Radiotherapy, Surgery

from .history import PatientHistory, history_of
from .models import CalcificationFinding, EnhancementFinding, ImagingStudy

# The rows of a patient's record, read as JSON arrays with the patient (core/jsonrows.py)
# instead of a prefetch per table.
STUDIES = JsonRows(ImagingStudy, order_by=("study_date", "id"))
CALCIFICATIONS = JsonRows(CalcificationFinding, order_by=("laterality", "group", "id"))
ENHANCEMENTS = JsonRows(EnhancementFinding, order_by=("laterality", "lesion", "id"))
SURGERIES = JsonRows(Surgery, order_by=("date", "id"), related=("pathology",))
RADIOTHERAPY = JsonRows(Radiotherapy, order_by=("start_date", "id"))
NAC_COURSES = JsonRows(NacCourse, order_by=("start_date", "id"))

MINE = Q(patient=OuterRef("pk"))
HISTORY_KINDS = {
    "studies": (STUDIES, MINE),
    "calcifications": (CALCIFICATIONS, Q(study__patient=OuterRef("pk"))),
    "enhancements": (ENHANCEMENTS, Q(study__patient=OuterRef("pk"))),
    "surgeries": (SURGERIES, MINE),
    "radiotherapy": (RADIOTHERAPY, MINE),
    "nac_courses": (NAC_COURSES, MINE),
}
HISTORY_ROWS = RowSet(Patient, HISTORY_KINDS)


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


def records_from_rows(rows: dict[str, list]) -> PatientRecords:
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
    return records_from_rows(HISTORY_ROWS.read(patient, plain=plain))
