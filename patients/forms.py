"""Forms of the patient and treatment records."""

from typing import cast

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict

from core.forms import NumberBoundsMixin
from core.voiding import REASON_MAX

from .models import (
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


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _date_widgets(model_form_fields: list[str]) -> dict:
    return {name: DateInput() for name in model_form_fields}


class PatientForm(NumberBoundsMixin, forms.ModelForm):
    # Shown only once a possible duplicate was found (patients.views.patient_create).
    confirm_duplicate = forms.BooleanField(
        label="This is a different person: register her anyway", required=False,
        widget=forms.HiddenInput)

    class Meta:
        model = Patient
        fields = ["site", "mrn", "given_name", "family_name", "date_of_birth", "follow_up_status",
                  "pathogenic_variant", "chest_radiation_before_30", "lifetime_risk_percent", "notes"]
        widgets = _date_widgets(["date_of_birth"])

    def __init__(self, *args, sites: QuerySet[Site], **kwargs):
        super().__init__(*args, **kwargs)
        site = self.fields["site"]
        assert isinstance(site, forms.ModelChoiceField)
        site.queryset = sites
        site.empty_label = None
        if sites.count() == 1:
            self.fields["site"].initial = sites.first()
        if self.instance.pk is not None:
            del self.fields["confirm_duplicate"]

    def ask_to_confirm_duplicate(self) -> None:
        """Show the confirmation box (unticked): the user must tick it to register."""
        field = self.fields["confirm_duplicate"]
        field.widget = forms.CheckboxInput()
        data = cast(QueryDict, self.data).copy()
        data.pop(self.add_prefix("confirm_duplicate"), None)
        self.data = data


class TumourProfileForm(NumberBoundsMixin, forms.ModelForm):
    class Meta:
        model = TumourProfile
        fields = ["laterality", "diagnosis_date", "histology", "grade", "dcis_component",
                  "comedo_necrosis", "er_percent", "pr_percent", "her2_ihc", "her2_ish",
                  "ki67_percent", "clinical_t", "clinical_n", "diagnosis_calcifications",
                  "diagnosis_mammogram_date"]
        widgets = _date_widgets(["diagnosis_date", "diagnosis_mammogram_date"])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        for name in ("er_percent", "pr_percent", "ki67_percent"):
            value = data.get(name)
            if value is not None and value > 100:
                self.add_error(name, "A percentage is between 0 and 100.")
        return data


class NacCourseForm(NumberBoundsMixin, forms.ModelForm):
    class Meta:
        model = NacCourse
        fields = ["regimen", "agents", "cycles", "start_date", "end_date"]
        widgets = _date_widgets(["start_date", "end_date"])


class RadiotherapyForm(NumberBoundsMixin, forms.ModelForm):
    class Meta:
        model = Radiotherapy
        fields = ["start_date", "end_date", "target"]
        widgets = _date_widgets(["start_date", "end_date"])


class SurgeryForm(NumberBoundsMixin, forms.ModelForm):
    class Meta:
        model = Surgery
        fields = ["date", "laterality", "procedure", "axilla", "margins",
                  "residual_calcifications_in_place"]
        widgets = _date_widgets(["date"])


class PathologyForm(NumberBoundsMixin, forms.ModelForm):
    """Optional on the surgery page: left empty, no pathology is recorded (yet)."""

    class Meta:
        model = Pathology
        fields = ["ypt", "ypn", "residual_dcis", "pcr_definition", "rcb_class", "rcb_index",
                  "excised_calcification_histology"]
        # Stage prefixes are lower case ("ypT"): Django would capitalise the verbose names.
        labels = {"ypt": "ypT", "ypn": "ypN", "pcr_definition": "pCR definition",
                  "residual_dcis": "Residual DCIS"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["ypt"].required = False

    def is_blank(self) -> bool:
        """Nothing typed in the fields a pathology report fills (the others have defaults)."""
        typed = ("ypt", "ypn", "rcb_class", "rcb_index", "residual_dcis")
        return self.is_bound and not any((self.data.get(self.add_prefix(f)) or "").strip() for f in typed)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not data.get("ypt") and (data.get("ypn") or data.get("rcb_class")
                                    or data.get("rcb_index") is not None):
            self.add_error("ypt", "Give ypT to record the pathology.")
        return data


class ClinicVisitForm(NumberBoundsMixin, forms.ModelForm):
    class Meta:
        model = ClinicVisit
        fields = ["date", "kind", "findings"]
        widgets = _date_widgets(["date"])


class ClinicalEventForm(NumberBoundsMixin, forms.ModelForm):
    class Meta:
        model = ClinicalEvent
        fields = ["date", "kind", "notes"]
        widgets = _date_widgets(["date"])


# The contact page's sections: (title, fields).
CONTACT_SECTIONS = (
    ("Phone, e-mail and address", ["mobile_phone", "home_phone", "email", "address_line1",
                                   "address_line2", "city", "postal_code", "country"]),
    ("Language and preferences", ["preferred_language", "interpreter_needed", "preferred_channel",
                                  "best_time"]),
    ("Consent", ["may_phone", "may_leave_voicemail", "may_text", "may_email", "may_write",
                 "may_write_to_gp", "consent_recorded_on"]),
    ("GP and referring physician", ["gp_name", "gp_practice", "gp_address", "gp_phone", "gp_email",
                                    "referring_physician"]),
)


class ContactDetailsForm(forms.ModelForm):
    """The contact page; the rules are the model's (`ContactDetails.clean`)."""

    class Meta:
        model = ContactDetails
        fields = [name for _, names in CONTACT_SECTIONS for name in names]
        widgets = {
            **_date_widgets(["consent_recorded_on"]),
            "gp_address": forms.Textarea(attrs={"rows": 3}),
            **{name: forms.TextInput(attrs={"type": "tel"})
               for name in ("mobile_phone", "home_phone", "gp_phone")},
        }

    def sections(self) -> list[tuple[str, list]]:
        return [(title, [self[name] for name in names]) for title, names in CONTACT_SECTIONS]


class VoidForm(forms.Form):
    """The reason a record is voided: required, kept on the record and in the audit trail."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=REASON_MAX, strip=True,
        help_text="Why this record is wrong (e.g. entered on the wrong patient, date typed a year "
        "too early). Shown in the patient's history with the record struck through.",
        error_messages={"required": "Say why this record is being voided."},
    )
