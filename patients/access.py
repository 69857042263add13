"""Site scoping: every patient fetch for a request goes through here (404 otherwise)."""

from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404

from audit.context import note_patient_viewed
from core.http import AnyUser

from .models import Patient, Site


def sites_for(user: AnyUser) -> QuerySet[Site]:
    if user.is_superuser:
        return Site.objects.all()
    if not user.is_authenticated:
        return Site.objects.none()
    return Site.objects.filter(members=user)


def patients_for(user: AnyUser) -> QuerySet[Patient]:
    """Patients the user may see: those of the sites they belong to."""
    if user.is_superuser:
        return Patient.objects.all()
    if not user.is_authenticated:
        return Patient.objects.none()
    return Patient.objects.filter(site__members=user)


def get_patient_for_user(user: AnyUser, uuid: UUID | str,
                         queryset: QuerySet[Patient] | None = None) -> Patient:
    """The patient with this public UUID if the user may see it, else 404 (never 403)."""
    qs = queryset if queryset is not None else Patient.objects.all()
    if not user.is_superuser:
        qs = qs.filter(site__in=sites_for(user))
    try:
        patient = qs.get(uuid=uuid)
    except (Patient.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404("No such patient.") from exc
    note_patient_viewed(patient)  # the audit middleware records who viewed it
    return patient
