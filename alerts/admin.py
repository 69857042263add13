"""Alerts in the Django admin: alerts and notifications read-only and site-scoped; the
thresholds editable through `thresholds_update` (audited, then the cohort re-evaluated)."""

from django.contrib import admin, messages
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin, ReadOnlyInline
from patients.admin import ClinicalAdmin

from .models import Alert, AlertSettings, Notification, Reevaluation, ThresholdChange
from .services import thresholds_update


@admin.register(AlertSettings)
class AlertSettingsAdmin(admin.ModelAdmin):
    """Edits go through `thresholds_update`: audited, then the cohort is re-evaluated."""

    list_display = ["__str__", *AlertSettings.FIELDS, "updated_at"]
    fields = list(AlertSettings.FIELDS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not AlertSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        values = {name: form.cleaned_data[name] for name in AlertSettings.FIELDS}
        result = thresholds_update(by=request.user, values=values,
                                   note="Changed in the admin.")
        if result:
            messages.info(request, "Thresholds changed and recorded; the whole cohort is "
                                   "being re-evaluated with them.")
        obj.refresh_from_db()


@admin.register(ThresholdChange)
class ThresholdChangeAdmin(ReadOnlyAdmin):
    list_display = ["changed_at", "changed_by", "before", "after", "note"]


class NotificationInline(ReadOnlyInline, admin.TabularInline):
    model = Notification
    fields = ("channel", "address", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields


@admin.register(Alert)
class AlertAdmin(ClinicalAdmin):
    """Acknowledging and resolving are the radiologists', in the alert inbox."""

    list_display = ["id", "rule", "severity", "state", "patient_id", "breast", "created_at"]
    list_filter = ["severity", "state", "rule"]
    inlines = [NotificationInline]


@admin.register(Notification)
class NotificationAdmin(ClinicalAdmin):
    patient_lookup = "alert__patient"
    list_display = ["id", "alert_id", "channel", "address", "status", "attempts", "last_error",
                    "created_at", "sent_at"]
    list_filter = ["status", "channel"]


@admin.register(Reevaluation)
class ReevaluationAdmin(ReadOnlyAdmin):
    list_display = ["id", "started_at", "started_by", "chunk_size", "total_patients",
                    "done_patients", "failed_patients", "alerts_created", "finished_at"]
