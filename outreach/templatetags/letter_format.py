"""Dates as letters print them, in the language being rendered."""

from datetime import date

from django import template
from django.utils import formats, translation
from django.utils.dateformat import format as date_format

register = template.Library()


@register.filter
def letter_date(value: date | None) -> str:
    """3 March 2027 / 3 mars 2027 / 3 de marzo de 2027 (the language's long date)."""
    if value is None:
        return ""
    if (translation.get_language() or "en").startswith("en"):
        return date_format(value, "j F Y")
    return formats.date_format(value, "DATE_FORMAT")
