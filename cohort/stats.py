"""Diagnostic accuracy and survival statistics: pure functions from counts/arrays to results.

The statistics come from statsmodels (Wilson intervals, Cohen's kappa, Kaplan–Meier,
log-rank); this module only shapes their inputs and outputs. No ORM here: the database
side lives in `cohort/selectors.py`.
"""

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from statsmodels.duration.survfunc import SurvfuncRight, survdiff
from statsmodels.stats.inter_rater import cohens_kappa
from statsmodels.stats.proportion import proportion_confint

ALPHA = 0.05
METRICS = ("sensitivity", "specificity", "ppv", "npv", "accuracy")
METRIC_LABELS = {
    "sensitivity": "Sensitivity",
    "specificity": "Specificity",
    "ppv": "PPV",
    "npv": "NPV",
    "accuracy": "Accuracy",
    "kappa": "Cohen's κ",
}


@dataclass(frozen=True)
class Estimate:
    """A value with its 95% interval; all None when undefined (e.g. a zero denominator)."""

    value: float | None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def defined(self) -> bool:
        return self.value is not None

    def as_dict(self) -> dict[str, float | None]:
        return {"value": self.value, "ci_low": self.ci_low, "ci_high": self.ci_high}


UNDEFINED = Estimate(None, None, None)


@dataclass(frozen=True)
class TwoByTwo:
    """Test (imaging predicts residual disease) against truth (residual disease at surgery)."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def n(self) -> int:
        return self.tp + self.fp + self.fn + self.tn

    def __add__(self, other: "TwoByTwo") -> "TwoByTwo":
        return TwoByTwo(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn, self.tn + other.tn)


@dataclass(frozen=True)
class Concordance:
    table: TwoByTwo
    sensitivity: Estimate
    specificity: Estimate
    ppv: Estimate
    npv: Estimate
    accuracy: Estimate
    kappa: Estimate

    def metric(self, name: str) -> Estimate:
        return getattr(self, name)


def _finite(x: float) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def wilson(successes: int, total: int, alpha: float = ALPHA) -> Estimate:
    """Proportion with its Wilson score interval; undefined when `total` is 0."""
    if total <= 0:
        return UNDEFINED
    low, high = proportion_confint(successes, total, alpha=alpha, method="wilson")
    return Estimate(successes / total, _finite(low), _finite(high))


def kappa(table: TwoByTwo) -> Estimate:
    """Cohen's kappa between test and truth with statsmodels' asymptotic 95% interval.

    The asymptotic interval can pass ±1 in small samples; it is clipped to [-1, 1], the
    range kappa can take. Undefined when chance agreement is 1 (every patient in one row
    and one column): statsmodels then returns NaN, which we report as None.
    """
    if table.n == 0:
        return UNDEFINED
    counts = np.array([[table.tp, table.fp], [table.fn, table.tn]], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = cohens_kappa(counts)
    value = _finite(result.kappa)
    if value is None:
        return UNDEFINED
    low, high = _finite(result.kappa_low), _finite(result.kappa_upp)
    return Estimate(value, None if low is None else max(low, -1.0),
                    None if high is None else min(high, 1.0))


def concordance(table: TwoByTwo, alpha: float = ALPHA) -> Concordance:
    """Sensitivity, specificity, PPV, NPV, accuracy (Wilson, 1 − alpha) and kappa (95%)."""
    t = table
    return Concordance(
        table=t,
        sensitivity=wilson(t.tp, t.tp + t.fn, alpha),
        specificity=wilson(t.tn, t.tn + t.fp, alpha),
        ppv=wilson(t.tp, t.tp + t.fp, alpha),
        npv=wilson(t.tn, t.tn + t.fn, alpha),
        accuracy=wilson(t.tp + t.tn, t.n, alpha),
        kappa=kappa(t),
    )


# --- Survival ---------------------------------------------------------------------------

DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True)
class KmCurve:
    """A Kaplan–Meier event-free survival curve, time in months from surgery.

    `times`/`survival` are the step points, starting at (0, 1.0); `at_risk` gives the
    number still followed and event-free at each of `risk_times`.
    """

    key: str
    label: str
    n: int
    events: int
    times: tuple[float, ...]
    survival: tuple[float, ...]
    risk_times: tuple[float, ...]
    at_risk: tuple[int, ...]
    censored_times: tuple[float, ...] = ()
    short_label: str = ""

    def survival_at(self, month: float) -> float | None:
        """Event-free survival at `month`; None beyond the longest follow-up."""
        if self.n == 0 or month > max(self.times[-1], *self.censored_times, 0.0):
            return None
        value = 1.0
        for t, s in zip(self.times, self.survival, strict=True):
            if t > month:
                break
            value = s
        return value


def expand(values: Sequence[float], counts: Sequence[int]) -> np.ndarray:
    """Grouped rows (value, how many patients) back to one entry per patient."""
    return np.repeat(np.asarray(values, dtype=float), np.asarray(counts, dtype=int))


def kaplan_meier(key: str, label: str, months: Sequence[float], events: Sequence[bool],
                 risk_times: Sequence[float], short_label: str = "") -> KmCurve:
    """Kaplan–Meier estimate (statsmodels' SurvfuncRight) with numbers at risk."""
    time = np.asarray(months, dtype=float)
    status = np.asarray(events, dtype=int)
    at_risk = tuple(int((time >= t).sum()) for t in risk_times)
    if time.size == 0:
        return KmCurve(key, label, 0, 0, (0.0,), (1.0,), tuple(float(t) for t in risk_times),
                       at_risk, short_label=short_label)
    fit = SurvfuncRight(time, status)
    times = (0.0, *(float(t) for t in fit.surv_times))
    survival = (1.0, *(float(s) for s in fit.surv_prob))
    censored = tuple(sorted({float(t) for t in time[status == 0]}))
    return KmCurve(key, label, int(time.size), int(status.sum()), times, survival,
                   tuple(float(t) for t in risk_times), at_risk, censored, short_label)


@dataclass(frozen=True)
class LogRank:
    chi2: float | None
    df: int
    p_value: float | None


def log_rank(months: Sequence[float], events: Sequence[bool], groups: Sequence[str]) -> LogRank:
    """Log-rank test across the groups present (statsmodels' survdiff); None when < 2 groups
    or no event."""
    time = np.asarray(months, dtype=float)
    status = np.asarray(events, dtype=int)
    labels = np.asarray(groups)
    present = np.unique(labels) if labels.size else np.array([])
    if present.size < 2 or status.sum() == 0:
        return LogRank(None, max(int(present.size) - 1, 0), None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        chi2, p = survdiff(time, status, labels)
    return LogRank(_finite(chi2), int(present.size) - 1, _finite(p))
