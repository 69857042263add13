"""Admins configure the feed: which facility is which site, what each procedure code means.
Messages are read on the tracker's own message log (site-scoped, audited), not here."""

from django.contrib import admin

from .models import FeedSource, ProcedureCode


@admin.register(FeedSource)
class FeedSourceAdmin(admin.ModelAdmin):
    list_display = ["sending_facility", "assigning_authority", "site", "is_active", "note"]
    list_filter = ["site", "is_active"]
    search_fields = ["sending_facility", "assigning_authority"]


@admin.register(ProcedureCode)
class ProcedureCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "description", "modality", "laterality"]
    list_filter = ["modality", "laterality"]
    search_fields = ["code", "description"]
