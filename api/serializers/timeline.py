"""Shape of the timeline JSON (documentation for the schema; built by api.timeline)."""

from rest_framework import serializers


class BurdenPointSerializer(serializers.Serializer):
    study = serializers.UUIDField()
    study_date = serializers.DateField()
    extent_mm = serializers.FloatField()
    groups = serializers.IntegerField()
    count_bin = serializers.CharField(allow_blank=True)
    morphology_rank = serializers.IntegerField(help_text="-1 when the breast has no group.")
    distribution_rank = serializers.IntegerField()
    birads = serializers.CharField(allow_blank=True)
    changes = serializers.ListField(child=serializers.CharField())
    post_treatment = serializers.BooleanField()


class BreastSeriesSerializer(serializers.Serializer):
    breast = serializers.CharField()
    series = BurdenPointSerializer(many=True)
    nadir = BurdenPointSerializer(allow_null=True)


class LesionSerializer(serializers.Serializer):
    lesion = serializers.CharField()
    breast = serializers.CharField()
    lesion_type = serializers.CharField()
    size_mm = serializers.FloatField(allow_null=True)
    kinetics_initial = serializers.CharField(allow_blank=True)
    kinetics_delayed = serializers.CharField(allow_blank=True)
    observed_change = serializers.CharField(allow_blank=True)


class MriPointSerializer(serializers.Serializer):
    study = serializers.UUIDField()
    study_date = serializers.DateField()
    laterality = serializers.CharField()
    birads = serializers.CharField(allow_blank=True)
    no_enhancement = serializers.BooleanField()
    lesions = LesionSerializer(many=True)


class TreatmentMarkSerializer(serializers.Serializer):
    kind = serializers.CharField()
    date = serializers.DateField()


class TimelineSerializer(serializers.Serializer):
    patient = serializers.UUIDField()
    treatment_end = serializers.DateField(allow_null=True)
    treatments = TreatmentMarkSerializer(many=True)
    breasts = BreastSeriesSerializer(many=True)
    mri = MriPointSerializer(many=True)
