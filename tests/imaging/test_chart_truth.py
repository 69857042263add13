"""The chart tells the truth: the extent rule's threshold and the post-treatment baseline
are drawn, the worst morphologies are told apart by symbol, points link to their
studies, and no breast reads "stable" while a progression alert of it is open."""

import json
from datetime import date
from types import SimpleNamespace

import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from imaging.burden import burden_series, post_treatment_series
from imaging.charts import (
    MORPHOLOGY_SYMBOLS,
    ExtentThreshold,
    marker_symbol,
    threshold_steps,
    timeline_figure,
)
from imaging.history import CalcGroup, PatientHistory, StudySnapshot
from imaging.trend import breast_trend, describe, open_alert_breasts

DEFAULT = ExtentThreshold(mm=5, percent=20)


def grp(extent, breast="left", morph="amorphous", name="L1"):
    return CalcGroup(group=name, breast=breast, morphology=morph, distribution="segmental",
                     extent_mm=extent, count_bin="11-20")


def mg(i, d, *groups, phase="surveillance"):
    return StudySnapshot(id=i, study_date=d, modality="MG", phase=phase, birads="2", status="final",
                         calcifications=tuple(groups))


def history(*extents, morphs=None):
    """A pre-surgical mammogram, then one post-treatment mammogram a year per extent."""
    morphs = morphs or ["amorphous"] * len(extents)
    studies = [mg(1, date(2014, 3, 1), grp(40), phase="baseline")]
    studies += [mg(10 + k, date(2015 + k, 6, 1), grp(e, morph=m))
                for k, (e, m) in enumerate(zip(extents, morphs, strict=True))]
    return PatientHistory(patient_id=1, studies=tuple(studies), surgery_date=date(2014, 10, 6),
                          surgery_laterality="left")


def by_name(fig, start):
    return [t for t in fig["data"] if t["name"].startswith(start)]


@pytest.mark.parametrize(("nadir", "threshold", "expected"), [
    (0, DEFAULT, 5),          # nothing left: the 5 mm decide
    (10, DEFAULT, 15),        # 20% of 10 is 2 mm: the 5 mm decide
    (24.9, DEFAULT, 29.9),    # just below 25 mm the 5 mm still decide
    (25, DEFAULT, 30),        # both are 5 mm
    (25.1, DEFAULT, 30.12),   # just above, the 20% decide
    (40, DEFAULT, 48),
    (40, ExtentThreshold(mm=3, percent=10), 44),
])
def test_threshold_is_the_nadir_plus_the_larger_of_mm_and_percent(nadir, threshold, expected):
    assert threshold.above(nadir) == pytest.approx(expected)


@given(st.floats(min_value=0, max_value=200), st.floats(min_value=0, max_value=50),
       st.floats(min_value=0, max_value=100))
def test_threshold_is_both_over_the_nadir_and_one_of_them_exactly(nadir, mm, percent):
    above = ExtentThreshold(mm=mm, percent=percent).above(nadir)
    assert above >= nadir + mm - 0.01 and above >= nadir * (1 + percent / 100) - 0.01
    assert min(abs(above - (nadir + mm)), abs(above - nadir * (1 + percent / 100))) <= 0.01


@given(st.lists(st.floats(min_value=0, max_value=120), min_size=1, max_size=12))
def test_threshold_steps_follow_the_running_nadir(extents):
    post = post_treatment_series(history(*extents), "left")
    steps = threshold_steps(post, DEFAULT)
    assert [d for d, _ in steps] == [b.study_date for b in post]
    values = [v for _, v in steps]
    assert all(a >= b for a, b in zip(values, values[1:], strict=False))  # the nadir only falls
    assert values[-1] == DEFAULT.above(min(b.extent_mm for b in post))


def test_figure_draws_the_threshold_step_line_and_the_baseline():
    fig = timeline_figure(history(22, 14, 16, 21), threshold=DEFAULT, today=date(2019, 1, 1))
    (line,) = by_name(fig, "Left breast alert threshold")
    assert all("nadir + 5 mm and +20%" in text for text in line["hovertext"])
    assert line["line"]["shape"] == "hv" and line["mode"] == "lines"
    # After 2015 (22 mm) 27; after 2016 (14 mm) 19 and held: 21 mm in 2018 is above it.
    assert line["y"][:4] == [27, 19, 19, 19]
    assert line["x"][:4] == ["2015-06-01", "2016-06-01", "2017-06-01", "2018-06-01"]
    assert line["x"][-1] > "2018-06-01" and line["y"][-1] == 19  # to the chart's end
    (baseline,) = by_name(fig, "Left breast post-treatment baseline")
    assert (baseline["x"], baseline["y"], baseline["customdata"]) == (["2015-06-01"], [22], [10])
    without = timeline_figure(history(22, 14), today=date(2019, 1, 1))
    assert not by_name(without, "Left breast alert threshold")


def test_no_baseline_and_no_threshold_before_any_post_treatment_exam():
    fig = timeline_figure(history(), threshold=DEFAULT)
    assert not by_name(fig, "Left breast alert threshold")
    assert not by_name(fig, "Left breast post-treatment baseline")


@pytest.mark.parametrize(("morphology", "symbol"), [
    ("dystrophic", "circle"),
    ("coarse_heterogeneous", "circle"),
    ("amorphous", "circle"),
    ("fine_pleomorphic", "triangle-up"),
    ("fine_linear_branching", "x"),
])
def test_the_worst_morphologies_have_their_own_symbols(morphology, symbol):
    h = history(14, morphs=[morphology])
    (b,) = post_treatment_series(h, "left")
    assert marker_symbol(b, "circle") == symbol
    fig = timeline_figure(h)
    (points,) = by_name(fig, "Left breast calcifications")
    assert points["marker"]["symbol"][-1] == symbol
    legend = {t["name"]: t["marker"]["symbol"] for t in fig["data"] if t.get("legendgroup") == "morphology"}
    expected = {"triangle-up": {"Fine pleomorphic calcifications": "triangle-up"},
                "x": {"Fine linear/branching calcifications": "x"}}.get(symbol, {})
    assert legend == expected


def test_both_worst_forms_are_distinct_in_the_legend():
    fig = timeline_figure(history(14, 15, morphs=["fine_pleomorphic", "fine_linear_branching"]))
    legend = [t for t in fig["data"] if t.get("legendgroup") == "morphology"]
    assert [t["marker"]["symbol"] for t in legend] == list(MORPHOLOGY_SYMBOLS.values())
    assert len({t["marker"]["symbol"] for t in legend}) == 2


def test_points_link_to_their_studies_and_plotly_accepts_the_figure():
    urls = {10: "/studies/a/", 11: "/studies/b/"}
    fig = timeline_figure(history(22, 14, morphs=["fine_pleomorphic", "fine_linear_branching"]),
                          threshold=DEFAULT, study_urls=urls, today=date(2019, 1, 1))
    (points,) = by_name(fig, "Left breast calcifications")
    assert points["customdata"][1:] == [10, 11]
    assert fig["layout"]["meta"]["study_urls"] == {"10": "/studies/a/", "11": "/studies/b/"}
    assert json.loads(go.Figure(fig).to_json()) == fig


def alert(rule, breast="", label="Calcification extent increase"):
    return SimpleNamespace(rule=rule, breast=breast, get_rule_display=lambda: label)


@pytest.mark.parametrize(("alerts", "expected"), [
    ([], {}),
    ([alert("calc_extent_increase", "left")], {"left": "Calcification extent increase"}),
    ([alert("birads_suspicious", "", "Suspicious BI-RADS after surgery")],
     {"left": "Suspicious BI-RADS after surgery", "right": "Suspicious BI-RADS after surgery"}),
    ([alert("mri_washout", "left", "New washout")], {}),
    ([alert("surveillance_overdue", "left", "Surveillance overdue")], {}),
    ([alert("calc_new_group", "right", "New calcification group")], {"right": "New calcification group"}),
])
def test_which_open_alerts_are_progression_of_which_breast(alerts, expected):
    assert open_alert_breasts(alerts) == expected


STABLE = (22, 14, 14, 14)
RISING = (22, 14, 14, 21)


@pytest.mark.parametrize(("extents", "open_alert", "says", "never"), [
    (STABLE, "", "stable since 1 Jun 2016 (3 mammograms)", "open alert"),
    (STABLE, "Calcification count increase", "latest 14 mm on 1 Jun 2018, at the nadir; "
     "open alert: Calcification count increase", "stable"),
    (RISING, "", "latest 21 mm, 7 mm above the nadir", "stable"),
    (RISING, "Calcification extent increase", "latest 21 mm on 1 Jun 2018, +7 mm against the nadir; "
     "open alert: Calcification extent increase", "stable"),
])
def test_headline_is_never_stable_while_a_progression_alert_is_open(extents, open_alert, says, never):
    h = history(*extents)
    sentence = describe(breast_trend(h, "left", series=burden_series(h, "left")), open_alert=open_alert)
    assert says in sentence and never not in sentence


def test_on_a_phone_the_figure_grows_by_its_legend():
    fig = timeline_figure(history(22, 14, morphs=["fine_pleomorphic", "fine_linear_branching"]),
                          threshold=DEFAULT)
    entries = sum(1 for t in fig["data"] if t.get("showlegend", True))
    narrow = fig["layout"]["meta"]["narrow"]
    assert narrow["width"] == 600
    assert narrow["layout"]["height"] == fig["layout"]["height"] + 19 * entries
    assert narrow["layout"]["margin"]["b"] == fig["layout"]["margin"]["b"] + 19 * entries
