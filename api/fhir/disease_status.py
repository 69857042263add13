"""The cancer disease status of each signed post-surgical exam (mCODE CancerDiseaseStatus).

A pure function of the patient's imaging history and of which exams raised an alert that
still stands; no database. The judgement is the tracker's, in the words mCODE uses:

1. **worsened** — the exam raised a progression alert that was not dismissed (resolved as
   benign, no action or as a false positive). An alert in any other state, including ones
   this module does not know, counts: reading a change as no change is the worse error.
2. **not detected** — nothing to follow: no calcification group in any breast the
   mammogram imaged (no enhancing lesion on an MRI) and a BI-RADS of 1, 2 or none.
3. **improved / stable** — each breast's burden is compared with its previous exam of the
   post-treatment series (`imaging.burden`), MRI lesions with the previous post-surgical
   MRI's lesions of the same label: a drop beyond the measurement tolerance of
   `imaging.trend` (or a group or lesion gone) is improved, anything else that raised no
   alert is stable (the alert rules are the clinic's definition of progression), so is a
   new group or lesion whose alert was dismissed.
4. **undetermined** — no earlier exam to compare with (the post-treatment baseline, an
   exam before radiotherapy ended, an MRI with enhancement and no earlier post-surgical
   MRI), an incomplete
   assessment (BI-RADS 0), findings without a comparison, or an ultrasound (no
   structured findings).
"""

from collections.abc import Collection
from dataclasses import dataclass

from imaging.burden import Burden, burden_of, post_treatment_series
from imaging.history import PatientHistory, StudySnapshot
from imaging.trend import STABLE_TOLERANCE_MM

NOT_DETECTED, IMPROVED, STABLE = "not_detected", "improved", "stable"
WORSENED, UNDETERMINED = "worsened", "undetermined"
# Assessments that leave nothing to follow when the exam shows no finding.
_CLEAR_BIRADS = frozenset({"", "1", "2"})
_BREASTS = ("left", "right")


@dataclass(frozen=True)
class ExamStatus:
    study_id: int
    status: str
    reason: str


def exam_statuses(history: PatientHistory, alerted: Collection[int], *,
                  tolerance_mm: float = STABLE_TOLERANCE_MM) -> dict[int, ExamStatus]:
    """One status per final post-surgical study, by study id.

    `alerted`: ids of the studies that raised an alert still standing.
    """
    out: dict[int, ExamStatus] = {}
    prior_mri: StudySnapshot | None = None
    for study in history.final_studies():
        if not study.is_post_surgical:
            continue
        if study.id in alerted:
            status, reason = WORSENED, "The exam raised a progression alert."
        elif study.modality == "MG":
            status, reason = _mammogram_status(history, study, tolerance_mm)
        elif study.modality == "MR":
            status, reason = _mri_status(study, prior_mri, tolerance_mm)
        else:
            status, reason = UNDETERMINED, "No structured findings to judge from."
        out[study.id] = ExamStatus(study.id, status, reason)
        if study.modality == "MR":
            prior_mri = study
    return out


def _mammogram_status(history: PatientHistory, study: StudySnapshot,
                      tolerance_mm: float) -> tuple[str, str]:
    breasts = [b for b in _BREASTS if study.covers(b)]
    if study.birads == "0":
        return UNDETERMINED, "Incomplete assessment (BI-RADS 0)."
    if not any(c.breast in breasts for c in study.calcifications):
        if study.birads in _CLEAR_BIRADS:
            return NOT_DETECTED, "No calcifications and a negative or benign assessment."
        return UNDETERMINED, f"No calcifications, assessed BI-RADS {study.birads}."
    verdicts = [_breast_verdict(history, study, b, tolerance_mm) for b in breasts]
    if UNDETERMINED in verdicts:
        return UNDETERMINED, "Calcifications without an earlier post-treatment exam to compare with."
    if IMPROVED in verdicts:
        return IMPROVED, "Calcification burden lower than on the previous exam."
    return STABLE, "Calcification burden unchanged from the previous exam, within the alert thresholds."


def _breast_verdict(history: PatientHistory, study: StudySnapshot, breast: str,
                    tolerance_mm: float) -> str | None:
    """IMPROVED, STABLE, UNDETERMINED, or None when the breast has nothing on either exam."""
    current = burden_of(study, breast)
    series = post_treatment_series(history, breast)
    position = next((i for i, b in enumerate(series) if b.study_id == study.id), None)
    prior = series[position - 1] if position else None
    if prior is None:
        return UNDETERMINED if current.groups else None
    if not current.groups:
        return IMPROVED if prior.groups else None
    if not prior.groups:
        return STABLE  # a new group whose alert was dismissed
    return IMPROVED if _lower(current, prior, tolerance_mm) else STABLE


def _lower(current: Burden, prior: Burden, tolerance_mm: float) -> bool:
    ranks_not_higher = (current.count_bin_rank <= prior.count_bin_rank
                        and current.morphology_rank <= prior.morphology_rank
                        and current.distribution_rank <= prior.distribution_rank)
    smaller = (prior.extent_mm - current.extent_mm > tolerance_mm or current.groups < prior.groups
               or current.count_bin_rank < prior.count_bin_rank)
    return ranks_not_higher and smaller


def _mri_status(study: StudySnapshot, prior: StudySnapshot | None,
                tolerance_mm: float) -> tuple[str, str]:
    if study.birads == "0":
        return UNDETERMINED, "Incomplete assessment (BI-RADS 0)."
    if not study.enhancements:
        if study.birads in _CLEAR_BIRADS:
            return NOT_DETECTED, "No enhancement."
        return UNDETERMINED, f"No enhancing lesion, assessed BI-RADS {study.birads}."
    if prior is None:
        return UNDETERMINED, "Enhancement without an earlier post-surgical MRI to compare with."
    before = {(x.breast, x.lesion): x.size_mm for x in prior.enhancements}
    now = {(x.breast, x.lesion): x.size_mm for x in study.enhancements}
    gone = set(before) - set(now)
    shrunk = [k for k, size in now.items()
              if size is not None and before.get(k) is not None and before[k] - size > tolerance_mm]
    if gone or shrunk:
        return IMPROVED, "Enhancing lesions smaller or fewer than on the previous MRI."
    return STABLE, "Enhancement unchanged from the previous MRI, within the alert thresholds."
