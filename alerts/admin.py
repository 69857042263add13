from django.contrib import admin

from .models import Outbox


@admin.register(Outbox)
class OutboxAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "patient_id", "study_id", "created_at", "processed_at",
                    "attempts"]
    list_filter = ["kind", ("processed_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["patient", "study", "kind", "created_at", "processed_at", "attempts",
                       "last_error"]
