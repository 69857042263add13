"""Charts are pure: assert on the figure's data, not on HTML."""

import pytest

from cohort.charts import km_curves, metric_bars
from cohort.stats import TwoByTwo, concordance, kaplan_meier

LABELS = {"MR": "MRI", "MG": "Mammography"}


def test_metric_bars_one_trace_per_modality_with_interval_whiskers():
    mr = concordance(TwoByTwo(tp=2, fp=1, fn=1, tn=3))
    mg = concordance(TwoByTwo(tp=1, fp=2, fn=2, tn=2))
    fig = metric_bars({"MR": mr, "MG": mg}, LABELS)
    assert [t.name for t in fig.data] == ["MRI (n=7)", "Mammography (n=7)"]
    bars = fig.data[0]
    assert list(bars.x) == ["Sensitivity", "Specificity", "PPV", "NPV", "Accuracy"]
    assert bars.y[0] == pytest.approx(66.7)
    assert bars.error_y.array[0] == pytest.approx(round(100 * (mr.sensitivity.ci_high - 2 / 3), 1))
    assert bars.error_y.arrayminus[0] == pytest.approx(round(100 * (2 / 3 - mr.sensitivity.ci_low), 1))


def test_undefined_metric_has_no_bar_and_no_whisker():
    fig = metric_bars({"MR": concordance(TwoByTwo(fp=2, tn=3))}, LABELS)
    assert fig.data[0].y[0] is None
    assert fig.data[0].error_y.array[0] is None


def test_km_step_curves_and_numbers_at_risk_rows():
    a = kaplan_meier("a", "Group A", [6, 12, 18, 30], [1, 0, 1, 0], [0, 12, 24], "A")
    b = kaplan_meier("b", "Group B", [], [], [0, 12, 24], "B")
    fig = km_curves([a, b])
    curves = [t for t in fig.data if t.mode == "lines"]
    assert [c.line.shape for c in curves] == ["hv", "hv"]
    assert list(curves[0].x) == [0.0, 6.0, 18.0, 30.0]  # on to the last follow-up
    assert list(curves[0].y) == pytest.approx([1.0, 0.75, 0.375, 0.375])
    risk = [t for t in fig.data if t.mode == "text"]
    assert [list(r.text) for r in risk] == [["4", "3", "1"], ["0", "0", "0"]]
    assert list(risk[0].y) == ["A", "A", "A"]
    censored = [t for t in fig.data if t.mode == "markers"]
    assert list(censored[0].x) == [12.0, 30.0] and list(censored[0].y) == [0.75, 0.375]
    assert fig.layout.xaxis2.title.text == "Months since surgery"


def test_metric_axis_is_the_estimate_with_values_on_the_bars():
    fig = metric_bars({"MR": concordance(TwoByTwo(tp=2, fp=1, fn=1, tn=3))}, LABELS)
    assert fig.layout.yaxis.title.text == "Estimate"
    assert fig.layout.yaxis.ticksuffix == "%"
    assert list(fig.layout.yaxis.range) == [0, 104]
    assert fig.data[0].text[0] == "67%"
    undefined = metric_bars({"MR": concordance(TwoByTwo(fp=2, tn=3))}, LABELS)
    assert undefined.data[0].text[0] is None


@pytest.mark.parametrize(("lowest", "floor"), [
    (1.0, 0.9), (0.951, 0.9), (0.95, 0.9), (0.949, 0.8), (0.857, 0.8), (0.65, 0.6),
    (0.649, 0.5), (0.05, 0.0), (0.0, 0.0),
])
def test_survival_axis_starts_a_tenth_at_least_5_points_below_the_lowest_curve(lowest, floor):
    from cohort.charts import survival_axis_floor
    from cohort.stats import KmCurve

    curve = KmCurve("a", "A", 10, 1, (0.0, 5.0), (1.0, lowest), (0.0,), (10,))
    assert survival_axis_floor([curve]) == pytest.approx(floor)
    assert lowest - survival_axis_floor([curve]) >= 0.05 - 1e-9 or survival_axis_floor([curve]) == 0


def test_km_axis_is_not_squeezed_and_curves_run_to_the_last_follow_up():
    few_events = kaplan_meier("a", "Group A", [6, 12, 18, 30, 40], [1, 0, 0, 0, 0], [0, 12], "A")
    none = kaplan_meier("b", "Group B", [10, 50], [0, 0], [0, 12], "B")
    fig = km_curves([few_events, none])
    low, high = fig.layout.yaxis.range
    assert low == pytest.approx(0.7) and 1.0 < high < 1.05  # 80% is the lowest point
    assert fig.layout.yaxis.title.text == "Event-free survival (axis from 70%)"
    lines = [t for t in fig.data if t.mode == "lines"]
    assert list(lines[0].x) == [0.0, 6.0, 40.0]  # carried on to the last censored patient
    assert list(lines[1].x) == [0.0, 50.0] and list(lines[1].y) == [1.0, 1.0]  # not a dot
    assert [t.line.dash for t in lines] == ["solid", "dash"]
    censored = [t for t in fig.data if t.mode == "markers"]
    assert {t.marker.symbol for t in censored} == {"cross-thin-open"}  # not a vertical step
    assert fig.layout.showlegend is False  # the page draws the legend (it wraps on a phone)


def test_km_axis_from_zero_when_a_curve_falls_low():
    fig = km_curves([kaplan_meier("a", "A", [1, 2, 3], [1, 1, 1], [0], "A")])
    assert fig.layout.yaxis.range[0] == 0
    assert fig.layout.yaxis.title.text == "Event-free survival"


def test_km_at_risk_counts_thinned_for_a_phone():
    a = kaplan_meier("a", "Group A", [30.0] * 5, [0] * 5, [0, 12, 24, 36], "A")
    fig = km_curves([a])
    narrow = fig.layout.meta["narrow"]
    (index, override), = narrow["data"].items()
    assert fig.data[int(index)].mode == "text"
    assert list(fig.data[int(index)].text) == ["5", "5", "5", "0"]
    assert override["text"] == ["5", "", "5", ""]
