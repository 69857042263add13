"""Per-column parsers of the registry CSV, compiled once per import from the model fields.

Parsing each cell with `Field.to_python` and validating every row with `full_clean` cost
~0.4 ms a row, mostly Django's generic per-field machinery run again and again on the
same few values. Here each column is compiled once from its model field:

1. a choice or yes/no column becomes a dict from the text to the value, holding only
   values the field accepts;
2. a date, number or text column converts the text the way `Field.to_python` does and
   checks the field's validators inline (length, min/max);
3. anything else, and any cell the fast path cannot vouch for, goes through the field
   itself: `parse_value` (the importer's original parser) now, and `Field.clean` when the
   row is validated. Every message the import shows is therefore Django's own, as before.

A parsed cell says whether it is *checked*: whether `Field.clean` would certainly pass
on it. The importer runs `Field.clean` only on the unchecked ones (plus `Model.clean`).
"""

import decimal
from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models

TRUE = {"1", "true", "yes", "y", "t"}
FALSE = {"0", "false", "no", "n", "f"}
MISSING = object()


def parse_value(model_field: models.Field, raw: str) -> Any:
    """A cell's value as the importer has always read it (the reference for the fast path)."""
    raw = raw.strip()
    if raw == "":
        if model_field.has_default():
            return model_field.get_default()
        return None if model_field.null else ""
    if isinstance(model_field, models.BooleanField):
        low = raw.lower()
        if low in TRUE:
            return True
        if low in FALSE:
            return False
        raise ValidationError("Write yes or no (or true/false, 1/0).")
    value = model_field.to_python(raw)
    if model_field.choices and value not in {c[0] for c in model_field.flatchoices}:
        allowed = ", ".join(str(c[0]) for c in model_field.flatchoices)
        raise ValidationError(f"'{raw}' is not allowed. Allowed values: {allowed}.")
    return value


def callable_default(model_field: models.Field) -> bool:
    """Whether the field's default is computed per object (uuid4, now …)."""
    return model_field.has_default() and callable(model_field.default)


def field_passes(model_field: models.Field, value: Any) -> bool:
    """Whether `Model.clean_fields` would accept `value` for this field."""
    if model_field.blank and value in model_field.empty_values:
        return True  # clean_fields skips blank values of blank=True fields
    try:
        model_field.clean(value, None)
    except ValidationError:
        return False
    return True


def _decimal(text: str) -> decimal.Decimal:
    value = decimal.Decimal(text)  # what DecimalField.to_python does with text
    if not value.is_finite():
        raise ValueError(text)  # to_python refuses NaN and infinity: let it say so
    return value


def _converter(model_field: models.Field) -> Callable[[str], Any] | None:
    """The conversion `to_python` makes of text, for the field types the layout uses."""
    if isinstance(model_field, models.DateTimeField):
        return None
    if isinstance(model_field, models.DateField):
        return date.fromisoformat  # parse_date tries exactly this first
    if isinstance(model_field, models.DecimalField):
        return _decimal
    if isinstance(model_field, models.IntegerField):
        return int
    if isinstance(model_field, models.CharField | models.TextField):
        return str  # returns the very same text
    return None


def _check(validator: Callable) -> Callable[[Any], bool]:
    limit = getattr(validator, "limit_value", None)
    if not callable(limit):
        if type(validator) is MaxLengthValidator:
            return lambda v: len(v) <= limit
        if type(validator) is MinValueValidator:
            return lambda v: v >= limit
        if type(validator) is MaxValueValidator:
            return lambda v: v <= limit

    def run(value: Any) -> bool:
        try:
            validator(value)
        except ValidationError:
            return False
        return True

    return run


def _all(checks: list[Callable[[Any], bool]]) -> Callable[[Any], bool] | None:
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(check(v) for check in checks)


class Column:
    """One CSV column read into one model field.

    `parse` is the whole rule. The importer's row loop inlines its common cases from
    `blank` and `blank_checked` (a blank cell's value, MISSING when it is computed per
    cell, and whether it passes), and `lookup` (text → value, for choice and yes/no
    columns); `convert` and `check` are the conversion `to_python` makes of text and the
    field's validators (None when there are none).
    """

    __slots__ = ("field", "name", "attname", "blank", "blank_checked", "lookup", "convert",
                 "check")

    def __init__(self, model_field: models.Field):
        self.field = model_field
        self.name = model_field.name
        self.attname = model_field.attname
        # A blank cell: the field's default (or None / ""), as parse_value gives it.
        fixed = not callable_default(model_field)
        self.blank = parse_value(model_field, "") if fixed else MISSING
        self.blank_checked = fixed and field_passes(model_field, self.blank)
        self.lookup: dict[str, Any] | None = None
        self.convert: Callable[[str], Any] | None = None
        self.check: Callable[[Any], bool] | None = None
        if isinstance(model_field, models.BooleanField):
            self.lookup = {**dict.fromkeys(TRUE, True), **dict.fromkeys(FALSE, False)}
        elif model_field.choices:
            self.lookup = {}
            for choice, _label in model_field.flatchoices:
                text = str(choice)
                try:
                    value = parse_value(model_field, text)
                except ValidationError:
                    continue
                if text == text.strip() and field_passes(model_field, value):
                    self.lookup[text] = value
        else:
            self.convert = _converter(model_field)
            self.check = _all([_check(v) for v in model_field.validators])

    def parse(self, raw: str) -> tuple[Any, bool]:
        """(value, checked) of a cell, raising ValidationError as parse_value does.

        `checked`: `Field.clean` would certainly accept the value. Unchecked values
        (cells the fast rules cannot vouch for) still have to pass it.
        """
        text = raw.strip()
        if not text:
            if self.blank is not MISSING:
                return self.blank, self.blank_checked
        elif self.lookup is not None:
            value = self.lookup.get(text, MISSING)
            if value is not MISSING:
                return value, True
        elif self.convert is not None:
            try:
                value = self.convert(text)
            except (ValueError, ArithmeticError):
                pass
            else:
                return value, self.check is None or self.check(value)
        return parse_value(self.field, text), False
