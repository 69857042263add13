"""The progression rules as `alerts/rules.py` wrote them before the cohort re-evaluation
was made fast (issue 9): each rule re-derives what it needs from the whole history (burden
series, nadir by `min`, earlier exams by filtering), plainly and slowly.

Kept as the reference `tests/alerts/test_rules_equivalence.py` compares the fast engine
with: the same decisions, reasons and details on random and seeded histories. A change to
a rule's behaviour changes both.
"""

from collections.abc import Iterator

from alerts.rules import Decision, Thresholds
from imaging.burden import Burden, nadir, post_treatment_series
from imaging.history import CalcGroup, Lesion, PatientHistory, StudySnapshot
from imaging.vocabulary import (
    INCREASE_CHANGES,
    SUSPICIOUS_BIRADS,
    Distribution,
    KineticsDelayed,
    Morphology,
    ObservedChange,
)

BREASTS = ("left", "right")
MEDIUM, HIGH = "medium", "high"
MORPHOLOGY_BY_RANK = {1: Morphology.COARSE_HETEROGENEOUS, 2: Morphology.AMORPHOUS,
                      3: Morphology.FINE_PLEOMORPHIC, 4: Morphology.FINE_LINEAR_BRANCHING}


def evaluate(history: PatientHistory, thresholds: Thresholds | None = None) -> list[Decision]:
    """Every decision the patient's history supports, oldest triggering study first."""
    thresholds = thresholds or Thresholds()
    decisions: list[Decision] = []
    for breast in BREASTS:
        decisions += calcification_decisions(history, breast, thresholds)
        decisions += mri_decisions(history, breast, thresholds)
    decisions += birads_decisions(history)
    order = {s.id: i for i, s in enumerate(history.studies)}
    return sorted(decisions, key=lambda d: (order.get(d.study_id, 0), d.breast, d.rule))


# --- helpers -----------------------------------------------------------------------------

def _mm(value: float) -> str:
    return f"{value:g}"


def _label(value: str) -> str:
    return value.replace("_", " ")


def _growth(before: float, after: float, mm: float, percent: float) -> tuple[bool, float, float | None]:
    """(grew enough, +mm, +% or None when `before` is 0) for the mm-and-% thresholds."""
    increase = round(after - before, 1)
    pct = round(increase / before * 100) if before > 0 else None
    enough = increase >= mm and (pct is None or pct >= percent)
    return enough, increase, pct


def is_post_surgical(history: PatientHistory, study: StudySnapshot) -> bool:
    """Declared post-surgical and, when surgery is recorded, dated after it."""
    if not study.is_post_surgical:
        return False
    return history.surgery_date is None or study.study_date > history.surgery_date


def _groups(study: StudySnapshot, breast: str) -> list[CalcGroup]:
    return [c for c in study.calcifications if c.breast == breast]


def _lesions(study: StudySnapshot, breast: str) -> list[Lesion]:
    return [e for e in study.enhancements if e.breast == breast]


# --- calcifications ----------------------------------------------------------------------

def calcification_decisions(history: PatientHistory, breast: str,
                            thresholds: Thresholds) -> list[Decision]:
    """Calcification rules for one breast over the post-treatment series.

    1. Every exam of the series: new groups (against every earlier mammogram of the
       breast, pre-surgical ones included) and radiologist-coded increases.
    2. From the second exam on: extent against the nadir of the exams before it, and
       count bin / morphology / distribution against the prior exam.
    """
    series = post_treatment_series(history, breast)
    mammograms = [s for s in history.mammograms() if s.covers(breast)]
    by_id = {s.id: s for s in mammograms}
    out: list[Decision] = []
    for i, current in enumerate(series):
        study = by_id[current.study_id]
        earlier = [s for s in mammograms if (s.study_date, s.id) < (study.study_date, study.id)]
        out += _new_groups(study, breast, earlier)
        out += _reported_increase(study, breast)
        if i == 0:
            continue
        prior, low = series[i - 1], nadir(series[:i])
        out += _extent_increase(current, prior, low, thresholds)
        out += _rank_rises(current, prior)
    return out


def _new_groups(study: StudySnapshot, breast: str, earlier: list[StudySnapshot]) -> Iterator[Decision]:
    if not earlier:
        return  # nothing to compare with: the first exam of a breast is its reference
    seen = {c.group for s in earlier for c in _groups(s, breast)}
    new = [c for c in _groups(study, breast) if c.group not in seen]
    if not new:
        return
    outside = [c for c in new if not c.inside_tumor_bed]
    parts = [
        f"{c.group} ({_label(c.morphology)}, {_label(c.distribution)}, {_mm(c.extent_mm)} mm, "
        f"{'inside' if c.inside_tumor_bed else 'outside'} the tumour bed)"
        for c in new
    ]
    yield Decision(
        rule="calc_new_group", severity=HIGH if outside else MEDIUM, breast=breast,
        study_id=study.id,
        reason=f"new calcification group{'s' if len(new) > 1 else ''} {', '.join(parts)} "
        f"in the {breast} breast on {study.study_date}, not seen on {len(earlier)} earlier "
        f"mammogram{'s' if len(earlier) > 1 else ''} since {earlier[0].study_date}",
        details={"groups": [c.group for c in new], "outside_tumor_bed": [c.group for c in outside]},
    )


def _reported_increase(study: StudySnapshot, breast: str) -> Iterator[Decision]:
    coded = [c for c in _groups(study, breast) if c.observed_change in INCREASE_CHANGES]
    if not coded:
        return
    parts = [f"{c.group} as '{ObservedChange(c.observed_change).label.lower()}'" for c in coded]
    yield Decision(
        rule="calc_reported_increase", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"the radiologist coded {', '.join(parts)} in the {breast} breast on {study.study_date}",
        details={"groups": [c.group for c in coded],
                 "changes": [c.observed_change for c in coded]},
    )


def _extent_increase(current: Burden, prior: Burden, low: Burden,
                     thresholds: Thresholds) -> Iterator[Decision]:
    enough, plus, pct = _growth(low.extent_mm, current.extent_mm, thresholds.extent_mm,
                                thresholds.extent_percent)
    # Compared with both: over the nadir, and still growing since the prior exam, so a
    # burden that stays at its new level does not raise the alert again on every exam.
    if not enough or current.extent_mm <= prior.extent_mm:
        return
    pct_text = f" / +{pct}%" if pct is not None else ""
    yield Decision(
        rule="calc_extent_increase", severity=MEDIUM, breast=current.breast,
        study_id=current.study_id,
        reason=f"extent {_mm(low.extent_mm)} mm → {_mm(current.extent_mm)} mm, +{_mm(plus)} mm"
        f"{pct_text} over nadir of {_mm(low.extent_mm)} mm on {low.study_date} "
        f"(prior exam {prior.study_date}: {_mm(prior.extent_mm)} mm; {current.breast} breast)",
        details={"extent_mm": current.extent_mm, "nadir_mm": low.extent_mm,
                 "nadir_study_id": low.study_id, "prior_mm": prior.extent_mm,
                 "increase_mm": plus, "increase_percent": pct},
    )


def _rank_rises(current: Burden, prior: Burden) -> Iterator[Decision]:
    """Count bin, morphology and distribution against the prior exam.

    Calcifications appearing where there were none are `calc_new_group`'s business; the
    count bin only compares exams that both have calcifications. Morphology and
    distribution treat "none" like the lowest rank, so a benign or diffuse group
    appearing is not "worse", but suspicious morphology appearing is.
    """
    breast, when = current.breast, current.study_date
    if prior.groups and current.count_bin_rank > prior.count_bin_rank:
        yield Decision(
            rule="calc_count_increase", severity=MEDIUM, breast=breast, study_id=current.study_id,
            reason=f"count bin {prior.count_bin} → {current.count_bin} in the {breast} breast "
            f"({prior.study_date} → {when})",
            details={"before": prior.count_bin, "after": current.count_bin},
        )
    if current.morphology_rank > max(prior.morphology_rank, 0):
        before = _label(MORPHOLOGY_BY_RANK.get(prior.morphology_rank, "benign or none"))
        after = _label(MORPHOLOGY_BY_RANK[current.morphology_rank])
        yield Decision(
            rule="calc_morphology_worse", severity=HIGH, breast=breast, study_id=current.study_id,
            reason=f"highest morphology {before} → {after} (rank {max(prior.morphology_rank, 0)} → "
            f"{current.morphology_rank}) in the {breast} breast ({prior.study_date} → {when})",
            details={"before_rank": prior.morphology_rank, "after_rank": current.morphology_rank},
        )
    if current.distribution_rank > max(prior.distribution_rank, 0):
        names = list(Distribution)
        before = names[prior.distribution_rank].value if prior.distribution_rank >= 0 else "none"
        after = names[current.distribution_rank].value
        yield Decision(
            rule="calc_distribution_worse", severity=HIGH, breast=breast,
            study_id=current.study_id,
            reason=f"highest distribution {before} → {after} in the {breast} breast "
            f"({prior.study_date} → {when})",
            details={"before_rank": prior.distribution_rank, "after_rank": current.distribution_rank},
        )


# --- BI-RADS -----------------------------------------------------------------------------

def birads_decisions(history: PatientHistory) -> list[Decision]:
    """A suspicious final assessment (4, 4A–4C, 5) on any post-surgical study."""
    out = []
    for study in history.final_studies():
        if study.birads not in SUSPICIOUS_BIRADS or not is_post_surgical(history, study):
            continue
        breast = study.laterality if study.laterality in BREASTS else ""
        after = f", after surgery on {history.surgery_date}" if history.surgery_date else ""
        out.append(Decision(
            rule="birads_suspicious", severity=HIGH, breast=breast, study_id=study.id,
            reason=f"BI-RADS {study.birads} on the {study.modality} of {study.study_date}{after}",
            details={"birads": study.birads, "modality": study.modality},
        ))
    return out


# --- MRI -----------------------------------------------------------------------------------

def mri_decisions(history: PatientHistory, breast: str, thresholds: Thresholds) -> list[Decision]:
    """Each post-surgical MRI of the breast against the MRI before it (of any phase)."""
    mris = [s for s in history.mris() if s.covers(breast)]
    out: list[Decision] = []
    for prior, study in zip(mris, mris[1:], strict=False):
        if not is_post_surgical(history, study):
            continue
        lesions, before = _lesions(study, breast), {e.lesion: e for e in _lesions(prior, breast)}
        out += _new_enhancement(study, prior, breast, lesions, before)
        out += _enhancement_growth(study, prior, breast, lesions, before, thresholds)
        out += _washout(study, prior, breast, lesions, before)
    return out


def _describe(lesion: Lesion) -> str:
    size = f", {_mm(lesion.size_mm)} mm" if lesion.size_mm is not None else ""
    kind = "NME" if lesion.lesion_type == "nme" else lesion.lesion_type
    return f"{lesion.lesion} ({kind}{size})"


def _new_enhancement(study: StudySnapshot, prior: StudySnapshot, breast: str,
                     lesions: list[Lesion], before: dict[str, Lesion]) -> Iterator[Decision]:
    new = [e for e in lesions if e.lesion not in before]
    if not new:
        return
    context = ("the prior MRI of {d} showed no enhancement in that breast" if not before
               else "not on the prior MRI of {d}").format(d=prior.study_date)
    yield Decision(
        rule="mri_new_enhancement", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"new enhancement {', '.join(_describe(e) for e in new)} in the {breast} breast "
        f"on {study.study_date}; {context}",
        details={"lesions": [e.lesion for e in new], "prior_study_id": prior.id},
    )


def _enhancement_growth(study: StudySnapshot, prior: StudySnapshot, breast: str,
                        lesions: list[Lesion], before: dict[str, Lesion],
                        thresholds: Thresholds) -> Iterator[Decision]:
    grown = []
    for e in lesions:
        old = before.get(e.lesion)
        if old is None or old.size_mm is None or e.size_mm is None:
            continue
        enough, plus, pct = _growth(old.size_mm, e.size_mm, thresholds.lesion_growth_mm,
                                    thresholds.lesion_growth_percent)
        if enough:
            pct_text = f" / +{pct}%" if pct is not None else ""
            grown.append((e, f"{e.lesion} {_mm(old.size_mm)} mm → {_mm(e.size_mm)} mm, "
                             f"+{_mm(plus)} mm{pct_text}"))
    if grown:
        yield Decision(
            rule="mri_enhancement_growth", severity=HIGH, breast=breast, study_id=study.id,
            reason=f"{'; '.join(t for _, t in grown)} since the MRI of {prior.study_date} "
            f"({breast} breast)",
            details={"lesions": [e.lesion for e, _ in grown], "prior_study_id": prior.id},
        )


def _washout(study: StudySnapshot, prior: StudySnapshot, breast: str,
             lesions: list[Lesion], before: dict[str, Lesion]) -> Iterator[Decision]:
    washout = [e for e in lesions if e.kinetics_delayed == KineticsDelayed.WASHOUT]
    if not washout or any(e.kinetics_delayed == KineticsDelayed.WASHOUT for e in before.values()):
        return
    yield Decision(
        rule="mri_washout", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"washout (type 3) curve in {', '.join(_describe(e) for e in washout)} in the "
        f"{breast} breast on {study.study_date}; the prior MRI of {prior.study_date} had none",
        details={"lesions": [e.lesion for e in washout], "prior_study_id": prior.id},
    )

