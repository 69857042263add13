"""The cheap filters give exactly what Django's own give."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

import pytest
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.utils import translation
from django.utils.html import json_script

from core.formatting import day_month_year, month_year
from core.templatetags.core_format import json_data

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


@pytest.mark.parametrize("language", ["en-gb", "fr", "de"])
def test_day_month_year_is_djangos_date_filter(language):
    days = [date(1999, m, d) for m in range(1, 13) for d in (1, 9, 28)] + [date(5, 1, 2)]
    with translation.override(language):
        assert [day_month_year(d) for d in days] == [date_filter(d, "j M Y") for d in days]
        assert [month_year(d) for d in days] == [date_filter(d, "M Y") for d in days]
    assert day_month_year(None) == month_year(None) == date_filter(None, "j M Y") == ""


def test_dmy_filter_renders_like_date_j_m_y_datetimes_in_local_time_too(settings):
    settings.TIME_ZONE = "Pacific/Auckland"
    value = {"day": date(2014, 3, 3), "at": datetime(2024, 1, 31, 20, 0, tzinfo=UTC), "none": None}
    render = engines["django"].from_string
    mine = render("{% load core_format %}"
                  "{{ v.day|dmy }}/{{ v.at|dmy }}/{{ v.none|dmy|default:'ongoing' }}")
    django = render('{{ v.day|date:"j M Y" }}/{{ v.at|date:"j M Y" }}/'
                    '{{ v.none|date:"j M Y"|default:"ongoing" }}')
    assert mine.render({"v": value}) == django.render({"v": value}) == "3 Mar 2014/1 Feb 2024/ongoing"
