"""10,000 studies (20,000 findings) in well under a minute on PostgreSQL."""

import time

import pytest

from imaging.models import CalcificationFinding, ImagingStudy
from registry.importer import import_registry
from registry.sample import sample_registry_csv
from tests.patients.factories import SiteFactory


@pytest.mark.postgres
def test_ten_thousand_studies_import_quickly_and_rerun_changes_nothing(postgres_db):
    SiteFactory(code="north")
    text = sample_registry_csv(patients=1000, studies_per_patient=10)
    started = time.perf_counter()
    report = import_registry(text)
    elapsed = time.perf_counter() - started
    assert report.ok, report.lines()[:5]
    assert ImagingStudy.objects.count() == 10_000
    assert CalcificationFinding.objects.count() == 20_000
    print(f"\nimported 10,000 studies in {elapsed:.1f} s")
    assert elapsed < 60
    again = import_registry(text)
    assert sum(again.created.values()) == 0 and again.present["study"] == 10_000
