"""Write `PatientPlan`s with bulk inserts, a chunk of patients at a time.

The column values come from `rows` (shared with the COPY writer, `fastwrite`), which
also computes the derived fields `save()` would. Call inside `transaction.atomic`: the
outbox rows must commit with their studies.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from imaging.vocabulary import StudyStatus
from outbox.models import Event
from outbox.services import event_write
from patients.models import (
    ClinicalEvent,
    ClinicVisit,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Surgery,
    TumourProfile,
)

from . import rows
from .plans import PatientPlan
from .rows import Target


@dataclass
class WriteStats:
    patients: int = 0
    studies: int = 0
    final_studies: int = 0
    findings: int = 0
    outbox: int = 0


def write_plans(
    items: Iterable[tuple[PatientPlan, Target]],
    *,
    chunk_size: int = 500,
    outbox: bool = False,
    validate: bool = False,
    on_patients: Callable[[int], None] | None = None,
) -> WriteStats:
    """Insert every plan; `outbox` writes one row per final study (via `event_write`).

    `validate` runs each model's `full_clean()` before inserting (the demo does; the
    large cohort relies on the plans being built from valid values and on tests).
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("write_plans must run inside transaction.atomic")
    stats = WriteStats()
    chunk: list[tuple[PatientPlan, Target]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= chunk_size:
            _write_chunk(chunk, stats, outbox=outbox, validate=validate)
            if on_patients:
                on_patients(len(chunk))
            chunk = []
    if chunk:
        _write_chunk(chunk, stats, outbox=outbox, validate=validate)
        if on_patients:
            on_patients(len(chunk))
    return stats


def _checked(objs: Sequence, validate: bool, exclude: Sequence[str] = ()) -> Sequence:
    if validate:
        for obj in objs:
            try:
                # Constraints are left to the database, which enforces them on insert;
                # validating them here costs a query each.
                obj.full_clean(exclude=list(exclude), validate_unique=False,
                               validate_constraints=False)
            except ValidationError as exc:
                # No str(obj): a patient's str() carries the name and MRN.
                raise ValidationError(f"{type(obj).__name__}: {exc.message_dict}") from exc
    return objs


def _write_chunk(chunk: list[tuple[PatientPlan, Target]], stats: WriteStats, *, outbox: bool,
                 validate: bool) -> None:
    patients = [Patient(**rows.patient(p, t)) for p, t in chunk]
    Patient.objects.bulk_create(_checked(patients, validate, ["site"]))
    stats.patients += len(patients)
    pairs = list(zip(patients, chunk, strict=True))

    TumourProfile.objects.bulk_create(_checked(
        [TumourProfile(patient=pt, **rows.tumour(p)) for pt, (p, _) in pairs], validate, ["patient"]))
    NacCourse.objects.bulk_create(_checked(
        [NacCourse(patient=pt, **n) for pt, (p, _) in pairs for n in p.nac], validate, ["patient"]))
    Radiotherapy.objects.bulk_create(_checked(
        [Radiotherapy(patient=pt, **r) for pt, (p, _) in pairs for r in p.radiotherapy], validate,
        ["patient"]))
    _write_surgery(pairs, validate)
    ClinicVisit.objects.bulk_create(_checked(
        [ClinicVisit(patient=pt, **v) for pt, (p, t) in pairs for v in rows.visits(p, t)], validate,
        ["patient", "recorded_by"]))
    ClinicalEvent.objects.bulk_create(_checked(
        [ClinicalEvent(patient=pt, **e) for pt, (p, _) in pairs for e in rows.events(p)], validate,
        ["patient"]))
    _write_studies(pairs, stats, outbox=outbox, validate=validate)


def _write_surgery(pairs: list, validate: bool) -> None:
    surgeries, paths = [], []
    for pt, (p, _) in pairs:
        if p.surgery is None:
            continue
        surgery = Surgery(patient=pt, **p.surgery)
        surgeries.append(surgery)
        if p.pathology is not None:
            paths.append(Pathology(surgery=surgery, **rows.pathology(p)))
    Surgery.objects.bulk_create(_checked(surgeries, validate, ["patient"]))
    for path in paths:
        path.surgery_id = path.surgery.pk  # the pk exists only now
    Pathology.objects.bulk_create(_checked(paths, validate, ["surgery"]))


def _write_studies(pairs: list, stats: WriteStats, *, outbox: bool, validate: bool) -> None:
    studies, plans = [], []
    for pt, (p, t) in pairs:
        for s in p.studies:
            studies.append(ImagingStudy(patient=pt, **rows.study(s, t)))
            plans.append(s)
    ImagingStudy.objects.bulk_create(_checked(studies, validate, ["created_by"]))
    pairs = list(zip(studies, plans, strict=True))
    calcs = [CalcificationFinding(study=st, **c) for st, s in pairs for c in rows.calcifications(s)]
    enhs = [EnhancementFinding(study=st, **e) for st, s in pairs for e in rows.enhancements(s)]
    CalcificationFinding.objects.bulk_create(_checked(calcs, validate, ["study"]))
    EnhancementFinding.objects.bulk_create(_checked(enhs, validate, ["study"]))
    final = [st for st in studies if st.status == StudyStatus.FINAL]
    stats.studies += len(studies)
    stats.final_studies += len(final)
    stats.findings += len(calcs) + len(enhs)
    if outbox:
        # One row per signed study, exactly as `study_finalize` writes it, so the alerts
        # worker's sweep evaluates every seeded patient.
        for st in final:
            event_write(kind=Event.Kind.STUDY_FINALIZED, patient_id=st.patient_id, object_id=st.id)
        stats.outbox += len(final)
