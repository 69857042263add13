"""Write `PatientPlan`s with bulk inserts, a chunk of patients at a time.

bulk_create skips `save()`, so the two derived fields (`TumourProfile.subtype`,
`Pathology.pcr`) are computed here with the same functions `save()` uses.
Call inside `transaction.atomic`: the outbox rows must commit with their studies.
"""

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from alerts.models import Outbox
from alerts.outbox import outbox_write
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from imaging.vocabulary import StudyStatus

from ..models import (
    ClinicalEvent,
    ClinicVisit,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Surgery,
    TumourProfile,
)
from ..vocabulary import derive_subtype, is_pcr
from .plans import PatientPlan, StudyPlan


@dataclass
class Target:
    """Where a plan goes: its site, who signs its final studies, who entered them."""

    site_id: int
    signer_id: int
    created_by_id: int | None = None


@dataclass
class WriteStats:
    patients: int = 0
    studies: int = 0
    final_studies: int = 0
    findings: int = 0
    outbox: int = 0


def _dec(value: float | None) -> Decimal | None:
    """Plans hold floats; decimal fields want the value as written (16.5, not 16.4999…)."""
    return None if value is None else Decimal(str(value))


def _decimals(values: dict, *names: str) -> dict:
    return {**values, **{n: _dec(values[n]) for n in names if n in values}}


def _signed_at(d: date) -> datetime:
    # Reports are signed the working day after the exam, mid-afternoon local time.
    return timezone.make_aware(datetime.combine(d, time(15, 30)))


def write_plans(
    items: Iterable[tuple[PatientPlan, Target]],
    *,
    chunk_size: int = 500,
    outbox: bool = False,
    validate: bool = False,
    on_patients: Callable[[int], None] | None = None,
) -> WriteStats:
    """Insert every plan; `outbox` writes one row per final study (via `outbox_write`).

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
    patients = [
        Patient(site_id=t.site_id, mrn=p.mrn, given_name=p.given_name, family_name=p.family_name,
                date_of_birth=p.date_of_birth, follow_up_status=p.follow_up_status,
                pathogenic_variant=p.pathogenic_variant,
                chest_radiation_before_30=p.chest_radiation_before_30,
                lifetime_risk_percent=_dec(p.lifetime_risk_percent), notes=p.notes)
        for p, t in chunk
    ]
    Patient.objects.bulk_create(_checked(patients, validate, ["site"]))
    stats.patients += len(patients)
    pairs = list(zip(patients, chunk, strict=True))

    tumours = [TumourProfile(patient=pt, **p.tumour) for pt, (p, _) in pairs]
    for tumour in tumours:
        tumour.subtype = derive_subtype(tumour.er_percent, tumour.pr_percent, tumour.her2_ihc,
                                        tumour.her2_ish)
    TumourProfile.objects.bulk_create(_checked(tumours, validate, ["patient"]))
    NacCourse.objects.bulk_create(_checked(
        [NacCourse(patient=pt, **n) for pt, (p, _) in pairs for n in p.nac], validate, ["patient"]))
    Radiotherapy.objects.bulk_create(_checked(
        [Radiotherapy(patient=pt, **r) for pt, (p, _) in pairs for r in p.radiotherapy], validate,
        ["patient"]))
    _write_surgery(pairs, validate)
    ClinicVisit.objects.bulk_create(_checked(
        [ClinicVisit(patient=pt, date=d, kind=kind, findings=text, recorded_by_id=t.created_by_id)
         for pt, (p, t) in pairs for d, kind, text in p.visits], validate, ["patient", "recorded_by"]))
    ClinicalEvent.objects.bulk_create(_checked(
        [ClinicalEvent(patient=pt, date=d, kind=kind, notes=text)
         for pt, (p, _) in pairs for d, kind, text in p.events], validate, ["patient"]))
    _write_studies(pairs, stats, outbox=outbox, validate=validate)


def _write_surgery(pairs: list, validate: bool) -> None:
    surgeries, paths = [], []
    for pt, (p, _) in pairs:
        if p.surgery is None:
            continue
        surgery = Surgery(patient=pt, **p.surgery)
        surgeries.append(surgery)
        if p.pathology is not None:
            path = Pathology(surgery=surgery, **_decimals(p.pathology, "rcb_index"))
            path.pcr = bool(is_pcr(path.ypt, path.ypn, path.pcr_definition))
            paths.append(path)
    Surgery.objects.bulk_create(_checked(surgeries, validate, ["patient"]))
    for path in paths:
        path.surgery_id = path.surgery.pk  # the pk exists only now
    Pathology.objects.bulk_create(_checked(paths, validate, ["surgery"]))


def _study(pt: Patient, s: StudyPlan, t: Target) -> ImagingStudy:
    final = s.final
    return ImagingStudy(
        patient=pt, study_date=s.study_date, modality=s.modality, phase=s.phase,
        laterality=s.laterality, birads=s.birads, breast_composition=s.breast_composition, bpe=s.bpe,
        no_enhancement=s.no_enhancement, report_text=s.report_text,
        status=StudyStatus.FINAL if final else StudyStatus.DRAFT,
        signed_by_id=t.signer_id if final else None,
        signed_at=_signed_at(s.study_date) if final else None,
        created_by_id=t.created_by_id,
    )


def _write_studies(pairs: list, stats: WriteStats, *, outbox: bool, validate: bool) -> None:
    studies, plans = [], []
    for pt, (p, t) in pairs:
        for s in p.studies:
            studies.append(_study(pt, s, t))
            plans.append(s)
    ImagingStudy.objects.bulk_create(_checked(studies, validate, ["created_by"]))
    pairs = list(zip(studies, plans, strict=True))
    calcs = [CalcificationFinding(study=st, **_decimals(vars(c), "extent_mm", "nipple_distance_mm"))
             for st, s in pairs for c in s.calcs]
    enhs = [EnhancementFinding(study=st, **_decimals(vars(e), "size_mm")) for st, s in pairs for e in s.enhs]
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
            outbox_write(patient_id=st.patient_id, study_id=st.id, kind=Outbox.Kind.STUDY_FINALIZED)
        stats.outbox += len(final)
