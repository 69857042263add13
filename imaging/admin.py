"""Studies and findings in the Django admin: read-only and site-scoped. Drafting, signing
and amending happen in the app (imaging/services.py), never here."""

from django.contrib import admin

from core.admin import ReadOnlyInline
from patients.admin import ClinicalAdmin, ClinicalInline

from .models import CalcificationFinding, EnhancementFinding, ImagingStudy, StudyAmendment


class CalcificationInline(ClinicalInline):
    model = CalcificationFinding


class EnhancementInline(ClinicalInline):
    model = EnhancementFinding


class AmendmentInline(ReadOnlyInline, admin.TabularInline):
    model = StudyAmendment
    fields = ("amended_by", "amended_at", "reason", "changes")
    readonly_fields = ("amended_by", "amended_at", "reason", "changes")


@admin.register(ImagingStudy)
class ImagingStudyAdmin(ClinicalAdmin):
    list_display = ["patient", "study_date", "modality", "phase", "laterality", "birads",
                    "status", "signed_by"]
    list_filter = ["modality", "phase", "status", "birads", "patient__site"]
    search_fields = ["patient__mrn", "patient__family_name", "accession"]
    date_hierarchy = "study_date"
    list_select_related = ["patient", "signed_by"]
    inlines = [CalcificationInline, EnhancementInline, AmendmentInline]


@admin.register(CalcificationFinding)
class CalcificationFindingAdmin(ClinicalAdmin):
    patient_lookup = "study__patient"
    list_display = ["study", "laterality", "group", "morphology", "distribution", "extent_mm",
                    "count_bin", "observed_change"]
    list_filter = ["morphology", "distribution", "count_bin", "observed_change"]
    search_fields = ["study__patient__mrn", "group"]
    list_select_related = ["study__patient"]


@admin.register(EnhancementFinding)
class EnhancementFindingAdmin(ClinicalAdmin):
    patient_lookup = "study__patient"
    list_display = ["study", "laterality", "lesion", "lesion_type", "size_mm",
                    "kinetics_delayed", "observed_change"]
    list_filter = ["lesion_type", "kinetics_delayed", "observed_change"]
    search_fields = ["study__patient__mrn", "lesion"]
    list_select_related = ["study__patient"]


@admin.register(StudyAmendment)
class StudyAmendmentAdmin(ClinicalAdmin):
    patient_lookup = "study__patient"
    list_display = ["study", "amended_by", "amended_at"]
    list_select_related = ["study__patient", "amended_by"]
