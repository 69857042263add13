from datetime import date

import factory
from django.utils import timezone

from imaging import vocabulary as v
from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from tests.patients.factories import PatientFactory, UserFactory


class ImagingStudyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImagingStudy

    patient = factory.SubFactory(PatientFactory)
    study_date = date(2016, 1, 15)
    modality = v.Modality.MG
    phase = v.Phase.SURVEILLANCE
    laterality = "bilateral"
    birads = v.BiRads.B2

    class Params:
        final = factory.Trait(
            status=v.StudyStatus.FINAL,
            signed_by=factory.SubFactory(UserFactory),
            signed_at=factory.LazyFunction(timezone.now),
        )


class CalcificationFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CalcificationFinding

    study = factory.SubFactory(ImagingStudyFactory)
    group = factory.Sequence(lambda n: f"L{n + 1}")
    laterality = "left"
    morphology = v.Morphology.FINE_PLEOMORPHIC
    distribution = v.Distribution.SEGMENTAL
    extent_mm = 30
    count_bin = v.CountBin.C_GT_20
    inside_tumor_bed = True


class EnhancementFindingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EnhancementFinding

    study = factory.SubFactory(ImagingStudyFactory, modality=v.Modality.MR, birads="")
    lesion = factory.Sequence(lambda n: f"E{n + 1}")
    laterality = "left"
    lesion_type = v.LesionType.NME
    size_mm = 20
    kinetics_delayed = v.KineticsDelayed.PERSISTENT
