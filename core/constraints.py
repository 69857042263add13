"""Database check constraints whose violation people read as an error on one field.

A plain `CheckConstraint` that `Model.validate_constraints` finds violated says
"Constraint “calc_extent_not_negative” is violated." at the top of the form. A
`FieldCheck` says its own message on its field, in the form, the API (HTTP 400 with the
field's message) and the CSV import alike; and when a row reaches the database without
validation (a race, a raw write) `field_error_from_integrity` turns the database's refusal,
which names the constraint, into the same field error.
"""

from functools import cache

from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, models


class FieldCheck(models.CheckConstraint):
    """A check constraint reported as `{field: [message]}`."""

    non_db_attrs = (*models.CheckConstraint.non_db_attrs, "field")

    def __init__(self, *, condition, name: str, field: str, message: str, **kwargs):
        super().__init__(condition=condition, name=name, violation_error_message=message,
                         violation_error_code=name, **kwargs)
        self.field = field

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS) -> None:
        try:
            super().validate(model, instance, exclude=exclude, using=using)
        except ValidationError as exc:
            raise ValidationError({self.field: [exc]}) from exc

    def deconstruct(self):
        path, args, kwargs = super().deconstruct()
        kwargs["field"] = self.field
        kwargs["message"] = kwargs.pop("violation_error_message")
        kwargs.pop("violation_error_code", None)
        return path, args, kwargs

    def __eq__(self, other):
        return (isinstance(other, FieldCheck) and super().__eq__(other)
                and self.field == other.field)

    __hash__ = models.CheckConstraint.__hash__


# Constraints that are not `FieldCheck`s (unique constraints; check constraints kept plain
# for a database reason), named by their app: constraint name → (field, message).
_NAMED: dict[str, tuple[str, str]] = {}


def name_constraint_fields(fields: dict[str, tuple[str, str]]) -> None:
    """Say which field, with which message, each of these constraints guards."""
    _NAMED.update(fields)


@cache
def _field_checks() -> dict[str, tuple[str, str]]:
    found = {c.name: (c.field, str(c.violation_error_message))
             for model in apps.get_models() for c in model._meta.constraints
             if isinstance(c, FieldCheck)}
    return {**_NAMED, **found}


def field_error_from_integrity(exc: IntegrityError) -> ValidationError | None:
    """The field error of the `FieldCheck` the database named in `exc`, or None.

    SQLite says "CHECK constraint failed: <name>", PostgreSQL 'violates check constraint
    "<name>"'; both name the constraint.
    """
    words = str(exc).replace('"', " ").replace(":", " ").split()
    for name, (field, message) in _field_checks().items():
        if name in words:
            return ValidationError({field: [message]}, code=name)
    return None
