"""patients.rules: every date rule on both sides of its edge (same day, a day before and
after, the day of tolerance), the pathology rules, and properties of a whole course."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from patients import rules
from patients.rules import PatientDates, Span

TODAY = date(2026, 6, 15)
DAY = timedelta(days=1)
BIRTH = date(1966, 5, 14)
DIAGNOSIS = date(2014, 3, 3)
NAC = Span(date(2014, 4, 1), date(2014, 9, 1))
SURGERY = date(2014, 10, 6)
RT = Span(date(2014, 11, 10), date(2014, 12, 19))
COURSE = PatientDates(birth=BIRTH, diagnosis=DIAGNOSIS, nac=(NAC,), surgeries=(SURGERY,),
                      radiotherapy=(RT,))


def fields(errors: dict) -> set[str]:
    return set(errors)


# (what, day, expected error fields)
BIRTH_CASES = [
    ("a day before the diagnosis", DIAGNOSIS - DAY, set()),
    ("on the diagnosis", DIAGNOSIS, {"date_of_birth"}),
    ("a day after the diagnosis", DIAGNOSIS + DAY, {"date_of_birth"}),
    ("today", TODAY, {"date_of_birth"}),
    ("tomorrow", TODAY + DAY, {"date_of_birth"}),
    ("in 1899", date(1899, 12, 31), {"date_of_birth"}),
    ("on 1 Jan 1900", date(1900, 1, 1), set()),
]


@pytest.mark.parametrize(("what", "birth", "expected"), BIRTH_CASES, ids=[c[0] for c in BIRTH_CASES])
def test_date_of_birth(what, birth, expected):
    assert fields(rules.patient_errors(birth, COURSE, today=TODAY)) == expected


def test_date_of_birth_after_a_visit_without_a_diagnosis():
    visit = date(2010, 1, 1)
    dates = PatientDates(others=(visit,))
    assert rules.patient_errors(visit, dates, today=TODAY) == {}
    assert fields(rules.patient_errors(visit + DAY, dates, today=TODAY)) == {"date_of_birth"}
    assert rules.patient_errors(date(2027, 1, 1), PatientDates(), today=TODAY) == {
        "date_of_birth": ["Date of birth cannot be in the future."]}


def without_tumour(dates: PatientDates) -> PatientDates:
    return PatientDates(birth=dates.birth, nac=dates.nac, surgeries=dates.surgeries,
                        radiotherapy=dates.radiotherapy)


DIAGNOSIS_CASES = [
    ("on the birth", BIRTH, {"diagnosis_date"}),
    ("a day after birth", BIRTH + DAY, set()),
    ("on the NAC start", NAC.start, set()),
    ("a day after the NAC start", NAC.start + DAY, {"diagnosis_date"}),
    ("in 1800", date(1800, 1, 1), {"diagnosis_date"}),
    ("in 2100", date(2100, 1, 1), {"diagnosis_date"}),
]


@pytest.mark.parametrize(("what", "day", "expected"), DIAGNOSIS_CASES,
                         ids=[c[0] for c in DIAGNOSIS_CASES])
def test_diagnosis(what, day, expected):
    errors = rules.tumour_errors(day, None, without_tumour(COURSE), today=TODAY)
    assert fields(errors) == expected


def test_diagnosis_without_nac_is_checked_against_the_surgery():
    dates = PatientDates(birth=BIRTH, surgeries=(SURGERY,))
    assert rules.tumour_errors(SURGERY, None, dates, today=TODAY) == {}
    assert rules.tumour_errors(SURGERY + DAY, None, dates, today=TODAY) == {
        "diagnosis_date": ["The diagnosis cannot be after the surgery (6 Oct 2014)."]}


@pytest.mark.parametrize(("day", "expected"), [
    (TODAY, set()), (TODAY + DAY, set()), (TODAY + 2 * DAY, {"diagnosis_mammogram_date"}),
    (BIRTH - DAY, {"diagnosis_mammogram_date"}), (BIRTH, set()),
], ids=["today", "tolerance day", "two days ahead", "before birth", "on birth"])
def test_diagnosis_mammogram(day, expected):
    errors = rules.tumour_errors(DIAGNOSIS, day, without_tumour(COURSE), today=TODAY)
    assert fields(errors) == expected


def rest_for_nac() -> PatientDates:
    return PatientDates(birth=BIRTH, diagnosis=DIAGNOSIS, surgeries=(SURGERY,), radiotherapy=(RT,))


NAC_CASES = [
    ("starts a day before the diagnosis", Span(DIAGNOSIS - DAY, NAC.end), {"start_date"}),
    ("starts on the diagnosis", Span(DIAGNOSIS, NAC.end), set()),
    ("ends on the surgery", Span(NAC.start, SURGERY), set()),
    ("ends a day after the surgery", Span(NAC.start, SURGERY + DAY), {"end_date"}),
    ("starts after the surgery", Span(SURGERY + DAY, None), {"start_date"}),
    ("ends before it starts", Span(NAC.start, NAC.start - DAY), {"end_date"}),
    ("ends the day it starts", Span(NAC.start, NAC.start), set()),
    ("still running", Span(NAC.start, None), set()),
]


@pytest.mark.parametrize(("what", "span", "expected"), NAC_CASES, ids=[c[0] for c in NAC_CASES])
def test_nac(what, span, expected):
    assert fields(rules.nac_errors(span, rest_for_nac(), today=TODAY)) == expected


def test_nac_in_the_future_with_a_day_of_tolerance():
    dates = PatientDates(birth=BIRTH, diagnosis=date(2026, 6, 1))
    assert rules.nac_errors(Span(TODAY, TODAY + DAY), dates, today=TODAY) == {}
    assert fields(rules.nac_errors(Span(TODAY, TODAY + 2 * DAY), dates, today=TODAY)) == {"end_date"}


def rest_for_surgery() -> PatientDates:
    return PatientDates(birth=BIRTH, diagnosis=DIAGNOSIS, nac=(NAC,), radiotherapy=(RT,))


SURGERY_CASES = [
    ("before birth", BIRTH - DAY, {"date"}),
    ("a day before the diagnosis", DIAGNOSIS - DAY, {"date"}),
    ("a day before the NAC end", NAC.end - DAY, {"date"}),
    ("on the NAC end", NAC.end, set()),
    ("on the RT start", RT.start, set()),
    ("a day after the RT start", RT.start + DAY, {"date"}),
    ("in 2027", date(2027, 1, 1), {"date"}),
    ("in 2108", date(2108, 1, 1), {"date"}),
    ("tomorrow (tolerance)", TODAY + DAY, {"date"}),  # after the RT start, which is earlier
]


@pytest.mark.parametrize(("what", "day", "expected"), SURGERY_CASES,
                         ids=[c[0] for c in SURGERY_CASES])
def test_surgery(what, day, expected):
    assert fields(rules.surgery_errors(day, rest_for_surgery(), today=TODAY)) == expected


def test_a_second_surgery_may_follow_radiotherapy():
    dates = PatientDates(birth=BIRTH, diagnosis=DIAGNOSIS, nac=(NAC,), surgeries=(SURGERY,),
                         radiotherapy=(RT,))
    assert rules.surgery_errors(date(2016, 2, 1), dates, today=TODAY) == {}


def test_future_tolerance_for_a_surgery_alone():
    dates = PatientDates(birth=BIRTH, diagnosis=date(2026, 1, 1))
    assert rules.surgery_errors(TODAY + DAY, dates, today=TODAY) == {}
    assert rules.surgery_errors(TODAY + 2 * DAY, dates, today=TODAY) == {
        "date": ["The surgery cannot be in the future."]}


def rest_for_rt() -> PatientDates:
    return PatientDates(birth=BIRTH, diagnosis=DIAGNOSIS, nac=(NAC,), surgeries=(SURGERY,))


RT_CASES = [
    ("starts a day before the surgery", Span(SURGERY - DAY, RT.end), {"start_date"}),
    ("starts on the surgery", Span(SURGERY, RT.end), set()),
    ("ends before it starts", Span(RT.start, RT.start - DAY), {"end_date"}),
    ("ends in 2100", Span(RT.start, date(2100, 1, 1)), {"end_date"}),
    ("ends tomorrow (tolerance)", Span(RT.start, TODAY + DAY), set()),
    ("ends in two days", Span(RT.start, TODAY + 2 * DAY), {"end_date"}),
]


@pytest.mark.parametrize(("what", "span", "expected"), RT_CASES, ids=[c[0] for c in RT_CASES])
def test_radiotherapy(what, span, expected):
    assert fields(rules.radiotherapy_errors(span, rest_for_rt(), today=TODAY)) == expected


@pytest.mark.parametrize(("day", "expected"), [
    (BIRTH - DAY, {"date"}), (BIRTH, set()), (TODAY, set()), (TODAY + DAY, set()),
    (TODAY + 2 * DAY, {"date"}), (date(2027, 6, 15), {"date"}),
], ids=["before birth", "on birth", "today", "tolerance day", "two days ahead", "next year"])
def test_visits_and_events(day, expected):
    assert fields(rules.when_errors(day, "date", "The visit", birth=BIRTH, today=TODAY)) == expected


PATHOLOGY_CASES = [
    # ypT, ypN, residual DCIS, RCB class, RCB index, fields in error
    ("ypT0", "ypN0", False, "0", "0", set()),
    ("ypTis", "ypN0", True, "0", None, set()),
    ("ypTis", "ypN0", False, "III", None, {"rcb_class"}),  # the reported "pCR" with RCB-III
    ("ypT0", "ypN0", False, "I", None, {"rcb_class"}),
    ("ypT0", "ypN0(i+)", False, "I", "0.9", set()),  # isolated tumour cells: not ypN0
    ("ypT0", "ypN0(i+)", False, "0", None, {"rcb_class"}),
    ("ypT1", "ypN0", False, "0", None, {"rcb_class"}),
    ("ypT0", "ypN1", False, "0", None, {"rcb_class"}),
    ("ypT0", "", False, "0", None, set()),  # nodes not assessed: nothing contradicts RCB-0
    ("ypT2", "ypN1", False, "II", "2.1", set()),
    ("ypT0", "ypN0", True, "0", None, {"residual_dcis"}),
    ("ypT1", "ypN0", False, "I", "1.36", set()),
    ("ypT1", "ypN0", False, "I", "1.37", {"rcb_index"}),
    ("ypT2", "ypN1", False, "II", "3.28", set()),
    ("ypT2", "ypN1", False, "II", "3.29", {"rcb_index"}),
    ("ypT3", "ypN2", False, "III", "3.29", set()),
    ("ypT1", "ypN0", False, "I", "0", {"rcb_index"}),
    ("ypT1", "ypN0", False, "", "2.0", set()),
]


@pytest.mark.parametrize(("ypt", "ypn", "dcis", "rcb_class", "rcb_index", "expected"), PATHOLOGY_CASES)
def test_pathology(ypt, ypn, dcis, rcb_class, rcb_index, expected):
    errors = rules.pathology_errors(ypt=ypt, ypn=ypn, residual_dcis=dcis, rcb_class=rcb_class,
                                    rcb_index=Decimal(rcb_index) if rcb_index else None)
    assert fields(errors) == expected


def test_the_messages_name_the_other_record():
    errors = rules.surgery_errors(date(2014, 1, 1), rest_for_surgery(), today=TODAY)
    assert errors == {"date": ["The surgery cannot be before the diagnosis (3 Mar 2014)."]}
    errors = rules.pathology_errors(ypt="ypTis", ypn="ypN0", residual_dcis=False, rcb_class="III",
                                    rcb_index=None)
    assert errors == {"rcb_class": ["ypTis ypN0 is a complete response (RCB-0), not RCB-III: "
                                    "check the stage or the RCB class."]}


gaps = st.integers(min_value=0, max_value=400).map(lambda n: timedelta(days=n))


@given(st.dates(min_value=date(1920, 1, 1), max_value=date(1990, 1, 1)),
       st.integers(min_value=1, max_value=20000).map(lambda n: timedelta(days=n)),
       gaps, gaps, gaps, gaps, gaps)
def test_a_course_in_order_breaks_no_rule(birth, to_diagnosis, a, b, c, d, e):
    """Any course in the order of the rules, up to today, passes every check."""
    diagnosis = birth + to_diagnosis
    nac = Span(diagnosis + a, diagnosis + a + b)
    surgery = nac.end + c
    rt = Span(surgery + d, surgery + d + e)
    today = max(rt.end, date(2026, 1, 1))
    whole = PatientDates(birth=birth, diagnosis=diagnosis, nac=(nac,), surgeries=(surgery,),
                         radiotherapy=(rt,))
    assert rules.patient_errors(birth, whole, today=today) == {}
    assert rules.tumour_errors(diagnosis, diagnosis, without_tumour(whole), today=today) == {}
    assert rules.nac_errors(nac, PatientDates(birth=birth, diagnosis=diagnosis, surgeries=(surgery,),
                                              radiotherapy=(rt,)), today=today) == {}
    assert rules.surgery_errors(surgery, PatientDates(birth=birth, diagnosis=diagnosis, nac=(nac,),
                                                      radiotherapy=(rt,)), today=today) == {}
    assert rules.radiotherapy_errors(rt, PatientDates(birth=birth, diagnosis=diagnosis, nac=(nac,),
                                                      surgeries=(surgery,)), today=today) == {}


@given(st.decimals(min_value=0, max_value=10, places=2))
def test_an_rcb_index_agrees_with_its_own_class(index):
    """The class `rcb_class_for` gives is never refused, with a stage that fits it."""
    rcb_class = rules.rcb_class_for(index)
    ypt, ypn = ("ypT0", "ypN0") if rcb_class == "0" else ("ypT2", "ypN1")
    assert rules.pathology_errors(ypt=ypt, ypn=ypn, residual_dcis=False, rcb_class=rcb_class,
                                  rcb_index=index) == {}
