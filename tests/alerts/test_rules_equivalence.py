"""The fast rule engine (alerts/rules.py) decides exactly what the plainly written rules
(tests/alerts/reference_rules.py) decide: same rules, studies, breasts, severities,
reasons and details, in the same order, on random histories and on a seeded cohort."""

import random
from datetime import date, timedelta

import pytest

from alerts import rules
from demo.seeding.cohort import seed_cohort
from imaging.history import CalcGroup, Lesion, PatientHistory, StudySnapshot, load_histories
from imaging.vocabulary import COUNT_BIN_RANK, DISTRIBUTION_RANK, MORPHOLOGY_RANK, ObservedChange
from patients.models import Patient
from tests.alerts import reference_rules

THRESHOLDS = [rules.Thresholds(), rules.Thresholds(0, 0, 0, 0), rules.Thresholds(2.5, 10, 3, 50)]


def decided(evaluate, history, thresholds) -> list[tuple]:
    # `details` is left out of Decision's equality: compare it explicitly.
    return [(d.rule, d.severity, d.breast, d.study_id, d.reason, d.details)
            for d in evaluate(history, thresholds)]


def random_history(rng: random.Random, patient_id: int) -> PatientHistory:
    """Few group and lesion labels, coarse extents and shared dates, so that new groups,
    ties of the nadir, rank rises and every phase/laterality combination all occur."""
    surgery = date(2015, 1, 1) + timedelta(days=rng.randrange(0, 400)) if rng.random() < 0.9 else None
    rt_end = surgery + timedelta(days=rng.randrange(-30, 200)) if surgery and rng.random() < 0.6 else None
    start = date(2014, 1, 1)
    studies = []
    for i in range(rng.randrange(0, 30)):
        modality = rng.choice(["MG", "MG", "MG", "MR", "MR", "US"])
        calcs, lesions = (), ()
        if modality == "MG":
            calcs = tuple(CalcGroup(
                group=rng.choice(["L1", "L2", "R1", "R2"]), breast=rng.choice(["left", "right"]),
                morphology=rng.choice(list(MORPHOLOGY_RANK)),
                distribution=rng.choice(list(DISTRIBUTION_RANK)),
                extent_mm=rng.choice([0.0, 3.0, 4.5, 5.05, 10.0, 12.35, 18.0, 25.5]),
                count_bin=rng.choice(list(COUNT_BIN_RANK)), inside_tumor_bed=rng.random() < 0.7,
                observed_change=rng.choice(["", "stable", *ObservedChange.values]))
                for _ in range(rng.choice([0, 0, 1, 1, 2, 3])))
        elif modality == "MR":
            lesions = tuple(Lesion(
                lesion=rng.choice(["A", "B", "C"]), breast=rng.choice(["left", "right"]),
                lesion_type=rng.choice(["focus", "mass", "nme"]),
                size_mm=rng.choice([None, 4.0, 8.0, 9.5, 14.0, 30.0]),
                kinetics_delayed=rng.choice(["", "persistent", "plateau", "washout"]))
                for _ in range(rng.choice([0, 0, 0, 1, 2])))
        studies.append(StudySnapshot(
            id=patient_id * 100 + i, study_date=start + timedelta(days=rng.randrange(0, 3000, 30)),
            modality=modality,
            phase=rng.choice(["baseline", "mid_nac", "post_nac", "surveillance", "surveillance"]),
            laterality=rng.choice(["bilateral", "bilateral", "left", "right"]),
            birads=rng.choice(["", "1", "2", "3", "4", "4A", "4B", "4C", "5", "6"]),
            status=rng.choice(["final", "final", "final", "draft"]),
            no_enhancement=modality == "MR" and not lesions, calcifications=calcs, enhancements=lesions))
    studies.sort(key=lambda s: (s.study_date, s.id))
    return PatientHistory(patient_id=patient_id, studies=tuple(studies),
                          surgery_date=surgery, rt_end_date=rt_end)


@pytest.mark.parametrize("seed", range(4))
def test_random_histories_decide_as_the_reference(seed):
    rng = random.Random(seed)
    fired = 0
    for patient_id in range(500):
        history = random_history(rng, patient_id)
        for thresholds in THRESHOLDS:
            expected = decided(reference_rules.evaluate, history, thresholds)
            assert decided(rules.evaluate, history, thresholds) == expected, history
            fired += len(expected)
    assert fired > 1000  # the histories do raise alerts of every kind


def test_random_histories_raise_every_rule():
    rng = random.Random(99)
    seen = {d.rule for i in range(500) for d in rules.evaluate(random_history(rng, i), THRESHOLDS[0])}
    assert seen == {"calc_new_group", "calc_extent_increase", "calc_count_increase",
                    "calc_morphology_worse", "calc_distribution_worse", "calc_reported_increase",
                    "birads_suspicious", "mri_new_enhancement", "mri_enhancement_growth", "mri_washout"}


def test_public_per_rule_functions_decide_as_the_reference():
    rng = random.Random(7)
    for patient_id in range(200):
        h = random_history(rng, patient_id)
        t = THRESHOLDS[patient_id % 3]
        for breast in rules.BREASTS:
            assert rules.calcification_decisions(h, breast, t) == \
                reference_rules.calcification_decisions(h, breast, t)
            assert rules.mri_decisions(h, breast, t) == reference_rules.mri_decisions(h, breast, t)
        assert rules.birads_decisions(h) == reference_rules.birads_decisions(h)


@pytest.mark.django_db
def test_seeded_cohort_decides_as_the_reference():
    seed_cohort(n=80, seed=5, today=date(2026, 11, 1))
    histories = load_histories(Patient.objects.values_list("id", flat=True))
    fired = 0
    for history in histories.values():
        expected = decided(reference_rules.evaluate, history, THRESHOLDS[0])
        assert decided(rules.evaluate, history, THRESHOLDS[0]) == expected
        fired += len(expected)
    assert fired > 5
