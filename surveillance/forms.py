from typing import cast

from django import forms

from .models import BiopsyFollowUp, ContactLog, ScheduledItem
from .selectors import STATE_FILTERS

STATE_CHOICES = [(s, {"lost": "Lost to follow-up"}.get(s, s.capitalize())) for s in STATE_FILTERS]


class WorklistFilterForm(forms.Form):
    site = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(required=False, choices=[("", "All exams"), *ScheduledItem.Kind.choices])
    state = forms.ChoiceField(required=False, choices=[("", "Due and overdue"), *STATE_CHOICES])

    def __init__(self, *args, sites=(), **kwargs):
        super().__init__(*args, **kwargs)
        site = cast(forms.TypedChoiceField, self.fields["site"])
        site.choices = [("", "All my sites"), *[(s.id, s.name) for s in sites]]


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(choices=ContactLog.Outcome.choices)
    new_date = forms.DateField(required=False, label="New date (rescheduled)",
                               widget=forms.DateInput(attrs={"type": "date"}))
    done_on = forms.DateField(required=False, label="Date of imaging (done elsewhere)",
                              widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class BiopsyResultForm(forms.Form):
    biopsy_date = forms.DateField(label="Biopsy date", widget=forms.DateInput(attrs={"type": "date"}))
    histology = forms.ChoiceField(choices=[("", "—"), *BiopsyFollowUp.Histology.choices])
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BiopsyFilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", "All"), ("awaiting", "Awaiting a result"),
                                                       ("overdue", "Overdue"), ("done", "Result recorded")])
