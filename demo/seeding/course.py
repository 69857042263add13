"""One patient's course, from the diagnostic mammogram to the end of surveillance.

`Course` holds the clinical choices (tumour, regimen, response, surgery, what the
calcifications do afterwards); `build_plan` lays them on the calendar the way
docs/clinical-rules.md's surveillance schedule does and returns a `PatientPlan`:

1. Work back from the surgery date: post-NAC imaging, NAC courses, diagnosis, the
   diagnostic (baseline) mammogram and MRI.
2. Work forward: radiotherapy, the first post-treatment mammogram at the later of
   diagnosis mammogram + 12 months and RT end + 6 months, then yearly (the other breast
   after mastectomy), 6-monthly diagnostic mammograms for two years when residual
   calcifications were left in place, yearly MRI offset 6 months for high-risk patients,
   clinical exams every 4 / 6 / 12 months.
3. Give the treated breast's residual calcifications a decreasing-then-stable course,
   then apply the progression, if any.
"""

import random
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from imaging import vocabulary as iv
from imaging.vocabulary import count_bin_for

from .plans import CalcPlan, EnhPlan, PatientPlan, StudyPlan, clock_for, describe_study, other_breast

YEAR = 365.25
# (regimen, agents, cycles, days from first to last dose); the next course starts 21 days
# after the previous one's last dose.
REGIMENS: dict[str, list[tuple[str, str, int, int]]] = {
    "AC-T": [("AC", "doxorubicin, cyclophosphamide", 4, 63), ("paclitaxel", "paclitaxel", 12, 77)],
    "AC-TH": [("AC", "doxorubicin, cyclophosphamide", 4, 63),
              ("paclitaxel + trastuzumab", "paclitaxel, trastuzumab", 12, 77)],
    "AC-THP": [("AC", "doxorubicin, cyclophosphamide", 4, 63),
               ("paclitaxel + trastuzumab + pertuzumab", "paclitaxel, trastuzumab, pertuzumab", 12, 77)],
    "AC-TCb": [("AC", "doxorubicin, cyclophosphamide", 4, 63),
               ("paclitaxel + carboplatin", "paclitaxel, carboplatin", 12, 77)],
    "TCHP": [("TCHP", "docetaxel, carboplatin, trastuzumab, pertuzumab", 6, 105)],
}
# Clinical exam cadence in months after surgery (docs/clinical-rules.md): 4-monthly in years 1-2,
# 6-monthly in years 3-5, yearly in years 6-10.
VISIT_MONTHS = [*range(4, 25, 4), *range(30, 61, 6), *range(72, 121, 12)]
PROGRESSIONS = ("extent_flb", "new_group_outside", "count_birads4b", "creep", "mri_nme", "mri_growth")


@dataclass
class Progression:
    kind: str  # one of PROGRESSIONS
    year: float  # years after surgery: the first eligible exam from then on progresses


@dataclass
class Course:
    mrn: str
    given_name: str
    family_name: str
    age_at_diagnosis: int
    surgery_date: date
    breast: str = "left"
    quadrant: str = "UOQ"
    histology: str = "IDC"
    grade: int | None = 3
    dcis_component: bool = False
    comedo_necrosis: bool = False
    er: int = 0
    pr: int = 0
    her2_ihc: str = "0"
    her2_ish: str = ""
    ki67: int = 30
    clinical_t: str = "cT2"
    clinical_n: str = "cN1"
    regimen: str = "AC-T"
    tumour_mm: float = 30.0  # baseline MRI lesion size
    baseline_nme: bool = False
    # Calcifications on the diagnostic mammogram: (morphology, distribution, extent_mm, count_bin).
    dx_calc: tuple[str, str, float, str] | None = None
    post_nac_calc_mm: float | None = None  # None: no residual calcifications after NAC
    post_nac_enh_mm: float | None = None  # None: post-NAC MRI shows no enhancement
    mid_nac: bool = False
    ypt: str = "ypT0"
    ypn: str = "ypN0"
    pcr_definition: str = "ypT0is_ypN0"
    residual_dcis: bool = False
    rcb_class: str = "0"
    rcb_index: float | None = 0.0
    excised_histology: str = "not_sampled"
    procedure: str = "BCS"
    axilla: str = "SLNB"
    margins: str = "negative"
    radiotherapy: bool = True
    rt_days: int = 21
    residual_in_place: bool = False
    # Residual calcifications on the first post-treatment mammogram of the treated breast.
    surv_calc_mm: float | None = None
    # Or the exact course: (extent_mm, count_bin, observed_change) per treated-breast mammogram.
    surv_calc_series: list[tuple[float, str, str]] | None = None
    composition: str = "b"
    bpe: str = "mild"
    pathogenic_variant: bool = False
    lifetime_risk: float | None = None
    contralateral_mass_mm: float | None = None  # a benign mass followed on every MRI
    progression: Progression | None = None
    imaging_stops: date | None = None  # no study or visit after this date (missed, lost, died)
    draft_latest: bool = False
    events: list[tuple[date, str, str]] = field(default_factory=list)
    follow_up_status: str = "active"
    notes: str = ""
    dob_offset_days: int = 100
    report_text: bool = True
    jitter: bool = True  # appointments a few days off schedule, as in real life

    @property
    def high_risk(self) -> bool:
        return (self.composition in ("c", "d") or self.age_at_diagnosis <= 50
                or self.pathogenic_variant or (self.lifetime_risk or 0) >= 20)


def _days(d: date, n: float) -> date:
    return d + timedelta(days=round(n))


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:  # 29 February
        return d.replace(year=d.year - years, day=28)


def build_plan(c: Course, today: date) -> PatientPlan:
    rng = random.Random(c.mrn)  # small, reproducible jitter of appointment dates
    horizon = min(today - timedelta(days=2), c.imaging_stops or date.max)
    pre, key = _pretreatment(c)
    plan = PatientPlan(
        mrn=c.mrn, given_name=c.given_name, family_name=c.family_name,
        date_of_birth=_days(_years_before(key["diagnosis"], c.age_at_diagnosis), -c.dob_offset_days),
        follow_up_status=c.follow_up_status, pathogenic_variant=c.pathogenic_variant,
        lifetime_risk_percent=c.lifetime_risk, notes=c.notes,
        tumour=_tumour(c, key), nac=key["nac"], studies=pre, events=list(c.events),
    )
    s = c.surgery_date
    plan.surgery = dict(date=s, laterality=c.breast, procedure=c.procedure, axilla=c.axilla,
                        margins=c.margins, residual_calcifications_in_place=c.residual_in_place)
    plan.pathology = dict(
        ypt=c.ypt, ypn=c.ypn, residual_dcis=c.residual_dcis, pcr_definition=c.pcr_definition,
        rcb_class=c.rcb_class, rcb_index=c.rcb_index, excised_calcification_histology=c.excised_histology,
    )
    rt_end = None
    if c.radiotherapy:
        rt_start = _days(s, 42)
        rt_end = _days(rt_start, c.rt_days)
        if rt_end <= horizon:
            target = "whole breast + boost" if c.procedure == "BCS" else "chest wall + regional nodes"
            plan.radiotherapy.append(dict(start_date=rt_start, end_date=rt_end, target=target))
    surveillance = _surveillance(c, key["d0"], rt_end, rng)
    _apply_progression(c, surveillance)
    plan.studies += [st for st in surveillance if st.study_date <= horizon]
    if c.draft_latest and plan.studies:
        plan.studies[-1].final = False
    if c.report_text:
        for st in plan.studies:
            st.report_text = describe_study(st)
    plan.visits = _visits(c, key["diagnosis"], min(horizon, today - timedelta(days=1)), rng)
    return plan


def _pretreatment(c: Course) -> tuple[list[StudyPlan], dict]:
    """Diagnosis, NAC and the baseline / mid-NAC / post-NAC studies, worked back from surgery."""
    courses = REGIMENS[c.regimen]
    total = sum(days for *_, days in courses) + 21 * (len(courses) - 1)
    nac_end = _days(c.surgery_date, -30)
    nac_start = _days(nac_end, -total)
    diagnosis = _days(nac_start, -21)
    d0 = _days(diagnosis, -7)
    nac, start = [], nac_start
    for regimen, agents, cycles, days in courses:
        nac.append(dict(regimen=regimen, agents=agents, cycles=cycles, start_date=start,
                        end_date=_days(start, days)))
        start = _days(start, days + 21)
    b, side = c.breast, c.breast[0].upper()
    clock = clock_for(b, c.quadrant)
    loc = dict(laterality=b, quadrant=c.quadrant, clock=clock)

    def calc(extent: float, change: str = "") -> list[CalcPlan]:
        morph, dist, _, cbin = c.dx_calc
        return [CalcPlan(group=f"{side}1", morphology=morph, distribution=dist, extent_mm=extent,
                         count_bin=cbin, depth="middle", observed_change=change,
                         clip_present=bool(change), **loc)]

    def enh(size: float | None, phase: str, change: str = "") -> list[EnhPlan]:
        rows = []
        if size is not None:
            kinetics = ("fast", "washout") if phase == iv.Phase.BASELINE else ("medium", "plateau")
            rows.append(EnhPlan(lesion=f"{side}-NME1" if c.baseline_nme else f"{side}-M1",
                                lesion_type="nme" if c.baseline_nme else "mass", size_mm=size,
                                mass_shape="" if c.baseline_nme else "irregular",
                                mass_margin="" if c.baseline_nme else "spiculated",
                                nme_distribution="segmental" if c.baseline_nme else "",
                                nme_pattern="clumped" if c.baseline_nme else "",
                                kinetics_initial=kinetics[0], kinetics_delayed=kinetics[1],
                                observed_change=change, depth="middle", **loc))
        rows += _contralateral_mass(c, None)
        return rows

    mg = dict(modality=iv.Modality.MG, breast_composition=c.composition)
    studies = [
        StudyPlan(study_date=d0, phase=iv.Phase.BASELINE, birads="5",
                  calcs=calc(c.dx_calc[2]) if c.dx_calc else [], **mg),
        StudyPlan(study_date=_days(diagnosis, 5), modality=iv.Modality.MR, phase=iv.Phase.BASELINE,
                  birads="6", bpe=c.bpe, enhs=enh(c.tumour_mm, iv.Phase.BASELINE)),
    ]
    post_calc = c.dx_calc and c.post_nac_calc_mm is not None
    if c.mid_nac:
        mid = _days(nac[0]["end_date"], 10)
        mid_calc = (c.dx_calc[2] + (c.post_nac_calc_mm or 0)) / 2 if post_calc else None
        calc_change = ("decrease_size" if mid_calc and mid_calc < 0.8 * c.dx_calc[2]
                       else "not_significantly_changed")
        mid_enh = round(c.tumour_mm * 0.5, 1) if c.post_nac_enh_mm is None else (
            round((c.tumour_mm + c.post_nac_enh_mm) / 2, 1))
        studies += [
            StudyPlan(study_date=mid, phase=iv.Phase.MID_NAC, birads="6",
                      calcs=calc(round(mid_calc, 1), calc_change) if mid_calc else [], **mg),
            StudyPlan(study_date=_days(mid, 2), modality=iv.Modality.MR, phase=iv.Phase.MID_NAC,
                      birads="6", bpe="minimal", enhs=enh(mid_enh, iv.Phase.MID_NAC, "decrease_size")),
        ]
    no_enh = c.post_nac_enh_mm is None and c.contralateral_mass_mm is None
    studies += [
        StudyPlan(study_date=_days(nac_end, 12), phase=iv.Phase.POST_NAC, birads="6",
                  calcs=calc(c.post_nac_calc_mm, "not_significantly_changed") if post_calc else [], **mg),
        StudyPlan(study_date=_days(nac_end, 14), modality=iv.Modality.MR, phase=iv.Phase.POST_NAC,
                  birads="6", bpe="minimal", no_enhancement=no_enh,
                  enhs=enh(c.post_nac_enh_mm, iv.Phase.POST_NAC, "decrease_size")),
    ]
    return studies, dict(nac=nac, diagnosis=diagnosis, d0=d0)


def _contralateral_mass(c: Course, change: str | None) -> list[EnhPlan]:
    if c.contralateral_mass_mm is None:
        return []
    o = other_breast(c.breast)
    return [EnhPlan(lesion=f"{o[0].upper()}-M1", laterality=o, lesion_type="mass",
                    size_mm=c.contralateral_mass_mm, mass_shape="oval", mass_margin="circumscribed",
                    kinetics_initial="slow", kinetics_delayed="persistent", quadrant="UOQ",
                    clock=clock_for(o, "UOQ"), depth="anterior",
                    observed_change=change if change is not None else "")]


def _tumour(c: Course, key: dict) -> dict:
    return dict(
        laterality=c.breast, diagnosis_date=key["diagnosis"], histology=c.histology, grade=c.grade,
        dcis_component=c.dcis_component, comedo_necrosis=c.comedo_necrosis, er_percent=c.er,
        pr_percent=c.pr, her2_ihc=c.her2_ihc, her2_ish=c.her2_ish, ki67_percent=c.ki67,
        clinical_t=c.clinical_t, clinical_n=c.clinical_n, diagnosis_calcifications=c.dx_calc is not None,
        diagnosis_mammogram_date=key["d0"],
    )


def _surveillance(c: Course, d0: date, rt_end: date | None, rng: random.Random) -> list[StudyPlan]:
    """Post-surgical mammograms and MRIs for ten years, before the horizon cut."""
    s, bcs = c.surgery_date, c.procedure == "BCS"
    # docs/clinical-rules.md: after BCS the later of diagnosis mammogram + 12 months and RT end + 6
    # months; after mastectomy the other breast yearly from diagnosis mammogram + 12 months.
    first = _days(d0, 365)
    if bcs and rt_end:
        first = max(first, _days(rt_end, 182))
    first = max(first, _days(s, 120))
    mg_side = "bilateral" if bcs else other_breast(c.breast)
    studies: list[StudyPlan] = []

    def jitter() -> int:
        return rng.randint(-7, 21) if c.jitter else 0

    for k in range(10):
        studies.append(StudyPlan(study_date=_days(first, k * YEAR + jitter()), modality=iv.Modality.MG,
                                 phase=iv.Phase.SURVEILLANCE, laterality=mg_side,
                                 breast_composition=c.composition))
        if c.high_risk:
            studies.append(StudyPlan(study_date=_days(first, k * YEAR + 182 + jitter()),
                                     modality=iv.Modality.MR, phase=iv.Phase.SURVEILLANCE,
                                     bpe="minimal"))
    if bcs and c.residual_in_place:
        for offset in (182, 547):
            studies.append(StudyPlan(study_date=_days(first, offset + 3), modality=iv.Modality.MG,
                                     phase=iv.Phase.SURVEILLANCE, laterality=c.breast,
                                     breast_composition=c.composition))
    studies.sort(key=lambda st: (st.study_date, st.modality))
    _residual_calcs(c, [st for st in studies if st.modality == iv.Modality.MG and bcs], first)
    for st in studies:
        if st.modality == iv.Modality.MR:
            st.enhs = _contralateral_mass(c, "stable")
            st.no_enhancement = not st.enhs
            st.birads = "2" if st.enhs else "1"
        elif not st.birads:
            st.birads = "2"
    return studies


def _residual_calcs(c: Course, mammograms: list[StudyPlan], first: date) -> None:
    """Residual calcifications of the treated breast: decrease for ~18 months, then stable."""
    if not mammograms or (c.surv_calc_mm is None and c.surv_calc_series is None) or not c.dx_calc:
        return
    morph, dist, _, _ = c.dx_calc
    if iv.DISTRIBUTION_RANK[dist] > iv.DISTRIBUTION_RANK["grouped"]:
        dist = "grouped"  # what is left after excision is a cluster, not a segment
    series = c.surv_calc_series or _decreasing_then_stable(c.surv_calc_mm, mammograms, first)
    # An explicit series shorter than the mammograms: the rest are read as stable.
    series = series + [(series[-1][0], series[-1][1], "stable")] * (len(mammograms) - len(series))
    side = c.breast[0].upper()
    for st, (extent, cbin, change) in zip(mammograms, series, strict=False):
        st.calcs = [CalcPlan(group=f"{side}1", laterality=c.breast, morphology=morph, distribution=dist,
                             extent_mm=extent, count_bin=cbin, quadrant=c.quadrant,
                             clock=clock_for(c.breast, c.quadrant), depth="middle",
                             clip_present=True, observed_change=change)]
        # Probably benign while the residual calcifications settle, benign once stable.
        st.birads = "3" if (st.study_date - first).days < 2 * YEAR else "2"


def _decreasing_then_stable(e0: float, mammograms: list[StudyPlan], first: date
                            ) -> list[tuple[float, str, str]]:
    nadir = round(e0 * 0.7 * 2) / 2
    out: list[tuple[float, str, str]] = []
    rank = iv.COUNT_BIN_RANK[_bin_for_extent(e0)]
    prev = None
    for i, st in enumerate(mammograms):
        t = (st.study_date - first).days / YEAR
        if t < 1.5:
            extent = round((nadir + (e0 - nadir) * (1 - t / 1.5)) * 2) / 2
        else:
            # Stable: within 1 mm above the nadir, far below the 5 mm / 20% rule.
            extent = nadir + (0.5 if (i % 3 == 1) else 0.0)
        rank = min(rank, iv.COUNT_BIN_RANK[_bin_for_extent(extent)])
        if i == 0:
            change = "partially_removed"
        elif prev is not None and extent < prev - 0.5:
            change = "decrease_size"
        else:
            change = "stable" if i % 2 else "not_significantly_changed"
        out.append((extent, list(iv.CountBin)[rank].value, change))
        prev = extent
    return out


def _bin_for_extent(extent: float) -> str:
    return count_bin_for(1 if extent < 8 else 8 if extent < 15 else 15 if extent < 25 else 30)


def _apply_progression(c: Course, studies: list[StudyPlan]) -> None:
    """Make the first eligible exam from `progression.year` on progress; drop later imaging."""
    p = c.progression
    if p is None:
        return
    start = _days(c.surgery_date, p.year * YEAR - 60)
    side = c.breast[0].upper()
    mgs = [st for st in studies if st.modality == iv.Modality.MG and st.laterality == "bilateral"]
    mrs = [st for st in studies if st.modality == iv.Modality.MR]
    kind = p.kind
    if kind in ("extent_flb", "count_birads4b", "creep") and not any(st.calcs for st in mgs):
        kind = "new_group_outside"
    if kind in ("mri_nme", "mri_growth") and not mrs:
        kind = "new_group_outside"
    if kind == "mri_growth" and c.contralateral_mass_mm is None:
        kind = "mri_nme"
    pool = mrs if kind.startswith("mri") else (
        mgs if kind != "new_group_outside" else [st for st in studies if st.modality == iv.Modality.MG])
    target = next((st for st in pool if st.study_date >= start), None)
    if target is None:
        return
    if kind == "creep":
        _creep(c, [st for st in mgs if st.calcs], target)
    else:
        _PROGRESS[kind](c, target, side)
    # Work-up (biopsy, surgery) follows; the plan does not invent the next ten years.
    studies[:] = [st for st in studies if st.study_date <= target.study_date]


def _extent_flb(c: Course, st: StudyPlan, side: str) -> None:
    g = st.calcs[0]
    linear = "linear" if iv.DISTRIBUTION_RANK[g.distribution] < 3 else g.distribution
    st.calcs[0] = replace(g, extent_mm=g.extent_mm + 15, morphology="fine_linear_branching",
                          distribution=linear, count_bin=">20", observed_change="increase_calcifications")
    st.birads = "4C"


def _count_birads4b(c: Course, st: StudyPlan, side: str) -> None:
    g = st.calcs[0]
    rank = min(iv.COUNT_BIN_RANK[g.count_bin] + 1, 3)
    st.calcs[0] = replace(g, extent_mm=g.extent_mm + 3, count_bin=list(iv.CountBin)[rank].value,
                          observed_change="increase_number")
    st.birads = "4B"


def _new_group_outside(c: Course, st: StudyPlan, side: str) -> None:
    breast = c.breast if st.laterality in ("bilateral", c.breast) else other_breast(c.breast)
    quadrant = "LIQ" if c.quadrant != "LIQ" else "UIQ"
    label = f"{breast[0].upper()}{len([x for x in st.calcs if x.laterality == breast]) + 2}"
    st.calcs.append(CalcPlan(group=label, laterality=breast, morphology="amorphous", distribution="grouped",
                             extent_mm=7.0, count=8, count_bin="6-10", quadrant=quadrant,
                             clock=clock_for(breast, quadrant), depth="posterior",
                             inside_tumor_bed=False, observed_change="new"))
    st.birads = "4A"


def _mri_nme(c: Course, st: StudyPlan, side: str) -> None:
    st.no_enhancement = False
    st.enhs.append(EnhPlan(lesion=f"{side}-NME2", laterality=c.breast, lesion_type="nme", size_mm=22.0,
                           nme_distribution="segmental", nme_pattern="clumped", kinetics_initial="fast",
                           kinetics_delayed="washout", quadrant=c.quadrant,
                           clock=clock_for(c.breast, c.quadrant), depth="middle", observed_change="new"))
    st.birads = "4C"


def _mri_growth(c: Course, st: StudyPlan, side: str) -> None:
    e = st.enhs[0]
    st.enhs[0] = replace(e, size_mm=(e.size_mm or 0) + 7, mass_shape="irregular", mass_margin="irregular",
                         kinetics_initial="fast", kinetics_delayed="plateau", observed_change="increase_size")
    st.birads = "4B"


def _creep(c: Course, mgs: list[StudyPlan], target: StudyPlan) -> None:
    """Slow growth the radiologist calls stable each year; only the nadir comparison sees it."""
    idx = mgs.index(target)
    nadir = min(st.calcs[0].extent_mm for st in mgs[: max(idx - 2, 1)])
    goal = max(nadir + 5.5, nadir * 1.25)
    steps = mgs[max(idx - 2, 1): idx + 1]
    for n, st in enumerate(steps, start=1):
        g = st.calcs[0]
        extent = round((nadir + (goal - nadir) * n / len(steps)) * 2) / 2
        st.calcs[0] = replace(g, extent_mm=extent, observed_change="not_significantly_changed")
        st.birads = "2"


_PROGRESS = {
    "extent_flb": _extent_flb,
    "count_birads4b": _count_birads4b,
    "new_group_outside": _new_group_outside,
    "mri_nme": _mri_nme,
    "mri_growth": _mri_growth,
}

_VISIT_NOTES = ("No palpable abnormality. Scar healthy.", "Well. Examination unremarkable.",
                "No new symptoms; no palpable nodes.")


def _visits(c: Course, diagnosis: date, horizon: date, rng: random.Random) -> list[tuple[date, str, str]]:
    visits = [(_days(diagnosis, 3), "oncology", "Diagnosis discussed; NAC planned.")]
    for m in VISIT_MONTHS:
        d = _days(c.surgery_date, m * YEAR / 12 + (rng.randint(-5, 10) if c.jitter else 0))
        if d > horizon:
            break
        visits.append((d, "clinical_exam", _VISIT_NOTES[m % len(_VISIT_NOTES)]))
    return visits
