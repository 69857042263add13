"""The study entry form: the study, and one inline row per calcification group or MRI lesion.

The forms only parse and check fields; `imaging.services` saves the whole study or nothing,
and its `StudyValidationError` is mapped back onto these forms (`apply_service_errors`).
"""

from typing import cast

from django import forms
from django.forms import BaseFormSet, formset_factory
from django.forms.formsets import DELETION_FIELD_NAME

from core.forms import NumberBoundsMixin
from patients.forms import DateInput

from . import vocabulary as v
from .models import CalcificationFinding, EnhancementFinding, ImagingStudy
from .services import StudyValidationError

GROUP_LIST_ID = "earlier-groups"
LESION_LIST_ID = "earlier-lesions"

MG_ONLY = ("breast_composition",)
MR_ONLY = ("bpe", "no_enhancement")


class StudyForm(forms.ModelForm):
    class Meta:
        model = ImagingStudy
        fields = ["modality", "study_date", "accession", "phase", "laterality", "birads",
                  "breast_composition", "bpe", "no_enhancement", "report_text"]
        widgets = {"study_date": DateInput(), "report_text": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The modality decides which finding rows the page offers: fixed once chosen.
        self.fields["modality"].disabled = True
        modality = self.instance.modality
        for name in (*([] if modality == v.Modality.MG else MG_ONLY),
                     *([] if modality == v.Modality.MR else MR_ONLY)):
            del self.fields[name]

    def service_data(self) -> dict:
        return {k: val for k, val in self.cleaned_data.items() if k != "modality"} | {
            "modality": self.instance.modality}


class FindingForm(NumberBoundsMixin, forms.ModelForm):
    """A row of the inline formset. A row with none of its key fields filled is ignored."""

    key_fields: tuple[str, ...] = ()

    def has_changed(self) -> bool:
        return any((self.data.get(self.add_prefix(f)) or "").strip() for f in self.key_fields)

    def service_row(self) -> dict:
        return dict(self.cleaned_data)


def _yes_no(value: str) -> bool:
    return value == "True"


class CalcificationForm(FindingForm):
    key_fields = ("group", "morphology", "distribution", "extent_mm", "count", "count_bin")
    # An explicit answer, no default: a new group outside the tumour bed is a high-severity
    # alert, inside it a medium one (docs/clinical-rules.md, calc_new_group).
    inside_tumor_bed = forms.TypedChoiceField(
        label="Inside tumour bed", choices=[("", "Choose…"), ("True", "Yes"), ("False", "No")],
        coerce=_yes_no, empty_value=None,
        error_messages={"required": "Say whether the group is inside the tumour bed."})

    class Meta:
        model = CalcificationFinding
        # The service's fields, in the order a radiologist reads a calcification description.
        fields = ["group", "laterality", "morphology", "distribution", "extent_mm", "count", "count_bin",
                  "observed_change", "quadrant", "clock", "depth", "nipple_distance_mm",
                  "inside_tumor_bed", "clip_present"]
        labels = {"nipple_distance_mm": "From nipple (mm)"}
        widgets = {"group": forms.TextInput(attrs={"list": GROUP_LIST_ID, "size": 6,
                                                   "autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["count_bin"].required = False
        self.fields["count_bin"].help_text = "Or give the exact count."
        # The study page explains labels once; per-row help would repeat it on every row.
        self.fields["group"].help_text = self.fields["count"].help_text = ""

    def clean(self):
        super().clean()
        data = self.cleaned_data
        count, count_bin = data.get("count"), data.get("count_bin")
        if count is not None and not count_bin:
            data["count_bin"] = v.count_bin_for(count)
        elif count is None and not count_bin and "count_bin" not in self.errors:
            self.add_error("count_bin", "Give the count bin or the exact count.")
        return data

    def service_row(self) -> dict:
        row = dict(self.cleaned_data)
        row.pop("DELETE", None)
        return row


class EnhancementForm(FindingForm):
    key_fields = ("lesion", "lesion_type", "size_mm", "kinetics_delayed")

    class Meta:
        model = EnhancementFinding
        fields = ["lesion", "laterality", "lesion_type", "size_mm", "kinetics_initial", "kinetics_delayed",
                  "observed_change", "mass_shape", "mass_margin", "nme_distribution", "nme_pattern",
                  "quadrant", "clock", "depth", "nipple_distance_mm"]
        labels = {"nipple_distance_mm": "From nipple (mm)"}
        widgets = {"lesion": forms.TextInput(attrs={"list": LESION_LIST_ID, "size": 8,
                                                    "autocomplete": "off"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lesion"].help_text = ""

    def service_row(self) -> dict:
        row = dict(self.cleaned_data)
        row.pop("DELETE", None)
        return row


class BaseFindingFormSet(BaseFormSet):
    def rows(self) -> list[FindingForm]:
        """The filled, not deleted rows, in the order they are passed to the service."""
        return [f for f in self.forms
                if f.has_changed() and not f.cleaned_data.get(DELETION_FIELD_NAME, False)]


CalcificationFormSet = cast("type[BaseFindingFormSet]", formset_factory(
    CalcificationForm, formset=BaseFindingFormSet, extra=1, can_delete=True))
EnhancementFormSet = cast("type[BaseFindingFormSet]", formset_factory(
    EnhancementForm, formset=BaseFindingFormSet, extra=1, can_delete=True))


class AmendForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the amendment", widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept with the study for ever, with your name and the time.")

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("Say why the signed study is being amended.")
        return reason


def _add(form: forms.BaseForm, field: str | None, messages: list[str]) -> None:
    target = field if field in form.fields else None
    for message in messages:
        if target is None and field not in (None, "__all__"):
            message = f"{field.replace('_', ' ').capitalize()}: {message}"
        form.add_error(target, message)


def apply_service_errors(exc: StudyValidationError, study_form: StudyForm,
                         calc_rows: list[FindingForm], enh_rows: list[FindingForm]) -> None:
    """Put each error of the service where it belongs: study field, finding row field, or top."""
    for field, msgs in exc.study_errors.items():
        _add(study_form, field, list(msgs))
    for rows, errors in ((calc_rows, exc.calc_errors), (enh_rows, exc.enh_errors)):
        for i, row_errors in errors.items():
            for field, msgs in row_errors.items():
                _add(rows[i], field, list(msgs))
    for message in exc.non_field:
        study_form.add_error(None, message)
