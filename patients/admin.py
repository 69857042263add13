"""The Django admin for sites, patients and their records, and for user accounts.

Records are read-only here (patients/services.py writes them, with validation, the audit
trail and outbox events) and site-scoped: an administrator sees the patients of their
own sites only, as on every page. Only a superuser grants roles, superuser status or
site membership.
"""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from audit.context import note_patient_viewed
from core.admin import ReadOnlyAdmin, ReadOnlyInline

from .access import patients_for, sites_for
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


class ClinicalAdmin(ReadOnlyAdmin):
    """A read-only admin of rows that belong to a patient, scoped to the user's sites.

    `patient_lookup` is the path from the row to its patient ("" for the patient itself);
    opening a row records a view of that patient in the audit trail.
    """

    patient_lookup = "patient"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        if not self.patient_lookup:
            return qs.filter(pk__in=patients_for(request.user).values("pk"))
        return qs.filter(**{f"{self.patient_lookup}__in": patients_for(request.user)})

    def get_object(self, request: HttpRequest, object_id: str, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            patient = obj
            for step in filter(None, self.patient_lookup.split("__")):
                patient = getattr(patient, step)
            note_patient_viewed(patient)  # the audit middleware records the view
        return obj


class ClinicalInline(ReadOnlyInline, admin.TabularInline):
    pass


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    """Sites and their members. Membership decides whose patients a user sees, so only a
    superuser changes it; administrators see their own sites."""

    list_display = ["name", "code", "viewer_url_template"]
    search_fields = ["name", "code"]
    filter_horizontal = ["members"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Site]:
        return super().get_queryset(request) & sites_for(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser


class TumourInline(ReadOnlyInline, admin.StackedInline):
    model = TumourProfile


class NacInline(ClinicalInline):
    model = NacCourse


class RadiotherapyInline(ClinicalInline):
    model = Radiotherapy


class SurgeryInline(ClinicalInline):
    model = Surgery
    show_change_link = True


class VisitInline(ClinicalInline):
    model = ClinicVisit


class EventInline(ClinicalInline):
    model = ClinicalEvent


@admin.register(Patient)
class PatientAdmin(ClinicalAdmin):
    patient_lookup = ""
    list_display = ["family_name", "given_name", "mrn", "site", "date_of_birth",
                    "follow_up_status"]
    list_filter = ["site", "follow_up_status", "tumour__subtype", "pathogenic_variant"]
    search_fields = ["mrn", "family_name", "given_name"]
    list_select_related = ["site"]
    inlines = [TumourInline, NacInline, SurgeryInline, RadiotherapyInline, VisitInline,
               EventInline]


@admin.register(TumourProfile)
class TumourProfileAdmin(ClinicalAdmin):
    list_display = ["patient", "laterality", "histology", "grade", "subtype", "diagnosis_date"]
    list_filter = ["subtype", "histology", "grade", "laterality"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]


@admin.register(NacCourse)
class NacCourseAdmin(ClinicalAdmin):
    list_display = ["patient", "regimen", "cycles", "start_date", "end_date"]
    search_fields = ["patient__mrn", "patient__family_name", "regimen"]
    list_select_related = ["patient"]


@admin.register(Radiotherapy)
class RadiotherapyAdmin(ClinicalAdmin):
    list_display = ["patient", "start_date", "end_date", "target"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]


class PathologyInline(ReadOnlyInline, admin.StackedInline):
    model = Pathology


@admin.register(Surgery)
class SurgeryAdmin(ClinicalAdmin):
    list_display = ["patient", "date", "laterality", "procedure", "axilla", "margins"]
    list_filter = ["procedure", "axilla", "margins"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]
    inlines = [PathologyInline]


@admin.register(Pathology)
class PathologyAdmin(ClinicalAdmin):
    patient_lookup = "surgery__patient"
    list_display = ["surgery", "ypt", "ypn", "pcr_definition", "pcr", "rcb_class",
                    "excised_calcification_histology"]
    list_filter = ["pcr", "pcr_definition", "rcb_class", "excised_calcification_histology"]
    search_fields = ["surgery__patient__mrn", "surgery__patient__family_name"]
    list_select_related = ["surgery__patient"]


@admin.register(ClinicVisit)
class ClinicVisitAdmin(ClinicalAdmin):
    list_display = ["patient", "date", "kind", "recorded_by"]
    list_filter = ["kind"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient", "recorded_by"]


@admin.register(ClinicalEvent)
class ClinicalEventAdmin(ClinicalAdmin):
    list_display = ["patient", "date", "kind"]
    list_filter = ["kind"]
    search_fields = ["patient__mrn", "patient__family_name"]
    list_select_related = ["patient"]


# --- Accounts ---------------------------------------------------------------------------

# What only a superuser may change on an account: roles (groups), permissions, superuser
# and staff status. Granting any of them would let an administrator widen their own reach.
PRIVILEGED_USER_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")

admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class TrackerUserAdmin(UserAdmin):
    """Administrators create accounts and edit names, e-mail and whether an account is
    active, for the users of their sites; a superuser grants roles and sites."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # Users of the administrator's sites, and new accounts not yet given a site.
        return qs.filter(Q(sites__in=sites_for(request.user))
                         | Q(sites__isnull=True)).distinct()

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [*PRIVILEGED_USER_FIELDS, "last_login", "date_joined"]
        return fields

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        # Accounts are deactivated, never deleted: the audit trail and signatures name them.
        return request.user.is_superuser and super().has_delete_permission(request, obj)

    def user_change_password(self, request: HttpRequest, id, form_url=""):
        """Setting another user's password would let an administrator sign in as them."""
        if not request.user.is_superuser and str(request.user.pk) != str(id):
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


@admin.register(Group)
class RoleAdmin(GroupAdmin):
    """Roles are groups; their permissions are set by `core.roles.sync_role_permissions`."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser
