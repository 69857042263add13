from typing import cast

from django import forms

from .models import (
    IMAGING_RESOLUTIONS,
    SURVEILLANCE_RESOLUTIONS,
    AlertState,
    Resolution,
    Rule,
    Severity,
    resolutions_for,
)
from .selectors import ACTIVE, parse_case_keys

MAX_CASES = 200  # one bulk action; more than a page of the inbox is a mistake


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
    """Resolving one alert, or one case, with the resolutions of its kind only."""

    resolution = forms.ChoiceField(error_messages={"required": "Choose a resolution."})
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           max_length=2000)

    def __init__(self, *args, surveillance: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ChoiceField, self.fields["resolution"])
        field.choices = [("", "Choose…"),
                         *((r.value, r.label) for r in resolutions_for(surveillance=surveillance))]


class CaseActionForm(forms.Form):
    """The inbox's action on the ticked cases (and a case's action on its alert page)."""

    ACTIONS = [("acknowledge", "Acknowledge"), ("resolve", "Resolve")]

    action = forms.ChoiceField(choices=ACTIONS, error_messages={"required": "Choose an action."})
    resolution = forms.ChoiceField(required=False)
    note = forms.CharField(required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 1}))

    def __init__(self, *args, imaging: bool = True, surveillance: bool = True, **kwargs):
        """`imaging` / `surveillance`: offer the resolutions of the kinds the user acts on."""
        super().__init__(*args, **kwargs)
        groups: list[tuple[str, tuple[Resolution, ...]]] = (
            [("Imaging alerts", IMAGING_RESOLUTIONS)] if imaging else [])
        groups += [("Surveillance alerts", SURVEILLANCE_RESOLUTIONS)] if surveillance else []
        field = cast(forms.ChoiceField, self.fields["resolution"])
        field.choices = [("", "Resolution…"),
                         *((name, [(r.value, r.label) for r in group]) for name, group in groups)]

    def clean(self):
        data = super().clean() or {}
        keys = self.data.getlist("case") if hasattr(self.data, "getlist") else []
        if not keys:
            self.add_error(None, "Tick at least one case.")
        elif len(keys) > MAX_CASES:
            self.add_error(None, f"At most {MAX_CASES} cases at once.")
        else:
            try:
                parse_case_keys(keys)
            except ValueError:
                self.add_error(None, "A ticked case is not one of the inbox's.")
        data["cases"] = keys
        if data.get("action") == "resolve" and not data.get("resolution"):
            self.add_error("resolution", "Choose a resolution.")
        return data
