"""Progression and new-enhancement rules (docs/clinical-rules.md, "Comparison model").

Pure functions: a `PatientHistory`, a `Thresholds` and the radiologist's resolutions in,
`Decision`s out; no ORM. The surveillance rules (`surveillance_overdue`,
`lost_to_follow_up`) live with the schedule.

The comparison model the rules share:
1. Only final studies count. The surveillance series of a breast and modality is its
   final post-surgical studies (`PatientHistory.surveillance_series`): after the surgery
   date when a surgery is recorded, else the `surveillance` phase. Pre-surgical studies
   are context, never priors, and their labels never match post-surgical ones.
2. Absence is not zero. A group appearing where there was none raises `calc_new_group`
   only; extent, count, morphology and distribution compare only with exams on which the
   breast had calcifications, from the post-treatment baseline on.
3. One change, one alert. After a progression rule fires for a breast, it fires again only
   beyond the exam that fired it, or, once the radiologist resolved that alert, compared
   as usual from the resolved exam on (`Episode`).
4. The decisions depend on the history's dates, never on the order in which studies were
   signed: each study is placed by (study date, id).
5. A clean MRI does not silence calcification rules (MRI's NPV is only ~65%).
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from imaging.burden import Burden, burden_of, nadir
from imaging.history import CalcGroup, Lesion, PatientHistory, StudySnapshot
from imaging.vocabulary import (
    INCREASE_CHANGES,
    SUSPICIOUS_BIRADS,
    CountBin,
    Distribution,
    KineticsDelayed,
    Modality,
    Morphology,
    ObservedChange,
)

BREASTS = ("left", "right")
MEDIUM, HIGH = "medium", "high"
MORPHOLOGY_BY_RANK = {1: Morphology.COARSE_HETEROGENEOUS, 2: Morphology.AMORPHOUS,
                      3: Morphology.FINE_PLEOMORPHIC, 4: Morphology.FINE_LINEAR_BRANCHING}
# The burden rules and the rank each compares (`Burden` attribute).
RANK_RULES = (("calc_count_increase", "count_bin_rank", MEDIUM),
              ("calc_morphology_worse", "morphology_rank", HIGH),
              ("calc_distribution_worse", "distribution_rank", HIGH))


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

    @property
    def key(self) -> tuple[str, str, int]:
        return self.rule, self.breast, self.study_id


# (rule, breast, study id) of the alerts a radiologist resolved.
Resolved = frozenset[tuple[str, str, int]]


def evaluate(history: PatientHistory, thresholds: Thresholds | None = None,
             resolved: Iterable[tuple[str, str, int]] = ()) -> list[Decision]:
    """Every decision the patient's history supports, oldest triggering study first."""
    thresholds = thresholds or Thresholds()
    done = frozenset(resolved)
    decisions: list[Decision] = []
    for breast in BREASTS:
        decisions += calcification_decisions(history, breast, thresholds, done)
        decisions += mri_decisions(history, breast, thresholds, done)
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


def _surgery(history: PatientHistory) -> str:
    return f"surgery on {history.surgery_date}" if history.surgery_date else "surgery"


@dataclass
class Episode:
    """The reference a progression rule compares with, per breast (principle 3).

    `fired` is what the exam of the open (unresolved) alert measured — its `Burden`, or
    an MRI's lesion sizes: later exams are compared with it only. `since` is the date from
    which the usual references are taken: the start of the series, or the exam of the
    last resolved alert.
    """

    fired: Any = None
    since: date | None = None

    def after(self, fired: Any, when: date, key: tuple[str, str, int], resolved: Resolved) -> None:
        """The rule fired on the exam of `when`: open an episode, or restart from that
        exam when the radiologist resolved its alert."""
        if key in resolved:
            self.fired, self.since = None, when
        else:
            self.fired = fired


# --- calcifications ----------------------------------------------------------------------

def calcification_decisions(history: PatientHistory, breast: str, thresholds: Thresholds,
                            resolved: Resolved = frozenset()) -> list[Decision]:
    """Calcification rules for one breast over its mammography surveillance series.

    1. Every exam of the series: groups no earlier exam of the series had
       (`calc_new_group`, from the second exam on) and radiologist-coded increases.
    2. Every exam after the post-treatment baseline on which the breast has
       calcifications: extent against the nadir, ranks against the latest earlier exam
       with calcifications — or, in an open episode, against the exam that fired.
    """
    out: list[Decision] = []
    seen: set[str] = set()
    earlier: list[StudySnapshot] = []
    compared: list[Burden] = []  # post-treatment exams with calcifications, oldest first
    episodes = {rule: Episode() for rule in ("calc_extent_increase", *(r for r, _, _ in RANK_RULES))}
    for study in history.surveillance_series(Modality.MG, breast):
        groups = [c for c in study.calcifications if c.breast == breast]
        if earlier:
            out += _new_groups(study, breast, groups, seen, earlier)
        out += _reported_increase(study, breast, groups)
        if groups and history.is_post_treatment(study):
            current = burden_of(study, breast)
            out += _extent_increase(current, compared, episodes["calc_extent_increase"],
                                    thresholds, resolved)
            out += _rank_rises(current, compared, episodes, resolved)
            compared.append(current)
        seen.update(c.group for c in groups)
        earlier.append(study)
    return out


def _new_groups(study: StudySnapshot, breast: str, groups: list[CalcGroup], seen: set[str],
                earlier: list[StudySnapshot]) -> Iterator[Decision]:
    new = [c for c in groups if c.group not in seen]
    if not new:
        return
    outside = [c for c in new if not c.inside_tumor_bed]
    parts = [
        f"{c.group} ({_label(c.morphology)}, {_label(c.distribution)}, {_mm(c.extent_mm)} mm, "
        f"{'outside' if not c.inside_tumor_bed else 'inside'} the tumour bed)"
        for c in new
    ]
    n = len(earlier)
    yield Decision(
        rule="calc_new_group", severity=HIGH if outside else MEDIUM, breast=breast,
        study_id=study.id,
        reason=f"new calcification group{'s' if len(new) > 1 else ''} {', '.join(parts)} "
        f"in the {breast} breast on {study.study_date}, not seen on {n} earlier post-surgical "
        f"mammogram{'s' if n > 1 else ''} since {earlier[0].study_date}",
        details={"groups": [c.group for c in new], "outside_tumor_bed": [c.group for c in outside]},
    )


def _reported_increase(study: StudySnapshot, breast: str, groups: list[CalcGroup]) -> Iterator[Decision]:
    coded = [c for c in groups if c.observed_change in INCREASE_CHANGES]
    if not coded:
        return
    parts = [f"{c.group} as '{ObservedChange(c.observed_change).label.lower()}'" for c in coded]
    yield Decision(
        rule="calc_reported_increase", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"the radiologist coded {', '.join(parts)} in the {breast} breast on {study.study_date}",
        details={"groups": [c.group for c in coded],
                 "changes": [c.observed_change for c in coded]},
    )


def _since(compared: list[Burden], episode: Episode) -> list[Burden]:
    return [b for b in compared if episode.since is None or b.study_date >= episode.since]


def _extent_increase(current: Burden, compared: list[Burden], episode: Episode,
                     thresholds: Thresholds, resolved: Resolved) -> Iterator[Decision]:
    """Extent against the nadir, or in an open episode against the exam that fired."""
    reference = episode.fired or nadir(_since(compared, episode))
    if reference is None:
        return
    enough, plus, pct = _growth(reference.extent_mm, current.extent_mm, thresholds.extent_mm,
                                thresholds.extent_percent)
    if not enough:
        return
    decision = Decision(
        rule="calc_extent_increase", severity=MEDIUM, breast=current.breast,
        study_id=current.study_id,
        reason=f"extent {_mm(reference.extent_mm)} mm → {_mm(current.extent_mm)} mm, "
        f"+{_mm(plus)} mm{f' / +{pct}%' if pct is not None else ''} over "
        f"{'the exam that raised the open alert' if episode.fired else 'nadir'} of "
        f"{_mm(reference.extent_mm)} mm on {reference.study_date} ({current.breast} breast)",
        details={"extent_mm": current.extent_mm, "reference_mm": reference.extent_mm,
                 "reference_study_id": reference.study_id,
                 "reference": "episode" if episode.fired else "nadir",
                 "increase_mm": plus, "increase_percent": pct},
    )
    episode.after(current, current.study_date, decision.key, resolved)
    yield decision


def _rank_rises(current: Burden, compared: list[Burden], episodes: dict[str, Episode],
                resolved: Resolved) -> Iterator[Decision]:
    """Count bin, morphology and distribution against the latest earlier exam with
    calcifications, or in an open episode against the exam that fired."""
    for rule, rank, severity in RANK_RULES:
        episode = episodes[rule]
        earlier = _since(compared, episode)
        reference = episode.fired or (earlier[-1] if earlier else None)
        if reference is None or getattr(current, rank) <= getattr(reference, rank):
            continue
        change = _rank_change(rank, getattr(reference, rank), getattr(current, rank))
        decision = Decision(
            rule=rule, severity=severity, breast=current.breast, study_id=current.study_id,
            reason=f"{change} in the {current.breast} breast ({reference.study_date} → "
            f"{current.study_date})",
            details={"before_rank": getattr(reference, rank), "after_rank": getattr(current, rank),
                     "reference_study_id": reference.study_id},
        )
        episode.after(current, current.study_date, decision.key, resolved)
        yield decision


def _rank_change(rank: str, before: int, after: int) -> str:
    """The rise in words, e.g. "highest distribution grouped → segmental"."""
    if rank == "count_bin_rank":
        bins = list(CountBin)
        return f"count bin {bins[before].value} → {bins[after].value}"
    if rank == "distribution_rank":
        names = list(Distribution)
        return f"highest distribution {names[before].value} → {names[after].value}"
    return (f"highest morphology {_label(MORPHOLOGY_BY_RANK.get(before, 'benign'))} → "
            f"{_label(MORPHOLOGY_BY_RANK[after])} (rank {before} → {after})")


# --- BI-RADS -----------------------------------------------------------------------------

def birads_decisions(history: PatientHistory) -> list[Decision]:
    """A suspicious final assessment (4, 4A–4C, 5) on any post-surgical study."""
    out = []
    for study in history.final_studies():
        if study.birads not in SUSPICIOUS_BIRADS or not history.is_post_surgical(study):
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

def mri_decisions(history: PatientHistory, breast: str, thresholds: Thresholds,
                  resolved: Resolved = frozenset()) -> list[Decision]:
    """Each MRI of the breast's MRI surveillance series against the one before it.

    The first MRI of the series is compared with "nothing enhanced": any lesion on it is
    new. Lesions match by label within the series only.
    """
    out: list[Decision] = []
    prior: StudySnapshot | None = None
    growth, washout = Episode(), Episode()
    for study in history.surveillance_series(Modality.MR, breast):
        lesions = _lesions(study, breast)
        if lesions:
            before = {e.lesion: e for e in _lesions(prior, breast)} if prior else {}
            out += _new_enhancement(history, study, prior, breast, lesions, before)
            for d in _enhancement_growth(study, prior, breast, lesions, before,
                                         growth.fired or {}, thresholds):
                sizes = {e.lesion: e.size_mm for e in lesions if e.size_mm is not None}
                growth.after(sizes, study.study_date, d.key, resolved)
                out.append(d)
            if not washout.fired:
                for d in _washout(history, study, prior, breast, lesions, before):
                    washout.after(study.id, study.study_date, d.key, resolved)
                    out.append(d)
        prior = study
    return out


def _lesions(study: StudySnapshot, breast: str) -> list[Lesion]:
    return [e for e in study.enhancements if e.breast == breast]


def _describe(lesion: Lesion) -> str:
    size = f", {_mm(lesion.size_mm)} mm" if lesion.size_mm is not None else ""
    kind = "NME" if lesion.lesion_type == "nme" else lesion.lesion_type
    return f"{lesion.lesion} ({kind}{size})"


def _new_enhancement(history: PatientHistory, study: StudySnapshot, prior: StudySnapshot | None,
                     breast: str, lesions: list[Lesion], before: dict[str, Lesion]) -> Iterator[Decision]:
    new = [e for e in lesions if e.lesion not in before]
    if not new:
        return
    if prior is None:
        context = f"the first MRI of that breast after {_surgery(history)}"
    elif not before:
        context = f"the prior MRI of {prior.study_date} showed no enhancement in that breast"
    else:
        context = f"not on the prior MRI of {prior.study_date}"
    yield Decision(
        rule="mri_new_enhancement", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"new enhancement {', '.join(_describe(e) for e in new)} in the {breast} breast "
        f"on {study.study_date}; {context}",
        details={"lesions": [e.lesion for e in new], "prior_study_id": prior.id if prior else None},
    )


def _enhancement_growth(study: StudySnapshot, prior: StudySnapshot | None, breast: str,
                        lesions: list[Lesion], before: dict[str, Lesion],
                        episode_sizes: dict[str, float], thresholds: Thresholds) -> Iterator[Decision]:
    """Matched lesions against the prior MRI, or against the MRI of the open alert for
    the lesions it measured."""
    grown = []
    for e in lesions:
        old = episode_sizes.get(e.lesion)
        if old is None:
            match = before.get(e.lesion)
            old = match.size_mm if match is not None else None
        if old is None or e.size_mm is None:
            continue
        enough, plus, pct = _growth(old, e.size_mm, thresholds.lesion_growth_mm,
                                    thresholds.lesion_growth_percent)
        if enough:
            pct_text = f" / +{pct}%" if pct is not None else ""
            grown.append((e, f"{e.lesion} {_mm(old)} mm → {_mm(e.size_mm)} mm, +{_mm(plus)} mm{pct_text}"))
    if grown and prior is not None:
        yield Decision(
            rule="mri_enhancement_growth", severity=HIGH, breast=breast, study_id=study.id,
            reason=f"{'; '.join(t for _, t in grown)} since the MRI of {prior.study_date} "
            f"({breast} breast)",
            details={"lesions": [e.lesion for e, _ in grown], "prior_study_id": prior.id},
        )


def _washout(history: PatientHistory, study: StudySnapshot, prior: StudySnapshot | None, breast: str,
             lesions: list[Lesion], before: dict[str, Lesion]) -> Iterator[Decision]:
    washout = [e for e in lesions if e.kinetics_delayed == KineticsDelayed.WASHOUT]
    if not washout or any(e.kinetics_delayed == KineticsDelayed.WASHOUT for e in before.values()):
        return
    context = (f"the prior MRI of {prior.study_date} had none" if prior is not None
               else f"the first MRI of that breast after {_surgery(history)}")
    yield Decision(
        rule="mri_washout", severity=HIGH, breast=breast, study_id=study.id,
        reason=f"washout (type 3) curve in {', '.join(_describe(e) for e in washout)} in the "
        f"{breast} breast on {study.study_date}; {context}",
        details={"lesions": [e.lesion for e in washout],
                 "prior_study_id": prior.id if prior is not None else None},
    )
