"""Imaging studies with nested calcification and enhancement findings."""

from rest_framework import serializers

from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy, StudyAmendment
from imaging.services import CALC_FIELDS, ENH_FIELDS, STUDY_FIELDS
from patients.access import patients_for
from patients.models import Patient

from .base import AllowedChoicesMixin


class CalcificationSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    class Meta:
        model = CalcificationFinding
        fields = list(CALC_FIELDS)
        extra_kwargs = {"count_bin": {"required": False, "allow_blank": True,
                                     "help_text": "Derived from `count` when left out."},
                        "extent_mm": {"min_value": 0}, "nipple_distance_mm": {"min_value": 0},
                        "clock": {"min_value": 1, "max_value": 12}}
        validators: list = []  # (study, laterality, group) is checked by the service


class EnhancementSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    class Meta:
        model = EnhancementFinding
        fields = list(ENH_FIELDS)
        extra_kwargs = {"size_mm": {"min_value": 0}, "nipple_distance_mm": {"min_value": 0},
                        "clock": {"min_value": 1, "max_value": 12}}
        validators: list = []


class AmendmentSerializer(serializers.ModelSerializer):
    amended_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = StudyAmendment
        fields = ["amended_by", "amended_at", "reason", "changes"]


class PatientUuidField(serializers.SlugRelatedField):
    """A patient by UUID, among the requesting user's patients only."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="uuid", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return patients_for(request.user) if request else Patient.objects.none()

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except (TypeError, ValueError):
            self.fail("invalid")


class StudySerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    """Read and draft-write shape of a study. Findings replace the study's findings."""

    patient = PatientUuidField()
    calcifications = CalcificationSerializer(many=True, required=False)
    enhancements = EnhancementSerializer(many=True, required=False)
    signed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    amendments = AmendmentSerializer(many=True, read_only=True)

    class Meta:
        model = ImagingStudy
        fields = [
            "uuid", "patient", *[f for f in STUDY_FIELDS if f != "lexicon_version"],
            "lexicon_version", "status", "signed_by", "signed_at", "created_at", "updated_at",
            "calcifications", "enhancements", "amendments",
        ]
        read_only_fields = ["uuid", "lexicon_version", "status", "signed_by", "signed_at",
                            "created_at", "updated_at"]
        validators: list = []  # (patient, accession) is checked by the service

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["patient"].read_only = True  # a study never moves to another patient
        return fields


class StudyAmendSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    """An amendment: the reason plus any study fields and findings that change."""

    reason = serializers.CharField(help_text="Why the signed study is being amended.")
    calcifications = CalcificationSerializer(many=True, required=False)
    enhancements = EnhancementSerializer(many=True, required=False)

    class Meta:
        model = ImagingStudy
        fields = ["reason", *[f for f in STUDY_FIELDS if f != "lexicon_version"],
                  "calcifications", "enhancements"]
        extra_kwargs = {f: {"required": False} for f in STUDY_FIELDS}
        validators: list = []


class SignResultSerializer(serializers.Serializer):
    uuid = serializers.UUIDField()
    status = serializers.CharField()
    signed_by = serializers.CharField()
    signed_at = serializers.DateTimeField()
