"""The programme quality report as CSV rows and as JSON: the same figures as the page."""

from .quality import FOLLOW_UP_YEARS, WINDOWS, GroupMeasures, QualityReport, Timeliness
from .stats import Estimate

HEADER = ["section", "group", "measure", "value", "ci_low", "ci_high"]


def _estimate(e: Estimate) -> dict:
    return {"value": e.value, "ci_low": e.ci_low, "ci_high": e.ci_high}


def timeliness_json(t: Timeliness) -> dict:
    return {
        "n": t.n, "acknowledged": t.acknowledged, "median_days_to_acknowledge": t.median_days_to_acknowledge,
        "resolved": t.resolved, "median_days_to_resolve": t.median_days_to_resolve,
        "resolved_within": {str(w): {"resolved": t.within[w][0], "of": t.within[w][1],
                                     **_estimate(t.share_within(w))} for w in WINDOWS},
    }


def group_json(g: GroupMeasures) -> dict:
    out = {"key": g.key, "label": g.label, "alerts": timeliness_json(g.alerts),
           "abnormal_results": timeliness_json(g.abnormal),
           "biopsies": {**timeliness_json(g.biopsies.timeliness), "overdue": g.biopsies.overdue},
           "adherence": None, "follow_up": None}
    if g.adherence is not None:
        out["adherence"] = {
            "done": g.adherence.done, "of": g.adherence.total, **_estimate(g.adherence.overall),
            "by_year": [{"year": y, "done": g.adherence.by_year[y][0], "of": g.adherence.by_year[y][1],
                         **_estimate(g.adherence.year(y))} for y in FOLLOW_UP_YEARS]}
    if g.status is not None:
        out["follow_up"] = {"patients": g.status.patients, "overdue": g.status.overdue,
                            "lost": g.status.lost, "overdue_rate": _estimate(g.status.overdue_rate),
                            "lost_rate": _estimate(g.status.lost_rate)}
    return out


def quality_json(report: QualityReport) -> dict:
    return {
        "as_of": report.as_of.isoformat(), "group_by": report.group_by,
        "adherence_as_of": report.adherence_as_of.isoformat() if report.adherence_as_of else None,
        "overall": group_json(report.overall), "groups": [group_json(g) for g in report.groups],
        "rules": [{"rule": r.rule, "alerts": r.n, "states": r.states, "resolutions": r.resolutions,
                   "biopsied": r.biopsied, "malignant": r.malignant, "ppv": _estimate(r.ppv)}
                  for r in report.rules],
    }


def _timeliness_rows(section: str, label: str, t: Timeliness) -> list[list]:
    rows = [[section, label, "n", t.n, "", ""], [section, label, "acknowledged", t.acknowledged, "", ""],
            [section, label, "median_days_to_acknowledge", t.median_days_to_acknowledge, "", ""],
            [section, label, "resolved", t.resolved, "", ""],
            [section, label, "median_days_to_resolve", t.median_days_to_resolve, "", ""]]
    for w in WINDOWS:
        e = t.share_within(w)
        rows += [[section, label, f"resolved_within_{w}_days", e.value, e.ci_low, e.ci_high],
                 [section, label, f"resolved_within_{w}_days_count", t.within[w][0], "", ""],
                 [section, label, f"resolved_within_{w}_days_of", t.within[w][1], "", ""]]
    return rows


def quality_rows(report: QualityReport, filters: dict[str, str]) -> list[list]:
    """Long format, one number per row; undefined values are empty cells."""
    rows: list[list] = [HEADER]
    rows += [["filter", "", name, value, "", ""] for name, value in filters.items()]
    rows.append(["filter", "", "as_of", report.as_of.isoformat(), "", ""])
    if report.adherence_as_of:
        rows.append(["filter", "", "adherence_as_of", report.adherence_as_of.isoformat(), "", ""])
    for g in [report.overall, *report.groups]:
        rows += _timeliness_rows("alerts", g.label, g.alerts)
        rows += _timeliness_rows("abnormal_results", g.label, g.abnormal)
        rows += [r for r in _timeliness_rows("biopsies", g.label, g.biopsies.timeliness)
                 if "acknowledge" not in r[2]]
        rows.append(["biopsies", g.label, "overdue", g.biopsies.overdue, "", ""])
        if g.adherence is not None:
            e = g.adherence.overall
            rows.append(["adherence", g.label, "done_within_window", e.value, e.ci_low, e.ci_high])
            for y in FOLLOW_UP_YEARS:
                done, total = g.adherence.by_year[y]
                e = g.adherence.year(y)
                rows += [["adherence", g.label, f"year_{y}", e.value, e.ci_low, e.ci_high],
                         ["adherence", g.label, f"year_{y}_done", done, "", ""],
                         ["adherence", g.label, f"year_{y}_of", total, "", ""]]
        if g.status is not None:
            s = g.status
            rows += [["follow_up", g.label, "patients", s.patients, "", ""],
                     ["follow_up", g.label, "overdue", s.overdue, "", ""],
                     ["follow_up", g.label, "overdue_rate", *_triple(s.overdue_rate)],
                     ["follow_up", g.label, "lost", s.lost, "", ""],
                     ["follow_up", g.label, "lost_rate", *_triple(s.lost_rate)]]
    for r in report.rules:
        rows.append(["rule_outcomes", r.rule, "alerts", r.n, "", ""])
        rows += [["rule_outcomes", r.rule, f"state_{k}", v, "", ""] for k, v in sorted(r.states.items())]
        rows += [["rule_outcomes", r.rule, f"resolution_{k}", v, "", ""]
                 for k, v in sorted(r.resolutions.items())]
        rows += [["rule_outcomes", r.rule, "biopsied", r.biopsied, "", ""],
                 ["rule_outcomes", r.rule, "malignant", r.malignant, "", ""],
                 ["rule_outcomes", r.rule, "ppv", *_triple(r.ppv)]]
    return [["" if v is None else (round(v, 4) if isinstance(v, float) else v) for v in row] for row in rows]


def _triple(e: Estimate) -> list:
    return [e.value, e.ci_low, e.ci_high]
