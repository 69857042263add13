from django.contrib import admin

from .models import (
    ClinicalEvent,
    ClinicVisit,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Site,
    Surgery,
    TumourProfile,
)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "viewer_url_template"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]


class TumourInline(admin.StackedInline):
    model = TumourProfile
    extra = 0
    readonly_fields = ["subtype"]


class NacInline(admin.TabularInline):
    model = NacCourse
    extra = 0


class RadiotherapyInline(admin.TabularInline):
    model = Radiotherapy
    extra = 0


class SurgeryInline(admin.TabularInline):
    model = Surgery
    extra = 0
    show_change_link = True


class VisitInline(admin.TabularInline):
    model = ClinicVisit
    extra = 0


class EventInline(admin.TabularInline):
    model = ClinicalEvent
    extra = 0


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["family_name", "given_name", "mrn", "site", "date_of_birth",
                    "follow_up_status"]
    list_filter = ["site", "follow_up_status", "tumour__subtype", "pathogenic_variant"]
    search_fields = ["mrn", "family_name", "given_name"]
    readonly_fields = ["uuid", "created_at", "updated_at"]
    list_select_related = ["site"]
    inlines = [TumourInline, NacInline, SurgeryInline, RadiotherapyInline, VisitInline,
               EventInline]


@admin.register(TumourProfile)
class TumourProfileAdmin(admin.ModelAdmin):
    list_display = ["patient", "laterality", "histology", "grade", "subtype", "diagnosis_date"]
    list_filter = ["subtype", "histology", "grade", "laterality"]
    search_fields = ["patient__mrn", "patient__family_name"]
    readonly_fields = ["subtype"]
    list_select_related = ["patient"]


@admin.register(NacCourse)
class NacCourseAdmin(admin.ModelAdmin):
    list_display = ["patient", "regimen", "cycles", "start_date", "end_date"]
    search_fields = ["patient__mrn", "patient__family_name", "regimen"]
    list_select_related = ["patient"]


@admin.register(Radiotherapy)
class RadiotherapyAdmin(admin.ModelAdmin):
    list_display = ["patient", "start_date", "end_date", "target"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]


class PathologyInline(admin.StackedInline):
    model = Pathology
    extra = 0
    readonly_fields = ["pcr"]


@admin.register(Surgery)
class SurgeryAdmin(admin.ModelAdmin):
    list_display = ["patient", "date", "laterality", "procedure", "axilla", "margins"]
    list_filter = ["procedure", "axilla", "margins"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]
    inlines = [PathologyInline]


@admin.register(Pathology)
class PathologyAdmin(admin.ModelAdmin):
    list_display = ["surgery", "ypt", "ypn", "pcr_definition", "pcr", "rcb_class",
                    "excised_calcification_histology"]
    list_filter = ["pcr", "pcr_definition", "rcb_class", "excised_calcification_histology"]
    search_fields = ["surgery__patient__mrn", "surgery__patient__family_name"]
    readonly_fields = ["pcr"]
    list_select_related = ["surgery__patient"]


@admin.register(ClinicVisit)
class ClinicVisitAdmin(admin.ModelAdmin):
    list_display = ["patient", "date", "kind", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient", "recorded_by"]


@admin.register(ClinicalEvent)
class ClinicalEventAdmin(admin.ModelAdmin):
    list_display = ["patient", "date", "kind"]
    list_filter = ["kind"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]
