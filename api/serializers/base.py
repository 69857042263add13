"""Serializer helpers shared by every API serializer."""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers


def _allowed(field: serializers.ChoiceField) -> str:
    return ", ".join(f'"{key}"' for key in field.choices)


def name_allowed_choices(field: serializers.Field) -> None:
    """Make a choice error name the allowed values (a bad BI-RADS "7" lists 0…6)."""
    if isinstance(field, serializers.ChoiceField):
        # DRF formats the message with `input`; braces in values are escaped for format().
        allowed = _allowed(field).replace("{", "{{").replace("}", "}}")
        field.error_messages["invalid_choice"] = (
            f'"{{input}}" is not a valid choice. Allowed values: {allowed}.'
        )
    child = getattr(field, "child", None)
    if child is not None:
        name_allowed_choices(child)


class AllowedChoicesMixin:
    """Every choice field of the serializer lists its allowed values in its error."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for field in fields.values():
            name_allowed_choices(field)
        return fields


def drf_errors(exc: DjangoValidationError) -> dict[str, Any] | list[str]:
    """A Django ValidationError as DRF's error structure (`__all__` → non_field_errors)."""
    if not hasattr(exc, "error_dict"):
        return {"non_field_errors": list(exc.messages)}
    out: dict[str, Any] = {}
    for key, errors in exc.message_dict.items():
        out["non_field_errors" if key == "__all__" else key] = list(errors)
    return out


def prefetched(source: str) -> str:
    """The attribute a `Prefetch(..., to_attr=...)` of the relation `source` fills, read by
    `PrefetchedListSerializer`."""
    return f"_prefetched_{source}"


class PrefetchedListSerializer(serializers.ListSerializer):
    """Reads a nested list from the plain list `Prefetch(to_attr=prefetched(source))` left
    on the instance, else from the related manager as usual (e.g. a just-saved object)."""

    def get_attribute(self, instance):
        rows = getattr(instance, prefetched(self.source), None)
        return rows if rows is not None else super().get_attribute(instance)
