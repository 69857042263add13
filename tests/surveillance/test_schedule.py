"""The schedule's date arithmetic, without a database."""

from datetime import date

import pytest

from surveillance import schedule as s

CASE = s.PlanInputs(
    surgery_date=date(2016, 9, 15), procedure="BCS", surgery_laterality="left",
    date_of_birth=date(1967, 11, 2), rt_end_date=date(2016, 11, 18),
    diagnosis_date=date(2016, 1, 10), diagnosis_mammogram_date=date(2016, 1, 8),
    residual_calcifications_in_place=True, latest_breast_composition="b",
)
OLDER = s.PlanInputs(surgery_date=date(2020, 3, 1), procedure="BCS", surgery_laterality="right",
                     date_of_birth=date(1950, 1, 1), diagnosis_date=date(2019, 9, 1))


def dates(items, kind):
    return [i.due_date for i in items if i.kind == kind]


@pytest.mark.parametrize("start, months, expected", [
    (date(2020, 1, 31), 1, date(2020, 2, 29)),
    (date(2021, 1, 31), 1, date(2021, 2, 28)),
    (date(2020, 11, 15), 4, date(2021, 3, 15)),
    (date(2020, 5, 31), -3, date(2020, 2, 29)),
    (date(2016, 9, 15), 120, date(2026, 9, 15)),
])
def test_add_months_clamps_to_the_end_of_short_months(start, months, expected):
    assert s.add_months(start, months) == expected


def test_clinical_exams_every_4_then_6_then_12_months():
    offsets = s.exam_offsets()
    assert offsets[:6] == [4, 8, 12, 16, 20, 24]
    assert offsets[6:12] == [30, 36, 42, 48, 54, 60]
    assert offsets[12:] == [72, 84, 96, 108, 120]
    exams = dates(s.plan_items(CASE), s.CLINICAL_EXAM)
    assert exams[0] == date(2017, 1, 15) and exams[-1] == date(2026, 9, 15)
    assert len(exams) == 17


def test_first_mammogram_is_the_later_of_diagnosis_plus_12_and_rt_end_plus_6():
    assert s.first_mammogram_date(CASE) == date(2017, 5, 18)  # RT end + 6 months wins
    early_rt = s.PlanInputs(**{**CASE.__dict__, "rt_end_date": date(2016, 6, 1)})
    assert s.first_mammogram_date(early_rt) == date(2017, 1, 8)  # diagnosis mammogram + 12 months
    no_mammo_date = s.PlanInputs(**{**CASE.__dict__, "diagnosis_mammogram_date": None,
                                    "rt_end_date": None})
    # Falls back to the diagnosis date, and to surgery + 6 months without radiotherapy.
    assert s.first_mammogram_date(no_mammo_date) == date(2017, 3, 15)


def test_after_bcs_both_breasts_yearly_for_ten_years():
    mammos = [i for i in s.plan_items(CASE) if i.kind == s.MAMMOGRAM]
    assert {i.laterality for i in mammos} == {"bilateral"}
    assert [i.due_date for i in mammos] == [date(y, 5, 18) for y in range(2017, 2027)]


def test_after_mastectomy_only_the_other_breast_and_none_after_bilateral():
    left_mx = s.PlanInputs(**{**OLDER.__dict__, "procedure": "mastectomy", "surgery_laterality": "left"})
    assert {i.laterality for i in s.plan_items(left_mx) if i.kind == s.MAMMOGRAM} == {"right"}
    both = s.PlanInputs(**{**left_mx.__dict__, "surgery_laterality": "bilateral"})
    assert not [i for i in s.plan_items(both) if i.kind != s.CLINICAL_EXAM]


def test_residual_calcifications_add_six_monthly_diagnostic_mammograms_for_two_years():
    diag = [i for i in s.plan_items(CASE) if i.kind == s.DIAGNOSTIC_MAMMOGRAM]
    assert [i.due_date for i in diag] == [date(2017, 3, 15), date(2017, 9, 15), date(2018, 3, 15),
                                          date(2018, 9, 15)]
    assert {i.laterality for i in diag} == {"left"}  # the treated breast
    assert not [i for i in s.plan_items(OLDER) if i.kind == s.DIAGNOSTIC_MAMMOGRAM]


@pytest.mark.parametrize("change, reason", [
    ({"latest_breast_composition": "d"}, "breast composition d"),
    ({"pathogenic_variant": True}, "pathogenic variant"),
    ({"chest_radiation_before_30": True}, "chest radiation before 30"),
    ({"lifetime_risk_percent": 20.0}, "lifetime risk ≥ 20%"),
    ({"date_of_birth": date(1969, 9, 2)}, "diagnosed at 50 or younger"),
])
def test_each_high_risk_flag_adds_yearly_mri_offset_six_months(change, reason):
    assert s.high_risk_reasons(OLDER) == []
    assert not dates(s.plan_items(OLDER), s.MRI)
    risky = s.PlanInputs(**{**OLDER.__dict__, **change})
    assert s.high_risk_reasons(risky) == [reason]
    mri = dates(s.plan_items(risky), s.MRI)
    first_mammo = dates(s.plan_items(risky), s.MAMMOGRAM)[0]
    assert mri[0] == s.add_months(first_mammo, 6)
    assert all(s.add_months(a, 12) == b for a, b in zip(mri, mri[1:], strict=False))
    assert mri[-1] <= s.ends_on(risky)


def test_lifetime_risk_just_under_the_threshold_is_not_high_risk():
    assert s.high_risk_reasons(s.PlanInputs(**{**OLDER.__dict__, "lifetime_risk_percent": 19.9})) == []


def test_case_report_patient_diagnosed_at_48_gets_mri():
    assert s.high_risk_reasons(CASE) == ["diagnosed at 50 or younger"]
    assert dates(s.plan_items(CASE), s.MRI)[:2] == [date(2017, 11, 18), date(2018, 11, 18)]


def test_cadences_come_from_the_protocol_rules():
    rules = s.ProtocolRules(mammo_interval_months=24, duration_years=5, exam_late_interval_months=6)
    items = s.plan_items(OLDER, rules)
    assert len(dates(items, s.MAMMOGRAM)) == 3  # months 6, 30, 54 of 60
    assert max(i.due_date for i in items) <= date(2025, 3, 1)


def test_item_states_around_the_due_date():
    item = s.make_item(s.MAMMOGRAM, "bilateral", date(2024, 6, 1), 12)
    assert item.due_from == date(2024, 5, 2) and item.overdue_after == date(2024, 7, 31)

    def state(on):
        return s.item_state("pending", item.due_from, item.overdue_after, on)
    assert state(date(2024, 5, 1)) == s.UPCOMING
    assert state(date(2024, 5, 2)) == s.DUE
    assert state(date(2024, 7, 31)) == s.DUE
    assert state(date(2024, 8, 1)) == s.OVERDUE
    assert s.item_state("done", item.due_from, item.overdue_after, date(2030, 1, 1)) == s.DONE
    assert s.item_state("cancelled", item.due_from, item.overdue_after, date(2030, 1, 1)) == s.CANCELLED
    assert item.lost_after_date == date(2025, 7, 31)


@pytest.mark.parametrize("kind", [s.CLINICAL_EXAM, s.MAMMOGRAM, s.MRI, s.DIAGNOSTIC_MAMMOGRAM])
def test_windows_of_a_series_meet_half_way_without_gap_or_overlap(kind):
    items = [i for i in s.plan_items(CASE) if i.kind == kind]
    for a, b in zip(items, items[1:], strict=False):
        assert (b.window_start - a.window_end).days == 1
        assert a.window_start <= a.due_date <= a.window_end
    first, last = items[0], items[-1]
    half = round(first.interval_months * s.DAYS_PER_MONTH / 2)
    assert (first.due_date - first.window_start).days == half
    assert (last.window_end - last.due_date).days == round(last.interval_months * s.DAYS_PER_MONTH / 2)


def test_a_study_fulfils_the_nearest_item_whose_window_contains_it():
    items = [s.Candidate(1, s.MAMMOGRAM, "bilateral", date(2020, 1, 1), date(2019, 7, 1), date(2020, 7, 1)),
             s.Candidate(2, s.MAMMOGRAM, "bilateral", date(2021, 1, 1), date(2020, 7, 2), date(2021, 7, 1)),
             s.Candidate(3, s.DIAGNOSTIC_MAMMOGRAM, "left", date(2020, 2, 1), date(2019, 11, 1),
                         date(2020, 5, 1))]
    chosen = s.choose_items(items, date(2020, 2, 10), [s.MAMMOGRAM, s.DIAGNOSTIC_MAMMOGRAM], "bilateral")
    assert [c.id for c in chosen] == [1, 3]
    assert [c.id for c in s.choose_items(items, date(2020, 2, 10), [s.DIAGNOSTIC_MAMMOGRAM], "right")] == []
    assert s.choose_items(items, date(2022, 1, 1), [s.MAMMOGRAM], "bilateral") == []


def test_regeneration_pairs_series_in_date_order_and_reports_surplus_and_new():
    wanted = [s.make_item(s.CLINICAL_EXAM, "", date(2025, m, 1), 6) for m in (3, 9)] + [
        s.make_item(s.MRI, "bilateral", date(2025, 6, 1), 12)]
    existing = [(10, s.CLINICAL_EXAM, "", date(2025, 4, 1)), (11, s.CLINICAL_EXAM, "", date(2025, 8, 1)),
                (12, s.MAMMOGRAM, "bilateral", date(2025, 5, 1))]
    pairs, surplus, new = s.pair_for_regeneration(existing, wanted)
    assert [(i, p.due_date) for i, p in pairs] == [(10, date(2025, 3, 1)), (11, date(2025, 9, 1))]
    assert surplus == [12]
    assert [p.kind for p in new] == [s.MRI]


def test_covers():
    assert s.covers("left", "bilateral") and s.covers("left", "left") and not s.covers("left", "right")
    assert not s.covers("bilateral", "left") and s.covers("", "right")


def test_regeneration_skips_items_already_done_in_their_series():
    wanted = [s.make_item(s.MAMMOGRAM, "bilateral", date(2017, 6, 20), 12),
              s.make_item(s.MAMMOGRAM, "bilateral", date(2018, 6, 20), 12),
              s.make_item(s.MAMMOGRAM, "bilateral", date(2016, 6, 20), 12)]
    kept = [(s.MAMMOGRAM, "bilateral", date(2017, 5, 18))]  # done a month before the new date
    # Past items are placed too: a regenerated plan is a fresh patient's plan.
    assert [p.due_date for p in s.still_to_plan(wanted, kept)] == [date(2018, 6, 20), date(2016, 6, 20)]
    assert len(s.still_to_plan(wanted, [(s.MRI, "bilateral", date(2017, 5, 18))])) == 3
