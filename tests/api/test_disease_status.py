"""The cancer disease status of each post-surgical exam (api.fhir.disease_status): pure,
no database. Table-driven on both sides of the stability tolerance; property: every
signed post-surgical exam gets exactly one status, and an alerted exam is worsened."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from api.fhir.disease_status import (
    IMPROVED,
    NOT_DETECTED,
    STABLE,
    UNDETERMINED,
    WORSENED,
    exam_statuses,
)
from imaging.trend import STABLE_TOLERANCE_MM
from tests.alerts.histories import calc, case_report, case_report_studies, history, lesion, mg, mr


def status_of(studies, study_id, alerted=()):
    return exam_statuses(history(studies), set(alerted))[study_id].status


def test_case_report_patient_never_worsens():
    statuses = exam_statuses(case_report(), set())
    # Pre-surgical exams (ids 1–4) get none; the post-treatment baseline cannot be compared.
    assert not {1, 2, 3, 4} & set(statuses)
    assert statuses[10].status == UNDETERMINED
    assert statuses[11].status == IMPROVED  # 30 → 22 mm
    assert statuses[2017].status == IMPROVED  # 22 → 18 mm
    assert {statuses[y].status for y in range(2018, 2025)} == {STABLE}
    assert {statuses[100 + y].status for y in range(2015, 2025)} == {NOT_DETECTED}  # clean MRIs


def test_alerted_exam_is_worsened():
    assert status_of(case_report_studies(), 2020, alerted={2020}) == WORSENED


@pytest.mark.parametrize(("drop_mm", "expected"), [
    (0.0, STABLE),
    (STABLE_TOLERANCE_MM, STABLE),          # a drop within the measurement tolerance
    (STABLE_TOLERANCE_MM + 0.1, IMPROVED),  # just beyond it
    (-3.0, STABLE),                         # growth that raised no alert
])
def test_extent_change_against_the_tolerance(drop_mm, expected):
    studies = [mg(10, date(2015, 6, 15), calc(extent=20)),
               mg(11, date(2016, 6, 15), calc(extent=20 - drop_mm))]
    assert status_of(studies, 11) == expected


@pytest.mark.parametrize(("current", "expected"), [
    ((calc(extent=20), calc("L2", extent=5)), STABLE),      # a new group whose alert was dismissed
    ((calc(extent=20),), STABLE),
    ((calc(extent=20, count_bin="11-20"),), IMPROVED),      # fewer calcifications
    ((calc(extent=15, morph="fine_linear_branching"),), STABLE),  # smaller but worse morphology
])
def test_groups_and_ranks(current, expected):
    studies = [mg(10, date(2015, 6, 15), calc(extent=20)), mg(11, date(2016, 6, 15), *current)]
    assert status_of(studies, 11) == expected


def test_a_group_no_longer_seen_is_improved():
    studies = [mg(10, date(2015, 6, 15), calc(extent=20), calc("L2", extent=4)),
               mg(11, date(2016, 6, 15), calc(extent=20))]
    assert status_of(studies, 11) == IMPROVED
    gone = [mg(10, date(2015, 6, 15), calc(extent=20)), mg(11, date(2016, 6, 15), birads="2")]
    assert status_of(gone, 11) == NOT_DETECTED


@pytest.mark.parametrize(("birads", "expected"), [
    ("1", NOT_DETECTED), ("2", NOT_DETECTED), ("", NOT_DETECTED),
    ("3", UNDETERMINED), ("0", UNDETERMINED), ("4A", UNDETERMINED),
])
def test_no_calcifications_depends_on_the_assessment(birads, expected):
    assert status_of([mg(10, date(2015, 6, 15), birads=birads)], 10) == expected


def test_calcifications_before_radiotherapy_ended_cannot_be_compared():
    # Surgery 2014-10-06, RT end 2014-12-19: a November exam precedes the baseline.
    studies = [mg(9, date(2014, 11, 20), calc(extent=20)), mg(10, date(2015, 6, 15), calc(extent=20))]
    statuses = exam_statuses(history(studies), set())
    assert statuses[9].status == UNDETERMINED
    assert statuses[10].status == UNDETERMINED  # the baseline: nothing before it in the series


def test_other_breast_without_comparison_makes_it_undetermined():
    studies = [mg(10, date(2015, 6, 15), calc(extent=20), laterality="left"),
               mg(11, date(2016, 6, 15), calc(extent=10), calc("R1", breast="right"))]
    # Left improved, but the right breast's first post-treatment exam has nothing before it.
    assert status_of(studies, 11) == UNDETERMINED


@pytest.mark.parametrize(("prior", "current", "expected"), [
    ((lesion(size=20),), (lesion(size=20),), STABLE),
    ((lesion(size=20),), (lesion(size=20 - STABLE_TOLERANCE_MM),), STABLE),
    ((lesion(size=20),), (lesion(size=17.9),), IMPROVED),
    ((lesion(size=20), lesion("L2")), (lesion(size=20),), IMPROVED),  # one lesion gone
    ((lesion(size=20),), (lesion(size=20), lesion("L2")), STABLE),    # new, alert dismissed
    ((), (lesion(size=20),), STABLE),  # new enhancement whose alert was dismissed
    ((lesion(size=20),), (), NOT_DETECTED),
])
def test_mri_lesions(prior, current, expected):
    studies = [mr(20, date(2015, 12, 1), *prior), mr(21, date(2016, 12, 1), *current)]
    assert status_of(studies, 21) == expected


def test_first_post_surgical_mri_with_enhancement_is_undetermined():
    assert status_of([mr(20, date(2015, 12, 1), lesion())], 20) == UNDETERMINED


def test_ultrasound_and_drafts():
    from dataclasses import replace
    us = replace(mg(30, date(2016, 1, 1)), modality="US")
    draft = replace(mg(31, date(2016, 2, 1)), status="draft")
    statuses = exam_statuses(history([us, draft]), set())
    assert statuses[30].status == UNDETERMINED
    assert 31 not in statuses


extents = st.lists(st.floats(min_value=0, max_value=80, allow_nan=False), min_size=1, max_size=8)


@given(extents, st.sets(st.integers(min_value=0, max_value=7)))
def test_one_status_per_exam_and_alerts_win(values, alerted):
    studies = [mg(i, date(2015 + i, 6, 1), *( [calc(extent=round(x, 1))] if x else []))
               for i, x in enumerate(values)]
    statuses = exam_statuses(history(studies), alerted)
    assert set(statuses) == {s.id for s in studies}
    for study_id, judged in statuses.items():
        assert (judged.status == WORSENED) == (study_id in alerted)
        assert judged.reason
