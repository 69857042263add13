"""The cohort report: database counts (selectors) turned into statistics (stats).

`build_report` is pure (counts in, report out) so it is tested without a database;
`cohort_report` reads the counts in a fixed number of queries and calls it.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imaging.vocabulary import Modality
from patients import vocabulary as pv

from . import selectors
from .selectors import MODALITIES, NEGATIVE, POSITIVE, CohortFilters, SubtypeCounts, SurvivalRow
from .stats import (
    DAYS_PER_MONTH,
    Concordance,
    Estimate,
    KmCurve,
    LogRank,
    concordance,
    expand,
    kaplan_meier,
    log_rank,
    wilson,
)

MODALITY_LABELS = {Modality.MR: "MRI", Modality.MG: "Mammography"}
SUBTYPE_LABELS = dict(pv.Subtype.choices)
HISTOLOGY_LABELS = dict(pv.CalcificationHistology.choices)
SAMPLED_HISTOLOGIES = tuple(h for h in pv.CalcificationHistology.values
                            if h != pv.CalcificationHistology.NOT_SAMPLED)

# pCR × residual calcifications on the post-NAC mammogram (the four EFS groups).
SURVIVAL_GROUPS: tuple[tuple[str, bool, str, str], ...] = (
    ("pcr_calc", True, POSITIVE, "pCR, residual calcifications"),
    ("pcr_no_calc", True, NEGATIVE, "pCR, no residual calcifications"),
    ("residual_calc", False, POSITIVE, "Residual disease, residual calcifications"),
    ("residual_no_calc", False, NEGATIVE, "Residual disease, no residual calcifications"),
)
SURVIVAL_SHORT_LABELS = {
    "pcr_calc": "pCR + calc", "pcr_no_calc": "pCR, no calc",
    "residual_calc": "RD + calc", "residual_no_calc": "RD, no calc",
}
MAX_RISK_MONTHS = 120


@dataclass(frozen=True)
class ModalityResult:
    modality: str
    concordance: Concordance
    excluded: dict[str, int]

    @property
    def label(self) -> str:
        return MODALITY_LABELS[self.modality]

    @property
    def n(self) -> int:
        return self.concordance.table.n

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded.values())


@dataclass(frozen=True)
class HistologyResult:
    """Histology of excised calcifications among patients with suspicious residual
    calcifications on the post-NAC mammogram; shares are of the sampled ones."""

    counts: dict[str, int]
    shares: dict[str, Estimate]

    @property
    def sampled(self) -> int:
        return sum(self.counts[h] for h in SAMPLED_HISTOLOGIES)

    @property
    def not_sampled(self) -> int:
        return self.counts[pv.CalcificationHistology.NOT_SAMPLED]


@dataclass(frozen=True)
class GroupResult:
    """Everything for one subtype, or for the whole selection (`subtype` = "")."""

    subtype: str
    modalities: dict[str, ModalityResult]
    histology: HistologyResult

    @property
    def label(self) -> str:
        return SUBTYPE_LABELS.get(self.subtype, "All subtypes") if self.subtype else "All subtypes"


@dataclass(frozen=True)
class SurvivalResult:
    curves: tuple[KmCurve, ...]
    log_rank: LogRank
    time_unit: str = "months"

    @property
    def n(self) -> int:
        return sum(c.n for c in self.curves)


@dataclass(frozen=True)
class CohortReport:
    filters: CohortFilters
    overall: GroupResult
    by_subtype: tuple[GroupResult, ...]
    survival: SurvivalResult

    @property
    def has_eligible(self) -> bool:
        return any(r.n for r in self.overall.modalities.values())


def histology_result(counts: dict[str, int]) -> HistologyResult:
    sampled = sum(counts[h] for h in SAMPLED_HISTOLOGIES)
    return HistologyResult(dict(counts), {h: wilson(counts[h], sampled) for h in SAMPLED_HISTOLOGIES})


def group_result(subtype: str, counts: SubtypeCounts) -> GroupResult:
    return GroupResult(
        subtype=subtype,
        modalities={
            m: ModalityResult(m, concordance(counts.tables[m]), dict(counts.excluded[m]))
            for m in MODALITIES
        },
        histology=histology_result(counts.histology),
    )


def risk_times(max_months: float) -> tuple[float, ...]:
    """Yearly marks (every 3 months under two years of follow-up), up to ten years."""
    step = 12 if max_months >= 24 else 3
    last = min(MAX_RISK_MONTHS, step * max(1, math.ceil(max_months / step)))
    return tuple(float(t) for t in range(0, last + 1, step))


def survival_result(rows: Sequence[SurvivalRow]) -> SurvivalResult:
    """Kaplan–Meier per pCR × residual-calcification group and a log-rank test."""
    months = expand([r.days / DAYS_PER_MONTH for r in rows], [r.n for r in rows])
    events = expand([r.event for r in rows], [r.n for r in rows]).astype(bool)
    keys = np.repeat(np.array([_group_key(r) for r in rows], dtype=object),
                     np.asarray([r.n for r in rows], dtype=int))
    marks = risk_times(float(months.max()) if months.size else 0.0)
    curves = tuple(
        kaplan_meier(key, label, months[keys == key], events[keys == key], marks,
                     SURVIVAL_SHORT_LABELS[key])
        for key, _, _, label in SURVIVAL_GROUPS
    )
    return SurvivalResult(curves, log_rank(months, events, keys.astype(str)))


def _group_key(row: SurvivalRow) -> str:
    for key, is_pcr, mg, _ in SURVIVAL_GROUPS:
        if row.is_pcr == is_pcr and row.mg == mg:
            return key
    raise ValueError(f"no survival group for mammography status {row.mg!r}")


@dataclass(frozen=True)
class ConcordanceResult:
    overall: GroupResult
    by_subtype: tuple[GroupResult, ...]


def build_concordance(per_subtype: dict[str, SubtypeCounts]) -> ConcordanceResult:
    return ConcordanceResult(
        overall=group_result("", selectors.total_counts(per_subtype)),
        by_subtype=tuple(group_result(s, per_subtype[s])
                         for s in selectors.subtypes_present(per_subtype)),
    )


def concordance_for(filters: CohortFilters) -> ConcordanceResult:
    """Concordance and histology, overall and per subtype (two queries)."""
    return build_concordance(selectors.concordance_counts(filters))


def survival_for(filters: CohortFilters) -> SurvivalResult:
    """Event-free survival curves (one query)."""
    return survival_result(selectors.survival_rows(filters))


def cohort_report(filters: CohortFilters) -> CohortReport:
    """The whole report in three queries."""
    per_subtype = selectors.concordance_counts(filters)
    rows = selectors.survival_rows(filters)
    result = build_concordance(per_subtype)
    return CohortReport(filters, result.overall, result.by_subtype, survival_result(rows))
