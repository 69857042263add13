from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from patients.models import NacCourse, Patient, TumourProfile
from tests.patients.factories import (
    NacCourseFactory,
    PathologyFactory,
    PatientFactory,
    SiteFactory,
    TumourProfileFactory,
)

pytestmark = pytest.mark.django_db


def test_subtype_is_derived_on_save_and_cannot_be_typed_in():
    tumour = TumourProfileFactory(er_percent=50, pr_percent=0, her2_ihc="3+")
    assert TumourProfile.objects.get(pk=tumour.pk).subtype == "HR+/HER2+"
    tumour.subtype = "triple_negative"
    tumour.her2_ihc, tumour.er_percent = "0", 0
    tumour.save()
    assert TumourProfile.objects.get(pk=tumour.pk).subtype == "triple_negative"
    tumour.her2_ihc = "2+"
    tumour.save()
    assert TumourProfile.objects.get(pk=tumour.pk).subtype == "unknown"
    assert "subtype" not in [f.name for f in TumourProfile._meta.get_fields() if f.editable]


def test_pcr_follows_ypt_ypn_and_definition():
    path = PathologyFactory(ypt="ypTis", ypn="ypN0", pcr_definition="ypT0is_ypN0")
    assert path.pcr is True
    path.pcr_definition = "ypT0_ypN0"
    path.save()
    path.refresh_from_db()
    assert path.pcr is False


def test_mrn_is_unique_per_site_only():
    a, b = SiteFactory(), SiteFactory()
    PatientFactory(site=a, mrn="123")
    PatientFactory(site=b, mrn="123")  # another site may reuse it
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(site=a, mrn="123")


def test_nac_end_before_start_is_refused_by_the_database_and_by_validation():
    course = NacCourseFactory.build(start_date=date(2020, 5, 1), end_date=date(2020, 4, 1),
                                    patient=PatientFactory())
    with pytest.raises(ValidationError) as err:
        course.full_clean()
    assert "end date cannot be before its start" in str(err.value.message_dict["end_date"])
    with pytest.raises(IntegrityError), transaction.atomic():
        course.save()
    assert not NacCourse.objects.exists()


def test_future_date_of_birth_is_a_validation_error():
    patient = PatientFactory.build(site=SiteFactory(), date_of_birth=date.today() + timedelta(days=3))
    with pytest.raises(ValidationError) as err:
        patient.full_clean()
    assert "future" in str(err.value.message_dict["date_of_birth"])


def test_percentages_above_100_are_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        TumourProfileFactory(er_percent=120)


def test_patients_get_distinct_public_uuids():
    a, b = PatientFactory(), PatientFactory()
    assert a.uuid != b.uuid
    assert Patient.objects.get(uuid=a.uuid) == a
