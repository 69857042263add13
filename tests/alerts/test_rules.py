"""The rule table of docs/clinical-rules.md, tested on plain histories (no database)."""

from dataclasses import replace
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
L8 = calc("L8", 6, morph="amorphous", dist="grouped", count_bin="1-5", inside=False)


def calc_rules(studies, thresholds=None, resolved=(), **history_changes):
    h = replace(history(studies), **history_changes)
    return {(d.rule, d.severity, d.breast, d.study_id) for d in evaluate(h, thresholds, resolved)}


def extent(rule_id, when, mm, **kw):
    return mg(rule_id, when, calc(extent=mm, **kw))


@pytest.mark.parametrize(
    ("studies", "expected"),
    [
        # --- the comparison model: absence is not zero -------------------------------------
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20), replace(L8, extent_mm=3))],
            {("calc_new_group", "high", "left", 11)},
            id="new group outside the tumour bed: high, and nothing else"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)), mg(11, D(2016, 6, 1), calc(extent=20), L8)],
            {("calc_new_group", "high", "left", 11), ("calc_extent_increase", "medium", "left", 11)},
            id="a new group beside a known one adds to the burden: 20 -> 26 mm"),
        pytest.param(
            [mg(10, D(2015, 6, 1)), mg(11, D(2016, 6, 1), L8)],
            {("calc_new_group", "high", "left", 11)},
            id="no calcifications before: a group raises calc_new_group only (not 0 mm -> 6 mm)"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc("R1", 4, breast="right")),
             mg(11, D(2016, 6, 1), calc("R1", 4, breast="right"),
                calc("L2", 30, morph="fine_linear_branching", dist="segmental", count_bin=">20"))],
            {("calc_new_group", "medium", "left", 11)},
            id="the other breast had calcifications: still only calc_new_group"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20)),
             mg(11, D(2016, 6, 1), calc(extent=20), calc("L2", 2, morph="dystrophic",
                                                         dist="grouped", count_bin="1-5"))],
            {("calc_new_group", "medium", "left", 11)}, id="new group inside the bed: medium"),
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), mg(11, D(2016, 6, 1)), extent(12, D(2017, 6, 1), 20)],
            set(), id="calcifications gone and back at the same extent: nothing (none is not 0 mm)"),
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), mg(11, D(2016, 6, 1)), extent(12, D(2017, 6, 1), 26)],
            {("calc_extent_increase", "medium", "left", 12)},
            id="extent compares with the last exam that had calcifications"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, count_bin="6-10")), mg(11, D(2016, 6, 1)),
             mg(12, D(2017, 6, 1), calc(extent=20, count_bin="11-20"))],
            {("calc_count_increase", "medium", "left", 12)},
            id="count compares across an exam without calcifications"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, morph="round")),
             mg(11, D(2016, 6, 1), calc(extent=20, morph="amorphous"))],
            {("calc_morphology_worse", "high", "left", 11)}, id="benign -> amorphous is worse"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, morph="amorphous")),
             mg(11, D(2016, 6, 1), calc(extent=20, morph="coarse_heterogeneous"))],
            set(), id="falling morphology raises nothing"),
        # --- the series starts at surgery ------------------------------------------------------
        pytest.param(
            [mg(1, D(2014, 3, 1), calc(extent=10), phase="baseline"),
             mg(2, D(2014, 6, 1), calc(extent=30), phase="mid_nac"),
             mg(3, D(2014, 9, 1), calc(extent=60, morph="fine_linear_branching"),
                calc("L9", 9, inside=False, change="increase_size"), phase="post_nac", birads="5"),
             mr(4, D(2014, 3, 2), phase="baseline"),
             mr(5, D(2014, 9, 2), lesion(size=30, delayed="washout"), phase="post_nac", birads="5")],
            set(), id="pre-surgical studies never fire"),
        pytest.param(
            [mg(3, D(2014, 9, 1), calc(extent=60), phase="post_nac"),
             mg(10, D(2015, 6, 1), calc(extent=20), calc("L9", 4, inside=False))],
            set(), id="the first post-surgical mammogram is the baseline: its groups are not new"),
        pytest.param(
            [mg(3, D(2014, 9, 1), calc("L9", 5), phase="post_nac"),
             mg(10, D(2015, 6, 1), calc(extent=20)), mg(11, D(2016, 6, 1), calc(extent=20), calc("L9", 4))],
            {("calc_new_group", "medium", "left", 11)},
            id="a label seen only before surgery is new after it"),
        pytest.param(
            [mg(10, D(2014, 11, 1), calc(extent=20)),
             mg(11, D(2014, 12, 1), calc(extent=20), L8), mg(12, D(2015, 6, 1), calc(extent=20), L8)],
            {("calc_new_group", "high", "left", 11)},
            id="between surgery and RT end: a new group alerts on that exam"),
        pytest.param(
            [extent(10, D(2014, 11, 1), 10), extent(11, D(2015, 6, 1), 20), extent(12, D(2016, 6, 1), 20)],
            set(), id="an exam before RT end is neither the nadir nor a prior of the burden rules"),
        pytest.param(
            [extent(10, D(2014, 11, 1), 10), mg(11, D(2014, 12, 1), calc(extent=10, change="increase_size"),
                                                birads="4A")],
            {("calc_reported_increase", "high", "left", 11), ("birads_suspicious", "high", "", 11)},
            id="exams before RT end take part in the coded and BI-RADS rules"),
        # --- phase agrees with dates -----------------------------------------------------------
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, morph="amorphous", dist="grouped")),
             mg(11, D(2016, 4, 6), calc(extent=20, morph="fine_linear_branching", dist="segmental"),
                phase="post_nac", birads="5")],
            {("birads_suspicious", "high", "", 11), ("calc_morphology_worse", "high", "left", 11),
             ("calc_distribution_worse", "high", "left", 11)},
            id="a study 18 months after surgery labelled post_nac is evaluated by its date"),
        pytest.param(
            [mg(10, D(2014, 10, 6), birads="5")], set(),
            id="a study on the surgery day is pre-surgical"),
        pytest.param(
            [mg(10, D(2014, 10, 7), birads="5", phase="post_nac")], {("birads_suspicious", "high", "", 10)},
            id="a study the day after surgery is post-surgical"),
        # --- thresholds: both sides of every edge (defaults 5 mm and 20%) ----------------------
        pytest.param([extent(10, D(2015, 6, 1), 25), extent(11, D(2016, 6, 1), 30)],
                     {("calc_extent_increase", "medium", "left", 11)}, id="+5.0 mm / +20%: fires"),
        pytest.param([extent(10, D(2015, 6, 1), 25), extent(11, D(2016, 6, 1), 29.9)],
                     set(), id="+4.9 mm / +20%: under the mm threshold"),
        pytest.param([extent(10, D(2015, 6, 1), 26.3), extent(11, D(2016, 6, 1), 31.3)],
                     set(), id="+5.0 mm / +19%: under the % threshold"),
        pytest.param([extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 25)],
                     {("calc_extent_increase", "medium", "left", 11)}, id="+5.0 mm / +25%: fires"),
        pytest.param([extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 24.9)],
                     set(), id="+4.9 mm / +25%: under the mm threshold"),
        pytest.param([extent(10, D(2015, 6, 1), 25.5), extent(11, D(2016, 6, 1), 30.5)],
                     {("calc_extent_increase", "medium", "left", 11)},
                     id="+5.0 mm / +19.6% rounds to 20%: fires"),
        pytest.param(
            [extent(10, D(2015, 6, 1), 30), extent(11, D(2016, 6, 1), 10), extent(12, D(2017, 6, 1), 16)],
            {("calc_extent_increase", "medium", "left", 12)}, id="compared with the nadir, not the baseline"),
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
        # --- one change, one alert -------------------------------------------------------------
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 28), extent(12, D(2017, 6, 1), 29),
             extent(13, D(2018, 6, 1), 28.5), extent(14, D(2019, 6, 1), 29)],
            {("calc_extent_increase", "medium", "left", 11)},
            id="a burden that rose once and wobbles raises one alert"),
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 28), extent(12, D(2017, 6, 1), 33),
             extent(13, D(2018, 6, 1), 34)],
            {("calc_extent_increase", "medium", "left", 11), ("calc_extent_increase", "medium", "left", 13)},
            id="fires again only 5 mm and 20% beyond the exam that fired (33: +18%, 34: +21%)"),
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 28), extent(12, D(2017, 6, 1), 21),
             extent(13, D(2018, 6, 1), 28)],
            {("calc_extent_increase", "medium", "left", 11)},
            id="open episode: falling and rising back is no new alert"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, morph="amorphous")),
             mg(11, D(2016, 6, 1), calc(extent=20, morph="fine_pleomorphic")),
             mg(12, D(2017, 6, 1), calc(extent=20, morph="amorphous")),
             mg(13, D(2018, 6, 1), calc(extent=20, morph="fine_pleomorphic")),
             mg(14, D(2019, 6, 1), calc(extent=20, morph="fine_linear_branching"))],
            {("calc_morphology_worse", "high", "left", 11), ("calc_morphology_worse", "high", "left", 14)},
            id="morphology fires again only beyond the exam that fired"),
        # --- MRI in the surveillance series ----------------------------------------------------
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion("M1", size=15, kind="mass"))],
            {("mri_new_enhancement", "high", "left", 20)},
            id="first MRI after surgery with a 15 mm mass and no earlier MRI"),
        pytest.param(
            [mr(5, D(2014, 9, 2), lesion("L1", size=20), phase="post_nac"),
             mr(20, D(2015, 12, 1), lesion("L1", size=15))],
            {("mri_new_enhancement", "high", "left", 20)},
            id="a post-surgical L1 is not the excised pre-surgical L1"),
        pytest.param(
            [mr(4, D(2014, 9, 3), phase="post_nac"),
             mr(20, D(2015, 12, 1), lesion(size=8, delayed="washout"))],
            {("mri_new_enhancement", "high", "left", 20), ("mri_washout", "high", "left", 20)},
            id="first post-surgical MRI with washout"),
        pytest.param(
            [mr(20, D(2015, 12, 1)), mr(21, D(2016, 12, 1), lesion(size=10)),
             mr(22, D(2017, 12, 1), lesion(size=16))],
            {("mri_new_enhancement", "high", "left", 21), ("mri_enhancement_growth", "high", "left", 22)},
            id="lesion grows 6 mm / 60%"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=25)), mr(21, D(2016, 12, 1), lesion(size=30))],
            {("mri_new_enhancement", "high", "left", 20), ("mri_enhancement_growth", "high", "left", 21)},
            id="lesion +5.0 mm / +20%: fires"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=25)), mr(21, D(2016, 12, 1), lesion(size=29.9))],
            {("mri_new_enhancement", "high", "left", 20)}, id="lesion +4.9 mm: no growth"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=26.3)), mr(21, D(2016, 12, 1), lesion(size=31.3))],
            {("mri_new_enhancement", "high", "left", 20)}, id="lesion +5 mm / +19%: no growth"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10)), mr(21, D(2016, 12, 1), lesion(size=16)),
             mr(22, D(2017, 12, 1), lesion(size=15)), mr(23, D(2018, 12, 1), lesion(size=20)),
             mr(24, D(2019, 12, 1), lesion(size=22))],
            {("mri_new_enhancement", "high", "left", 20), ("mri_enhancement_growth", "high", "left", 21),
             ("mri_enhancement_growth", "high", "left", 24)},
            id="lesion growth fires again only beyond the MRI that fired (16 -> 22)"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10)),
             mr(21, D(2016, 12, 1), lesion(size=10), lesion("L-M2", size=6, kind="mass"))],
            {("mri_new_enhancement", "high", "left", 20), ("mri_new_enhancement", "high", "left", 21)},
            id="a new lesion beside a known one"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10, delayed="washout")),
             mr(21, D(2016, 12, 1), lesion(size=10, delayed="persistent")),
             mr(22, D(2017, 12, 1), lesion(size=10, delayed="washout"))],
            {("mri_new_enhancement", "high", "left", 20), ("mri_washout", "high", "left", 20)},
            id="washout fires once per episode"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10)),
             replace(mr(21, D(2016, 12, 1)), no_enhancement=False),
             mr(22, D(2017, 12, 1), lesion(size=10))],
            {("mri_new_enhancement", "high", "left", 20)},
            id="an MRI with neither lesion nor 'no enhancement' is no prior"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10)), mr(21, D(2016, 12, 1)),
             mr(22, D(2017, 12, 1), lesion(size=10))],
            {("mri_new_enhancement", "high", "left", 20), ("mri_new_enhancement", "high", "left", 22)},
            id="after an explicit 'no enhancement', enhancement is new again"),
        pytest.param(
            [mr(20, D(2014, 10, 6), lesion(size=10))], set(), id="an MRI on the surgery day is pre-surgical"),
    ],
)
def test_rule_table(studies, expected):
    assert calc_rules(studies) == expected


@pytest.mark.parametrize(
    ("studies", "resolved", "expected"),
    [
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 28), extent(12, D(2017, 6, 1), 22),
             extent(13, D(2018, 6, 1), 28)],
            {("calc_extent_increase", "left", 11)},
            {("calc_extent_increase", "medium", "left", 11), ("calc_extent_increase", "medium", "left", 13)},
            id="resolved: the nadir is taken from the resolved exam on (22 -> 28)"),
        pytest.param(
            [extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 28), extent(12, D(2017, 6, 1), 29)],
            {("calc_extent_increase", "left", 11)},
            {("calc_extent_increase", "medium", "left", 11)},
            id="resolved: the wobble after it is still no change"),
        pytest.param(
            [mg(10, D(2015, 6, 1), calc(extent=20, morph="amorphous")),
             mg(11, D(2016, 6, 1), calc(extent=20, morph="fine_pleomorphic")),
             mg(12, D(2017, 6, 1), calc(extent=20, morph="amorphous")),
             mg(13, D(2018, 6, 1), calc(extent=20, morph="fine_pleomorphic"))],
            {("calc_morphology_worse", "left", 11)},
            {("calc_morphology_worse", "high", "left", 11), ("calc_morphology_worse", "high", "left", 13)},
            id="resolved: a rise against the prior exam fires again"),
        pytest.param(
            [mr(20, D(2015, 12, 1), lesion(size=10, delayed="washout")),
             mr(21, D(2016, 12, 1), lesion(size=10, delayed="persistent")),
             mr(22, D(2017, 12, 1), lesion(size=10, delayed="washout"))],
            {("mri_washout", "left", 20)},
            {("mri_new_enhancement", "high", "left", 20), ("mri_washout", "high", "left", 20),
             ("mri_washout", "high", "left", 22)},
            id="resolved washout fires again where the prior MRI had none"),
    ],
)
def test_resolved_alerts_restart_the_comparison(studies, resolved, expected):
    assert calc_rules(studies, resolved=resolved) == expected


def test_wobble_raises_one_alert_naming_the_nadir():
    [decision] = evaluate(history([extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 28),
                                   extent(12, D(2017, 6, 1), 29), extent(13, D(2018, 6, 1), 28.5)]))
    assert decision.reason == ("extent 20 mm → 28 mm, +8 mm / +40% over nadir of 20 mm on "
                               "2015-06-01 (left breast)")


def test_new_group_where_there_was_none_reads_as_none_not_zero():
    decisions = evaluate(history([mg(10, D(2015, 6, 1)), mg(11, D(2016, 6, 1), L8)]))
    assert [d.rule for d in decisions] == ["calc_new_group"]
    assert "0 mm" not in decisions[0].reason


def test_first_post_surgical_mri_names_the_surgery():
    [decision] = evaluate(history([mr(20, D(2015, 12, 1), lesion("M1", size=15, kind="mass"))]))
    assert decision.reason == ("new enhancement M1 (mass, 15 mm) in the left breast on 2015-12-01; "
                               "the first MRI of that breast after surgery on 2014-10-06")


NO_SURGERY = {"surgery_date": None, "rt_end_date": None}


@pytest.mark.parametrize(
    ("studies", "expected"),
    [
        pytest.param([mg(10, D(2015, 6, 1), calc(extent=20)), mg(11, D(2016, 6, 1), calc(extent=60))],
                     {("calc_extent_increase", "medium", "left", 11)}, id="calcification rules"),
        pytest.param([mg(10, D(2015, 6, 1), birads="4")], {("birads_suspicious", "high", "", 10)},
                     id="BI-RADS rule"),
        pytest.param([mr(20, D(2015, 12, 1), lesion(size=8))], {("mri_new_enhancement", "high", "left", 20)},
                     id="MRI rules"),
        pytest.param([mg(10, D(2015, 6, 1), calc(extent=20), phase="post_nac", birads="5"),
                      mg(11, D(2016, 6, 1), calc(extent=60), phase="post_nac"),
                      mr(20, D(2015, 12, 1), lesion(size=8), phase="post_nac")],
                     set(), id="pre-surgical phases: no rule"),
    ],
)
def test_without_a_recorded_surgery_the_surveillance_phase_starts_the_series(studies, expected):
    assert calc_rules(studies, **NO_SURGERY) == expected


def test_thresholds_come_from_the_settings_record():
    h = history([extent(10, D(2015, 6, 1), 20), extent(11, D(2016, 6, 1), 24)])
    assert fired(h) == set()
    assert fired(h, Thresholds(extent_mm=3, extent_percent=10)) == {
        ("calc_extent_increase", "medium", "left", 11)}


def test_shipped_thresholds_are_the_documented_defaults():
    assert Thresholds() == Thresholds(extent_mm=5.0, extent_percent=20.0, lesion_growth_mm=5.0,
                                      lesion_growth_percent=20.0)


def test_draft_studies_are_ignored():
    grown = replace(extent(11, D(2016, 6, 1), 60), status="draft")
    assert fired(history([extent(10, D(2015, 6, 1), 20), grown])) == set()
