"""Counts to report, without a database."""

import pytest

from cohort.analysis import build_concordance, histology_result, risk_times, survival_result
from cohort.selectors import SubtypeCounts, SurvivalRow
from cohort.stats import TwoByTwo


def counts(mr: TwoByTwo, mg: TwoByTwo, **histology) -> SubtypeCounts:
    c = SubtypeCounts()
    c.tables = {"MR": mr, "MG": mg}
    c.histology.update(histology)
    return c


def test_overall_is_the_sum_of_subtypes_in_vocabulary_order():
    result = build_concordance({
        "triple_negative": counts(TwoByTwo(1, 0, 0, 1), TwoByTwo(0, 1, 1, 0)),
        "HR+/HER2+": counts(TwoByTwo(2, 1, 0, 0), TwoByTwo(1, 1, 0, 1)),
    })
    assert [g.subtype for g in result.by_subtype] == ["HR+/HER2+", "triple_negative"]
    assert result.overall.modalities["MR"].concordance.table == TwoByTwo(3, 1, 0, 1)
    assert result.overall.modalities["MG"].n == 5
    assert result.overall.label == "All subtypes"
    assert result.by_subtype[1].label == "Triple negative"


def test_single_subtype():
    result = build_concordance({"HR-/HER2+": counts(TwoByTwo(1, 1, 1, 1), TwoByTwo())})
    assert len(result.by_subtype) == 1
    assert result.overall.modalities["MR"].concordance == result.by_subtype[0].modalities["MR"].concordance
    assert result.overall.modalities["MG"].concordance.sensitivity.value is None


def test_no_counts_at_all():
    result = build_concordance({})
    assert result.by_subtype == ()
    assert result.overall.modalities["MR"].n == 0
    assert result.overall.modalities["MR"].concordance.accuracy.value is None


def test_histology_shares_are_of_sampled_patients():
    h = histology_result({"benign": 3, "dcis": 1, "invasive": 0, "mixed": 0, "not_sampled": 4})
    assert (h.sampled, h.not_sampled) == (4, 4)
    assert h.shares["benign"].value == pytest.approx(0.75)
    assert h.shares["invasive"].value == 0.0
    empty = histology_result({"benign": 0, "dcis": 0, "invasive": 0, "mixed": 0, "not_sampled": 2})
    assert empty.shares["benign"].value is None


def test_survival_in_four_groups_from_grouped_rows():
    rows = [
        SurvivalRow(True, "positive", 365, False, 3),
        SurvivalRow(True, "negative", 800, False, 1),
        SurvivalRow(False, "positive", 183, True, 2),
        SurvivalRow(False, "positive", 800, False, 2),
    ]
    result = survival_result(rows)
    by_key = {c.key: c for c in result.curves}
    assert [c.key for c in result.curves] == ["pcr_calc", "pcr_no_calc", "residual_calc",
                                              "residual_no_calc"]
    assert (by_key["pcr_calc"].n, by_key["pcr_calc"].events) == (3, 0)
    assert (by_key["residual_calc"].n, by_key["residual_calc"].events) == (4, 2)
    assert by_key["residual_calc"].survival[-1] == pytest.approx(0.5)
    assert by_key["residual_no_calc"].n == 0
    assert result.n == 8
    assert by_key["residual_calc"].risk_times == (0.0, 12.0, 24.0, 36.0)
    assert by_key["residual_calc"].at_risk == (4, 2, 2, 0)
    assert result.log_rank.p_value is not None


def test_survival_of_nobody():
    result = survival_result([])
    assert result.n == 0 and result.log_rank.p_value is None
    assert all(c.n == 0 for c in result.curves)


@pytest.mark.parametrize("months, marks", [
    (0, (0.0, 3.0)), (10, (0.0, 3.0, 6.0, 9.0, 12.0)), (30, (0.0, 12.0, 24.0, 36.0)),
    (200, tuple(float(m) for m in range(0, 121, 12))),
])
def test_risk_times(months, marks):
    assert risk_times(months) == marks
