from datetime import date

from imaging.burden import burden_series
from imaging.history import CalcGroup, PatientHistory, StudySnapshot
from imaging.trend import breast_trend, describe, stable_since, trends


def mg(i, d, *groups, phase="surveillance"):
    return StudySnapshot(id=i, study_date=d, modality="MG", phase=phase, calcifications=tuple(groups))


def grp(extent, name="L1", breast="left", morph="fine_pleomorphic", cb="11-20"):
    return CalcGroup(group=name, breast=breast, morphology=morph, distribution="segmental",
                     extent_mm=extent, count_bin=cb)


def history(*studies):
    return PatientHistory(patient_id=1, studies=studies, surgery_date=date(2015, 1, 10),
                          surgery_laterality="left")


def test_stable_since_is_the_start_of_the_trailing_run_within_tolerance():
    h = history(mg(1, date(2014, 6, 1), grp(60), phase="baseline"),
                mg(2, date(2015, 6, 1), grp(22)), mg(3, date(2016, 6, 1), grp(14)),
                mg(4, date(2017, 6, 1), grp(15.5)), mg(5, date(2018, 6, 1), grp(14)))
    since, run = stable_since(burden_series(h, "left"))
    assert (since, run) == (date(2016, 6, 1), 3)


def test_a_rank_change_breaks_stability_even_at_the_same_extent():
    h = history(mg(1, date(2015, 6, 1), grp(14, morph="amorphous")),
                mg(2, date(2016, 6, 1), grp(14)), mg(3, date(2017, 6, 1), grp(14)))
    assert stable_since(burden_series(h, "left")) == (date(2016, 6, 1), 2)


def test_rising_burden_is_not_stable_and_is_described_against_the_nadir():
    h = history(mg(1, date(2015, 6, 1), grp(20)), mg(2, date(2016, 6, 1), grp(12)),
                mg(3, date(2017, 6, 1), grp(19)), mg(4, date(2018, 6, 1), grp(27)))
    trend = breast_trend(h, "left")
    assert trend.nadir.study_id == 2
    assert trend.stable_since is None
    assert trend.above_nadir_mm == 15
    assert describe(trend) == "Left breast: nadir 12 mm on 1 Jun 2016; latest 27 mm, 15 mm above the nadir."


def test_case_report_shape_reads_nadir_and_stable_since():
    h = history(mg(1, date(2014, 6, 1), grp(60), phase="baseline"),
                mg(2, date(2015, 6, 1), grp(22)), mg(3, date(2016, 6, 1), grp(14)),
                mg(4, date(2017, 6, 1), grp(14)), mg(5, date(2018, 6, 1), grp(14)))
    (left,) = trends(h)
    assert describe(left) == ("Left breast: nadir 14 mm on 1 Jun 2016; "
                              "stable since 1 Jun 2016 (3 mammograms).")


def test_pre_surgical_exams_never_count_and_no_baseline_is_said():
    h = PatientHistory(patient_id=1, studies=(mg(1, date(2014, 6, 1), grp(60), phase="baseline"),))
    (left,) = trends(h)
    assert left.nadir is None and left.stable_since is None
    assert "no post-treatment baseline yet" in describe(left)


def test_breast_without_calcifications_is_left_out_unless_operated():
    h = history(mg(1, date(2015, 6, 1), grp(10)))
    assert [t.breast for t in trends(h)] == ["left"]


def test_an_operated_breast_without_calcifications_since_the_baseline_has_no_nadir():
    h = history(mg(1, date(2014, 6, 1), grp(60), phase="baseline"),
                mg(2, date(2015, 6, 1)), mg(3, date(2016, 6, 1)))
    (trend,) = trends(h)
    assert trend.nadir is None
    assert describe(trend) == ("Left breast: no calcifications since the post-treatment "
                               "baseline of 1 Jun 2015.")


def test_no_baseline_yet_and_no_calcifications_says_none_not_zero():
    """Absence is not zero: the last pre-treatment exam without calcifications reads so."""
    h = PatientHistory(patient_id=1, studies=(mg(1, date(2014, 6, 1), grp(60), phase="baseline"),
                                              mg(2, date(2014, 12, 1), phase="post_nac")))
    (left,) = trends(h)
    assert describe(left) == ("Left breast: no calcifications on 1 Dec 2014; "
                              "no post-treatment baseline yet.")
