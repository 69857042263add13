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
