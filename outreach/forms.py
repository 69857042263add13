from django import forms

from patients.vocabulary import PreferredLanguage
from surveillance.forms import UUIDListField

from .models import LetterKind, LetterTemplate


class LetterTemplateForm(forms.ModelForm):
    class Meta:
        model = LetterTemplate
        fields = [
            "letterhead_name",
            "letterhead_address",
            "phone",
            "email",
            "opening_hours",
            "signatory_name",
            "signatory_title",
            "footer",
            "gp_letter_language",
        ]
        widgets = {
            "letterhead_address": forms.Textarea(attrs={"rows": 4}),
            "footer": forms.Textarea(attrs={"rows": 2}),
        }


class PreviewForm(forms.Form):
    preview_kind = forms.ChoiceField(
        label="Letter", choices=LetterKind.choices, initial=LetterKind.OVERDUE_RECALL
    )
    preview_language = forms.ChoiceField(
        label="Language", choices=PreferredLanguage.choices, initial=PreferredLanguage.ENGLISH
    )


class LettersBatchForm(forms.Form):
    """The worklist's "Print letters": its ticked items, and whether GPs get one too."""

    item = UUIDListField()
    gp_letters = forms.BooleanField(required=False)
    filters = forms.CharField(required=False)


class PatientLetterForm(forms.Form):
    """One letter from the patient's letters page."""

    kind = forms.ChoiceField(choices=LetterKind.choices)
    items = forms.TypedMultipleChoiceField(
        required=False, coerce=int, widget=forms.CheckboxSelectMultiple, label="About these exams"
    )
    study = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Result of")

    def __init__(self, *args, items=(), studies=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.item_rows = {i.id: i for i in items}
        self.study_rows = {s.id: s for s in studies}
        self.fields["items"].choices = [(i.id, i.letter_label) for i in items]
        self.fields["study"].choices = [
            ("", "Choose a signed study…"),
            *[(s.id, s.letter_label) for s in studies],
        ]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (LetterKind.DUE_REMINDER, LetterKind.OVERDUE_RECALL) and not data.get("items"):
            self.add_error("items", "Tick the exams the letter is about.")
        if kind == LetterKind.RESULT and not data.get("study"):
            self.add_error("study", "Choose the study whose result the letter gives.")
        return data
