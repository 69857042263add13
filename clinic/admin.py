"""The audit trail in the Django admin: read-only, searchable by a patient's MRN or UUID.

Here, above the patients app, because finding a patient's events by MRN reads patients.
"""

from django.contrib import admin
from django.db.models import Q

from audit.models import AuditEvent
from patients.models import Patient


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail can be searched, never edited or deleted through the app."""

    list_display = ["at", "actor_username", "action", "object_type", "object_id", "patient_uuid",
                    "ip"]
    list_filter = ["action", "object_type"]
    date_hierarchy = "at"
    search_fields = ["actor_username", "object_id", "request_path"]
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def get_search_results(self, request, queryset, search_term):
        """Also find a patient's events by MRN or UUID."""
        qs, distinct = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            patient_ids = Patient.objects.filter(Q(mrn=term) | Q(uuid__iexact=term)).values("id") \
                if _looks_like_uuid(term) else Patient.objects.filter(mrn=term).values("id")
            qs = qs | queryset.filter(patient_id__in=patient_ids)
        return qs, distinct

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


def _looks_like_uuid(term: str) -> bool:
    import uuid

    try:
        uuid.UUID(term)
    except ValueError:
        return False
    return True
