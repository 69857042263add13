"""Patients with tumour profile and treatment, addressed by UUID."""

from rest_framework import serializers

from core.permissions import can_see_contact
from patients.access import sites_for
from patients.models import (
    ClinicalEvent,
    ClinicVisit,
    ContactDetails,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Site,
    Surgery,
    TumourProfile,
)

from .base import AllowedChoicesMixin, PrefetchedListSerializer

VOID_FIELDS = ["voided_at", "voided_by", "void_reason"]  # voided rows are never listed


class TumourSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    class Meta:
        model = TumourProfile
        exclude = ["id", "patient"]
        read_only_fields = ["subtype"]
        extra_kwargs = {f: {"min_value": 0, "max_value": 100}
                        for f in ("er_percent", "pr_percent", "ki67_percent")}


class NacCourseSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    class Meta:
        model = NacCourse
        # `id` names the row for its void action (read-only: nested lists replace rows).
        exclude = ["patient", *VOID_FIELDS]
        read_only_fields = ["id"]
        list_serializer_class = PrefetchedListSerializer


class RadiotherapySerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    class Meta:
        model = Radiotherapy
        # `id` names the row for its void action (read-only: nested lists replace rows).
        exclude = ["patient", *VOID_FIELDS]
        read_only_fields = ["id"]
        list_serializer_class = PrefetchedListSerializer


class VisitSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    """A clinic visit; `id` names it for its void action, `recorded_by` is who recorded it."""

    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ClinicVisit
        fields = ["id", "date", "kind", "findings", "recorded_by", "created_at"]
        read_only_fields = ["id", "created_at"]


class EventSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    """An outcome event (recurrence, progression, death…); `id` names it for its void action."""

    class Meta:
        model = ClinicalEvent
        fields = ["id", "date", "kind", "notes"]
        read_only_fields = ["id"]


class PathologySerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    class Meta:
        model = Pathology
        exclude = ["id", "surgery"]
        read_only_fields = ["pcr"]
        extra_kwargs = {"rcb_index": {"min_value": 0}}


class SurgerySerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    pathology = PathologySerializer(required=False, allow_null=True)

    class Meta:
        model = Surgery
        # `id` names the row for its void action (read-only: nested lists replace rows).
        exclude = ["patient", *VOID_FIELDS]
        read_only_fields = ["id"]
        list_serializer_class = PrefetchedListSerializer


class ContactDetailsSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    """Phones, e-mail, postal address, language, preferences, consent, GP. Checked as a whole
    by `ContactDetails.clean` (errors per field under `contact`)."""

    class Meta:
        model = ContactDetails
        exclude = ["id", "patient"]
        read_only_fields = ["updated_at"]


class SiteCodeField(serializers.SlugRelatedField):
    """A site by its code, limited to the requesting user's sites."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="code", **kwargs)

    def get_queryset(self):
        request = self.context.get("request")
        return sites_for(request.user) if request else Site.objects.none()


class PatientSerializer(AllowedChoicesMixin, serializers.ModelSerializer):
    site = SiteCodeField(
        required=False,
        help_text="Site code. May be left out when the user belongs to exactly one site.",
    )
    tumour = TumourSerializer(required=False, allow_null=True)
    nac_courses = NacCourseSerializer(many=True, required=False)
    radiotherapy = RadiotherapySerializer(many=True, required=False)
    surgeries = SurgerySerializer(many=True, required=False)
    confirm_duplicate = serializers.BooleanField(
        write_only=True, required=False, default=False,
        help_text="On registration: true registers the patient even though one with the same "
        "names and date of birth is registered at the site under another MRN (else 409).")
    contact = ContactDetailsSerializer(
        required=False, allow_null=True,
        help_text="How to reach the patient. Shown to coordinators, clinic staff and admins only "
        "(null for other roles); fields sent are changed, others kept.")

    class Meta:
        model = Patient
        fields = [
            "uuid", "site", "mrn", "given_name", "family_name", "date_of_birth",
            "follow_up_status", "pathogenic_variant", "chest_radiation_before_30",
            "lifetime_risk_percent", "notes", "tumour", "nac_courses", "radiotherapy",
            "surgeries", "contact", "confirm_duplicate", "created_at", "updated_at",
        ]
        read_only_fields = ["uuid", "created_at", "updated_at"]
        extra_kwargs = {"lifetime_risk_percent": {"min_value": 0, "max_value": 100}}
        # (site, mrn) uniqueness is checked by the service with the resolved site.
        validators: list = []

    def to_representation(self, instance):
        data = super().to_representation(instance)
        request = self.context.get("request")
        if request is None or not can_see_contact(request.user):
            data["contact"] = None
        return data

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and "site" not in attrs:
            sites = list(sites_for(self.context["request"].user)[:2])
            if len(sites) != 1:
                raise serializers.ValidationError(
                    {"site": ["Give the site code: you belong to several sites (or none)."]}
                )
            attrs["site"] = sites[0]
        return attrs


class VoidSerializer(serializers.Serializer):
    """Void a record: the reason is required, kept on the record and in the audit trail."""

    reason = serializers.CharField(max_length=500, help_text="Why the record is being voided.")
class PatientLinkSerializer(serializers.Serializer):
    """Where a patient is: her UUID, site, API record and timeline page."""

    uuid = serializers.UUIDField()
    site = serializers.CharField(help_text="Site code.")
    url = serializers.URLField(help_text="The patient's API record.")
    timeline = serializers.URLField(help_text="The patient's timeline page.")


class DuplicateSerializer(serializers.Serializer):
    detail = serializers.CharField()
    duplicates = PatientLinkSerializer(many=True, help_text="The possible duplicates you may see.")


class MrnLookupSerializer(serializers.Serializer):
    mrn = serializers.CharField(max_length=40, help_text="MRN, with or without the site's "
                                "prefix and punctuation (NC-100001, NC100001, 100001).")
