from django.contrib import admin

from .models import CalendarToken, ContactLog, Digest, PatientPlan, Protocol, ScheduledItem, SweepRun
from .services.protocols import protocol_delete, protocol_save


@admin.register(Protocol)
class ProtocolAdmin(admin.ModelAdmin):
    list_display = ["name", "site", "is_default", "version", "updated_at"]
    readonly_fields = ["version", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "site", "is_default", "version", "updated_at", "duration_years"]}),
        ("Clinical exams", {"fields": ["exam_early_interval_months", "exam_early_until_year",
                                       "exam_mid_interval_months", "exam_mid_until_year",
                                       "exam_late_interval_months"]}),
        ("Mammography", {"fields": ["mammo_after_diagnosis_months", "mammo_after_rt_months",
                                    "mammo_interval_months", "residual_interval_months",
                                    "residual_duration_years"]}),
        ("MRI for high-risk patients", {"fields": ["mri_interval_months", "mri_offset_months",
                                                   "high_risk_compositions", "high_risk_max_age_at_diagnosis",
                                                   "high_risk_lifetime_percent"]}),
        ("States and matching", {"fields": ["due_lead_days", "grace_days", "lost_after_months",
                                            "window_max_days"]}),
    ]

    def save_model(self, request, obj, form, change) -> None:
        protocol_save(obj)

    def delete_model(self, request, obj) -> None:
        protocol_delete(obj)

    def delete_queryset(self, request, queryset) -> None:
        for protocol in queryset:
            protocol_delete(protocol)


@admin.register(PatientPlan)
class PatientPlanAdmin(admin.ModelAdmin):
    list_display = ["patient_id", "protocol", "protocol_version", "surgery_date", "high_risk", "ends_on"]
    list_filter = ["protocol", "high_risk"]
    raw_id_fields = ["patient"]
    readonly_fields = [f.name for f in PatientPlan._meta.fields]


@admin.register(ScheduledItem)
class ScheduledItemAdmin(admin.ModelAdmin):
    list_display = ["uuid", "kind", "laterality", "due_date", "status", "done_on", "lost_to_follow_up"]
    list_filter = ["kind", "status", "lost_to_follow_up"]
    raw_id_fields = ["patient", "study", "visit"]
    date_hierarchy = "due_date"


@admin.register(ContactLog)
class ContactLogAdmin(admin.ModelAdmin):
    list_display = ["at", "outcome", "by", "new_date", "done_on"]
    list_filter = ["outcome"]
    raw_id_fields = ["item", "patient"]


@admin.register(Digest)
class DigestAdmin(admin.ModelAdmin):
    list_display = ["date", "user", "status", "newly_due", "newly_overdue", "newly_lost", "sent_at"]
    list_filter = ["status", "date"]


@admin.register(CalendarToken)
class CalendarTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "hint", "created_at", "revoked_at", "last_used_at"]
    readonly_fields = ["token_hash", "hint"]


@admin.register(SweepRun)
class SweepRunAdmin(admin.ModelAdmin):
    list_display = ["as_of", "started_at", "finished_at", "counts"]
