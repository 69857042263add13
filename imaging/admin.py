from django.contrib import admin

from .models import CalcificationFinding, EnhancementFinding, ImagingStudy, StudyAmendment


class CalcificationInline(admin.TabularInline):
    model = CalcificationFinding
    extra = 0


class EnhancementInline(admin.TabularInline):
    model = EnhancementFinding
    extra = 0


class AmendmentInline(admin.TabularInline):
    model = StudyAmendment
    extra = 0
    readonly_fields = ["amended_by", "amended_at", "reason", "changes"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ImagingStudy)
class ImagingStudyAdmin(admin.ModelAdmin):
    list_display = ["patient", "study_date", "modality", "phase", "laterality", "birads",
                    "status", "signed_by"]
    list_filter = ["modality", "phase", "status", "birads", "patient__site"]
    search_fields = ["patient__mrn", "patient__family_name", "accession"]
    date_hierarchy = "study_date"
    readonly_fields = ["uuid", "created_at", "updated_at", "created_by"]
    list_select_related = ["patient", "signed_by"]
    raw_id_fields = ["patient"]
    inlines = [CalcificationInline, EnhancementInline, AmendmentInline]


@admin.register(CalcificationFinding)
class CalcificationFindingAdmin(admin.ModelAdmin):
    list_display = ["study", "laterality", "group", "morphology", "distribution", "extent_mm",
                    "count_bin", "observed_change"]
    list_filter = ["morphology", "distribution", "count_bin", "observed_change"]
    search_fields = ["study__patient__mrn", "group"]
    list_select_related = ["study__patient"]
    raw_id_fields = ["study"]


@admin.register(EnhancementFinding)
class EnhancementFindingAdmin(admin.ModelAdmin):
    list_display = ["study", "laterality", "lesion", "lesion_type", "size_mm",
                    "kinetics_delayed", "observed_change"]
    list_filter = ["lesion_type", "kinetics_delayed", "observed_change"]
    search_fields = ["study__patient__mrn", "lesion"]
    list_select_related = ["study__patient"]
    raw_id_fields = ["study"]


@admin.register(StudyAmendment)
class StudyAmendmentAdmin(admin.ModelAdmin):
    list_display = ["study", "amended_by", "amended_at"]
    readonly_fields = ["study", "amended_by", "amended_at", "reason", "changes"]
    list_select_related = ["study", "amended_by"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
