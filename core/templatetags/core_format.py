"""Filters with the output of Django's own, made cheap for pages that use them a lot.

- `json_data` is `json_script`: that escapes <, > and & with `str.translate`, which looks
  up a dict per character: ~5 ms for the timeline chart's 15 KB of JSON, more than
  building the figure. Three `str.replace` calls give the same string.
- `dmy` is `date:"j M Y"`, `my` is `date:"M Y"` (core/formatting.py).
"""

import json

from django import template
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from core.formatting import day_month_year, month_year

register = template.Library()
register.filter("dmy", day_month_year, is_safe=False, expects_localtime=True)
register.filter("my", month_year, is_safe=False, expects_localtime=True)


@register.filter(is_safe=True)
def json_data(value, element_id: str) -> SafeString:
    """`{{ value|json_data:"id" }}`: `<script id="id" type="application/json">…</script>`."""
    text = (json.dumps(value, cls=DjangoJSONEncoder)
            .replace("&", "\\u0026").replace("<", "\\u003C").replace(">", "\\u003E"))
    return format_html('<script id="{}" type="application/json">{}</script>', element_id, mark_safe(text))
