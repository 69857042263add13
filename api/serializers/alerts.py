from rest_framework import serializers

from alerts.models import Alert, Resolution

from .base import AllowedChoicesMixin


class AlertSerializer(serializers.ModelSerializer):
    patient = serializers.SlugRelatedField(slug_field="uuid", read_only=True)
    study = serializers.SlugRelatedField(slug_field="uuid", read_only=True, allow_null=True)
    acknowledged_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    resolved_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Alert
        fields = [
            "id", "patient", "study", "rule", "severity", "breast", "reason", "details",
            "state", "created_at", "acknowledged_by", "acknowledged_at", "acknowledge_note",
            "resolved_by", "resolved_at", "resolution", "resolve_note", "superseded_at",
            "superseded_reason",
        ]
        read_only_fields = fields


class AlertAcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class AlertResolveSerializer(AllowedChoicesMixin, serializers.Serializer):
    resolution = serializers.ChoiceField(choices=Resolution.choices)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
