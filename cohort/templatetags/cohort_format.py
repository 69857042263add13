"""Formatting of estimates on the cohort page: percentages with intervals, dashes for null."""

from django import template
from django.utils.html import format_html

from cohort.stats import Estimate

register = template.Library()

DASH = "—"


@register.filter
def pct(value: float | None) -> str:
    return DASH if value is None else f"{100 * value:.1f}%"


@register.filter
def estimate_pct(e: Estimate) -> str:
    """`85.7% (48.7–97.4%)`, or a dash when undefined."""
    if e is None or e.value is None:
        return DASH
    if e.ci_low is None or e.ci_high is None:
        return pct(e.value)
    return f"{100 * e.value:.1f}% ({100 * e.ci_low:.1f}–{100 * e.ci_high:.1f}%)"


@register.filter
def estimate_stacked(e: Estimate) -> str:
    """Percentage with its interval on a second, smaller line (for wide tables)."""
    if e is None or e.value is None:
        return DASH
    if e.ci_low is None or e.ci_high is None:
        return pct(e.value)
    return format_html('{}<span class="ci">{}–{}</span>', pct(e.value),
                       f"{100 * e.ci_low:.1f}", f"{100 * e.ci_high:.1f}%")


@register.filter
def kappa_stacked(e: Estimate) -> str:
    if e is None or e.value is None:
        return DASH
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:.2f}"
    return format_html('{}<span class="ci">{} to {}</span>', f"{e.value:.2f}",
                       f"{e.ci_low:.2f}", f"{e.ci_high:.2f}")


@register.filter
def estimate_num(e: Estimate) -> str:
    """Kappa: `0.62 (0.31–0.93)`, or a dash when undefined."""
    if e is None or e.value is None:
        return DASH
    if e.ci_low is None or e.ci_high is None:
        return f"{e.value:.2f}"
    return f"{e.value:.2f} ({e.ci_low:.2f} to {e.ci_high:.2f})"


@register.filter
def metric(concordance, name: str) -> Estimate:
    return concordance.metric(name)


@register.filter
def get(mapping: dict, key):
    return mapping.get(key)


@register.filter
def pvalue(p: float | None) -> str:
    """`p < 0.001`, `p = 0.042`, or a dash when there is no test."""
    if p is None:
        return DASH
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _share(done: int, total: int, e: Estimate) -> str:
    """`60.0%` over `12 of 20 · 36.1–80.9%`; a dash when nothing is counted."""
    if not total or e.value is None:
        return DASH
    return format_html('{}<span class="ci">{} of {} · {}–{}</span>', pct(e.value), done, total,
                       f"{100 * e.ci_low:.1f}", f"{100 * e.ci_high:.1f}%")


@register.filter
def within(timeliness, window: int) -> str:
    """Share of a group's starts resolved within `window` days, with its counts."""
    done, total = timeliness.within[window]
    return _share(done, total, timeliness.share_within(window))


@register.filter
def adherence_year(adherence, year: int) -> str:
    done, total = adherence.by_year[year]
    return _share(done, total, adherence.year(year))


@register.filter
def adherence_all(adherence) -> str:
    return _share(adherence.done, adherence.total, adherence.overall)


@register.filter
def rate(status, which: str) -> str:
    """`overdue` or `lost` share of a group's patients with a plan."""
    count = getattr(status, which)
    return _share(count, status.patients, getattr(status, f"{which}_rate"))


@register.filter
def ppv(rule) -> str:
    return _share(rule.malignant, rule.biopsied, rule.ppv)


@register.filter
def days(value: float | None) -> str:
    """A median number of days: whole when it is, one decimal otherwise."""
    if value is None:
        return DASH
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.1f}"


@register.filter
def attr(obj, name: str):
    return getattr(obj, name)
