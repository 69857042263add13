"""`core.widgets.Select` writes the HTML `forms.Select` writes, without its templates."""

import pytest
from django import forms
from django.test.html import parse_html

from clinic.forms import PatientFilterForm
from core.widgets import Select
from patients.models import Site

CHOICES = [("", "Any"), ("a", "Ann & <Bea>"), ("b", 'Quote "b"'), (3, "Three")]


def both(field: forms.Field, value, attrs=None) -> tuple:
    fast = forms.Form()
    fast.fields["f"] = field
    slow = forms.Form()
    slow.fields["f"] = type(field)(**{**field_kwargs(field), "widget": forms.Select})
    fast_html = fast.fields["f"].widget.render("f", value, attrs)
    slow_html = slow.fields["f"].widget.render("f", value, attrs)
    return parse_html(fast_html), parse_html(slow_html)


def field_kwargs(field: forms.Field) -> dict:
    if isinstance(field, forms.ModelChoiceField):
        return {"queryset": field.queryset, "required": field.required, "empty_label": field.empty_label}
    return {"choices": field.choices, "required": field.required}


@pytest.mark.parametrize("value", ["", None, "a", "b", 3, "3", "missing"])
def test_same_html_as_django_select(value):
    fast, slow = both(forms.ChoiceField(choices=CHOICES, required=False, widget=Select), value,
                      {"id": "id_f", "required": True, "class": "x"})
    assert fast == slow


@pytest.mark.django_db
def test_model_choices_render_like_django_select(site, other_site):
    queryset = Site.objects.order_by("code")
    for value in (None, site.pk, str(other_site.pk)):
        fast, slow = both(forms.ModelChoiceField(queryset=queryset, required=False, empty_label="All sites",
                                                 widget=Select), value, {"id": "id_site"})
        assert fast == slow


@pytest.mark.django_db
def test_the_patient_filter_keeps_the_choice_made(site):
    form = PatientFilterForm({"subtype": "triple_negative", "pcr": "no"}, sites=Site.objects.all())
    assert form.is_valid()
    html = str(form["pcr"]) + str(form["subtype"])
    assert '<option value="no" selected>Residual disease</option>' in html
    assert 'id="id_pcr"' in html and 'name="subtype"' in html
