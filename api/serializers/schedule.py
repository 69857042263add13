from django.utils import timezone
from rest_framework import serializers

from surveillance.models import ContactLog, ScheduledItem

from .base import AllowedChoicesMixin


class ScheduledItemSerializer(serializers.ModelSerializer):
    patient = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    study = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    state = serializers.SerializerMethodField(
        help_text="upcoming / due / overdue / done / cancelled, as of today.")

    class Meta:
        model = ScheduledItem
        fields = [
            "uuid", "patient", "kind", "laterality", "due_date", "original_due_date",
            "due_from", "overdue_after", "window_start", "window_end", "lost_after_date",
            "status", "state", "lost_to_follow_up", "done_on", "done_source", "study",
            "cancel_reason",
        ]
        read_only_fields = fields

    def get_state(self, item: ScheduledItem) -> str:
        today = self.context.get("today") or timezone.localdate()
        return item.state(today)


class ContactSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    """One contact log entry. `new_date` is required for "rescheduled", `done_on` for
    "done_elsewhere" (which marks the item done)."""

    by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    outcome = serializers.ChoiceField(choices=ContactLog.Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    class Meta:
        model = ContactLog
        fields = ["id", "outcome", "new_date", "done_on", "note", "by", "at"]
        read_only_fields = ["id", "by", "at"]
