"""Reads of imaging studies for the clinic pages, always scoped to the user's sites."""

from uuid import UUID

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from audit.context import note_patient_viewed
from patients.access import patients_for
from patients.models import Patient

from .models import CalcificationFinding, EnhancementFinding, ImagingStudy


def studies_for(user: User) -> QuerySet[ImagingStudy]:
    if user.is_superuser:
        return ImagingStudy.objects.all()
    return ImagingStudy.objects.filter(patient__in=patients_for(user))


def get_study_for_user(user: User, uuid: UUID | str) -> ImagingStudy:
    """The study with its patient, findings, signer and amendments; 404 outside the user's sites."""
    qs = (
        studies_for(user)
        .select_related("patient", "patient__site", "signed_by", "created_by")
        .prefetch_related("calcifications", "enhancements", "amendments__amended_by")
    )
    try:
        study = qs.get(uuid=uuid)
    except (ImagingStudy.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such study.") from exc
    note_patient_viewed(study.patient)  # the audit middleware records who viewed it
    return study


def finding_labels(patient: Patient) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Earlier calcification group and lesion labels of the patient, as (label, breast).

    Offered in the study form so the same group is followed across exams.
    """
    groups = (CalcificationFinding.objects.filter(study__patient=patient)
              .values_list("group", "laterality").distinct().order_by("group", "laterality"))
    lesions = (EnhancementFinding.objects.filter(study__patient=patient)
               .values_list("lesion", "laterality").distinct().order_by("lesion", "laterality"))
    return list(groups), list(lesions)


def recent_studies(user: User, *, limit: int = 10) -> list[ImagingStudy]:
    return list(
        studies_for(user).select_related("patient", "signed_by")
        .order_by("-study_date", "-id")[:limit]
    )


def drafts_awaiting_signature(user: User, *, limit: int = 10) -> list[ImagingStudy]:
    return list(
        studies_for(user).filter(status="draft").select_related("patient")
        .order_by("study_date", "id")[:limit]
    )
