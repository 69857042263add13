"""docs/clinical-rules.md's progression rules, written plainly for checking seeded histories.

Not the alerts engine (alerts/rules.py is): an independent reading of the same table, so
the seed tests fail if the demo data stops telling the story docs/demo-data.md tells.
"""

from imaging.burden import burden_of, post_treatment_series
from imaging.history import PatientHistory
from imaging.vocabulary import INCREASE_CHANGES, SUSPICIOUS_BIRADS

BREASTS = ("left", "right")


def extent_increases(history: PatientHistory, breast: str) -> list[tuple[float, float]]:
    """(extent, nadir so far) of every exam whose extent is >= 5 mm and >= 20% over the nadir
    (exams without calcifications are no nadir: absence is not zero)."""
    out, low = [], None
    for b in post_treatment_series(history, breast):
        if not b.groups:
            continue
        if low is not None and b.extent_mm - low >= 5 and b.extent_mm >= 1.2 * low:
            out.append((b.extent_mm, low))
        low = b.extent_mm if low is None else min(low, b.extent_mm)
    return out


def _calc_signals(history: PatientHistory) -> set[str]:
    fired: set[str] = set()
    for breast in BREASTS:
        if extent_increases(history, breast):
            fired.add("calc_extent_increase")
        seen: set[str] | None = None  # labels of the earlier post-surgical exams
        prior = None  # the last post-treatment exam with calcifications
        for study in history.mammograms():
            if not study.covers(breast) or not history.is_post_surgical(study):
                continue
            groups = [c for c in study.calcifications if c.breast == breast]
            if seen is not None and any(c.group not in seen for c in groups):
                fired.add("calc_new_group")
            if any(c.observed_change in INCREASE_CHANGES for c in groups):
                fired.add("calc_reported_increase")
            b = burden_of(study, breast)
            if groups and history.is_post_treatment(study):
                if prior is not None:
                    if b.count_bin_rank > prior.count_bin_rank:
                        fired.add("calc_count_increase")
                    if b.morphology_rank > prior.morphology_rank:
                        fired.add("calc_morphology_worse")
                    if b.distribution_rank > prior.distribution_rank:
                        fired.add("calc_distribution_worse")
                prior = b
            seen = (seen or set()) | {c.group for c in groups}
    return fired


def _mri_signals(history: PatientHistory) -> set[str]:
    fired: set[str] = set()
    for breast in BREASTS:
        prior: dict | None = None  # lesions of the previous post-surgical MRI of the breast
        for study in history.mris():
            if not study.covers(breast) or not history.is_post_surgical(study):
                continue
            if not study.enhancements and not study.no_enhancement:
                continue  # says nothing about enhancement
            lesions = {e.lesion: e for e in study.enhancements if e.breast == breast}
            before = prior or {}
            for label, e in lesions.items():
                old = before.get(label)
                if old is None:
                    fired.add("mri_new_enhancement")
                elif e.size_mm and old.size_mm and e.size_mm - old.size_mm >= 5 and (
                        e.size_mm >= 1.2 * old.size_mm):
                    fired.add("mri_enhancement_growth")
                if e.kinetics_delayed == "washout" and not any(
                        x.kinetics_delayed == "washout" for x in before.values()):
                    fired.add("mri_washout")
            prior = lesions
    return fired


def progression_signals(history: PatientHistory) -> set[str]:
    """The progression rules that would fire somewhere in this history."""
    fired = _calc_signals(history) | _mri_signals(history)
    if any(s.birads in SUSPICIOUS_BIRADS for s in history.final_studies()
           if history.is_post_surgical(s)):
        fired.add("birads_suspicious")
    return fired

def history_of_plan(plan, patient_id: int = 1) -> PatientHistory:
    """The `PatientHistory` a written `PatientPlan` would load as (no database)."""
    from imaging.history import CalcGroup, Lesion, StudySnapshot

    studies = tuple(
        StudySnapshot(
            id=i, study_date=s.study_date, modality=s.modality, phase=s.phase,
            laterality=s.laterality, birads=s.birads, status="final" if s.final else "draft",
            no_enhancement=s.no_enhancement, breast_composition=s.breast_composition,
            calcifications=tuple(CalcGroup(
                group=c.group, breast=c.laterality, morphology=c.morphology,
                distribution=c.distribution, extent_mm=c.extent_mm, count_bin=c.count_bin,
                inside_tumor_bed=c.inside_tumor_bed, observed_change=c.observed_change,
                count=c.count) for c in s.calcs),
            enhancements=tuple(Lesion(
                lesion=e.lesion, breast=e.laterality, lesion_type=e.lesion_type, size_mm=e.size_mm,
                kinetics_initial=e.kinetics_initial, kinetics_delayed=e.kinetics_delayed,
                observed_change=e.observed_change) for e in s.enhs),
        )
        for i, s in enumerate(sorted(plan.studies, key=lambda s: s.study_date), start=1)
    )
    rt_ends = [r["end_date"] for r in plan.radiotherapy]
    return PatientHistory(patient_id=patient_id, studies=studies,
                          surgery_date=plan.surgery["date"] if plan.surgery else None,
                          rt_end_date=max(rt_ends) if rt_ends else None)
