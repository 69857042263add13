"""Forms of the reconciliation queue and the message log."""

from django import forms

from patients.forms import DateInput

from .models import Message


class RegisterForm(forms.Form):
    """The patient a held message is about, prefilled from its PID for staff to check."""

    family_name = forms.CharField(max_length=100)
    given_name = forms.CharField(max_length=100)
    date_of_birth = forms.DateField(widget=DateInput())


class CloseForm(forms.Form):
    note = forms.CharField(label="What was done", max_length=500,
                           widget=forms.TextInput(attrs={"placeholder": "e.g. study amended by Dr Ng"}))


class LogFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Any status"), *Message.Status.choices], required=False)
    type = forms.ChoiceField(choices=[("", "Any type"), ("ADT", "ADT"), ("ORU", "ORU"), ("ORM", "ORM"),
                                      ("OMI", "OMI")], required=False)
    q = forms.CharField(label="Control ID or accession", required=False, max_length=64)
