import uuid

from django import forms

from .models import BiopsyFollowUp, ContactLog, ScheduledItem
from .selectors import STATE_FILTERS, WorklistFilters

STATE_CHOICES = [(s, {"lost": "Lost to follow-up"}.get(s, s.capitalize())) for s in STATE_FILTERS]
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _choices(form: forms.Form, name: str, choices: list) -> None:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    field.choices = choices


class WorklistFilterForm(forms.Form):
    site = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    kind = forms.ChoiceField(required=False, choices=[("", "All exams"), *ScheduledItem.Kind.choices])
    state = forms.ChoiceField(required=False, choices=[("", "Due and overdue"), *STATE_CHOICES])
    owner = forms.ChoiceField(required=False)
    due_from = forms.DateField(required=False, label="Due from", widget=DATE)
    due_to = forms.DateField(required=False, label="Due to", widget=DATE)

    def __init__(self, *args, sites=(), colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choices(self, "site", [("", "All my sites"), *[(s.id, s.name) for s in sites]])
        _choices(self, "owner", [("", "Anyone"), ("me", "Mine"), ("none", "Nobody yet"),
                                 *[(str(u.id), u.get_full_name() or u.username) for u in colleagues]])

    def clean(self):
        data = super().clean() or {}
        start, end = data.get("due_from"), data.get("due_to")
        if start and end and end < start:
            self.add_error("due_to", "The end of the window is before its start.")
        return data

    def filters(self) -> WorklistFilters:
        """The valid filters (one that is not valid shows its error and filters nothing)."""
        if not self.is_bound:
            return WorklistFilters()
        self.is_valid()
        data = self.cleaned_data
        return WorklistFilters(site_id=data.get("site"), kind=data.get("kind", ""),
                               state=data.get("state", ""), owner=data.get("owner", ""),
                               due_from=data.get("due_from"), due_to=data.get("due_to"))


class ContactForm(forms.Form):
    outcome = forms.ChoiceField(choices=ContactLog.Outcome.choices)
    new_date = forms.DateField(required=False, label="New date (rescheduled)",
                               widget=forms.DateInput(attrs={"type": "date"}))
    done_on = forms.DateField(required=False, label="Date of imaging (done elsewhere)",
                              widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class UUIDListField(forms.Field):
    """The ticked checkboxes: a list of UUIDs (the items on the page)."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Tick at least one item.",
                              "invalid": "That is not an item of the worklist."}

    def to_python(self, value) -> list[uuid.UUID]:
        try:
            return [uuid.UUID(str(v)) for v in (value or []) if v]
        except ValueError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


class BulkForm(forms.Form):
    """The worklist's actions on the ticked items (`item`: their UUIDs)."""

    ACTIONS = [("contact", "Record contact"), ("reschedule", "Reschedule"), ("assign", "Assign"),
               ("csv", "Export CSV")]
    action = forms.ChoiceField(choices=ACTIONS)
    item = UUIDListField()
    outcome = forms.ChoiceField(required=False, choices=[("", "Outcome…"), *[
        c for c in ContactLog.Outcome.choices if c[0] not in ("rescheduled", "done_elsewhere")]])
    note = forms.CharField(required=False, max_length=2000)
    new_date = forms.DateField(required=False, label="New date", widget=DATE)
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Assign to")
    owner_due_date = forms.DateField(required=False, label="Act by", widget=DATE)
    # Set by the view after a refused action: per-item messages (item UUID → why).
    item_errors: dict[str, str]
    item_error_lines: list[str]

    def __init__(self, *args, colleagues=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.colleagues = {u.id: u for u in colleagues}
        _choices(self, "owner", [("", "Nobody (unassign)"), *[
            (u.id, u.get_full_name() or u.username) for u in colleagues]])

    def clean(self):
        data = super().clean() or {}
        action = data.get("action")
        if action == "contact" and not data.get("outcome"):
            self.add_error("outcome", "Choose what happened.")
        if action == "reschedule" and not data.get("new_date"):
            self.add_error("new_date", "Give the new date.")
        return data
class BiopsyResultForm(forms.Form):
    biopsy_date = forms.DateField(label="Biopsy date", widget=forms.DateInput(attrs={"type": "date"}))
    histology = forms.ChoiceField(choices=[("", "—"), *BiopsyFollowUp.Histology.choices])
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BiopsyFilterForm(forms.Form):
    state = forms.ChoiceField(required=False, choices=[("", "All"), ("awaiting", "Awaiting a result"),
                                                       ("overdue", "Overdue"), ("done", "Result recorded")])
