"""Builders for surveillance tests: the case-report patient, anchored in the past."""

from contextlib import contextmanager
from datetime import date, timedelta

import time_machine
from django.db import transaction

from imaging.models import ImagingStudy
from outbox.models import Event
from outbox.services import event_write
from patients import vocabulary as pv
from patients.models import Surgery
from patients.services import record_save, surgery_save
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import (
    ClinicVisitFactory,
    PatientFactory,
    RadiotherapyFactory,
    SurgeryFactory,
    TumourProfileFactory,
)


def recorded(record):
    """Save a patient record (or a change to one) the way the clinic pages and the API do,
    with its outbox events (`patients.services`)."""
    if isinstance(record, Surgery):
        return surgery_save(surgery=record)
    return record_save(record)


def finalized(study: ImagingStudy, kind: str = Event.Kind.STUDY_FINALIZED) -> ImagingStudy:
    """The outbox event `imaging.services.study_finalize` writes, for a study a factory made final."""
    with transaction.atomic():
        event_write(kind=kind, patient_id=study.patient_id, object_id=study.id)
    return study


def amended(study: ImagingStudy) -> ImagingStudy:
    """The outbox event `imaging.services.study_amend` writes, for a study changed in a test."""
    return finalized(study, kind=Event.Kind.STUDY_AMENDED)


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
    recorded(TumourProfileFactory.build(patient=patient, laterality="left", diagnosis_date=diagnosis,
                                        diagnosis_mammogram_date=diagnosis - timedelta(days=2),
                                        diagnosis_calcifications=True))
    recorded(SurgeryFactory.build(patient=patient, date=surgery, laterality="left",
                                  procedure=pv.SurgeryProcedure.BCS,
                                  residual_calcifications_in_place=residual))
    radiotherapy = RadiotherapyFactory.build(patient=patient, start_date=surgery + timedelta(days=25),
                                             end_date=surgery + timedelta(days=64))
    # The tracker refuses treatment dates in the future (patients.rules): when the walk is
    # still before the radiotherapy ended, record it as the clinic would, the day after.
    with _not_before(radiotherapy.end_date + timedelta(days=1)):
        recorded(radiotherapy)
    return patient


@contextmanager
def _not_before(day: date):
    if date.today() >= day:
        yield
        return
    with time_machine.travel(day, tick=False):
        yield


def mammogram(patient, on, laterality="bilateral", composition="b") -> ImagingStudy:
    return finalized(ImagingStudyFactory(patient=patient, study_date=on, modality="MG",
                                         laterality=laterality, breast_composition=composition,
                                         final=True))


def mri(patient, on) -> ImagingStudy:
    return finalized(ImagingStudyFactory(patient=patient, study_date=on, modality="MR", birads="1",
                                         no_enhancement=True, final=True))


def exam(patient, on):
    return recorded(ClinicVisitFactory.build(patient=patient, date=on, kind=pv.VisitKind.CLINICAL_EXAM))
