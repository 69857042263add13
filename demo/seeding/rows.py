"""Column values of each seeded row, shared by both writers.

`writer.write_plans` turns these into model instances for `bulk_create`; `fastwrite`
turns them into raw rows for COPY. Keeping the values in one place is what makes the two
writers store the same thing (tests/patients/test_seed_cohort.py compares them).

Each function returns the row's values by attribute name, without the foreign key to
its parent: the ORM writer passes the parent instance, the raw writer its reserved id.
bulk_create and COPY skip `save()`, so the derived fields (`TumourProfile.subtype`,
`Pathology.pcr`) are computed here with the same functions `save()` uses.
"""

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone

from imaging.vocabulary import StudyStatus
from patients.vocabulary import derive_subtype, is_pcr

from .plans import PatientPlan, StudyPlan


@dataclass
class Target:
    """Where a plan goes: its site, who signs its final studies, who entered them."""

    site_id: int
    signer_id: int
    created_by_id: int | None = None


def dec(value: float | None) -> Decimal | None:
    """Plans hold floats; decimal fields want the value as written (16.5, not 16.4999…)."""
    return None if value is None else Decimal(str(value))


def signed_at(d: date) -> datetime:
    # Reports are signed the working day after the exam, mid-afternoon local time.
    return timezone.make_aware(datetime.combine(d, time(15, 30)))


def patient(p: PatientPlan, t: Target) -> dict:
    return dict(site_id=t.site_id, mrn=p.mrn, given_name=p.given_name, family_name=p.family_name,
                date_of_birth=p.date_of_birth, follow_up_status=p.follow_up_status,
                pathogenic_variant=p.pathogenic_variant,
                chest_radiation_before_30=p.chest_radiation_before_30,
                lifetime_risk_percent=dec(p.lifetime_risk_percent), notes=p.notes)


def tumour(p: PatientPlan) -> dict:
    tu = p.tumour
    return dict(tu, subtype=derive_subtype(tu["er_percent"], tu["pr_percent"], tu["her2_ihc"],
                                           tu["her2_ish"]))


def pathology(p: PatientPlan) -> dict:
    pa = p.pathology
    return dict(pa, rcb_index=dec(pa["rcb_index"]),
                pcr=bool(is_pcr(pa["ypt"], pa["ypn"], pa["pcr_definition"])))


def visits(p: PatientPlan, t: Target) -> list[dict]:
    return [dict(date=d, kind=kind, findings=text, recorded_by_id=t.created_by_id)
            for d, kind, text in p.visits]


def events(p: PatientPlan) -> list[dict]:
    return [dict(date=d, kind=kind, notes=text) for d, kind, text in p.events]


def study(s: StudyPlan, t: Target) -> dict:
    final = s.final
    return dict(
        study_date=s.study_date, modality=s.modality, phase=s.phase, laterality=s.laterality,
        birads=s.birads, breast_composition=s.breast_composition, bpe=s.bpe,
        no_enhancement=s.no_enhancement, report_text=s.report_text,
        status=StudyStatus.FINAL if final else StudyStatus.DRAFT,
        signed_by_id=t.signer_id if final else None,
        signed_at=signed_at(s.study_date) if final else None,
        created_by_id=t.created_by_id,
    )


def calcifications(s: StudyPlan) -> list[dict]:
    return [dict(vars(c), extent_mm=dec(c.extent_mm), nipple_distance_mm=dec(c.nipple_distance_mm))
            for c in s.calcs]


def enhancements(s: StudyPlan) -> list[dict]:
    return [dict(vars(e), size_mm=dec(e.size_mm)) for e in s.enhs]
