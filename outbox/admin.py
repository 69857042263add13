from django.contrib import admin

from .models import Event


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Read-only: events are written by the services and processed by the workers."""

    list_display = ["id", "kind", "patient_id", "object_id", "created_at", "processed_at", "attempts"]
    list_filter = ["kind", ("processed_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["kind", "patient_id", "object_id", "created_at", "processed_at", "attempts",
                       "last_error"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
