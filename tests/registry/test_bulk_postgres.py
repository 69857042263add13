"""The import on PostgreSQL: 10,000 studies (20,000 findings) in well under a minute, and
as many queries for a large file as for a small one."""

import time
from datetime import date

import pytest
from django.db import IntegrityError
from django.test.utils import CaptureQueriesContext

from imaging.models import CalcificationFinding, ImagingStudy
from outbox.models import Event
from patients.models import Patient
from registry.importer import import_registry
from registry.resolve import Resolver
from registry.sample import sample_registry_csv
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import SiteFactory

# Patients already in the tracker: their treatment and study keys (5 statements) and their
# records' dates (4), per 1,000 patients.
QUERY_BUDGET_EXISTING = 9


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



def _statements(connection, text: str) -> list[str]:
    with CaptureQueriesContext(connection) as ctx:
        report = import_registry(text)
    assert report.ok and report.written, report.lines()[:5]
    return [q["sql"].split(" ", 1)[0] for q in ctx.captured_queries]


@pytest.mark.postgres
def test_the_queries_of_an_import_do_not_grow_with_its_rows(postgres_db):
    """Lookups go by 1,000 keys and writes by table, never by row: a file of 60 patients
    costs the statements of a file of 3, new or added to patients already imported.
    Django's query log does not show the COPY of each table nothing refers to (one
    statement a table, whatever its rows)."""
    SiteFactory(code="north")
    SiteFactory(code="south")
    sizes = (("north", 3), ("south", 60))
    new = [_statements(postgres_db, sample_registry_csv(patients=n, studies_per_patient=5, site=site))
           for site, n in sizes]
    # Three more studies each for the same patients: their records are looked up first.
    longer = [_statements(postgres_db, sample_registry_csv(patients=n, studies_per_patient=8, site=site))
              for site, n in sizes]
    assert new[0] == new[1] and longer[0] == longer[1]
    # Sites, patients by MRN; the patients' ids read back, the surgeries' insert, the
    # studies' ids read back, the import's audit event (the patients' are copied); the
    # test's savepoint.
    assert new[0] == ["SELECT", "SELECT", "SAVEPOINT", "SELECT", "INSERT", "SELECT",
                      "INSERT", "RELEASE"]
    assert len(longer[0]) <= len(new[0]) + QUERY_BUDGET_EXISTING, longer[0]


@pytest.mark.postgres
def test_a_row_the_database_refuses_while_writing_leaves_the_file_unwritten(postgres_db, monkeypatch):
    """Checked, then written: a study saved by someone else in between with the same
    accession makes the database refuse the file's studies, and nothing of the file stays
    (its patients' other new rows included)."""
    SiteFactory(code="north")
    assert import_registry(sample_registry_csv(patients=3, studies_per_patient=2)).written
    before = {m: m.objects.count() for m in (ImagingStudy, CalcificationFinding, Event)}
    patient = Patient.objects.get(mrn="GEN-0000001")
    checked = Resolver.resolve

    def someone_saves_a_study_meanwhile(job):
        checked(job)
        ImagingStudyFactory(patient=patient, accession="GEN-0000001-003", study_date=date(2020, 1, 1))

    monkeypatch.setattr(Resolver, "resolve", someone_saves_a_study_meanwhile)
    with pytest.raises(IntegrityError):
        import_registry(sample_registry_csv(patients=3, studies_per_patient=5))
    assert {m: m.objects.count() for m in before} == {**before, ImagingStudy: before[ImagingStudy] + 1}
