"""Admins configure the feed: which facility is which site, what each procedure code means.
Messages are read on the tracker's own message log (site-scoped, audited), not here."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from patients.access import sites_for

from .models import FeedSource, ProcedureCode


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    """Which sending facility files into which site. An administrator sees and maps only to
    their own sites (a feed mapped to another site would file its patients there)."""

    list_display = ["sending_facility", "assigning_authority", "site", "is_active", "note"]
    list_filter = ["site", "is_active"]
    search_fields = ["sending_facility", "assigning_authority"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FeedSource]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(site__in=sites_for(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "site" and not request.user.is_superuser:
            kwargs["queryset"] = sites_for(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ProcedureCode)
class ProcedureCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "description", "modality", "laterality"]
    list_filter = ["modality", "laterality"]
    search_fields = ["code", "description"]
