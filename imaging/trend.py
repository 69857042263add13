"""The calcification trend of each breast in words: nadir and "stable since".

Pure functions over `imaging.history` values (no database), built on `imaging.burden`.
"""

from dataclasses import dataclass
from datetime import date

from .burden import Burden, burden_series, nadir, post_treatment_series
from .history import PatientHistory

# Extent measurements of the same calcified area differ by a millimetre or two between
# exams; a change within this tolerance, with the same ranks, is read as stable.
STABLE_TOLERANCE_MM = 2.0


@dataclass(frozen=True)
class BreastTrend:
    breast: str
    exams: int  # final mammograms of this breast, whole history
    latest: Burden | None
    baseline: Burden | None  # the post-treatment baseline (first exam after treatment)
    nadir: Burden | None  # smallest extent since the baseline
    stable_since: date | None  # start of the trailing run of stable exams (≥ 2 exams)
    stable_exams: int = 0

    @property
    def above_nadir_mm(self) -> float | None:
        if self.latest is None or self.nadir is None:
            return None
        return round(self.latest.extent_mm - self.nadir.extent_mm, 1)


def _same_burden(a: Burden, b: Burden, tolerance_mm: float) -> bool:
    return (
        abs(a.extent_mm - b.extent_mm) <= tolerance_mm
        and a.groups == b.groups
        and a.count_bin_rank == b.count_bin_rank
        and a.morphology_rank == b.morphology_rank
        and a.distribution_rank == b.distribution_rank
    )


def stable_since(series: list[Burden], *,
                 tolerance_mm: float = STABLE_TOLERANCE_MM) -> tuple[date | None, int]:
    """Date of the first exam of the trailing stable run, and the run's length.

    1. Start from the latest exam and walk back.
    2. Extend the run while the earlier exam has the same burden vector as the latest
       (extent within `tolerance_mm`, same number of groups and ranks).
    3. A run of one exam is no evidence of stability: (None, 0).
    """
    if len(series) < 2:
        return None, 0
    latest = series[-1]
    start = len(series) - 1
    while start > 0 and _same_burden(series[start - 1], latest, tolerance_mm):
        start -= 1
    run = len(series) - start
    if run < 2:
        return None, 0
    return series[start].study_date, run


def breast_trend(history: PatientHistory, breast: str, *, tolerance_mm: float = STABLE_TOLERANCE_MM,
                 series: list[Burden] | None = None) -> BreastTrend:
    """`series`: the breast's `burden_series`, when the caller has it already."""
    whole = series if series is not None else burden_series(history, breast)
    post = post_treatment_series(history, breast, whole)
    since, run = stable_since(post, tolerance_mm=tolerance_mm)
    return BreastTrend(
        breast=breast,
        exams=len(whole),
        latest=whole[-1] if whole else None,
        baseline=post[0] if post else None,
        nadir=nadir(post),
        stable_since=since,
        stable_exams=run,
    )


def trends(history: PatientHistory) -> list[BreastTrend]:
    """Trends of the breasts that ever had calcifications, or the operated breast."""
    breasts = []
    for breast in ("left", "right"):
        series = burden_series(history, breast)
        operated = history.surgery_laterality in (breast, "bilateral")
        if operated or any(b.groups for b in series):
            breasts.append(breast_trend(history, breast, series=series))
    return breasts


def _d(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def describe(trend: BreastTrend, *, open_alert: str = "") -> str:
    """One sentence a radiologist reads above the chart.

    `open_alert`: the rule of an open progression alert of this breast (see
    `open_alert_breasts`). While one is open the sentence never says "stable": it gives
    the latest extent against the nadir and names the alert.
    """
    side = trend.breast.capitalize() + " breast"
    if trend.latest is None:
        return f"{side}: no signed mammogram yet."
    if trend.baseline is None:
        latest = (f"latest extent {trend.latest.extent_mm:g} mm" if trend.latest.groups
                  else "no calcifications")  # absence is not zero
        return f"{side}: {latest} on {_d(trend.latest.study_date)}; no post-treatment baseline yet."
    nadir = trend.nadir
    if nadir is None:  # absence is not zero: no calcifications since the baseline, no nadir
        return (f"{side}: no calcifications since the post-treatment baseline of "
                f"{_d(trend.baseline.study_date)}.")
    parts = [f"{side}: nadir {nadir.extent_mm:g} mm on {_d(nadir.study_date)}"]
    above = trend.above_nadir_mm or 0.0
    if open_alert:
        change = f"{above:+g} mm against the nadir" if above else "at the nadir"
        parts.append(f"latest {trend.latest.extent_mm:g} mm on {_d(trend.latest.study_date)}, {change}")
        parts.append(f"open alert: {open_alert}")
    elif trend.stable_since is not None:
        parts.append(f"stable since {_d(trend.stable_since)} ({trend.stable_exams} mammograms)")
    elif above > 0:
        parts.append(f"latest {trend.latest.extent_mm:g} mm, {above:g} mm above the nadir")
    else:
        parts.append(f"latest {trend.latest.extent_mm:g} mm on {_d(trend.latest.study_date)}")
    return "; ".join(parts) + "."


# Alerts that say a breast's findings progressed (`alerts.models.Rule` values; imaging
# sits below alerts, so the prefixes are matched): the calcification rules and a
# suspicious BI-RADS assessment.
PROGRESSION_PREFIXES = ("calc_", "birads_")


def open_alert_breasts(alerts) -> dict[str, str]:
    """Breast → the rule (display name) of an open progression alert of it.

    `alerts`: open Alert rows (anything with `rule`, `breast`, `get_rule_display()`);
    an alert without a breast (a bilateral study's BI-RADS) counts for both breasts.
    """
    out: dict[str, str] = {}
    for alert in alerts:
        if not alert.rule.startswith(PROGRESSION_PREFIXES):
            continue
        for breast in ([alert.breast] if alert.breast in ("left", "right") else ["left", "right"]):
            out.setdefault(breast, alert.get_rule_display())
    return out
