"""Plotly figures of a patient's history. Pure: history in, figure out, no database.

The timeline has two panels sharing the date axis:
1. calcification burden per breast (extent in mm; marker size = highest count bin,
   colour = highest morphology rank; hover = BI-RADS and the radiologist's change codes),
2. MRI enhancement per breast (largest lesion in mm, 0 = no enhancement; marker symbol =
   worst delayed kinetic curve).
Treatment dates are vertical lines across both panels; open alerts are marked.

What the calcification rules compare is drawn too: each breast's post-treatment baseline
and its alert threshold (the running nadir + the extent thresholds, a step line), so a
point above the line is one the extent rule fires on. Fine pleomorphic and fine
linear/branching calcifications have their own marker symbols (and legend entries): the
two worst forms differ in colour only slightly. Every point carries its study's id
(`customdata`); with `study_urls` the figure's `layout.meta.study_urls` maps it to the
study's page, which `static/js/charts.js` opens on a click.

The figure is a plain, JSON-ready dict in the shape plotly.js takes (`{"data": [...],
"layout": {...}}`, dates as ISO strings): the same figure `plotly.graph_objects` would
serialize (tests/imaging/test_charts.py checks that plotly accepts it and reproduces it),
built without plotly's per-property validation, which cost more than the rest of the
timeline page together (issue 9).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from html import escape

from .burden import Burden, burden_series, nadir, post_treatment_series
from .history import PatientHistory, StudySnapshot
from .trend import BreastTrend, trends
from .vocabulary import Distribution, KineticsDelayed, LesionType, ObservedChange

BREASTS = ("left", "right")
BREAST_STYLE = {
    "left": {"color": "#7b2d6b", "dash": "solid", "symbol": "circle"},
    "right": {"color": "#175cd3", "dash": "dot", "symbol": "diamond"},
}
# Highest morphology rank → marker colour (-1: no calcifications in that breast).
MORPHOLOGY_COLOURS = {-1: "#9aa5b1", 0: "#2e7d32", 1: "#c99a06", 2: "#e8710a",
                      3: "#d0451b", 4: "#8e1010"}
MORPHOLOGY_RANK_LABELS = {-1: "none", 0: "benign", 1: "coarse heterogeneous", 2: "amorphous",
                          3: "fine pleomorphic", 4: "fine linear/branching"}
DISTRIBUTION_LABELS = dict(Distribution.choices)
CHANGE_LABELS = dict(ObservedChange.choices)
LESION_LABELS = dict(LesionType.choices)
KINETIC_LABELS = dict(KineticsDelayed.choices)
KINETIC_SYMBOL = {"": "circle", KineticsDelayed.PERSISTENT: "circle",
                  KineticsDelayed.PLATEAU: "square", KineticsDelayed.WASHOUT: "x"}
KINETIC_ORDER = ["", KineticsDelayed.PERSISTENT, KineticsDelayed.PLATEAU, KineticsDelayed.WASHOUT]
# The two worst morphologies get their own symbols: their colours alone are too close.
MORPHOLOGY_SYMBOLS = {3: "triangle-up", 4: "x"}
TREATMENT_COLOUR = "#616e7c"
ALERT_COLOURS = {"high": "#b42318", "medium": "#b54708"}
DISTRIBUTION_RANK_LABELS = [label.lower() for label in DISTRIBUTION_LABELS.values()]
# The layout of `make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.66, 0.34],
# vertical_spacing=0.07)`: burden panel (x, y) above the MRI panel (x2, y2), one date axis.
PANEL_AXES = {
    "xaxis": {"anchor": "y", "domain": [0.0, 1.0], "matches": "x2"},
    "yaxis": {"anchor": "x", "domain": [0.3862, 1.0]},
    "xaxis2": {"anchor": "y2", "domain": [0.0, 1.0]},
    "yaxis2": {"anchor": "x2", "domain": [0.0, 0.3162]},
}
ROW_AXES = {1: ("x", "y"), 2: ("x2", "y2")}

Trace = dict
Figure = dict  # {"data": [Trace, ...], "layout": {...}}, JSON-ready


@cache
def plotly_template() -> dict:
    """Plotly's default theme, which `go.Figure` writes into every figure's layout."""
    import plotly.io as pio

    return pio.templates[pio.templates.default].to_plotly_json()


def _iso(day: date) -> str:
    return day.isoformat()


def _scatter(row: int, **props) -> Trace:
    x, y = ROW_AXES[row]
    return {"type": "scatter", **props, "xaxis": x, "yaxis": y}


@dataclass(frozen=True)
class ChartAlert:
    """An open alert to mark on the chart (the view turns Alert rows into these)."""

    day: date
    label: str
    severity: str
    breast: str = ""
    mri: bool = False


@dataclass(frozen=True)
class ExtentThreshold:
    """`calc_extent_increase`'s thresholds: growth over the nadir of ≥ `mm` and ≥ `percent`."""

    mm: float
    percent: float

    def above(self, nadir_mm: float) -> float:
        """The smallest extent that is both `mm` and `percent` over `nadir_mm`."""
        return round(nadir_mm + max(self.mm, nadir_mm * self.percent / 100), 2)

    @property
    def label(self) -> str:
        return f"nadir + {self.mm:g} mm and +{self.percent:g}%"


def marker_symbol(b: Burden, breast_symbol: str) -> str:
    """The breast's symbol, unless the morphology is fine pleomorphic or linear/branching."""
    return MORPHOLOGY_SYMBOLS.get(b.morphology_rank, breast_symbol)


def marker_size(b: Burden) -> int:
    """Bigger markers for higher count bins: 7 (none) … 19 (>20)."""
    return 7 + 4 * (b.count_bin_rank + 1)


def _burden_hover(b: Burden, study: StudySnapshot) -> str:
    lines = [f"<b>{b.breast.capitalize()} breast, {b.study_date:%d %b %Y}</b>",
             f"Extent {b.extent_mm:g} mm in {b.groups} group{'s' if b.groups != 1 else ''}"]
    if b.groups:
        lines.append(f"Count {b.count_bin or '–'} · morphology {MORPHOLOGY_RANK_LABELS[b.morphology_rank]}"
                     f" · distribution {DISTRIBUTION_RANK_LABELS[b.distribution_rank]}")
    lines.append(f"BI-RADS {study.birads or '–'}")
    for c in study.calcifications:
        if c.breast == b.breast:
            change = CHANGE_LABELS.get(c.observed_change, "") if c.observed_change else "no change code"
            lines.append(f"{escape(c.group)}: {c.extent_mm:g} mm, {change}")
    return "<br>".join(lines)


def _operated(history: PatientHistory, breast: str) -> bool:
    return history.surgery_laterality in (breast, "bilateral")


def _burden_traces(history: PatientHistory) -> list[Trace]:
    by_id = {s.id: s for s in history.studies}
    traces = []
    for breast in BREASTS:
        series = burden_series(history, breast)
        if not (_operated(history, breast) or any(b.groups for b in series)):
            continue  # a breast that never had calcifications stays a flat line at zero: left out
        style = BREAST_STYLE[breast]
        traces.append(_scatter(
            1,
            name=f"{breast.capitalize()} breast calcifications",
            legendgroup=breast,
            x=[_iso(b.study_date) for b in series],
            y=[b.extent_mm for b in series],
            mode="lines+markers",
            line={"color": style["color"], "dash": style["dash"], "width": 2},
            marker={"size": [marker_size(b) for b in series],
                    "color": [MORPHOLOGY_COLOURS[b.morphology_rank] for b in series],
                    "symbol": [marker_symbol(b, style["symbol"]) for b in series],
                    "line": {"color": style["color"], "width": 1.5}},
            hovertext=[_burden_hover(b, by_id[b.study_id]) for b in series],
            hoverinfo="text",
            customdata=[b.study_id for b in series],
        ))
    return traces


def _morphology_legend(history: PatientHistory) -> list[Trace]:
    """Legend entries for the two worst morphologies' symbols, when the chart shows them."""
    ranks = {b.morphology_rank for breast in BREASTS for b in burden_series(history, breast)}
    return [_scatter(1, name=f"{MORPHOLOGY_RANK_LABELS[rank].capitalize()} calcifications",
                     legendgroup="morphology", x=[None], y=[None], mode="markers",
                     marker={"symbol": symbol, "size": 11, "color": MORPHOLOGY_COLOURS[rank],
                             "line": {"color": "#1f2933", "width": 1}},
                     hoverinfo="skip")
            for rank, symbol in MORPHOLOGY_SYMBOLS.items() if rank in ranks]


def threshold_steps(post: Sequence[Burden], threshold: ExtentThreshold) -> list[tuple[date, float]]:
    """(date, threshold) after each post-treatment exam: what the next exam is compared with
    (the nadir so far, this exam included, plus the thresholds)."""
    steps = []
    for k, b in enumerate(post):
        low = nadir(list(post[:k + 1]))
        if low is not None:
            steps.append((b.study_date, threshold.above(low.extent_mm)))
    return steps


def _threshold_traces(history: PatientHistory, threshold: ExtentThreshold | None, x_end: date,
                      breast_trends: Sequence[BreastTrend]) -> list[Trace]:
    """The threshold of each breast the chart follows (`trends`: operated, or ever with
    calcifications)."""
    if threshold is None:
        return []
    traces = []
    for breast in (t.breast for t in breast_trends):
        steps = threshold_steps(post_treatment_series(history, breast), threshold)
        if not steps:
            continue
        steps.append((max(x_end, steps[-1][0]), steps[-1][1]))  # held until the chart's end
        style = BREAST_STYLE[breast]
        traces.append(_scatter(
            1,
            name=f"{breast.capitalize()} breast alert threshold",
            legendgroup=breast, x=[_iso(d) for d, _ in steps], y=[v for _, v in steps],
            mode="lines", line={"color": style["color"], "dash": "dash", "width": 1, "shape": "hv"},
            opacity=0.7,
            hovertext=[f"Alert threshold ({breast}): {v:g} mm ({threshold.label})" for _, v in steps],
            hoverinfo="text",
        ))
    return traces


def _baseline_traces(breast_trends: Sequence[BreastTrend]) -> list[Trace]:
    traces = []
    for t in breast_trends:
        if t.baseline is None:
            continue
        traces.append(_scatter(
            1,
            name=f"{t.breast.capitalize()} breast post-treatment baseline",
            legendgroup=t.breast,
            x=[_iso(t.baseline.study_date)], y=[t.baseline.extent_mm], mode="markers",
            marker={"symbol": "square-open", "size": 22, "color": BREAST_STYLE[t.breast]["color"],
                    "line": {"color": BREAST_STYLE[t.breast]["color"], "width": 2}},
            hovertext=[f"Post-treatment baseline ({t.breast}): {t.baseline.extent_mm:g} mm, "
                       f"{t.baseline.study_date:%d %b %Y}"],
            hoverinfo="text", customdata=[t.baseline.study_id],
        ))
    return traces


def _nadir_traces(breast_trends: Sequence[BreastTrend]) -> list[Trace]:
    traces = []
    for t in breast_trends:
        if t.nadir is None:
            continue
        traces.append(_scatter(
            1,
            name=f"{t.breast.capitalize()} breast nadir",
            legendgroup=t.breast, showlegend=False,
            x=[_iso(t.nadir.study_date)], y=[t.nadir.extent_mm], mode="markers",
            marker={"symbol": "star", "size": 16, "color": "#ffd54f",
                    "line": {"color": "#1f2933", "width": 1}},
            hovertext=[f"Nadir ({t.breast}): {t.nadir.extent_mm:g} mm, {t.nadir.study_date:%d %b %Y}"],
            hoverinfo="text", customdata=[t.nadir.study_id],
        ))
    return traces


def _worst_kinetics(lesions) -> str:
    return max((le.kinetics_delayed for le in lesions), key=KINETIC_ORDER.index, default="")


def _mri_hover(study: StudySnapshot, breast: str, lesions) -> str:
    lines = [f"<b>MRI {breast} breast, {study.study_date:%d %b %Y}</b>", f"BI-RADS {study.birads or '–'}"]
    if not lesions:
        lines.append("No enhancement")
    for le in lesions:
        size = f"{le.size_mm:g} mm" if le.size_mm is not None else "size not given"
        curve = KINETIC_LABELS.get(le.kinetics_delayed, "no curve")
        change = CHANGE_LABELS.get(le.observed_change, "")
        lines.append(f"{escape(le.lesion)}: {LESION_LABELS.get(le.lesion_type, le.lesion_type)}, {size}, "
                     f"{curve}{', ' + change.lower() if change else ''}")
    return "<br>".join(lines)


def mri_points(history: PatientHistory, breast: str) -> list[tuple[StudySnapshot, float, str, tuple]]:
    """(study, largest lesion size or 0, worst delayed curve, lesions) per final MRI of `breast`."""
    points = []
    for study in history.mris():
        if not study.covers(breast):
            continue
        lesions = tuple(le for le in study.enhancements if le.breast == breast)
        size = max((le.size_mm or 0.0 for le in lesions), default=0.0)
        points.append((study, float(size), _worst_kinetics(lesions), lesions))
    return points


def _mri_traces(history: PatientHistory) -> list[Trace]:
    traces = []
    for breast in BREASTS:
        points = mri_points(history, breast)
        if not points:
            continue
        if not (_operated(history, breast) or any(p[3] for p in points)):
            continue  # never enhanced and not operated: nothing to follow in this breast
        style = BREAST_STYLE[breast]
        traces.append(_scatter(
            2,
            name=f"{breast.capitalize()} breast MRI enhancement",
            legendgroup=breast,
            x=[_iso(p[0].study_date) for p in points],
            y=[p[1] for p in points],
            mode="lines+markers",
            line={"color": style["color"], "dash": style["dash"], "width": 1.5},
            marker={
                "size": 11,
                "symbol": [KINETIC_SYMBOL[p[2]] if p[3] else "circle-open" for p in points],
                "color": ["#b42318" if p[2] == KineticsDelayed.WASHOUT else style["color"]
                          for p in points],
            },
            hovertext=[_mri_hover(p[0], breast, p[3]) for p in points],
            hoverinfo="text",
            customdata=[p[0].id for p in points],
        ))
    return traces


def chart_alerts(alerts: Iterable) -> list[ChartAlert]:
    """Chart marks for Alert rows (anything with study, created_at, rule, reason...)."""
    marks = []
    for alert in alerts:
        day = alert.study.study_date if alert.study else alert.created_at.date()
        marks.append(ChartAlert(day=day, label=f"{alert.get_rule_display()}: {alert.reason}",
                                severity=alert.severity, breast=alert.breast,
                                mri=alert.rule.startswith("mri_")))
    return marks


def _alert_y(history: PatientHistory, alert: ChartAlert) -> float:
    """Put the alert marker on the breast's value at that date, else on the panel's top."""
    if alert.mri:
        values = [p[1] for b in BREASTS for p in mri_points(history, b)
                  if p[0].study_date == alert.day and (not alert.breast or b == alert.breast)]
    else:
        values = [x.extent_mm for b in BREASTS for x in burden_series(history, b)
                  if x.study_date == alert.day and (not alert.breast or b == alert.breast)]
    return max(values, default=0.0)


def _alert_traces(history: PatientHistory, alerts: Sequence[ChartAlert]) -> list[Trace]:
    out = []
    for row, mri in ((1, False), (2, True)):
        marks = [a for a in alerts if a.mri == mri]
        if not marks:
            continue
        out.append(_scatter(
            row,
            name="Open alert" if not mri else "Open MRI alert",
            x=[_iso(a.day) for a in marks], y=[_alert_y(history, a) for a in marks],
            mode="markers",
            marker={"symbol": "triangle-down", "size": 18, "color": "rgba(0,0,0,0)",
                    "line": {"color": [ALERT_COLOURS.get(a.severity, "#b42318") for a in marks],
                             "width": 3}},
            hovertext=[f"<b>Open alert ({a.severity})</b><br>{escape(a.label)}" for a in marks],
            hoverinfo="text",
        ))
    return out


def treatment_markers(history: PatientHistory) -> list[tuple[date, str]]:
    """(date, label) of the treatment milestones drawn as vertical lines, in date order."""
    marks = [
        (history.nac_start_date, "NAC start"),
        (history.nac_end_date, "NAC end"),
        (history.surgery_date, "Surgery"),
        (history.rt_end_date, "RT end"),
    ]
    return sorted((d, label) for d, label in marks if d)


def _x_range(history: PatientHistory, alerts: Iterable[ChartAlert], today: date | None) -> list[date]:
    days = [s.study_date for s in history.studies if s.is_final]
    days += [d for d, _ in treatment_markers(history)] + [a.day for a in alerts]
    if today:
        days.append(today)
    if not days:
        today = today or date.today()
        return [today - timedelta(days=365), today + timedelta(days=30)]
    first, last = min(days), max(days)
    pad = max(timedelta(days=45), (last - first) / 40)
    return [first - pad, last + pad]


def _staggered_levels(marks: list[tuple[date, str]], span: timedelta) -> list[int]:
    """Label rows for the treatment annotations so that labels close in time do not overlap."""
    levels: list[int] = []
    last_on_level: dict[int, date] = {}
    min_gap = span * 0.09  # about one label's width on a full-width chart
    for d, _ in marks:
        level = 0
        while level in last_on_level and d - last_on_level[level] < min_gap:
            level += 1
        last_on_level[level] = d
        levels.append(level)
    return levels


def _y_range(traces: list[Trace], axis: str) -> list[float]:
    """From a little below zero (markers at 0 stay whole) to a little above the highest value."""
    values = [y for t in traces if t["yaxis"] == axis for y in t["y"] if y is not None]
    top = max(values, default=0.0) or 10.0
    return [-0.08 * top, 1.12 * top]


def _empty_panel_note(text: str, x: str, y: str) -> dict:
    return {"font": {"color": "#616e7c"}, "showarrow": False, "text": text,
            "x": 0.5, "xref": f"{x} domain", "y": 0.5, "yref": f"{y} domain"}


NARROW_WIDTH = 600  # px: below it the legend is one entry a line (static/js/charts.js)
LEGEND_LINE = 19  # px per legend entry


def _narrow_layout(data: list[Trace], layout: dict) -> dict:
    """On a narrow screen the legend stacks one entry a line under the plot: the figure
    grows by the legend's height so that it does not spill over what follows."""
    entries = sum(1 for t in data if t.get("showlegend", True))
    extra = LEGEND_LINE * entries
    return {"width": NARROW_WIDTH,
            "layout": {"height": layout["height"] + extra,
                       "margin": {**layout["margin"], "b": layout["margin"]["b"] + extra}}}


def timeline_figure(history: PatientHistory, *, alerts: Sequence[ChartAlert] = (),
                    today: date | None = None, breast_trends: Sequence[BreastTrend] | None = None,
                    threshold: ExtentThreshold | None = None,
                    study_urls: dict[int, str] | None = None) -> Figure:
    """The patient timeline: calcification burden above, MRI enhancement below.

    `breast_trends`: `trends(history)`, when the caller has computed them already.
    `threshold`: the extent rule's thresholds (AlertSettings), drawn per breast.
    `study_urls`: study id → its page, for the points' links.
    """
    breast_trends = trends(history) if breast_trends is None else breast_trends
    x_range = _x_range(history, alerts, today)
    data = (_burden_traces(history) + _baseline_traces(breast_trends) + _nadir_traces(breast_trends)
            + _threshold_traces(history, threshold, x_range[1], breast_trends) + _morphology_legend(history)
            + _mri_traces(history) + _alert_traces(history, alerts))
    marks = treatment_markers(history)
    levels = _staggered_levels(marks, x_range[1] - x_range[0])
    shapes = [{"line": {"color": TREATMENT_COLOUR, "dash": "dash", "width": 1}, "type": "line",
               "x0": _iso(day), "x1": _iso(day), "xref": "x", "y0": 0, "y1": 1, "yref": "paper"}
              for day, _ in marks]
    annotations = [{"font": {"color": TREATMENT_COLOUR, "size": 11}, "showarrow": False, "text": label,
                    "x": _iso(day), "xanchor": "left", "xref": "x", "y": 1.0, "yanchor": "bottom",
                    "yref": "paper", "yshift": 2 + 15 * level}
                   for (day, label), level in zip(marks, levels, strict=True)]
    top_margin = 30 + 15 * (max(levels, default=0))
    if not history.mammograms():
        annotations.append(_empty_panel_note("No signed mammogram yet", "x", "y"))
    if not history.mris():
        annotations.append(_empty_panel_note("No signed MRI yet", "x2", "y2"))
    x_axis = {"gridcolor": "#eef2f6", "linecolor": "#bcccdc", "range": [_iso(d) for d in x_range],
              "showgrid": True, "type": "date"}
    layout = {
        "template": plotly_template(),
        "xaxis": {**PANEL_AXES["xaxis"], **x_axis, "showticklabels": True},
        "xaxis2": {**PANEL_AXES["xaxis2"], **x_axis},
        "height": 600, "margin": {"l": 60, "r": 20, "t": top_margin, "b": 40},
        "hovermode": "closest", "plot_bgcolor": "#fff", "paper_bgcolor": "#fff",
        "font": {"family": "DejaVu Sans, system-ui, sans-serif", "size": 12, "color": "#1f2933"},
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.06, "x": 0, "traceorder": "normal"},
        "hoverlabel": {"bgcolor": "#fff", "font": {"size": 12, "color": "#1f2933"}, "align": "left"},
    }
    for axis, ref, title in (("yaxis", "y", "Calcification extent (mm)"),
                             ("yaxis2", "y2", "MRI lesion (mm)")):
        layout[axis] = {**PANEL_AXES[axis], "gridcolor": "#eef2f6", "range": _y_range(data, ref),
                        "title": {"text": title}, "zeroline": True, "zerolinecolor": "#bcccdc"}
    meta: dict = {"narrow": _narrow_layout(data, layout)}
    if study_urls:
        meta["study_urls"] = {str(k): v for k, v in study_urls.items()}
    layout["meta"] = meta
    if shapes:
        layout["shapes"] = shapes
    if annotations:
        layout["annotations"] = annotations
    return {"data": data, "layout": layout}
