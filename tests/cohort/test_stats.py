"""Statistics from counts and arrays, without a database."""

import math

import pytest

from cohort.stats import (
    UNDEFINED,
    TwoByTwo,
    concordance,
    kaplan_meier,
    kappa,
    log_rank,
    wilson,
)


def textbook_wilson(x: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson (1927) score interval, written out here only to check statsmodels' use."""
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


@pytest.mark.parametrize("x, n", [(2, 3), (3, 4), (0, 5), (5, 5), (48, 60)])
def test_wilson_interval(x, n):
    e = wilson(x, n)
    assert e.value == pytest.approx(x / n)
    assert (e.ci_low, e.ci_high) == pytest.approx(textbook_wilson(x, n))


def test_zero_denominator_is_undefined_not_an_error():
    assert wilson(0, 0) == UNDEFINED
    assert UNDEFINED.as_dict() == {"value": None, "ci_low": None, "ci_high": None}


def test_reference_mri_table():
    result = concordance(TwoByTwo(tp=2, fp=1, fn=1, tn=3))
    assert result.sensitivity.value == pytest.approx(2 / 3)
    assert result.specificity.value == pytest.approx(3 / 4)
    assert result.ppv.value == pytest.approx(2 / 3)
    assert result.npv.value == pytest.approx(3 / 4)
    assert result.accuracy.value == pytest.approx(5 / 7)
    # po = 5/7, pe = (3·3 + 4·4)/49 = 25/49, kappa = (35 − 25)/(49 − 25) = 10/24.
    assert result.kappa.value == pytest.approx(10 / 24)
    # statsmodels' asymptotic interval, (−0.263, 1.097), clipped to kappa's range.
    assert (result.kappa.ci_low, result.kappa.ci_high) == pytest.approx((-0.26326, 1.0), abs=1e-4)


def test_zero_cell_keeps_other_metrics():
    # No false positive: specificity and PPV are 100%, with a lower bound below 1.
    result = concordance(TwoByTwo(tp=4, fp=0, fn=2, tn=3))
    assert result.specificity.value == 1.0 and result.ppv.value == 1.0
    assert result.ppv.ci_low < 1.0 and result.ppv.ci_high == pytest.approx(1.0)
    assert result.sensitivity.value == pytest.approx(4 / 6)


def test_no_residual_disease_at_all_leaves_sensitivity_undefined():
    result = concordance(TwoByTwo(tp=0, fp=2, fn=0, tn=5))
    assert result.sensitivity == UNDEFINED and result.npv.value == 1.0
    assert result.specificity.value == pytest.approx(5 / 7)
    # Everyone pCR: chance agreement equals observed agreement, kappa is 0.
    assert result.kappa.value == pytest.approx(0.0)


def test_empty_table_is_all_undefined():
    result = concordance(TwoByTwo())
    for name in ("sensitivity", "specificity", "ppv", "npv", "accuracy", "kappa"):
        assert result.metric(name) == UNDEFINED


def test_kappa_undefined_when_test_and_truth_are_constant():
    assert kappa(TwoByTwo(tp=6)) == UNDEFINED


def test_perfect_agreement_kappa_is_one():
    assert kappa(TwoByTwo(tp=3, tn=4)).value == pytest.approx(1.0)


def test_kaplan_meier_steps_and_numbers_at_risk():
    # Events at 6 and 18 months; censored at 12 and 30.
    curve = kaplan_meier("g", "Group", [6, 12, 18, 30], [True, False, True, False], [0, 12, 24])
    assert curve.times == (0.0, 6.0, 18.0)
    assert curve.survival == pytest.approx((1.0, 0.75, 0.375))  # 3/4, then × 1/2
    assert curve.at_risk == (4, 3, 1)
    assert (curve.n, curve.events, curve.censored_times) == (4, 2, (12.0, 30.0))
    assert curve.survival_at(12) == pytest.approx(0.75)
    assert curve.survival_at(24) == pytest.approx(0.375)
    assert curve.survival_at(31) is None


def test_kaplan_meier_of_an_empty_group():
    curve = kaplan_meier("g", "Group", [], [], [0, 12])
    assert (curve.n, curve.times, curve.survival, curve.at_risk) == (0, (0.0,), (1.0,), (0, 0))
    assert curve.survival_at(0) is None


def test_kaplan_meier_without_events_stays_at_one():
    curve = kaplan_meier("g", "Group", [5, 10], [False, False], [0])
    assert curve.times == (0.0,) and curve.survival == (1.0,)
    assert curve.survival_at(10) == 1.0


def test_log_rank_separates_groups():
    months = [1, 2, 3, 4, 20, 25, 30, 35]
    events = [1, 1, 1, 1, 0, 1, 0, 0]
    groups = ["a"] * 4 + ["b"] * 4
    result = log_rank(months, events, groups)
    assert result.df == 1 and result.p_value < 0.05


def test_log_rank_needs_two_groups_and_an_event():
    assert log_rank([1, 2], [1, 0], ["a", "a"]).p_value is None
    assert log_rank([1, 2], [0, 0], ["a", "b"]).p_value is None
