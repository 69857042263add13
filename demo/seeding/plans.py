"""Plain values describing a patient's whole record before it is written.

The demo roster and the synthetic cohort both produce `PatientPlan`s; `writer.write_plans`
turns any number of them into rows with bulk inserts. Keeping the plans free of the ORM
lets the timeline logic be read (and tested) as ordinary data.
"""

from dataclasses import dataclass, field
from datetime import date

from imaging import vocabulary as iv

# Clock face of each quadrant, per breast, as seen facing the patient.
_CLOCKS = {
    "right": {"UOQ": 10, "UIQ": 1, "LIQ": 4, "LOQ": 7, "axillary_tail": 10},
    "left": {"UOQ": 2, "UIQ": 10, "LIQ": 8, "LOQ": 4, "axillary_tail": 2},
}


def clock_for(breast: str, quadrant: str) -> int | None:
    """A clock position consistent with the quadrant; central (retroareolar) has none."""
    return _CLOCKS[breast].get(quadrant)


def other_breast(breast: str) -> str:
    return "right" if breast == "left" else "left"


@dataclass
class CalcPlan:
    group: str
    laterality: str
    morphology: str
    distribution: str
    extent_mm: float
    count_bin: str
    count: int | None = None
    quadrant: str = ""
    clock: int | None = None
    depth: str = ""
    nipple_distance_mm: float | None = None
    inside_tumor_bed: bool = True
    clip_present: bool = False
    observed_change: str = ""


@dataclass
class EnhPlan:
    lesion: str
    laterality: str
    lesion_type: str
    size_mm: float | None = None
    mass_shape: str = ""
    mass_margin: str = ""
    nme_distribution: str = ""
    nme_pattern: str = ""
    kinetics_initial: str = ""
    kinetics_delayed: str = ""
    quadrant: str = ""
    clock: int | None = None
    depth: str = ""
    observed_change: str = ""


@dataclass
class StudyPlan:
    study_date: date
    modality: str
    phase: str
    laterality: str = "bilateral"
    birads: str = ""
    breast_composition: str = ""
    bpe: str = ""
    no_enhancement: bool = False
    final: bool = True
    report_text: str = ""
    calcs: list[CalcPlan] = field(default_factory=list)
    enhs: list[EnhPlan] = field(default_factory=list)


@dataclass
class PatientPlan:
    """Everything recorded about one patient. Dicts hold model field values."""

    mrn: str
    given_name: str
    family_name: str
    date_of_birth: date
    tumour: dict
    follow_up_status: str = "active"
    pathogenic_variant: bool = False
    chest_radiation_before_30: bool = False
    lifetime_risk_percent: float | None = None
    notes: str = ""
    nac: list[dict] = field(default_factory=list)
    surgery: dict | None = None
    pathology: dict | None = None
    radiotherapy: list[dict] = field(default_factory=list)
    studies: list[StudyPlan] = field(default_factory=list)
    visits: list[tuple[date, str, str]] = field(default_factory=list)  # (date, kind, findings)
    events: list[tuple[date, str, str]] = field(default_factory=list)  # (date, kind, notes)


def describe_study(study: StudyPlan) -> str:
    """A short report text generated from the structured findings."""
    name = "Mammogram" if study.modality == iv.Modality.MG else "MRI"
    parts = [f"{name}, {study.laterality}, {iv.Phase(study.phase).label.lower()}."]
    for c in study.calcs:
        change = f" ({iv.ObservedChange(c.observed_change).label.lower()})" if c.observed_change else ""
        where = "in the tumour bed" if c.inside_tumor_bed else "outside the tumour bed"
        parts.append(
            f"{c.laterality.capitalize()} {c.group}: {iv.Morphology(c.morphology).label.lower()} "
            f"calcifications, {iv.Distribution(c.distribution).label.lower()}, "
            f"{c.extent_mm:g} mm, {c.count_bin}, {where}{change}."
        )
    for e in study.enhs:
        kinetics = f", {iv.KineticsDelayed(e.kinetics_delayed).label.lower()}" if e.kinetics_delayed else ""
        change = f" ({iv.ObservedChange(e.observed_change).label.lower()})" if e.observed_change else ""
        parts.append(
            f"{e.laterality.capitalize()} {e.lesion}: {iv.LesionType(e.lesion_type).label.lower()} "
            f"{e.size_mm:g} mm{kinetics}{change}."
        )
    if study.modality == iv.Modality.MR and study.no_enhancement:
        parts.append("No enhancement.")
    if study.modality == iv.Modality.MG and not study.calcs:
        parts.append("No suspicious calcifications.")
    if study.birads:
        parts.append(f"BI-RADS {study.birads}.")
    return " ".join(parts)
