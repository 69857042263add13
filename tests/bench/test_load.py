"""Item 11: the pages served by gunicorn in its own process to several clients at once."""

import pytest

from bench import load
from bench.report import PASS
from tests.patients.factories import PatientFactory

# A real server process reads what this test wrote: rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_the_load_row_serves_both_pages_to_concurrent_clients_without_errors(site, radiologist):
    PatientFactory.create_batch(3, site=site)
    rows = load.load_rows(radiologist, [site], clients=3, seconds=2.0, warm_up=0.5, workers=1)
    assert [r.item for r in rows] == ["11", "11"]
    assert [r.name.split(" under load")[0] for r in rows] == ["Timeline page", "Patient list page"]
    for row in rows:
        assert row.status == PASS, row.note  # the only target: no error
        assert row.rate > 0 and row.unit == "requests/s" and row.median <= row.p95
        assert "requests/s per core (1 gunicorn workers)" in row.note and "0 errors" in row.note


def test_a_server_that_answers_errors_fails_the_row(site, outsider):
    # A user without access to the site's patients gets 404s: errors, never a pass.
    PatientFactory.create_batch(2, site=site)
    rows = load.load_rows(outsider, [site], clients=2, seconds=1.0, warm_up=0.2, workers=1)
    timeline = rows[0]
    assert timeline.status != PASS and "errors" in timeline.note
