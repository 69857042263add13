"""Cohort charts: pure functions from results to `plotly.graph_objects.Figure`."""

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .stats import METRIC_LABELS, METRICS, Concordance, KmCurve

MODALITY_COLOURS = {"MR": "#7b2d6b", "MG": "#2e90fa"}
GROUP_COLOURS = ("#067647", "#84caa1", "#b42318", "#f79009")
FONT = {"family": "DejaVu Sans, sans-serif", "size": 13}


def _pct(x: float | None) -> float | None:
    return None if x is None else round(100 * x, 1)


def metric_bars(results: Mapping[str, Concordance], labels: Mapping[str, str]) -> go.Figure:
    """Sensitivity … accuracy per modality as bars (%), 95% Wilson intervals as whiskers.

    An undefined metric (zero denominator) has no bar and no whisker.
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
                     "thickness": 1.5, "width": 6},
            customdata=[[_pct(e.ci_low), _pct(e.ci_high)] for e in estimates],
            hovertemplate="%{x}: %{y}% (95% CI %{customdata[0]}–%{customdata[1]}%)<extra>"
            + labels[modality] + "</extra>",
        ))
    fig.update_layout(
        barmode="group", font=FONT, height=360, margin={"l": 60, "r": 20, "t": 30, "b": 40},
        yaxis={"title": "% (95% Wilson interval)", "range": [0, 105]},
        legend={"orientation": "h", "y": 1.12}, plot_bgcolor="#fff",
    )
    fig.update_yaxes(gridcolor="#eef2f6")
    return fig


def km_curves(curves: Sequence[KmCurve], time_unit: str = "months") -> go.Figure:
    """Kaplan–Meier step curves (with censoring ticks) over a numbers-at-risk table."""
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.74, 0.26],
                        vertical_spacing=0.1)
    for i, curve in enumerate(curves):
        colour = GROUP_COLOURS[i % len(GROUP_COLOURS)]
        name = f"{curve.label} (n={curve.n}, events={curve.events})"
        fig.add_trace(go.Scatter(
            x=list(curve.times), y=list(curve.survival), mode="lines", line_shape="hv",
            line={"color": colour, "width": 2}, name=name, legendgroup=curve.key,
            hovertemplate="%{x:.1f} " + time_unit + ": %{y:.3f}<extra>" + curve.label + "</extra>",
        ), row=1, col=1)
        if curve.censored_times:
            fig.add_trace(go.Scatter(
                x=list(curve.censored_times), y=[_survival_at(curve, t) for t in curve.censored_times],
                mode="markers", marker={"symbol": "line-ns-open", "size": 8, "color": colour},
                name=f"{curve.label}: censored", legendgroup=curve.key, showlegend=False,
                hoverinfo="skip",
            ), row=1, col=1)
        fig.add_trace(go.Scatter(
            x=list(curve.risk_times), y=[curve.short_label or curve.label] * len(curve.risk_times),
            mode="text", text=[str(n) for n in curve.at_risk], textfont={"color": colour},
            showlegend=False, hoverinfo="skip", name=f"{curve.label}: at risk",
        ), row=2, col=1)
    fig.update_yaxes(title_text="Event-free survival", range=[0, 1.05], row=1, col=1,
                     gridcolor="#eef2f6")
    fig.update_yaxes(title_text="At risk", autorange="reversed", showgrid=False, row=2, col=1,
                     tickfont={"size": 11})
    fig.update_xaxes(title_text=f"{time_unit.capitalize()} since surgery", row=2, col=1)
    fig.update_xaxes(showticklabels=True, row=1, col=1, gridcolor="#eef2f6")
    fig.update_layout(font=FONT, height=560, margin={"l": 60, "r": 20, "t": 30, "b": 50},
                      legend={"orientation": "h", "y": 1.1}, plot_bgcolor="#fff")
    return fig


def _survival_at(curve: KmCurve, t: float) -> float:
    value = 1.0
    for time, s in zip(curve.times, curve.survival, strict=True):
        if time > t:
            break
        value = s
    return value
