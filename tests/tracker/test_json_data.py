"""`json_data` gives exactly what Django's `json_script` gives."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from django.template import engines
from django.utils.html import json_script

from tracker.templatetags.tracker_json import json_data

VALUE = {
    "text": "</script><script>alert('x')</script> & \"quoted\" ‘curly’ Ä <br>",
    "nested": [{"a": 1.5, "b": None, "c": True}, ["<", ">", "&"]],
    "day": date(2014, 3, 3), "at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    "decimal": Decimal("12.50"), "uuid": UUID("35f6f2e0-0000-4000-8000-000000000001"),
    "\u2028": "line separator",
}


def test_same_output_as_json_script():
    assert json_data(VALUE, 'chart-"data"') == json_script(VALUE, 'chart-"data"')


def test_chart_include_renders_the_figure_as_json_script_would():
    html = engines["django"].from_string(
        '{% include "_chart.html" with chart_id="c" %}').render({"figure": VALUE})
    assert json_script(VALUE, "c-data") in html and "<script>alert" not in html
