"""The audit trail and the outbox in the Django admin: read-only, site-scoped, the trail
searchable by a patient's MRN or UUID.

Here, above the patients app, because both name patients by id (they sit below the
patients app) and scoping them reads patients.
"""

import uuid

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from audit.models import AuditEvent
from core.admin import ReadOnlyAdmin
from outbox.models import Event
from patients.access import patients_for, sites_for


def _scoped_to_patients(request: HttpRequest, qs: QuerySet, *, actors: bool) -> QuerySet:
    """Rows of the user's sites' patients, and rows naming no patient (for the trail:
    only those by users of the user's sites)."""
    if request.user.is_superuser:
        return qs
    mine = Q(patient_id__in=patients_for(request.user).values("id"))
    if actors:
        users = get_user_model().objects.filter(sites__in=sites_for(request.user)).values("id")
        return qs.filter(mine | Q(patient_id__isnull=True, actor_id__in=users))
    return qs.filter(mine | Q(patient_id__isnull=True))


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """The trail can be searched, never edited or deleted through the app."""

    list_display = ["at", "actor_username", "action", "object_type", "object_id", "patient_uuid",
                    "ip"]
    list_filter = ["action", "object_type"]
    date_hierarchy = "at"
    search_fields = ["actor_username", "object_id", "request_path"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return _scoped_to_patients(request, super().get_queryset(request), actors=True)

    def get_search_results(self, request, queryset, search_term):
        """Also find a patient's events by MRN or UUID (among the user's patients)."""
        qs, distinct = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            match = Q(mrn=term) | Q(uuid=term) if _looks_like_uuid(term) else Q(mrn=term)
            patient_ids = patients_for(request.user).filter(match).values("id")
            qs = qs | queryset.filter(patient_id__in=patient_ids)
        return qs, distinct


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    """Events are written by the services and processed by the workers."""

    list_display = ["id", "kind", "patient_id", "object_id", "created_at", "processed_at", "attempts"]
    list_filter = ["kind", ("processed_at", admin.EmptyFieldListFilter)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Event]:
        return _scoped_to_patients(request, super().get_queryset(request), actors=False)


def _looks_like_uuid(term: str) -> bool:
    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True
