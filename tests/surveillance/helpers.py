"""Builders for surveillance tests: the case-report patient, anchored in the past."""

from datetime import date, timedelta

from imaging.models import ImagingStudy
from patients import vocabulary as pv
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import (
    ClinicVisitFactory,
    PatientFactory,
    RadiotherapyFactory,
    SurgeryFactory,
    TumourProfileFactory,
)

# Surgery ten years and two months before "today" (22 Nov 2026 on the build machine): the
# database refuses studies dated in the future, so walks start here and travel forward.
SURGERY = date(2016, 9, 15)


def case_report_patient(site, *, surgery=SURGERY, residual=True, date_of_birth=date(1967, 11, 2),
                        **patient_fields):
    """48 at diagnosis (by default), left BCS with residual calcifications left in place,
    radiotherapy ending two months after surgery. With the default surgery date: diagnosis
    10 Jan 2016 (mammogram 8 Jan), RT end 18 Nov 2016."""
    patient = PatientFactory(site=site, date_of_birth=date_of_birth, **patient_fields)
    diagnosis = surgery - timedelta(days=249)
    TumourProfileFactory(patient=patient, laterality="left", diagnosis_date=diagnosis,
                         diagnosis_mammogram_date=diagnosis - timedelta(days=2),
                         diagnosis_calcifications=True)
    SurgeryFactory(patient=patient, date=surgery, laterality="left", procedure=pv.SurgeryProcedure.BCS,
                   residual_calcifications_in_place=residual)
    RadiotherapyFactory(patient=patient, start_date=surgery + timedelta(days=25),
                        end_date=surgery + timedelta(days=64))
    return patient


def mammogram(patient, on, laterality="bilateral", composition="b") -> ImagingStudy:
    return ImagingStudyFactory(patient=patient, study_date=on, modality="MG", laterality=laterality,
                               breast_composition=composition, final=True)


def mri(patient, on) -> ImagingStudy:
    return ImagingStudyFactory(patient=patient, study_date=on, modality="MR", birads="1", no_enhancement=True,
                               final=True)


def exam(patient, on):
    return ClinicVisitFactory(patient=patient, date=on, kind=pv.VisitKind.CLINICAL_EXAM)
