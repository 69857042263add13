from datetime import date

import factory
from django.contrib.auth import get_user_model

from patients import vocabulary as v
from patients.models import (
    ClinicVisit,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Site,
    Surgery,
    TumourProfile,
)

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@clinic.example")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"site{n}")
    name = factory.Sequence(lambda n: f"Clinic {n}")


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    site = factory.SubFactory(SiteFactory)
    mrn = factory.Sequence(lambda n: f"MRN{n:06d}")
    given_name = factory.Faker("first_name_female")
    family_name = factory.Faker("last_name")
    date_of_birth = date(1966, 5, 14)


class TumourProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TumourProfile

    patient = factory.SubFactory(PatientFactory)
    laterality = v.Laterality.LEFT
    diagnosis_date = date(2014, 3, 3)
    histology = v.Histology.IDC
    grade = 3
    er_percent = 50
    pr_percent = 0
    her2_ihc = v.Her2Ihc.THREE


class NacCourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NacCourse

    patient = factory.SubFactory(PatientFactory)
    regimen = "AC"
    agents = "doxorubicin, cyclophosphamide"
    cycles = 4
    start_date = date(2014, 4, 1)
    end_date = date(2014, 6, 3)


class SurgeryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Surgery

    patient = factory.SubFactory(PatientFactory)
    date = date(2014, 10, 6)
    laterality = v.Laterality.LEFT
    procedure = v.SurgeryProcedure.BCS
    axilla = v.Axilla.ALND
    margins = v.Margins.NEGATIVE


class PathologyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pathology

    surgery = factory.SubFactory(SurgeryFactory)
    ypt = v.YpT.T0
    ypn = v.YpN.N0


class RadiotherapyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Radiotherapy

    patient = factory.SubFactory(PatientFactory)
    start_date = date(2014, 11, 10)
    end_date = date(2014, 12, 19)


class ClinicVisitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicVisit

    patient = factory.SubFactory(PatientFactory)
    date = date(2015, 3, 1)


def example_signers() -> None:
    """The radiologists who attest the final studies of docs/examples/registry-example.csv
    (`signed_by`): `radiologist` of the North site, `radiologist2` of the South site, as in
    the demo data. Call it once the sites exist."""
    from django.contrib.auth.models import Group

    from core.roles import RADIOLOGIST
    from patients.models import Site

    group = Group.objects.get_or_create(name=RADIOLOGIST)[0]
    for username, code in (("radiologist", "north"), ("radiologist2", "south")):
        site = Site.objects.filter(code=code).first()
        user = get_user_model().objects.filter(username=username).first() or UserFactory(username=username)
        user.groups.add(group)
        if site is not None:
            site.members.add(user)
