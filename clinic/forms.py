"""The patient list's filter bar."""

from django import forms
from django.db.models import QuerySet

from core.widgets import Select
from patients import vocabulary as v
from patients.models import Site

from .selectors import PATIENT_SORTS

# The search is a filter per word over three columns: bounded, so a pasted paragraph
# cannot cost seconds of database time.
SEARCH_MAX_LENGTH = 100
SEARCH_MAX_WORDS = 5


class PatientFilterForm(forms.Form):
    q = forms.CharField(label="Name, MRN or date of birth", required=False,
                        max_length=SEARCH_MAX_LENGTH,
                        widget=forms.TextInput(attrs={"type": "search",
                                                      "placeholder": "Family, Given · MRN · birth date"}))
    site = forms.ModelChoiceField(queryset=Site.objects.none(), required=False, empty_label="All sites",
                                  widget=Select)
    follow_up_status = forms.ChoiceField(
        label="Follow-up", required=False, choices=[("", "Any follow-up")] + v.FollowUpStatus.choices,
        widget=Select)
    subtype = forms.ChoiceField(required=False, choices=[("", "Any subtype")] + v.Subtype.choices,
                                widget=Select)
    pcr = forms.ChoiceField(label="pCR", required=False, choices=[
        ("", "Any pCR"), ("yes", "pCR"), ("no", "Residual disease"), ("unknown", "No pathology yet")],
        widget=Select)
    alert = forms.ChoiceField(label="Open alert", required=False, choices=[
        ("", "Any"), ("yes", "Has open alert"), ("no", "No open alert")], widget=Select)
    overdue = forms.ChoiceField(label="Surveillance", required=False, choices=[
        ("", "Any"), ("yes", "Overdue exam"), ("no", "Nothing overdue")], widget=Select)
    sort = forms.ChoiceField(required=False, choices=[(k, k) for k in PATIENT_SORTS],
                             widget=forms.HiddenInput)

    def __init__(self, *args, sites: QuerySet[Site], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = sites

    def clean_q(self) -> str:
        q = self.cleaned_data["q"]
        if len(q.split()) > SEARCH_MAX_WORDS:
            raise forms.ValidationError(f"Search with at most {SEARCH_MAX_WORDS} words "
                                        "(a name, an MRN or a date of birth).")
        return q

    @property
    def search_refused(self) -> bool:
        """A search too long to run: the list shows the error and no patients."""
        return self.is_bound and "q" in self.errors

    def selector_kwargs(self) -> dict:
        """Arguments for `clinic.selectors.patient_list` (invalid input is ignored)."""
        data = self.cleaned_data if self.is_valid() else {}
        alert = data.get("alert", "")
        return {
            "q": data.get("q", ""),
            "site": data["site"].id if data.get("site") else None,
            "follow_up_status": data.get("follow_up_status", ""),
            "subtype": data.get("subtype", ""),
            "pcr": data.get("pcr", ""),
            "has_open_alert": {"yes": True, "no": False}.get(alert),
            "overdue": {"yes": True, "no": False}.get(data.get("overdue", "")),
            "sort": data.get("sort") or "name",
        }
