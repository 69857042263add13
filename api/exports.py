"""CSV exports: a filtered patient list and one patient's findings.

Cells that a spreadsheet would run as a formula (=, +, -, @ at the start of text)
are prefixed with a quote (OWASP CSV injection).
"""

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, Max, QuerySet
from django.http import HttpResponse

from imaging.models import CalcificationFinding, EnhancementFinding
from patients.models import Patient

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


def _patient_row(p: Patient) -> dict:
    tumour = getattr(p, "tumour", None)
    surgeries = list(p.surgeries.all())
    surgery = surgeries[0] if surgeries else None
    pathology = getattr(surgery, "pathology", None) if surgery else None
    return {
        "uuid": p.uuid, "site": p.site.code, "mrn": p.mrn, "given_name": p.given_name,
        "family_name": p.family_name, "date_of_birth": p.date_of_birth,
        "follow_up_status": p.follow_up_status,
        "laterality": tumour.laterality if tumour else "",
        "diagnosis_date": tumour.diagnosis_date if tumour else "",
        "histology": tumour.histology if tumour else "",
        "grade": tumour.grade if tumour else "",
        "subtype": tumour.subtype if tumour else "",
        "surgery_date": surgery.date if surgery else "",
        "surgery_procedure": surgery.procedure if surgery else "",
        "pcr": ("yes" if pathology.pcr else "no") if pathology else "",
        "studies": p.study_count, "last_study_date": p.last_study_date,
    }


def patients_csv(patients: QuerySet[Patient]) -> HttpResponse:
    """One row per patient of the (already scoped and filtered) queryset."""
    rows = patients.annotate(study_count=Count("studies", distinct=True),
                             last_study_date=Max("studies__study_date"))
    return _csv_response("patients.csv", PATIENT_COLUMNS, (_patient_row(p) for p in rows))


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
