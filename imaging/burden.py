"""Calcification burden per breast per mammogram (docs/clinical-rules.md, "Burden and reference points").

Pure functions over `imaging.history` values; no database access.
"""

from dataclasses import dataclass
from datetime import date

from .history import PatientHistory, StudySnapshot
from .vocabulary import COUNT_BIN_RANK, DISTRIBUTION_RANK, MORPHOLOGY_RANK, CountBin


@dataclass(frozen=True)
class Burden:
    """The burden vector of one breast on one mammogram.

    Ranks are -1 when the breast has no calcification group on that exam.
    """

    study_id: int
    study_date: date
    breast: str
    extent_mm: float
    groups: int
    count_bin_rank: int
    morphology_rank: int
    distribution_rank: int
    birads: str = ""
    changes: tuple[str, ...] = ()

    @property
    def extent_label(self) -> str:
        """The extent as a page shows it: "none" without calcifications (absence is not
        zero), else e.g. "12.5 mm"."""
        return f"{self.extent_mm:g} mm" if self.groups else "none"

    @property
    def count_bin(self) -> str:
        return list(CountBin)[self.count_bin_rank].value if self.count_bin_rank >= 0 else ""


def burden_of(study: StudySnapshot, breast: str) -> Burden:
    groups = [c for c in study.calcifications if c.breast == breast]
    return Burden(
        study_id=study.id,
        study_date=study.study_date,
        breast=breast,
        extent_mm=round(sum(c.extent_mm for c in groups), 1),
        groups=len(groups),
        count_bin_rank=max((COUNT_BIN_RANK[c.count_bin] for c in groups), default=-1),
        morphology_rank=max((MORPHOLOGY_RANK[c.morphology] for c in groups), default=-1),
        distribution_rank=max((DISTRIBUTION_RANK[c.distribution] for c in groups), default=-1),
        birads=study.birads,
        changes=tuple(c.observed_change for c in groups if c.observed_change),
    )


def burden_series(history: PatientHistory, breast: str) -> list[Burden]:
    """Burden of `breast` on every final mammogram that imaged it, oldest first."""
    return [burden_of(s, breast) for s in history.mammograms() if s.covers(breast)]


def post_treatment_series(history: PatientHistory, breast: str,
                          series: list[Burden] | None = None) -> list[Burden]:
    """The series from the post-treatment baseline on (of `series`, the breast's
    `burden_series` when the caller has it already).

    The baseline is the first mammogram after surgery, or after radiotherapy end when
    radiotherapy was given (`PatientHistory.is_post_treatment`); without a recorded
    surgery, the first `surveillance` mammogram after radiotherapy end, if any.
    """
    post = {s.id for s in history.mammograms() if history.is_post_treatment(s)}
    whole = series if series is not None else burden_series(history, breast)
    return [b for b in whole if b.study_id in post]


def nadir(series: list[Burden]) -> Burden | None:
    """The smallest extent among the exams of `series` on which the breast had
    calcifications (the earliest such exam on ties). Absence is not zero: an exam without
    calcifications is never the nadir, and a series without any has none."""
    return min((b for b in series if b.groups), key=lambda b: (b.extent_mm, b.study_date),
               default=None)
