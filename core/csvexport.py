"""CSV downloads. Cells a spreadsheet would run as a formula (=, +, -, @, tab or carriage
return at the start of text) are prefixed with a quote (OWASP, CSV injection)."""

import csv
from collections.abc import Iterable, Sequence
from typing import Any

from django.http import HttpResponse


def safe_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def csv_response(filename: str, columns: Sequence[str], rows: Iterable[dict]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(row.get(c)) for c in columns])
    return response
