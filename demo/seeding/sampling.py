"""Draw a realistic post-NAC patient course from a seeded random generator.

Proportions (docs/clinical-rules.md and the literature it cites, J Clin Med 2026;15:451):
- subtype mix of a NAC cohort; pCR rate by subtype;
- suspicious calcifications at diagnosis (more often HER2+), persisting after NAC in most
  patients whatever the response, so mammography predicts residual disease poorly;
- post-NAC MRI enhancement with sensitivity 0.82 / specificity 0.87 for residual disease,
  which at this cohort's prevalence gives accuracy ~0.84, PPV ~0.93, NPV ~0.67;
- excised residual calcifications benign in ~45% (35-55% in the review).
Every draw goes through `rng`, so the same seed gives the same course.
"""

import random
from datetime import date, timedelta

from .course import YEAR, Course, Progression

SUBTYPE_MIX = {"HR+/HER2-": 0.38, "HR+/HER2+": 0.20, "HR-/HER2+": 0.15, "triple_negative": 0.27}
PCR_RATE = {"HR+/HER2-": 0.12, "HR+/HER2+": 0.40, "HR-/HER2+": 0.60, "triple_negative": 0.40}
DX_CALC_RATE = {"HR+/HER2-": 0.50, "HR+/HER2+": 0.65, "HR-/HER2+": 0.65, "triple_negative": 0.35}
CALC_PERSISTS = {True: 0.65, False: 0.85}  # by pCR: calcifications outlast the tumour
MRI_SENSITIVITY = 0.82
MRI_SPECIFICITY = 0.87
# Histology of excised residual calcifications when disease remains.
RESIDUAL_CALC_HISTOLOGY = {"benign": 0.33, "dcis": 0.30, "invasive": 0.20, "mixed": 0.17}
EVENT_HAZARD = {True: 0.012, False: 0.035}  # per year, by pCR
EVENT_KINDS = {"distant_recurrence": 0.55, "local_recurrence": 0.30, "regional_recurrence": 0.15}

GIVEN_NAMES = (
    "Aisha", "Alice", "Amara", "Ana", "Anita", "Beatriz", "Brigid", "Carmen", "Chloe", "Claire",
    "Dana", "Deborah", "Diane", "Eleanor", "Elif", "Emma", "Esther", "Farah", "Fatima", "Fiona",
    "Gemma", "Grace", "Hannah", "Ines", "Irene", "Isabel", "Jane", "Joanna", "Julia", "Karen",
    "Kate", "Laila", "Laura", "Leah", "Linda", "Lucy", "Maeve", "Maria", "Marta", "Mei",
    "Miriam", "Nadia", "Naomi", "Nina", "Noor", "Olga", "Patricia", "Priya", "Rachel", "Rosa",
    "Ruth", "Sara", "Sofia", "Susan", "Tamar", "Teresa", "Una", "Valerie", "Wendy", "Yasmin",
)
FAMILY_NAMES = (
    "Abbott", "Achebe", "Adler", "Ahmed", "Andersen", "Bauer", "Bello", "Brooks", "Castillo", "Chen",
    "Costa", "Dalton", "Das", "Doyle", "Dubois", "Eriksen", "Evans", "Farouk", "Fischer", "Garcia",
    "Gill", "Haddad", "Hughes", "Ibrahim", "Ivanova", "Jensen", "Kaur", "Keane", "Kowalski", "Lam",
    "Larsen", "Lopez", "Mahler", "Mensah", "Moreno", "Murphy", "Nair", "Novak", "Okoye", "Olsen",
    "Ortiz", "Park", "Patel", "Quinn", "Rahman", "Reyes", "Rossi", "Sato", "Schmidt", "Silva",
    "Singh", "Sokolova", "Tanaka", "Torres", "Usman", "Varga", "Walsh", "Weber", "Yilmaz", "Zhou",
)


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def receptors(rng: random.Random, subtype: str) -> dict:
    """ER/PR/HER2 values whose derived subtype is `subtype`."""
    hr = subtype.startswith("HR+")
    her2 = subtype in ("HR+/HER2+", "HR-/HER2+")
    er = rng.choice((10, 30, 50, 70, 80, 90, 95, 100)) if hr else 0
    pr = rng.choice((0, 0, 5, 20, 40, 60, 80)) if hr else 0
    if her2:
        ihc, ish = ("3+", "") if rng.random() < 0.85 else ("2+", "amplified")
    else:
        ihc = pick(rng, {"0": 0.4, "1+": 0.4, "2+": 0.2})
        ish = "not_amplified" if ihc == "2+" else ""
    return dict(er=er, pr=pr, her2_ihc=ihc, her2_ish=ish)


def _pathology(rng: random.Random, pcr: bool, clinical_n: str) -> dict:
    if pcr:
        ypt = "ypTis" if rng.random() < 0.2 else "ypT0"
        return dict(ypt=ypt, ypn="ypN0", residual_dcis=ypt == "ypTis", rcb_class="0", rcb_index=0.0)
    if rng.random() < 0.08:  # residual disease in the nodes only
        ypt, ypn = "ypT0", pick(rng, {"ypN1mi": 0.3, "ypN1": 0.6, "ypN2": 0.1})
    else:
        ypt = pick(rng, {"ypT1mi": 0.10, "ypT1": 0.45, "ypT2": 0.30, "ypT3": 0.10, "ypT4": 0.05})
        ypn = pick(rng, {"ypN0": 0.50, "ypN0(i+)": 0.05, "ypN1mi": 0.05, "ypN1": 0.25,
                         "ypN2": 0.10, "ypN3": 0.05} if clinical_n != "cN0" else
                   {"ypN0": 0.80, "ypN0(i+)": 0.05, "ypN1mi": 0.05, "ypN1": 0.10})
    burden = {"ypT0": 0, "ypT1mi": 0, "ypT1": 1, "ypT2": 2, "ypT3": 3, "ypT4": 3}[ypt] + {
        "ypN0": 0, "ypN0(i+)": 0, "ypN1mi": 1, "ypN1": 1, "ypN2": 2, "ypN3": 3}[ypn]
    rcb, low, high = (("I", 0.2, 1.36) if burden <= 1 else ("II", 1.37, 3.28) if burden <= 3
                      else ("III", 3.29, 5.0))
    # ypT0 is no residual invasive or in-situ disease: no residual DCIS (patients.rules).
    dcis = rng.random() < 0.4 and ypt != "ypT0"
    return dict(ypt=ypt, ypn=ypn, residual_dcis=dcis, rcb_class=rcb,
                rcb_index=round(rng.uniform(low, high), 2))


def _calcifications(rng: random.Random, subtype: str, pcr: bool, pathology: dict) -> dict:
    if rng.random() >= DX_CALC_RATE[subtype]:
        return dict(dx_calc=None, post_nac_calc_mm=None, excised_histology="not_sampled")
    morph = pick(rng, {"fine_pleomorphic": 0.5, "amorphous": 0.2, "fine_linear_branching": 0.15,
                       "coarse_heterogeneous": 0.15})
    dist = pick(rng, {"segmental": 0.35, "linear": 0.15, "grouped": 0.35, "regional": 0.15})
    extent = float(rng.randint(10, 80))
    cbin = ">20" if extent >= 25 else "11-20" if extent >= 12 else "6-10"
    if rng.random() >= CALC_PERSISTS[pcr]:
        return dict(dx_calc=(morph, dist, extent, cbin), post_nac_calc_mm=None,
                    excised_histology="not_sampled")
    if pcr:
        histology = "dcis" if pathology["ypt"] == "ypTis" else "benign"
    else:
        histology = pick(rng, RESIDUAL_CALC_HISTOLOGY)
    return dict(dx_calc=(morph, dist, extent, cbin),
                post_nac_calc_mm=float(round(extent * rng.uniform(0.6, 1.0))),
                excised_histology=histology)


def _composition(rng: random.Random, age: int) -> str:
    if age < 45:
        return pick(rng, {"a": 0.05, "b": 0.30, "c": 0.45, "d": 0.20})
    if age <= 60:
        return pick(rng, {"a": 0.12, "b": 0.45, "c": 0.35, "d": 0.08})
    return pick(rng, {"a": 0.20, "b": 0.55, "c": 0.22, "d": 0.03})


def sample_course(rng: random.Random, *, mrn: str, today: date, surprises: bool = True,
                  given_name: str | None = None, family_name: str | None = None) -> Course:
    """One patient. `surprises` adds progression, events, missed exams and drafts."""
    subtype = pick(rng, SUBTYPE_MIX)
    her2 = subtype in ("HR+/HER2+", "HR-/HER2+")
    age = int(min(79, max(26, rng.gauss(47 if subtype == "triple_negative" else 51, 11))))
    clinical_t = pick(rng, {"cT1": 0.10, "cT2": 0.55, "cT3": 0.25, "cT4": 0.10})
    clinical_n = pick(rng, {"cN0": 0.40, "cN1": 0.45, "cN2": 0.10, "cN3": 0.05})
    tumour_mm = float({"cT1": rng.randint(12, 20), "cT2": rng.randint(21, 50),
                       "cT3": rng.randint(51, 90), "cT4": rng.randint(30, 80)}[clinical_t])
    pcr = rng.random() < PCR_RATE[subtype]
    pathology = _pathology(rng, pcr, clinical_n)
    calcs = _calcifications(rng, subtype, pcr, pathology)
    mri_positive = rng.random() < (1 - MRI_SPECIFICITY if pcr else MRI_SENSITIVITY)
    procedure = "mastectomy" if rng.random() < {"cT1": 0.2, "cT2": 0.3, "cT3": 0.55, "cT4": 0.8}[
        clinical_t] else "BCS"
    node_positive = clinical_n != "cN0" or pathology["ypn"] not in ("ypN0", "ypN0(i+)")
    radiotherapy = rng.random() < (0.97 if procedure == "BCS" else 0.85 if node_positive else 0.15)
    residual_in_place = (procedure == "BCS" and calcs["post_nac_calc_mm"] is not None
                         and rng.random() < 0.25)
    surv_calc = None
    if procedure == "BCS" and calcs["post_nac_calc_mm"] is not None:
        post = calcs["post_nac_calc_mm"]
        if residual_in_place:
            surv_calc = max(4.0, float(round(post * rng.uniform(0.3, 0.6))))
        elif rng.random() < 0.2:
            surv_calc = max(3.0, float(round(post * rng.uniform(0.1, 0.3))))
    grade = (3 if rng.random() < 0.85 else 2) if subtype == "triple_negative" else (
        (3 if rng.random() < 0.7 else 2) if her2 else pick(rng, {1: 0.1, 2: 0.55, 3: 0.35}))
    histology = pick(rng, {"IDC": 0.80, "ILC": 0.12, "mixed": 0.05, "other": 0.03}
                     if subtype == "HR+/HER2-" else {"IDC": 0.92, "mixed": 0.04, "other": 0.04})
    dcis = rng.random() < 0.45
    surgery = today - timedelta(days=rng.randint(60, round(10.5 * YEAR)))
    course = Course(
        mrn=mrn, given_name=given_name or rng.choice(GIVEN_NAMES),
        family_name=family_name or rng.choice(FAMILY_NAMES), age_at_diagnosis=age,
        surgery_date=surgery, breast=rng.choice(("left", "right")),
        quadrant=pick(rng, {"UOQ": 0.5, "UIQ": 0.15, "LOQ": 0.12, "LIQ": 0.08, "central": 0.1,
                            "axillary_tail": 0.05}),
        histology=histology, grade=grade, dcis_component=dcis,
        comedo_necrosis=dcis and grade == 3 and rng.random() < 0.5,
        ki67=rng.randint(10, 40) if subtype == "HR+/HER2-" else rng.randint(25, 80),
        clinical_t=clinical_t, clinical_n=clinical_n, tumour_mm=tumour_mm,
        regimen=pick(rng, {"TCHP": 0.3, "AC-THP": 0.4, "AC-TH": 0.3}) if her2 else (
            pick(rng, {"AC-TCb": 0.7, "AC-T": 0.3}) if subtype == "triple_negative" else "AC-T"),
        baseline_nme=rng.random() < 0.2,
        post_nac_enh_mm=max(5.0, round(tumour_mm * rng.uniform(0.15, 0.5), 1)) if mri_positive else None,
        procedure=procedure,
        axilla="SLNB" if clinical_n == "cN0" else ("ALND" if rng.random() < 0.6 else "SLNB"),
        margins=pick(rng, {"negative": 0.9, "close": 0.07, "positive": 0.03}),
        radiotherapy=radiotherapy, rt_days=21 if rng.random() < 0.7 else 35,
        residual_in_place=residual_in_place, surv_calc_mm=surv_calc,
        composition=_composition(rng, age),
        bpe=pick(rng, {"minimal": 0.3, "mild": 0.45, "moderate": 0.2, "marked": 0.05}),
        pathogenic_variant=rng.random() < (0.15 if subtype == "triple_negative" else 0.04),
        report_text=False, **receptors(rng, subtype), **pathology, **calcs,
    )
    if surprises:
        _surprises(rng, course, pcr, today)
    elif surgery + timedelta(days=round(10 * YEAR)) < today:
        course.follow_up_status = "completed"
    return course


def _surprises(rng: random.Random, c: Course, pcr: bool, today: date) -> None:
    """Outcome events, progression, missed exams and unsigned drafts, a few of each."""
    followed = (today - c.surgery_date).days / YEAR
    horizon = min(followed, 10.0)
    if c.surgery_date + timedelta(days=round(10 * YEAR)) < today:
        c.follow_up_status = "completed"
    at = rng.expovariate(EVENT_HAZARD[pcr])
    roll = rng.random()
    if 0.5 < at < horizon - 0.05:
        event_date = c.surgery_date + timedelta(days=round(at * YEAR))
        kind = pick(rng, EVENT_KINDS)
        if kind == "local_recurrence":
            c.progression = Progression(rng.choice(("extent_flb", "new_group_outside", "mri_nme")),
                                        at - 0.15)
            c.events.append((event_date, kind, "Biopsy-proven recurrence in the treated breast."))
        else:
            c.events.append((event_date, kind, "Recurrence confirmed on staging."))
            c.imaging_stops = event_date
            death = event_date + timedelta(days=rng.randint(180, 1100))
            if kind == "distant_recurrence" and rng.random() < 0.35 and death < today:
                c.events.append((death, "death", ""))
        # Back under active care after a recurrence, unless she died of it.
        c.follow_up_status = "deceased" if any(k == "death" for _, k, _ in c.events) else "active"
    elif roll < 0.04 and followed > 1.5:
        # Progression on the latest exams; confirmed by biopsy in some.
        c.progression = Progression(rng.choice(("extent_flb", "new_group_outside", "count_birads4b",
                                                "creep", "mri_nme")), max(1.0, horizon - 1.0))
        confirm = c.surgery_date + timedelta(days=round(horizon * YEAR))
        if rng.random() < 0.4 and confirm < today - timedelta(days=30):
            c.events.append((confirm, "confirmed_progression", "Stereotactic biopsy: DCIS."))
    elif roll < 0.07 and followed > 2:
        c.imaging_stops = c.surgery_date + timedelta(days=round(rng.uniform(1, followed - 1) * YEAR))
        if (today - c.imaging_stops).days > YEAR and rng.random() < 0.5:
            c.follow_up_status = "lost_to_follow_up"
    elif roll < 0.08:
        c.draft_latest = True
