"""The report as JSON (API) and as CSV rows (download): the same numbers as the page."""

from collections.abc import Iterator

from .analysis import (
    SAMPLED_HISTOLOGIES,
    CohortReport,
    ConcordanceResult,
    GroupResult,
    ModalityResult,
    SurvivalResult,
)
from .selectors import EXCLUSION_LABELS, CohortFilters
from .stats import METRICS, Estimate, KmCurve


def filters_json(filters: CohortFilters, site_codes: dict[int, str]) -> dict:
    return {
        "pcr_definition": filters.pcr_definition,
        "sites": [site_codes[i] for i in filters.site_ids if i in site_codes],
        "subtype": filters.subtype or None,
        "procedure": filters.procedure or None,
        "surgery_from": filters.surgery_from.isoformat() if filters.surgery_from else None,
        "surgery_to": filters.surgery_to.isoformat() if filters.surgery_to else None,
    }


def modality_json(result: ModalityResult) -> dict:
    t = result.concordance.table
    data: dict = {"n": t.n, "tp": t.tp, "fp": t.fp, "fn": t.fn, "tn": t.tn}
    for name in (*METRICS, "kappa"):
        data[name] = result.concordance.metric(name).as_dict()
    data["excluded"] = {"total": result.excluded_total, **result.excluded}
    return data


def concordance_json(report: CohortReport | ConcordanceResult, modality: str) -> dict:
    """`n, tp, fp, fn, tn`, each metric as {value, ci_low, ci_high}, exclusions, subtypes."""
    return {
        "modality": modality,
        **modality_json(report.overall.modalities[modality]),
        "by_subtype": [
            {"subtype": g.subtype, **modality_json(g.modalities[modality])} for g in report.by_subtype
        ],
    }


def curve_json(curve: KmCurve) -> dict:
    return {
        "group": curve.key,
        "label": curve.label,
        "n": curve.n,
        "events": curve.events,
        "times": list(curve.times),
        "survival": list(curve.survival),
        "censored_times": list(curve.censored_times),
        "at_risk": [{"time": t, "n": n} for t, n in zip(curve.risk_times, curve.at_risk, strict=True)],
    }


def survival_json(survival: SurvivalResult) -> dict:
    lr = survival.log_rank
    return {
        "time_unit": survival.time_unit,
        "n": survival.n,
        "groups": [curve_json(c) for c in survival.curves],
        "log_rank": {"chi2": lr.chi2, "df": lr.df, "p_value": lr.p_value},
    }


# --- CSV ----------------------------------------------------------------------------------

CSV_HEADER = ("section", "modality", "subtype", "statistic", "value", "ci_low", "ci_high")


def _fmt(x: float | int | None) -> str:
    if x is None:
        return ""
    return str(x) if isinstance(x, int) else f"{x:.4f}"


def _estimate_row(section: str, modality: str, subtype: str, name: str, e: Estimate) -> tuple:
    return (section, modality, subtype, name, _fmt(e.value), _fmt(e.ci_low), _fmt(e.ci_high))


def _group_rows(group: GroupResult) -> Iterator[tuple]:
    subtype = group.subtype or "all"
    for m, result in group.modalities.items():
        t = result.concordance.table
        for name, count in (("n", t.n), ("tp", t.tp), ("fp", t.fp), ("fn", t.fn), ("tn", t.tn)):
            yield ("concordance", m, subtype, name, str(count), "", "")
        for name in (*METRICS, "kappa"):
            yield _estimate_row("concordance", m, subtype, name, result.concordance.metric(name))
        for reason in EXCLUSION_LABELS:
            yield ("excluded", m, subtype, reason, str(result.excluded[reason]), "", "")
    h = group.histology
    for name in (*SAMPLED_HISTOLOGIES, "not_sampled"):
        yield ("calcification_histology", "MG", subtype, f"{name}_count", str(h.counts[name]), "", "")
    for name in SAMPLED_HISTOLOGIES:
        yield _estimate_row("calcification_histology", "MG", subtype, f"{name}_share", h.shares[name])


def csv_rows(report: CohortReport, site_codes: dict[int, str]) -> Iterator[tuple]:
    """Long format: one number per row, the filters first so the file describes itself."""
    yield CSV_HEADER
    for key, value in filters_json(report.filters, site_codes).items():
        shown = " ".join(value) if isinstance(value, list) else (value or "")
        yield ("filter", "", "", key, shown, "", "")
    yield from _group_rows(report.overall)
    for group in report.by_subtype:
        yield from _group_rows(group)
    for curve in report.survival.curves:
        yield ("survival", "MG", "all", f"{curve.key}_n", str(curve.n), "", "")
        yield ("survival", "MG", "all", f"{curve.key}_events", str(curve.events), "", "")
        for t, n in zip(curve.risk_times, curve.at_risk, strict=True):
            yield ("survival", "MG", "all", f"{curve.key}_at_risk_{t:g}m", str(n), "", "")
            yield ("survival", "MG", "all", f"{curve.key}_efs_{t:g}m", _fmt(curve.survival_at(t)), "", "")
    lr = report.survival.log_rank
    yield ("survival", "MG", "all", "log_rank_p", _fmt(lr.p_value), "", "")
