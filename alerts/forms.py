from typing import cast

from django import forms

from .models import AlertState, Resolution, Rule, Severity
from .selectors import ACTIVE


class InboxFilterForm(forms.Form):
    severity = forms.ChoiceField(required=False, choices=[("", "Any severity"), *Severity.choices])
    rule = forms.ChoiceField(required=False, choices=[("", "Any rule"), *Rule.choices])
    site = forms.ChoiceField(required=False, choices=[("", "All my sites")])
    state = forms.ChoiceField(required=False, choices=[
        (ACTIVE, "Open or acknowledged"), *AlertState.choices, ("all", "Any state")])

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        site = cast(forms.ChoiceField, self.fields["site"])
        site.choices = [("", "All my sites"), *((s.code, s.name) for s in sites)]

    def filters(self) -> dict[str, str]:
        """The valid filters; an invalid value is ignored rather than failing the page."""
        if self.is_valid():
            data = self.cleaned_data
        else:
            data = {k: v for k, v in self.cleaned_data.items() if k not in self.errors}
        return {"severity": data.get("severity", ""), "rule": data.get("rule", ""),
                "site": data.get("site", ""), "state": data.get("state") or ACTIVE}


class AcknowledgeForm(forms.Form):
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           max_length=2000)


class ResolveForm(forms.Form):
    resolution = forms.ChoiceField(choices=[("", "Choose…"), *Resolution.choices],
                                   error_messages={"required": "Choose a resolution."})
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)
