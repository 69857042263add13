"""What a registry import leaves in the database, as plain JSON-able data.

Rows are described by natural keys (site + MRN, accession or date + modality) instead of
ids, uuids and timestamps, so two imports of the same file compare equal whichever way
they wrote their rows. The golden files in `golden/` were written by the original
importer (model instances, `full_clean` per row, `bulk_create`).
"""

import json
from pathlib import Path
from typing import Any

from django.db import models

from audit.models import Action, AuditEvent
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from outbox.models import Event
from patients.models import NacCourse, Pathology, Patient, Radiotherapy, Surgery, TumourProfile
from registry.importer import ImportReport

GOLDEN = Path(__file__).resolve().parent / "golden"
SKIPPED = {"id", "uuid", "created_at", "updated_at", "signed_at", "patient_id", "object_id"}
# An import voids nothing: the void fields (issue 16, added after the golden files were
# written) are empty on every imported row, and left out of the comparison.
VOID_FIELDS = {"voided_at", "voided_by", "voided_by_id", "void_reason"}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


def _study_key(study: ImagingStudy) -> list:
    return [study.patient.site.code, study.patient.mrn, study.accession,
            str(study.study_date), study.modality]


def _fields(obj: models.Model) -> dict:
    return {f.name: _plain(getattr(obj, f.attname)) for f in obj._meta.concrete_fields
            if f.name not in SKIPPED | VOID_FIELDS and not f.is_relation}


def _rows(model: type[models.Model], key) -> list[dict]:
    rows = []
    for obj in model.objects.all():
        row = _fields(obj)
        row["key"] = key(obj)
        rows.append(row)
    return sorted(rows, key=lambda r: json.dumps(r, sort_keys=True))


def database_contents() -> dict:
    """Every row an import writes (and the audit events), keyed naturally."""

    def patient(p: Patient) -> list:
        return [p.site.code, p.mrn]

    def signer(s: ImagingStudy) -> list:
        return [s.signed_by.username if s.signed_by else None, s.signed_at is not None,
                s.created_by.username if s.created_by else None]

    return {
        "patients": _rows(Patient, patient),
        "tumours": _rows(TumourProfile, lambda t: patient(t.patient)),
        "nac": _rows(NacCourse, lambda n: patient(n.patient)),
        "radiotherapy": _rows(Radiotherapy, lambda r: patient(r.patient)),
        "surgeries": _rows(Surgery, lambda s: patient(s.patient)),
        "pathology": _rows(Pathology, lambda p: [*patient(p.surgery.patient), str(p.surgery.date)]),
        "studies": _rows(ImagingStudy, lambda s: [*_study_key(s), *signer(s)]),
        "calcifications": _rows(CalcificationFinding, lambda c: _study_key(c.study)),
        "enhancements": _rows(EnhancementFinding, lambda e: _study_key(e.study)),
        "outbox": _rows(Event, lambda e: [*patient(Patient.objects.get(id=e.patient_id)),
                                          *(_study_key(ImagingStudy.objects.get(id=e.object_id))
                                            if e.object_id else [])]),
        "audit": sorted(
            ([e.action, e.object_type, e.actor_username,
              e.changes if e.action == Action.IMPORT else sorted(set(e.changes) - VOID_FIELDS)]
             # The import's events: not those of the accounts a test makes (its attesting
             # radiologists, their roles), which depend on what earlier tests left.
             for e in AuditEvent.objects.exclude(object_type__startswith="auth.")),
            key=lambda row: json.dumps(row, sort_keys=True)),
    }


def report_contents(report: ImportReport) -> dict:
    return {"rows": report.rows, "ok": report.ok, "written": report.written,
            "created": dict(sorted(report.created.items())),
            "present": dict(sorted(report.present.items())),
            "problems": [[p.row, p.column, p.message] for p in report.problems]}


def as_json(value: Any) -> Any:
    return json.loads(json.dumps(value))


def golden(name: str, actual: Any, write: bool = False) -> Any:
    """The golden value `name`; with `write`, (re)write it from `actual` first."""
    path = GOLDEN / f"{name}.json"
    if write:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(actual, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    return json.loads(path.read_text())
