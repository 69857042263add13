"""Progression and new-enhancement rules (docs/clinical-rules.md, "Alert rules").

Pure functions: a `PatientHistory` and a `Thresholds` in, `Decision`s out; no ORM. The
surveillance rules (`surveillance_overdue`, `lost_to_follow_up`) live with the schedule.

Principles the rules share:
1. Only final studies count; pre-surgical studies (baseline, mid-NAC, post-NAC) never
   trigger a decision, though they serve as references ("no earlier exam had this group").
2. Calcification rules work per breast on the post-treatment series (from the first
   mammogram after surgery, or after radiotherapy end); each exam is compared with the
   prior exam and with the nadir of the exams before it.
3. A clean MRI does not silence calcification rules: MRI and mammography rules are
   independent (MRI's NPV for residual disease is only ~65%).
4. Each decision names its triggering study, so `alert_raise(trigger=f"study:{id}")`
   deduplicates any number of re-evaluations.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

from imaging.burden import Burden, burden_of
from imaging.history import CalcGroup, Lesion, PatientHistory, StudySnapshot
from imaging.vocabulary import (
    COUNT_BIN_RANK,
    DISTRIBUTION_RANK,
    INCREASE_CHANGES,
    MORPHOLOGY_RANK,
    SUSPICIOUS_BIRADS,
    Distribution,
    KineticsDelayed,
    Modality,
    Morphology,
    ObservedChange,
    Phase,
    StudyStatus,
)

BREASTS = ("left", "right")
MEDIUM, HIGH = "medium", "high"
# Plain-string copies of the vocabulary the rules compare against (see `_final_studies`).
_FINAL, _MG, _MR = StudyStatus.FINAL.value, Modality.MG.value, Modality.MR.value
_SURVEILLANCE, _WASHOUT = Phase.SURVEILLANCE.value, KineticsDelayed.WASHOUT.value
_INCREASE_CHANGES = frozenset(c.value for c in INCREASE_CHANGES)
_SUSPICIOUS_BIRADS = frozenset(b.value for b in SUSPICIOUS_BIRADS)
MORPHOLOGY_BY_RANK = {1: Morphology.COARSE_HETEROGENEOUS, 2: Morphology.AMORPHOUS,
                      3: Morphology.FINE_PLEOMORPHIC, 4: Morphology.FINE_LINEAR_BRANCHING}


@dataclass(frozen=True)
class Thresholds:
    """Rule thresholds; built from the admin-editable `AlertSettings` record."""

    extent_mm: float = 5.0
    extent_percent: float = 20.0
    lesion_growth_mm: float = 5.0
    lesion_growth_percent: float = 20.0


@dataclass(frozen=True)
class Decision:
    rule: str
    severity: str
    breast: str
    study_id: int
    reason: str
    details: dict = field(default_factory=dict, compare=False)

    @property
    def trigger(self) -> str:
        return f"study:{self.study_id}"


def evaluate(history: PatientHistory, thresholds: Thresholds | None = None) -> list[Decision]:
    """Every decision the patient's history supports, oldest triggering study first.

    The full re-evaluation runs this over every patient of the cohort, so the final
    studies are sorted out once here, not once per rule and breast.
    """
    thresholds = thresholds or Thresholds()
    finals, mammograms, mris = _final_studies(history)
    decisions: list[Decision] = []
    for breast in BREASTS:
        decisions += _calcification_decisions(history, breast, thresholds, mammograms)
        decisions += _mri_decisions(history, breast, thresholds, mris)
    decisions += _birads_decisions(history, finals)
    if len(decisions) < 2:
        return decisions
    order = {s.id: i for i, s in enumerate(history.studies)}
    return sorted(decisions, key=lambda d: (order.get(d.study_id, 0), d.breast, d.rule))


def _final_studies(history: PatientHistory) -> tuple[list[StudySnapshot], list[StudySnapshot],
                                                     list[StudySnapshot]]:
    """(final studies, final mammograms, final MRIs), in the history's order.

    Compared with plain strings: a `TextChoices` member's `==` is ~4× slower than `str`'s,
    and the re-evaluation makes this comparison for every study of the cohort.
    """
    finals = [s for s in history.studies if s.status == _FINAL]
    return (finals, [s for s in finals if s.modality == _MG],
            [s for s in finals if s.modality == _MR])


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
    if study.phase != _SURVEILLANCE:
        return False
    return history.surgery_date is None or study.study_date > history.surgery_date


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
    return _calcification_decisions(history, breast, thresholds, history.mammograms())


def _calcification_decisions(history: PatientHistory, breast: str, thresholds: Thresholds,
                             mammograms: list[StudySnapshot]) -> list[Decision]:
    """`calcification_decisions` in one pass over the final mammograms, oldest first.

    The pass keeps what the rules compare with (the groups seen so far, the series' prior
    exam and its nadir), and compares burden vectors as plain tuples: `Burden` values
    (`burden_of`, the same ones the charts use) are built only for the rare exam whose
    decision needs them for its wording. The series is `post_treatment_series`: final
    post-surgical mammograms of the breast dated after `treatment_end`.
    """
    anchor = history.treatment_end
    out: list[Decision] = []
    seen: set[str] = set()  # groups of every earlier mammogram of the breast
    earlier = 0
    since = None  # the date of the first of them
    prior = low = None  # (vector, study) of the series' previous exam and of its nadir
    for study in mammograms:
        if study.laterality != "bilateral" and study.laterality != breast:
            continue
        groups = [c for c in study.calcifications if c.breast == breast] if study.calcifications else []
        if anchor is not None and study.phase == _SURVEILLANCE and study.study_date > anchor:
            if groups:
                if earlier:
                    out += _new_groups(study, breast, groups, seen, earlier, since)
                out += _reported_increase(study, breast, groups)
            current = _vector(groups)
            if prior is not None and low is not None:  # both set from the first exam on
                out += _compare_with_prior(study, breast, current, prior, low, thresholds)
                if (current[0], study.study_date) < (low[0][0], low[1].study_date):
                    low = (current, study)
            else:
                low = (current, study)
            prior = (current, study)
        for c in groups:
            seen.add(c.group)
        if not earlier:
            since = study.study_date
        earlier += 1
    return out


def _vector(groups: list[CalcGroup]) -> tuple:
    """(extent_mm, groups, count bin rank, morphology rank, distribution rank), as `burden_of`."""
    if not groups:
        return 0, 0, -1, -1, -1
    return (round(sum(c.extent_mm for c in groups), 1), len(groups),
            max(COUNT_BIN_RANK[c.count_bin] for c in groups),
            max(MORPHOLOGY_RANK[c.morphology] for c in groups),
            max(DISTRIBUTION_RANK[c.distribution] for c in groups))


def _compare_with_prior(study: StudySnapshot, breast: str, current: tuple, prior: tuple,
                        low: tuple, thresholds: Thresholds) -> list[Decision]:
    """Extent against the nadir and ranks against the prior exam; the cheap tests first
    (`_extent_increase` and `_rank_rises` test again, in full)."""
    (extent, _, count_rank, morphology_rank, distribution_rank), prior_study = current, prior[1]
    p_extent, p_groups, p_count_rank, p_morphology_rank, p_distribution_rank = prior[0]
    out: list[Decision] = []
    if extent > p_extent:  # `_extent_increase` requires growth since the prior exam
        out += _extent_increase(burden_of(study, breast), burden_of(prior_study, breast),
                                burden_of(low[1], breast), thresholds)
    if ((p_groups and count_rank > p_count_rank) or morphology_rank > max(p_morphology_rank, 0)
            or distribution_rank > max(p_distribution_rank, 0)):
        out += _rank_rises(burden_of(study, breast), burden_of(prior_study, breast))
    return out


def _new_groups(study: StudySnapshot, breast: str, groups: list[CalcGroup], seen: set[str],
                earlier: int, since) -> Iterator[Decision]:
    """`groups` of `study` in `breast` that none of the `earlier` mammograms of the
    breast (the first on `since`) had."""
    new = [c for c in groups if c.group not in seen]
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
        f"in the {breast} breast on {study.study_date}, not seen on {earlier} earlier "
        f"mammogram{'s' if earlier > 1 else ''} since {since}",
        details={"groups": [c.group for c in new], "outside_tumor_bed": [c.group for c in outside]},
    )


def _reported_increase(study: StudySnapshot, breast: str, groups: list[CalcGroup]) -> Iterator[Decision]:
    coded = [c for c in groups if c.observed_change in _INCREASE_CHANGES]
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
    return _birads_decisions(history, history.final_studies())


def _birads_decisions(history: PatientHistory, finals: list[StudySnapshot]) -> list[Decision]:
    out = []
    for study in finals:
        if study.birads not in _SUSPICIOUS_BIRADS or not is_post_surgical(history, study):
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
    return _mri_decisions(history, breast, thresholds, history.mris())


def _mri_decisions(history: PatientHistory, breast: str, thresholds: Thresholds,
                   mris: list[StudySnapshot]) -> list[Decision]:
    out: list[Decision] = []
    prior = None
    for study in mris:
        if study.laterality != "bilateral" and study.laterality != breast:
            continue
        # An MRI without enhancement in the breast raises nothing (no rule has a lesion
        # to name), which most are: skip them before the post-surgical test.
        if prior is not None and study.enhancements and is_post_surgical(history, study):
            lesions = _lesions(study, breast)
            if lesions:
                before = {e.lesion: e for e in _lesions(prior, breast)}
                out += _new_enhancement(study, prior, breast, lesions, before)
                out += _enhancement_growth(study, prior, breast, lesions, before, thresholds)
                out += _washout(study, prior, breast, lesions, before)
        prior = study
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
    washout = [e for e in lesions if e.kinetics_delayed == _WASHOUT]
    if not washout or any(e.kinetics_delayed == _WASHOUT for e in before.values()):
        return
    yield Decision(
        rule="mri_washout", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"washout (type 3) curve in {', '.join(_describe(e) for e in washout)} in the "
        f"{breast} breast on {study.study_date}; the prior MRI of {prior.study_date} had none",
        details={"lesions": [e.lesion for e in washout], "prior_study_id": prior.id},
    )

