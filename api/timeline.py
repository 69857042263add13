"""The burden series the patient chart plots, as plain JSON-ready values.

Computed from `imaging.history` and `imaging.burden` (not from the chart code), so the
API and the chart agree by construction: extent per breast over final mammograms,
the post-treatment part of it, the nadir, and the MRI lesions per final MRI.
"""

from dataclasses import asdict
from uuid import UUID

from imaging.burden import Burden, burden_series, nadir, post_treatment_series
from imaging.history import PatientHistory
from imaging.records import patient_records
from patients.models import Patient
from patients.vocabulary import Breast


def _point(b: Burden, uuids: dict[int, UUID], post_ids: set[int]) -> dict:
    return {
        "study": uuids[b.study_id], "study_date": b.study_date, "extent_mm": float(b.extent_mm),
        "groups": b.groups, "count_bin": b.count_bin, "morphology_rank": b.morphology_rank,
        "distribution_rank": b.distribution_rank, "birads": b.birads,
        "changes": list(b.changes), "post_treatment": b.study_id in post_ids,
    }


def _treatments(history: PatientHistory) -> list[dict]:
    marks = [("nac_start", history.nac_start_date), ("nac_end", history.nac_end_date),
             ("surgery", history.surgery_date), ("radiotherapy_end", history.rt_end_date)]
    return [{"kind": kind, "date": day} for kind, day in marks if day]


def patient_timeline(patient: Patient) -> dict:
    """Burden series per breast, nadir since the post-treatment baseline, MRI lesions.

    In the shape and types of `TimelineSerializer` (floats, ISO dates and UUIDs once
    rendered). `patient` comes from `imaging.records.with_records` (its rows prefetched).
    """
    records = patient_records(patient)
    history = records.history(patient)
    uuids = {row.study.id: row.study.uuid for row in records.studies}
    breasts = []
    for breast in Breast.values:
        series = burden_series(history, breast)
        post = post_treatment_series(history, breast, series)
        post_ids = {b.study_id for b in post}
        low = nadir(post)
        breasts.append({
            "breast": breast,
            "series": [_point(b, uuids, post_ids) for b in series],
            "nadir": _point(low, uuids, post_ids) if low else None,
        })
    mri = [
        {"study": uuids[s.id], "study_date": s.study_date, "laterality": s.laterality,
         "birads": s.birads, "no_enhancement": s.no_enhancement,
         "lesions": [asdict(lesion) for lesion in s.enhancements]}
        for s in history.mris()
    ]
    return {"patient": patient.uuid, "treatment_end": history.treatment_end,
            "treatments": _treatments(history), "breasts": breasts, "mri": mri}
