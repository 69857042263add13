"""Keep plans and matches current whoever saves the clinical data (forms, API, admin).

The receivers only schedule work for after the commit (`robust`: a failure is logged and
never breaks the clinician's save); the daily sweep catches up anything missed. Why
signals here: the patient and imaging apps, and the UI/API built on them, must not need
to know about the surveillance plan to keep it right.
"""

import logging

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient, Radiotherapy, Surgery, TumourProfile

from .models import Protocol

log = logging.getLogger(__name__)


def _after_commit(func, *args) -> None:
    transaction.on_commit(lambda: func(*args), robust=True)


def _regenerate(patient_id: int) -> None:
    from .services.plans import plan_regenerate

    plan_regenerate(patient_id)


@receiver(post_save, sender=Surgery)
@receiver(post_delete, sender=Surgery)
@receiver(post_save, sender=Radiotherapy)
@receiver(post_delete, sender=Radiotherapy)
@receiver(post_save, sender=TumourProfile)
def anchors_changed(sender, instance, **kwargs) -> None:
    _after_commit(_regenerate, instance.patient_id)


@receiver(post_save, sender=Patient)
def patient_changed(sender, instance: Patient, created: bool, raw: bool = False, **kwargs) -> None:
    # Risk flags and follow-up status live on the patient; a new patient has no surgery yet.
    if not created and not raw:
        _after_commit(_regenerate, instance.id)


@receiver(post_save, sender=ImagingStudy)
def study_saved(sender, instance: ImagingStudy, raw: bool = False, **kwargs) -> None:
    if raw or instance.modality not in ("MG", "MR"):
        return
    from .services.matching import study_sync

    _after_commit(study_sync, instance.id)


@receiver(post_save, sender=ClinicVisit)
def visit_saved(sender, instance: ClinicVisit, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    from .services.matching import visit_sync

    _after_commit(visit_sync, instance.id)


@receiver(pre_delete, sender=ImagingStudy)
def study_deleted(sender, instance: ImagingStudy, **kwargs) -> None:
    from .services.matching import match_patients, unlink_deleted

    if unlink_deleted(study_id=instance.id):
        _after_commit(match_patients, [instance.patient_id])


@receiver(pre_delete, sender=ClinicVisit)
def visit_deleted(sender, instance: ClinicVisit, **kwargs) -> None:
    from .services.matching import match_patients, unlink_deleted

    if unlink_deleted(visit_id=instance.id):
        _after_commit(match_patients, [instance.patient_id])


@receiver(post_save, sender=Protocol)
@receiver(post_delete, sender=Protocol)
def protocol_changed(sender, instance: Protocol, **kwargs) -> None:
    _after_commit(_enqueue_protocol_refresh)


def _enqueue_protocol_refresh() -> None:
    from .tasks import refresh_stale_plans

    try:
        refresh_stale_plans.delay()
    except Exception:  # broker down: the daily sweep regenerates stale plans anyway
        log.warning("could not enqueue the plan refresh; the daily sweep will do it")
