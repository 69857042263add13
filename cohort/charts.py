"""Cohort charts: pure functions from results to `plotly.graph_objects.Figure`."""

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .stats import METRIC_LABELS, METRICS, Concordance, KmCurve

MODALITY_COLOURS = {"MR": "#7b2d6b", "MG": "#2e90fa"}
GROUP_COLOURS = ("#067647", "#84caa1", "#b42318", "#f79009")
# Curves that coincide (all at 100% early on) stay visible, and apart without colour.
GROUP_DASHES = ("solid", "dash", "solid", "dash")
FONT = {"family": "DejaVu Sans, sans-serif", "size": 13}
# The page reserves this height for each chart before Plotly draws it (cohort.css).
METRIC_HEIGHT, KM_HEIGHT, QUALITY_HEIGHT = 380, 560, 360
PALETTE = ("#7b2d6b", "#2e90fa", "#067647", "#f79009", "#b42318", "#616e7c", "#84caa1", "#175cd3")
# Charts drawn narrower than this (a phone) use the figure's `meta.narrow` overrides.
NARROW_WIDTH = 560


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 1)


def metric_bars(results: Mapping[str, Concordance], labels: Mapping[str, str]) -> go.Figure:
    """Sensitivity … accuracy per modality as bars (%), 95% Wilson intervals as whiskers.

    The value is written at the foot of each bar. An undefined metric (zero denominator)
    has no bar and no whisker. The axis is the estimate itself (0–100%): the interval is
    the whisker, and the page says so under the chart.
    """
    fig = go.Figure()
    x = [METRIC_LABELS[m] for m in METRICS]
    for modality, result in results.items():
        estimates = [result.metric(m) for m in METRICS]
        y = [_pct(e.value) for e in estimates]
        plus = [None if e.value is None else _pct(e.ci_high - e.value) for e in estimates]
        minus = [None if e.value is None else _pct(e.value - e.ci_low) for e in estimates]
        fig.add_trace(go.Bar(
            name=f"{labels[modality]} (n={result.table.n})", x=x, y=y,
            marker_color=MODALITY_COLOURS.get(modality),
            error_y={"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                     "thickness": 1.5, "width": 6, "color": "#1f2933"},
            text=[None if v is None else f"{v:.0f}%" for v in y], textposition="inside",
            insidetextanchor="start", textfont={"color": "#fff", "size": 12},
            customdata=[[_pct(e.ci_low), _pct(e.ci_high)] for e in estimates],
            hovertemplate="%{x}: %{y}% (95% CI %{customdata[0]}–%{customdata[1]}%)<extra>"
            + labels[modality] + "</extra>",
        ))
    fig.update_layout(
        barmode="group", font=FONT, height=METRIC_HEIGHT,
        margin={"l": 56, "r": 16, "t": 36, "b": 40},
        yaxis={"title": {"text": "Estimate"}, "range": [0, 104], "ticksuffix": "%", "dtick": 20},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        plot_bgcolor="#fff", uniformtext={"minsize": 9, "mode": "hide"},
    )
    fig.update_yaxes(gridcolor="#eef2f6")
    return fig


def survival_axis_floor(curves: Sequence[KmCurve]) -> float:
    """The bottom of the survival axis: a tenth at least 5 points below the lowest curve.

    Event-free survival after surgery stays high for years; on a 0–1 axis every curve
    runs along the top edge, where the steps look like censoring ticks.
    """
    lowest = min((min(c.survival) for c in curves if c.survival), default=1.0)
    return max(0.0, math.floor(round(lowest * 10 - 0.5, 6)) / 10)


def km_curves(curves: Sequence[KmCurve], time_unit: str = "months") -> go.Figure:
    """Kaplan–Meier step curves (with censoring crosses) over a numbers-at-risk table.

    The legend is the page's (`km_legend`): it wraps on a phone, Plotly's does not.
    """
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26],
                        vertical_spacing=0.1)
    # Solid curves first, dashed ones over them: where curves coincide the gaps of the
    # dashes show the line beneath.
    order = sorted(range(len(curves)), key=lambda i: GROUP_DASHES[i % len(GROUP_DASHES)] != "solid")
    narrow: dict[str, dict] = {}
    for i in order:
        curve = curves[i]
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        x, y = _to_last_follow_up(curve)
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines", line_shape="hv",
            line={"color": colour, "width": 2.5, "dash": GROUP_DASHES[i % len(GROUP_DASHES)]},
            name=curve.label, legendgroup=curve.key,
            hovertemplate="%{x:.1f} " + time_unit + ": %{y:.1%}<extra>" + curve.label + "</extra>",
        ), row=1, col=1)
        if curve.censored_times:
            fig.add_trace(go.Scatter(
                x=list(curve.censored_times), y=[_survival_at(curve, t) for t in curve.censored_times],
                mode="markers", marker={"symbol": "cross-thin-open", "size": 7, "color": colour,
                                        "line": {"width": 1.2, "color": colour}},
                name=f"{curve.label}: censored", legendgroup=curve.key, hoverinfo="skip",
            ), row=1, col=1)
        at_risk = [str(n) for n in curve.at_risk]
        fig.add_trace(go.Scatter(
            x=list(curve.risk_times), y=[curve.short_label or curve.label] * len(curve.risk_times),
            mode="text", text=at_risk, textfont={"color": colour},
            hoverinfo="skip", name=f"{curve.label}: at risk",
        ), row=2, col=1)
        # On a phone eleven yearly counts run into each other: every other one is shown.
        narrow[str(len(fig.data) - 1)] = {
            "text": [n if j % 2 == 0 else "" for j, n in enumerate(at_risk)],
            "textfont": {"color": colour, "size": 10}}
    floor = survival_axis_floor(curves)
    fig.update_yaxes(title_text="Event-free survival" + (f" (axis from {floor:.0%})" if floor else ""),
                     range=[floor, 1 + 0.06 * (1 - floor)], tickformat=".0%",
                     dtick=0.05 if floor >= 0.7 else 0.1, row=1, col=1, gridcolor="#eef2f6")
    fig.update_yaxes(title_text="At risk", autorange="reversed", showgrid=False, row=2, col=1,
                     tickfont={"size": 11})
    fig.update_xaxes(title_text=f"{time_unit.capitalize()} since surgery", row=2, col=1)
    fig.update_xaxes(showticklabels=True, row=1, col=1, gridcolor="#eef2f6")
    fig.update_layout(font=FONT, height=KM_HEIGHT, margin={"l": 64, "r": 16, "t": 16, "b": 50},
                      showlegend=False, plot_bgcolor="#fff",
                      meta={"narrow": {"width": NARROW_WIDTH, "data": narrow}})
    return fig


def km_legend(curves: Sequence[KmCurve]) -> list[dict]:
    """The legend of `km_curves`, for the page: one entry per curve, in its colour and dash."""
    return [{"label": c.label, "n": c.n, "events": c.events,
             "colour": GROUP_COLOURS[i % len(GROUP_COLOURS)],
             "dash": GROUP_DASHES[i % len(GROUP_DASHES)]} for i, c in enumerate(curves)]


def _to_last_follow_up(curve: KmCurve) -> tuple[list[float], list[float]]:
    """The step points, carried on to the last patient still followed: a curve ends where
    follow-up ends, not at its last event (a group without events would be a dot)."""
    x, y = list(curve.times), list(curve.survival)
    last = max(curve.censored_times, default=0.0)
    if x and last > x[-1]:
        x.append(last)
        y.append(y[-1])
    return x, y


def _survival_at(curve: KmCurve, t: float) -> float:
    value = 1.0
    for time, s in zip(curve.times, curve.survival, strict=True):
        if time > t:
            break
        value = s
    return value


WINDOW_COLOURS = {30: "#067647", 60: "#f79009", 90: "#b42318"}


def resolved_within_bars(groups: Sequence, section: str = "alerts") -> go.Figure:
    """Share of starts resolved within 30/60/90 days per group (%), Wilson whiskers.

    `groups`: `GroupMeasures`; `section`: "alerts" or "abnormal". A group without a start
    old enough for a window has no bar for it.
    """
    fig = go.Figure()
    x = [g.label for g in groups]
    for window in (30, 60, 90):
        estimates = [getattr(g, section).share_within(window) for g in groups]
        y = [_pct(e.value) for e in estimates]
        plus = [None if e.value is None else _pct(e.ci_high - e.value) for e in estimates]
        minus = [None if e.value is None else _pct(e.value - e.ci_low) for e in estimates]
        fig.add_trace(go.Bar(
            name=f"within {window} days", x=x, y=y, marker_color=WINDOW_COLOURS[window],
            error_y={"type": "data", "symmetric": False, "color": "#1f2933", "thickness": 1.2,
                     "width": 4, "array": plus, "arrayminus": minus},
            customdata=[list(getattr(g, section).within[window]) for g in groups],
            hovertemplate="%{x}: %{y}% (%{customdata[0]} of %{customdata[1]})<extra>within "
            + str(window) + " days</extra>",
        ))
    fig.update_layout(barmode="group", font=FONT, height=QUALITY_HEIGHT, plot_bgcolor="#fff",
                      margin={"l": 56, "r": 16, "t": 36, "b": 60},
                      yaxis={"title": {"text": "Resolved"}, "range": [0, 104], "ticksuffix": "%",
                             "dtick": 20},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    fig.update_yaxes(gridcolor="#eef2f6")
    return fig


def adherence_lines(groups: Sequence) -> go.Figure:
    """Scheduled exams done within their window by year of follow-up, one line per group."""
    fig = go.Figure()
    for i, g in enumerate(groups):
        years = [y for y, (_, total) in sorted(g.adherence.by_year.items()) if total]
        estimates = [g.adherence.year(y) for y in years]
        fig.add_trace(go.Scatter(
            x=years, y=[_pct(e.value) for e in estimates], mode="lines+markers", name=g.label,
            line={"color": PALETTE[i % len(PALETTE)], "width": 2},
            customdata=[list(g.adherence.by_year[y]) for y in years],
            hovertemplate="Year %{x}: %{y}% (%{customdata[0]} of %{customdata[1]})<extra>"
            + g.label + "</extra>",
        ))
    fig.update_layout(font=FONT, height=QUALITY_HEIGHT, plot_bgcolor="#fff",
                      margin={"l": 56, "r": 16, "t": 36, "b": 50},
                      xaxis={"title": {"text": "Year of follow-up since surgery"}, "dtick": 1,
                             "range": [0.5, 10.5]},
                      yaxis={"title": {"text": "Done within the window"}, "range": [0, 104],
                             "ticksuffix": "%", "dtick": 20},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0})
    fig.update_xaxes(gridcolor="#eef2f6")
    fig.update_yaxes(gridcolor="#eef2f6")
    return fig


def ppv_bars(rules: Sequence, labels: Mapping[str, str]) -> go.Figure:
    """Per rule: share of biopsied alerts found malignant (the rule's PPV), Wilson whiskers."""
    shown = [r for r in rules if r.biopsied]
    estimates = [r.ppv for r in shown]
    fig = go.Figure(go.Bar(
        x=[labels.get(r.rule, r.rule) for r in shown], y=[_pct(e.value) for e in estimates],
        marker_color=MODALITY_COLOURS["MR"],
        error_y={"type": "data", "symmetric": False, "color": "#1f2933", "thickness": 1.2, "width": 5,
                 "array": [_pct(e.ci_high - e.value) for e in estimates],
                 "arrayminus": [_pct(e.value - e.ci_low) for e in estimates]},
        customdata=[[r.malignant, r.biopsied] for r in shown],
        hovertemplate="%{x}: %{y}% (%{customdata[0]} malignant of %{customdata[1]} biopsied)<extra></extra>",
    ))
    fig.update_layout(font=FONT, height=QUALITY_HEIGHT, plot_bgcolor="#fff",
                      margin={"l": 56, "r": 16, "t": 16, "b": 90},
                      yaxis={"title": {"text": "Malignant at biopsy"}, "range": [0, 104], "ticksuffix": "%",
                             "dtick": 20})
    fig.update_yaxes(gridcolor="#eef2f6")
    return fig
