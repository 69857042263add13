"""The cohort filters, shared by the page, the CSV download and the API."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser

from core.roles import RADIOLOGIST
from imaging.vocabulary import Modality
from patients import vocabulary as pv
from patients.access import sites_for

from .quality_selectors import GROUP_BY, QualityFilters
from .selectors import CohortFilters

DEFAULT_PCR_DEFINITION = pv.PcrDefinition.YPT0IS_YPN0


class CohortFilterForm(forms.Form):
    """Every field is optional; the site choices are the user's own sites only."""

    site = forms.ChoiceField(required=False, label="Site")
    subtype = forms.ChoiceField(
        required=False, choices=[("", "All subtypes"), *pv.Subtype.choices], label="Subtype"
    )
    procedure = forms.ChoiceField(
        required=False, choices=[("", "Any surgery"), *pv.SurgeryProcedure.choices],
        label="Surgery type",
    )
    surgery_from = forms.DateField(required=False, label="Surgery from",
                                   widget=forms.DateInput(attrs={"type": "date"}))
    surgery_to = forms.DateField(required=False, label="Surgery to",
                                 widget=forms.DateInput(attrs={"type": "date"}))
    pcr_definition = forms.ChoiceField(required=False, choices=pv.PcrDefinition.choices,
                                       label="pCR definition")

    def __init__(self, data, *, user: AbstractBaseUser) -> None:
        # A bound form shows the submitted value, not `initial`: without this the page
        # opened with no filters showed the first definition while computing the default,
        # and Apply then silently switched to what was shown.
        data = data.copy()
        if not data.get("pcr_definition"):
            data["pcr_definition"] = DEFAULT_PCR_DEFINITION
        super().__init__(data)
        self.sites = list(sites_for(user).order_by("name"))
        self.fields["site"].choices = [("", "All my sites")] + [(s.code, s.name) for s in self.sites]
        self.fields["pcr_definition"].initial = DEFAULT_PCR_DEFINITION

    def clean_pcr_definition(self) -> str:
        return self.cleaned_data.get("pcr_definition") or DEFAULT_PCR_DEFINITION

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("surgery_from"), data.get("surgery_to")
        if start and end and start > end:
            self.add_error("surgery_to", "The end of the surgery date range is before its start.")
        return data

    def to_filters(self) -> CohortFilters:
        """Only call after is_valid()."""
        data = self.cleaned_data
        if data.get("site"):
            site_ids = tuple(s.id for s in self.sites if s.code == data["site"])
        else:
            site_ids = tuple(s.id for s in self.sites)
        return CohortFilters(
            site_ids=site_ids,
            pcr_definition=data["pcr_definition"],
            subtype=data.get("subtype") or "",
            procedure=data.get("procedure") or "",
            surgery_from=data.get("surgery_from"),
            surgery_to=data.get("surgery_to"),
        )


class ConcordanceQueryForm(CohortFilterForm):
    """The concordance API also names one modality."""

    modality = forms.ChoiceField(choices=[(Modality.MR, "MRI"), (Modality.MG, "Mammography")])


class QualityFilterForm(forms.Form):
    """Filters of the programme quality measures (page, CSV and API)."""

    site = forms.ChoiceField(required=False, label="Site")
    subtype = forms.ChoiceField(required=False, choices=[("", "All subtypes"), *pv.Subtype.choices],
                                label="Subtype")
    radiologist = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Radiologist")
    date_from = forms.DateField(required=False, label="From",
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    group_by = forms.ChoiceField(required=False, choices=list(GROUP_BY.items()), label="Group by")

    def __init__(self, data, *, user: AbstractBaseUser) -> None:
        data = data.copy()
        if not data.get("group_by"):
            data["group_by"] = "site"  # shown as chosen, as the pCR definition above
        super().__init__(data)
        self.sites = list(sites_for(user).order_by("name"))
        self.fields["site"].choices = [("", "All my sites")] + [(s.code, s.name) for s in self.sites]
        radiologists = (get_user_model().objects.filter(groups__name=RADIOLOGIST, sites__in=self.sites)
                        .distinct().order_by("last_name", "first_name", "username"))
        self.fields["radiologist"].choices = [("", "All radiologists")] + [
            (u.pk, u.get_full_name() or u.get_username()) for u in radiologists]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end of the period is before its start.")
        return data

    def to_filters(self) -> QualityFilters:
        """Only call after is_valid()."""
        data = self.cleaned_data
        site_ids = tuple(s.id for s in self.sites if not data.get("site") or s.code == data["site"])
        return QualityFilters(site_ids=site_ids, subtype=data.get("subtype") or "",
                              radiologist_id=data.get("radiologist"), date_from=data.get("date_from"),
                              date_to=data.get("date_to"), group_by=data.get("group_by") or "site")

    @property
    def site_names(self) -> dict[int, str]:
        return {s.id: s.name for s in self.sites}
