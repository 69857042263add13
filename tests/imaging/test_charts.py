import json
from datetime import date

import plotly.graph_objects as go
import pytest

from imaging.burden import burden_of
from imaging.charts import ChartAlert, marker_size, timeline_figure, treatment_markers
from imaging.history import CalcGroup, Lesion, PatientHistory, StudySnapshot


def grp(extent, name="L1", breast="left", morph="fine_pleomorphic", cb=">20", change="stable"):
    return CalcGroup(group=name, breast=breast, morphology=morph, distribution="segmental",
                     extent_mm=extent, count_bin=cb, observed_change=change)


def mg(i, d, *groups, phase="surveillance", birads="2", status="final"):
    return StudySnapshot(id=i, study_date=d, modality="MG", phase=phase, birads=birads, status=status,
                         calcifications=tuple(groups))


def mr(i, d, *lesions, phase="surveillance"):
    return StudySnapshot(id=i, study_date=d, modality="MR", phase=phase, no_enhancement=not lesions,
                         enhancements=tuple(lesions))


def case_history(n_years=10):
    studies = [mg(1, date(2014, 2, 24), grp(62), phase="baseline", birads="6"),
               mr(2, date(2014, 3, 5), Lesion("E1", "left", "nme", 48.0, "fast", "washout"),
                  phase="baseline"),
               mg(3, date(2014, 9, 8), grp(50, change="not_significantly_changed"), phase="post_nac"),
               mr(4, date(2014, 9, 10), phase="post_nac")]
    for k in range(n_years * 2):
        studies.append(mg(10 + k, date(2015 + k // 2, 6 if k % 2 == 0 else 12, 15),
                          grp(22 if k == 0 else 14, cb="11-20")))
    for k in range(n_years):
        studies.append(mr(100 + k, date(2015 + k, 9, 12)))
    studies.sort(key=lambda s: (s.study_date, s.id))
    return PatientHistory(patient_id=1, studies=tuple(studies), surgery_date=date(2014, 10, 6),
                          surgery_laterality="left", rt_end_date=date(2014, 12, 19),
                          nac_start_date=date(2014, 3, 24), nac_end_date=date(2014, 8, 25))


def by_name(fig, name):
    (trace,) = [t for t in fig["data"] if t["name"] == name]
    return trace


def test_extent_per_breast_over_the_whole_history():
    fig = timeline_figure(case_history(), today=date(2025, 1, 10))
    left = by_name(fig, "Left breast calcifications")
    assert len(left["x"]) == 2 + 20  # baseline, post-NAC and twenty surveillance mammograms
    assert left["x"][0] == "2014-02-24" and left["y"][0] == 62
    assert left["y"][2:5] == [22, 14, 14]
    assert (left["xaxis"], left["yaxis"]) == ("x", "y")
    assert not [t for t in fig["data"] if t["name"] == "Right breast calcifications"]


def test_marker_size_follows_count_bin_and_colour_follows_morphology():
    history = PatientHistory(patient_id=1, studies=(
        mg(1, date(2020, 1, 1), grp(10, cb="1-5", morph="round")),
        mg(2, date(2021, 1, 1), grp(12, cb=">20", morph="fine_linear_branching")),
        mg(3, date(2022, 1, 1)),
    ))
    left = by_name(timeline_figure(history), "Left breast calcifications")
    assert left["marker"]["size"] == [11, 23, 7]
    assert marker_size(burden_of(history.studies[2], "left")) == 7
    colours = left["marker"]["color"]
    assert colours[0] != colours[1] and colours[2] == "#9aa5b1"  # benign, FLB, none
    assert left["y"] == [10, 12, 0]


def test_hover_text_carries_birads_and_change_codes():
    history = PatientHistory(patient_id=1, studies=(
        mg(1, date(2020, 1, 1), grp(10, change="increase_size"), birads="4A"),))
    text = by_name(timeline_figure(history), "Left breast calcifications")["hovertext"][0]
    assert "BI-RADS 4A" in text and "Increase in size" in text


def test_mri_panel_shows_lesion_size_and_zero_for_no_enhancement():
    fig = timeline_figure(case_history())
    mri = by_name(fig, "Left breast MRI enhancement")
    assert mri["xaxis"] == "x2" and mri["yaxis"] == "y2"
    assert mri["y"][:3] == [48, 0, 0]
    assert mri["marker"]["symbol"][0] == "x" and mri["marker"]["symbol"][1] == "circle-open"
    assert "Washout" in mri["hovertext"][0] and "No enhancement" in mri["hovertext"][1]


def test_treatment_dates_are_vertical_lines_across_both_panels():
    history = case_history()
    fig = timeline_figure(history)
    assert [label for _, label in treatment_markers(history)] == ["NAC start", "NAC end", "Surgery", "RT end"]
    lines = [s for s in fig["layout"]["shapes"] if s["type"] == "line"]
    assert [s["x0"] for s in lines] == ["2014-03-24", "2014-08-25", "2014-10-06", "2014-12-19"]
    assert all((s["yref"], s["y0"], s["y1"]) == ("paper", 0, 1) for s in lines)
    labels = [a for a in fig["layout"]["annotations"] if a["text"] in ("NAC end", "Surgery", "RT end")]
    # Close dates get staggered label rows so the labels do not overlap.
    assert len({a["yshift"] for a in labels}) == 3


def test_nadir_and_open_alerts_are_marked():
    alert = ChartAlert(day=date(2024, 12, 15), label="New calcification group", severity="high",
                       breast="left")
    fig = timeline_figure(case_history(), alerts=[alert])
    nadir = by_name(fig, "Left breast nadir")
    assert (nadir["x"], nadir["y"]) == (["2015-12-15"], [14])
    marks = by_name(fig, "Open alert")
    assert marks["x"] == ["2024-12-15"] and marks["y"] == [14]
    assert "New calcification group" in marks["hovertext"][0]


def test_draft_studies_are_not_plotted_and_empty_panels_say_so():
    history = PatientHistory(patient_id=1, studies=(mg(1, date(2020, 1, 1), grp(10), status="draft"),))
    fig = timeline_figure(history, today=date(2021, 1, 1))
    assert not fig["data"]
    texts = [a["text"] for a in fig["layout"]["annotations"]]
    assert "No signed mammogram yet" in texts and "No signed MRI yet" in texts


def test_x_axis_spans_the_history_up_to_today():
    fig = timeline_figure(case_history(), today=date(2025, 3, 1))
    start, end = fig["layout"]["xaxis"]["range"]
    assert start < "2014-02-24" and end > "2025-03-01"


def test_a_breast_that_never_enhanced_and_was_not_operated_has_no_mri_trace():
    fig = timeline_figure(case_history())
    assert [t["name"] for t in fig["data"] if "MRI" in t["name"]] == ["Left breast MRI enhancement"]
    assert fig["layout"]["yaxis2"]["range"][0] < 0  # markers at zero are drawn whole


def test_typed_labels_are_escaped_in_hover_text():
    history = PatientHistory(patient_id=1, studies=(mg(1, date(2020, 1, 1), grp(10, name="<img src=x>")),))
    text = by_name(timeline_figure(history), "Left breast calcifications")["hovertext"][0]
    assert "<img" not in text and "&lt;img src=x&gt;" in text


ALERTS = (ChartAlert(day=date(2024, 12, 15), label="New group", severity="high", breast="left"),
          ChartAlert(day=date(2023, 9, 12), label="MRI", severity="medium", mri=True))


@pytest.mark.parametrize("alerts", [(), ALERTS])
def test_the_figure_is_json_that_plotly_accepts_and_reproduces(alerts):
    """The plain dict is what plotly.graph_objects would write: every property valid (plotly
    raises on an unknown one), nothing added or coerced on the way through."""
    fig = timeline_figure(case_history(), alerts=alerts, today=date(2025, 1, 10))
    assert json.loads(json.dumps(fig)) == fig
    assert json.loads(go.Figure(fig).to_json()) == fig


def test_the_figure_has_the_two_panel_layout_of_make_subplots():
    from plotly.subplots import make_subplots

    fig = timeline_figure(case_history())
    panels = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.66, 0.34],
                           vertical_spacing=0.07).to_plotly_json()["layout"]
    panels["xaxis"].pop("showticklabels")  # the burden panel keeps its dates (set True below)
    for axis in ("xaxis", "yaxis", "xaxis2", "yaxis2"):
        assert {k: fig["layout"][axis][k] for k in panels[axis]} == panels[axis]
    assert fig["layout"]["xaxis"]["showticklabels"] is True
    assert fig["layout"]["template"] == panels["template"]
