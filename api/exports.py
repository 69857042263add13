"""CSV exports: a filtered patient list and one patient's findings.

Cells that a spreadsheet would run as a formula (=, +, -, @ at the start of text)
are prefixed with a quote (OWASP CSV injection).
"""

import csv
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpResponse, StreamingHttpResponse

from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from patients.models import Patient, Surgery

PATIENT_COLUMNS = (
    "uuid", "site", "mrn", "given_name", "family_name", "date_of_birth", "follow_up_status",
    "laterality", "diagnosis_date", "histology", "grade", "subtype", "surgery_date",
    "surgery_procedure", "pcr", "studies", "last_study_date",
)
FINDING_COLUMNS = (
    "study", "study_date", "modality", "accession", "status", "birads", "finding",
    "laterality", "label", "morphology", "distribution", "extent_mm", "count", "count_bin",
    "lesion_type", "size_mm", "kinetics_initial", "kinetics_delayed", "quadrant", "clock",
    "depth", "nipple_distance_mm", "inside_tumor_bed", "clip_present", "observed_change",
)


def _safe(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _csv_response(filename: str, columns: Sequence[str], rows: Iterable[dict]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_safe(row.get(c)) for c in columns])
    return response


class _Line:
    """A file-like object whose `write` returns the line: csv.writer writes one row to it."""

    def write(self, value: str) -> str:
        return value


def _csv_stream(filename: str, columns: Sequence[str], rows: Iterable[dict]) -> StreamingHttpResponse:
    writer = csv.writer(_Line())
    lines = itertools.chain([writer.writerow(columns)],
                            (writer.writerow([_safe(row.get(c)) for c in columns]) for row in rows))
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _first_surgery(column: str) -> Subquery:
    # The earliest surgery, as the patient's surgeries are ordered (Surgery.Meta.ordering).
    return Subquery(Surgery.objects.filter(patient=OuterRef("pk")).order_by("date", "id")
                    .values(column)[:1])


# Every column of the export from one query: the patient, her site and tumour joined, the
# first surgery and its pathology and the study counts as subqueries.
_PATIENT_VALUES = {
    "site_code": F("site__code"), "laterality": F("tumour__laterality"),
    "diagnosis_date": F("tumour__diagnosis_date"), "histology": F("tumour__histology"),
    "grade": F("tumour__grade"), "subtype": F("tumour__subtype"),
}


def _patient_rows(patients: QuerySet[Patient]) -> Iterator[dict]:
    studies = ImagingStudy.objects.filter(patient=OuterRef("pk"))
    rows = (
        patients.prefetch_related(None)
        .annotate(
            surgery_date=_first_surgery("date"), surgery_procedure=_first_surgery("procedure"),
            first_pcr=_first_surgery("pathology__pcr"),  # NULL: no surgery or no pathology
            study_count=Coalesce(Subquery(studies.values("patient").annotate(n=Count("id")).values("n")),
                             Value(0)),
            last_study_date=Subquery(studies.order_by("-study_date").values("study_date")[:1]),
        )
        .order_by("family_name", "given_name", "id")
        .values("uuid", "mrn", "given_name", "family_name", "date_of_birth", "follow_up_status",
                "surgery_date", "surgery_procedure", "first_pcr", "study_count",
                "last_study_date", **_PATIENT_VALUES)
    )
    for row in rows.iterator(chunk_size=2000):
        row["pcr"] = "" if row["first_pcr"] is None else ("yes" if row["first_pcr"] else "no")
        row["studies"], row["site"] = row["study_count"], row["site_code"]
        yield row


def patients_csv(patients: QuerySet[Patient]) -> StreamingHttpResponse:
    """One row per patient of the (already scoped and filtered) queryset, streamed from one
    query: 100,000 patients never sit in memory, nor cost a query each."""
    return _csv_stream("patients.csv", PATIENT_COLUMNS, _patient_rows(patients))


def _finding_rows(patient: Patient) -> list[dict]:
    rows = []
    calcs = CalcificationFinding.objects.filter(study__patient=patient).select_related("study")
    for c in calcs:
        rows.append({"finding": "calcification", "label": c.group, "morphology": c.morphology,
                     "distribution": c.distribution, "extent_mm": c.extent_mm,
                     "count": c.count, "count_bin": c.count_bin,
                     "inside_tumor_bed": c.inside_tumor_bed, "clip_present": c.clip_present,
                     **_common(c)})
    enhs = EnhancementFinding.objects.filter(study__patient=patient).select_related("study")
    for e in enhs:
        rows.append({"finding": "enhancement", "label": e.lesion, "lesion_type": e.lesion_type,
                     "size_mm": e.size_mm, "kinetics_initial": e.kinetics_initial,
                     "kinetics_delayed": e.kinetics_delayed, **_common(e)})
    rows.sort(key=lambda r: (r["study_date"], r["study"], r["finding"], r["laterality"],
                             r["label"]))
    return rows


def _common(f) -> dict:
    s = f.study
    return {"study": str(s.uuid), "study_date": s.study_date, "modality": s.modality,
            "accession": s.accession, "status": s.status, "birads": s.birads,
            "laterality": f.laterality, "quadrant": f.quadrant, "clock": f.clock,
            "depth": f.depth, "nipple_distance_mm": f.nipple_distance_mm,
            "observed_change": f.observed_change}


def findings_csv(patient: Patient) -> HttpResponse:
    # The file name carries the UUID, never the MRN or name.
    return _csv_response(f"findings-{patient.uuid}.csv", FINDING_COLUMNS, _finding_rows(patient))
