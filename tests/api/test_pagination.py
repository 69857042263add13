"""Pages counted up to a bound (core/pagination.py), in the API and on the patient list:
`count` exact up to a bound past the page's start, a lower bound beyond it, every row reached."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import pagination
from tests.patients.factories import PatientFactory

URL = "/api/patients/"


@pytest.fixture
def five(site):
    return {str(PatientFactory(site=site).uuid) for _ in range(5)}


@pytest.mark.parametrize(("limit", "count", "exact"), [
    (4, 4, False),  # one row more than the bound: counted up to it
    (5, 5, True),  # exactly the bound
    (6, 5, True),
])
def test_count_is_exact_up_to_the_bound_and_a_lower_bound_past_it(api_client, coordinator, five,
                                                                  monkeypatch, limit, count, exact):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", limit)
    body = api_client(coordinator).get(URL + "?page_size=2").json()
    assert (body["count"], body["count_exact"]) == (count, exact)
    assert len(body["results"]) == 2 and body["next"]


def test_following_next_reaches_every_row_once_and_the_count_ends_exact(api_client, coordinator, five,
                                                                         monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 1)
    client = api_client(coordinator)
    url, seen, pages = URL + "?page_size=2", [], []
    while url:
        body = client.get(url).json()
        seen += [p["uuid"] for p in body["results"]]
        pages.append((body["count"], body["count_exact"]))
        url = body["next"]
    assert sorted(seen) == sorted(five)
    # Page n counts up to n × 2 rows (past the bound of 1): 2+, 4+, then all 5.
    assert pages == [(2, False), (4, False), (5, True)]


def test_last_page_counts_every_row(api_client, coordinator, five, monkeypatch):
    monkeypatch.setattr(pagination, "COUNT_LIMIT", 1)
    body = api_client(coordinator).get(URL + "?page_size=2&page=last").json()
    assert (body["count"], body["count_exact"], len(body["results"]), body["next"]) == (5, True, 1, None)


@pytest.mark.parametrize("page", ["4", "0", "two"])
def test_a_page_that_is_not_there_is_404(api_client, coordinator, five, page):
    response = api_client(coordinator).get(f"{URL}?page_size=2&page={page}")
    assert response.status_code == 404
    assert response.json()["detail"].startswith("Invalid page")


def test_the_count_reads_rows_in_no_order_and_stops_at_the_bound(api_client, coordinator, five):
    with CaptureQueriesContext(connection) as ctx:
        api_client(coordinator).get(URL)
    (count,) = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"]]
    assert f"LIMIT {pagination.COUNT_LIMIT + 1}" in count and "ORDER BY" not in count


def test_every_list_of_the_api_is_counted_so(api_client, coordinator, five):
    for url in ("/api/studies/", "/api/alerts/", "/api/schedule/", URL):
        assert api_client(coordinator).get(url).json()["count_exact"] is True, url


def test_the_list_page_says_more_than_and_or_more_past_the_bound(client, coordinator, five, monkeypatch):
    from django.urls import reverse

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 4)
    monkeypatch.setattr("clinic.views.PAGE_SIZE", 2)
    client.force_login(coordinator)
    html = client.get(reverse("patient-list")).content.decode()
    assert "More than 4 patients" in html and "Page 1 of 2 or more" in html  # 4 rows: 2 pages
    html = client.get(reverse("patient-list") + "?page=3").content.decode()
    assert "5 patients" in html and "Page 3 of 3<" in html  # page 3 counts 6: all 5, exact


def test_the_list_page_formats_a_large_bound(client, coordinator, five, monkeypatch):
    from django.urls import reverse

    monkeypatch.setattr(pagination, "COUNT_LIMIT", 2_000)
    monkeypatch.setattr("clinic.views.PAGE_SIZE", 2)
    monkeypatch.setattr(pagination.BoundedCountPaginator, "count_exact", property(lambda self: False))
    client.force_login(coordinator)
    html = client.get(reverse("patient-list")).content.decode()
    assert "More than 2,000 patients" in html and "Page 1 of 1,000 or more" in html
