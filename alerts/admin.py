from django.contrib import admin, messages
from django.http import HttpRequest

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
class ThresholdChangeAdmin(admin.ModelAdmin):
    list_display = ["changed_at", "changed_by", "before", "after", "note"]
    readonly_fields = ["changed_at", "changed_by", "before", "after", "note"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class NotificationInline(admin.TabularInline):
    model = Notification
    extra = 0
    can_delete = False
    fields = readonly_fields = ("channel", "address", "status", "attempts", "last_error",
                                "created_at", "sent_at")

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["id", "rule", "severity", "state", "patient_id", "breast", "created_at"]
    list_filter = ["severity", "state", "rule"]
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [NotificationInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["id", "alert_id", "channel", "address", "status", "attempts", "last_error",
                    "created_at", "sent_at"]
    list_filter = ["status", "channel"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Reevaluation)
class ReevaluationAdmin(admin.ModelAdmin):
    list_display = ["id", "started_at", "started_by", "chunk_size", "total_patients",
                    "done_patients", "failed_patients", "alerts_created", "finished_at"]
    readonly_fields = [f.name for f in Reevaluation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
