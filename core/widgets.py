"""Form widgets for pages shown on every visit, rendered without the widget templates.

Django renders a `<select>` through its form renderer: the select's template, then an
`{% include %}` of the option template per option and of the attributes template per
element. On the patient list, whose filter bar has six selects, that was ~2 ms of each
request, more than fetching the page's rows (docs/performance.md). `Select` writes the
same HTML with `format_html` (every value and label escaped) instead.
"""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class Select(forms.Select):
    """`forms.Select` (single choice, no option groups) written in Python."""

    def render(self, name, value, attrs=None, renderer=None):
        final_attrs = self.build_attrs(self.attrs, {**(attrs or {}), "name": name})
        selected = set(self.format_value(value))
        options = format_html_join(
            "\n", '<option value="{}"{}>{}</option>',
            ((choice, " selected" if str(choice) in selected else "", label)
             for choice, label in self.choices),
        )
        return format_html("<select{}>\n{}\n</select>", flatatt(final_attrs), options)
