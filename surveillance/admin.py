"""Surveillance in the Django admin: protocols editable through their services (a site's
own by its administrators, the network default by a superuser); plans, scheduled items,
contact logs, digests, calendar links and sweep runs read-only and site-scoped."""

from django.contrib import admin
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from core.admin import ReadOnlyAdmin
from patients.access import sites_for
from patients.admin import ClinicalAdmin

from .models import (
    CalendarToken,
    ContactLog,
    Digest,
    PatientPlan,
    PlanFanOut,
    Protocol,
    ScheduledItem,
    SweepRun,
)
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

    def get_queryset(self, request: HttpRequest) -> QuerySet[Protocol]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(Q(site__in=sites_for(request.user)) | Q(site__isnull=True))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site":
            kwargs["queryset"] = sites_for(request.user)
            kwargs["required"] = not request.user.is_superuser
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields.append("is_default")  # the network default is a superuser's
        return fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.site_id is None and not request.user.is_superuser:
            return False  # every site's schedule follows the network default
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.site_id is None and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change) -> None:
        protocol_save(obj)

    def delete_model(self, request, obj) -> None:
        protocol_delete(obj)

    def delete_queryset(self, request, queryset) -> None:
        for protocol in queryset:
            protocol_delete(protocol)


@admin.register(PatientPlan)
class PatientPlanAdmin(ClinicalAdmin):
    list_display = ["patient_id", "protocol", "protocol_version", "surgery_date", "high_risk", "ends_on"]
    list_filter = ["protocol", "high_risk"]


@admin.register(ScheduledItem)
class ScheduledItemAdmin(ClinicalAdmin):
    list_display = ["uuid", "kind", "laterality", "due_date", "status", "done_on", "lost_to_follow_up"]
    list_filter = ["kind", "status", "lost_to_follow_up"]
    date_hierarchy = "due_date"


@admin.register(ContactLog)
class ContactLogAdmin(ClinicalAdmin):
    list_display = ["at", "outcome", "by", "new_date", "done_on"]
    list_filter = ["outcome"]


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdmin):
    list_display = ["date", "user", "status", "newly_due", "newly_overdue", "newly_lost", "sent_at"]
    list_filter = ["status", "date"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Digest]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(user__sites__in=sites_for(request.user)).distinct()


@admin.register(CalendarToken)
class CalendarTokenAdmin(ReadOnlyAdmin):
    """Who has a calendar link and when it was used; never the secret (only its hash is
    stored, and that is not shown either)."""

    list_display = ["user", "hint", "created_at", "revoked_at", "last_used_at"]
    fields = ["user", "hint", "created_at", "revoked_at", "last_used_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CalendarToken]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(user__sites__in=sites_for(request.user)).distinct()


@admin.register(SweepRun)
class SweepRunAdmin(ReadOnlyAdmin):
    list_display = ["as_of", "started_at", "finished_at", "counts"]


@admin.register(PlanFanOut)
class PlanFanOutAdmin(ReadOnlyAdmin):
    """A sweep's plans written by the workers in chunks: how far they got."""

    list_display = ["as_of", "sweep_after", "started_at", "continued_at", "chunks_total", "chunks_done",
                    "chunks_failed"]

    def get_queryset(self, request: HttpRequest):
        done = Q(chunks__done_at__isnull=False)
        return super().get_queryset(request).annotate(
            n_chunks=Count("chunks"), n_done=Count("chunks", filter=done),
            n_failed=Count("chunks", filter=done & Q(chunks__failed=True)))

    @admin.display(description="chunks")
    def chunks_total(self, fan: PlanFanOut) -> int:
        return fan.n_chunks  # type: ignore[attr-defined]  # annotated above

    @admin.display(description="done")
    def chunks_done(self, fan: PlanFanOut) -> int:
        return fan.n_done  # type: ignore[attr-defined]

    @admin.display(description="failed")
    def chunks_failed(self, fan: PlanFanOut) -> int:
        return fan.n_failed  # type: ignore[attr-defined]
