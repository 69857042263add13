"""Site scoping: every patient fetch for a request goes through here (404 otherwise)."""

from uuid import UUID

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Exists, QuerySet
from django.http import Http404

from audit.context import note_patient_viewed
from core.http import AnyUser

from .models import Patient, Site


def _has_a_role(user: AnyUser) -> Exists:
    """Roles are groups: a user with none sees nothing (no role, no data). A condition of
    the same query, not a query of its own."""
    return Exists(get_user_model().groups.through.objects.filter(user_id=user.pk or 0))


def sites_for(user: AnyUser) -> QuerySet[Site]:
    """The sites whose patients the user may see: none without a role (no role, no data)."""
    if user.is_superuser:
        return Site.objects.all()
    if not user.is_authenticated:
        return Site.objects.none()
    return Site.objects.filter(_has_a_role(user), members=user)


def patients_for(user: AnyUser) -> QuerySet[Patient]:
    """Patients the user may see: those of the sites they belong to (none without a role)."""
    if user.is_superuser:
        return Patient.objects.all()
    if not user.is_authenticated:
        return Patient.objects.none()
    return Patient.objects.filter(_has_a_role(user), site__members=user)


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
