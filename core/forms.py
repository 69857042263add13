"""Helpers shared by the model forms of every app."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator


class NumberBoundsMixin:
    """Number inputs carry their model field's bounds (`MinValueValidator`,
    `MaxValueValidator`) as `min` / `max`, so the browser refuses what the model would, and
    the form says so on the field before the model is asked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        model = self._meta.model  # type: ignore[attr-defined]
        for name, field in self.fields.items():  # type: ignore[attr-defined]
            if not isinstance(field.widget, forms.NumberInput):
                continue
            try:
                validators = model._meta.get_field(name).validators
            except Exception:  # noqa: BLE001 — a form field with no model field
                continue
            for validator in validators:
                if isinstance(validator, MinValueValidator):
                    field.widget.attrs["min"] = validator.limit_value
                elif isinstance(validator, MaxValueValidator):
                    field.widget.attrs["max"] = validator.limit_value
