"""The rule table of docs/clinical-rules.md, tested on plain histories (no database)."""

from datetime import date

import pytest

from alerts.rules import Thresholds, evaluate
from tests.alerts.histories import (
    calc,
    case_report,
    case_report_studies,
    history,
    lesion,
    mg,
    mr,
    with_study,
)

YEAR6_MG, YEAR7_MR = 2020, 2121


def fired(h, thresholds=None) -> set[tuple[str, str, str, int]]:
    return {(d.rule, d.severity, d.breast, d.study_id) for d in evaluate(h, thresholds)}


def test_case_report_ten_years_raise_no_progression_alert():
    assert evaluate(case_report()) == []


def test_year6_growth_and_fine_linear_branching_raise_extent_and_morphology():
    studies = with_study(case_report_studies(), YEAR6_MG,
                         calcifications=(calc(extent=33, morph="fine_linear_branching"),))
    # Later exams stay at the new level: no repeat alert for the same progression.
    for year in range(2021, 2025):
        studies = with_study(studies, year,
                             calcifications=(calc(extent=33, morph="fine_linear_branching"),))
    assert fired(history(studies)) == {
        ("calc_extent_increase", "medium", "left", YEAR6_MG),
        ("calc_morphology_worse", "high", "left", YEAR6_MG),
    }


def test_extent_reason_names_both_ends_the_nadir_and_its_date():
    studies = with_study(case_report_studies(), YEAR6_MG, calcifications=(calc(extent=31),))
    [decision] = evaluate(history(studies))
    assert decision.rule == "calc_extent_increase" and decision.trigger == f"study:{YEAR6_MG}"
    assert decision.reason.startswith(
        "extent 18 mm → 31 mm, +13 mm / +72% over nadir of 18 mm on 2017-06-12")


def test_year7_mri_with_new_nme_and_washout():
    studies = with_study(case_report_studies(), YEAR7_MR, no_enhancement=False,
                         enhancements=(lesion("L-NME2", size=24, delayed="washout"),))
    assert fired(history(studies)) == {
        ("mri_new_enhancement", "high", "left", YEAR7_MR),
        ("mri_washout", "high", "left", YEAR7_MR),
    }
    new = next(d for d in evaluate(history(studies)) if d.rule == "mri_new_enhancement")
    assert "the prior MRI of 2020-12-10 showed no enhancement" in new.reason


def test_clean_mri_does_not_silence_calcification_rules():
    studies = with_study(case_report_studies(), YEAR6_MG, calcifications=(calc(extent=40),))
    # Every MRI of the patient is clean, before and after the growing mammogram.
    assert ("calc_extent_increase", "medium", "left", YEAR6_MG) in fired(history(studies))


D = date


@pytest.mark.parametrize(
    ("studies", "expected"),
    [
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=40)), mg(11, D(2016, 6, 1), calc(extent=30)),
             mg(12, D(2017, 6, 1), calc(extent=20, count_bin="6-10", change="decrease_size"))],
            set(), id="decreasing burden raises nothing"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20), calc("L2", 3, morph="amorphous", dist="grouped",
                                                         count_bin="1-5", inside=False))],
            {("calc_new_group", "high", "left", 11)}, id="new group outside the tumour bed: high"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20), calc("L2", 2, morph="dystrophic",
                                                         dist="grouped", count_bin="1-5"))],
            {("calc_new_group", "medium", "left", 11)}, id="new group inside the bed: medium"),
        pytest.param(
            [mg(1, D(2014, 3, 1), calc(extent=10), phase="baseline"),
             mg(2, D(2014, 6, 1), calc(extent=30), phase="mid_nac"),
             mg(3, D(2014, 9, 1), calc(extent=60, morph="fine_linear_branching"),
                calc("L9", 9, inside=False, change="increase_size"), phase="post_nac", birads="5"),
             mr(4, D(2014, 3, 2), phase="baseline"),
             mr(5, D(2014, 9, 2), lesion(size=30, delayed="washout"), phase="post_nac", birads="5")],
            set(), id="pre-surgical studies never count"),
        pytest.param(
            [mg(10, D(2014, 11, 1), calc(extent=20)), mg(11, D(2015, 6, 1), calc(extent=20))],
            set(), id="mammogram between surgery and radiotherapy end is not the baseline"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)), mg(11, D(2016, 6, 1), calc(extent=24))],
            set(), id="+4 mm is under the 5 mm threshold"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=40)), mg(11, D(2016, 6, 1), calc(extent=46))],
            set(), id="+6 mm but only +15% over a 40 mm nadir"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=30)), mg(11, D(2016, 6, 1), calc(extent=10)),
             mg(12, D(2017, 6, 1), calc(extent=16))],
            {("calc_extent_increase", "medium", "left", 12)}, id="compared with the nadir, not baseline"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, count_bin="6-10")),
             mg(11, D(2016, 6, 1), calc(extent=20, count_bin="11-20"))],
            {("calc_count_increase", "medium", "left", 11)}, id="count bin rises"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, dist="grouped")),
             mg(11, D(2016, 6, 1), calc(extent=20, dist="segmental"))],
            {("calc_distribution_worse", "high", "left", 11)}, id="distribution worse"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20, change="increase_number"))],
            {("calc_reported_increase", "high", "left", 11)}, id="radiologist codes an increase"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20), birads="4B", laterality="bilateral"),
             mg(12, D(2017, 6, 1), calc(extent=20), birads="4A", laterality="left")],
            {("birads_suspicious", "high", "", 11), ("birads_suspicious", "high", "left", 12)},
            id="suspicious BI-RADS after surgery"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20), calc("R1", 8, breast="right", inside=False,
                                                         morph="amorphous", dist="grouped"))],
            {("calc_new_group", "high", "right", 11), ("calc_morphology_worse", "high", "right", 11),
             ("calc_distribution_worse", "high", "right", 11),
             ("calc_extent_increase", "medium", "right", 11)},  # 0 → 8 mm
            id="the other breast is evaluated on its own"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10)), mr(21, D(2016, 12, 1), lesion(size=16))],
            {("mri_enhancement_growth", "high", "left", 21)}, id="lesion grows 6 mm / 60%"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=40)), mr(21, D(2016, 12, 1), lesion(size=46))],
            set(), id="lesion grows 6 mm but only 15%"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10)),
             mr(21, D(2016, 12, 1), lesion(size=10), lesion("L-M2", size=6, kind="mass"))],
            {("mri_new_enhancement", "high", "left", 21)}, id="a new lesion beside a known one"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10, delayed="washout")),
             mr(21, D(2016, 12, 1), lesion(size=10, delayed="washout"))],
            set(), id="washout already on the prior MRI"),
        pytest.param(
            [mr(4, D(2014, 9, 3), phase="post_nac"), mr(20, D(2015, 12, 1), lesion(size=8))],
            {("mri_new_enhancement", "high", "left", 20)},
            id="first surveillance MRI compared with the pre-surgical MRI"),
    ],
)
def test_rule_table(studies, expected):
    assert fired(history(studies)) == expected


def test_thresholds_come_from_the_settings_record():
    h = history([mg(10, D(2015, 6, 1), calc(extent=20)), mg(11, D(2016, 6, 1), calc(extent=24))])
    assert fired(h) == set()
    assert fired(h, Thresholds(extent_mm=3, extent_percent=10)) == {
        ("calc_extent_increase", "medium", "left", 11)}


def test_draft_studies_are_ignored():
    from dataclasses import replace

    grown = replace(mg(11, D(2016, 6, 1), calc(extent=60)), status="draft")
    assert fired(history([mg(10, D(2015, 6, 1), calc(extent=20)), grown])) == set()


def test_no_surgery_recorded_means_nothing_is_post_treatment():
    from dataclasses import replace

    h = replace(history([mg(10, D(2015, 6, 1), calc(extent=20)),
                         mg(11, D(2016, 6, 1), calc(extent=60))]),
                surgery_date=None, rt_end_date=None)
    assert fired(h) == set()
