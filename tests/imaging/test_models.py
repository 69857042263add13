"""Database constraints refuse what must never be stored, whatever code path writes it."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from imaging.models import ImagingStudy
from tests.imaging.factories import (
    CalcificationFindingFactory,
    EnhancementFindingFactory,
    ImagingStudyFactory,
)
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


def refused(factory, **kwargs):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**kwargs)


def test_negative_sizes_are_refused():
    refused(CalcificationFindingFactory, extent_mm=-1)
    refused(EnhancementFindingFactory, size_mm=-0.5)
    refused(CalcificationFindingFactory, nipple_distance_mm=-3)


@pytest.mark.parametrize("clock", [0, 13])
def test_clock_outside_1_to_12_is_refused(clock):
    refused(CalcificationFindingFactory, clock=clock)
    refused(EnhancementFindingFactory, clock=clock)


def test_clock_in_range_is_stored():
    assert CalcificationFindingFactory(clock=12).clock == 12


def test_final_study_without_signer_is_refused():
    refused(ImagingStudyFactory, status="final", signed_by=None, signed_at=timezone.now())


def test_study_dated_before_birth_is_refused_by_the_database():
    patient = PatientFactory(date_of_birth=date(1970, 1, 1))
    refused(ImagingStudyFactory, patient=patient, study_date=date(1969, 12, 31))
    study = ImagingStudyFactory(patient=patient, study_date=date(1970, 1, 1))
    study.study_date = date(1960, 1, 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        study.save()


def test_study_dated_in_the_future_is_refused_by_the_database():
    refused(ImagingStudyFactory, study_date=date.today() + timedelta(days=5))


def test_model_validation_explains_the_same_rules():
    patient = PatientFactory(date_of_birth=date(1970, 1, 1))
    cases = {
        "before the patient's date of birth": dict(study_date=date(1969, 1, 1)),
        "cannot be in the future": dict(study_date=date.today() + timedelta(days=30)),
        "must be signed by a radiologist": dict(status="final"),
    }
    for message, kwargs in cases.items():
        study = ImagingStudyFactory.build(patient=patient, **kwargs)
        with pytest.raises(ValidationError) as err:
            study.full_clean()
        assert message in str(err.value), message
    finding = CalcificationFindingFactory.build(study=ImagingStudyFactory(), clock=14)
    with pytest.raises(ValidationError) as err:
        finding.full_clean()
    assert "between 1 and 12" in str(err.value)


def test_same_group_twice_in_one_breast_of_one_study_is_refused():
    study = ImagingStudyFactory()
    CalcificationFindingFactory(study=study, group="L1", laterality="left")
    CalcificationFindingFactory(study=study, group="L1", laterality="right")
    refused(CalcificationFindingFactory, study=study, group="L1", laterality="left")


def test_new_study_stores_the_lexicon_version():
    assert ImagingStudy.objects.get(pk=ImagingStudyFactory().pk).lexicon_version.startswith(
        "BI-RADS 5th"
    )
