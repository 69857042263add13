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
    assert list(curves[0].x) == [0.0, 6.0, 18.0]
    assert list(curves[0].y) == pytest.approx([1.0, 0.75, 0.375])
    risk = [t for t in fig.data if t.mode == "text"]
    assert [list(r.text) for r in risk] == [["4", "3", "1"], ["0", "0", "0"]]
    assert list(risk[0].y) == ["A", "A", "A"]
    censored = [t for t in fig.data if t.mode == "markers"]
    assert list(censored[0].x) == [12.0, 30.0] and list(censored[0].y) == [0.75, 0.375]
    assert fig.layout.xaxis2.title.text == "Months since surgery"
