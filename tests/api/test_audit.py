"""The API's reads of a patient's record, its exports, FHIR downloads and registry imports
leave audit events with the right actor, action and patient."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from audit.models import Action, AuditEvent
from patients.models import Patient
from registry.models import RegistryUpload
from registry.uploads import upload_run
from tests.api.helpers import scheduled
from tests.api.test_alerts_timeline_exports import raise_alert
from tests.imaging.factories import CalcificationFindingFactory, ImagingStudyFactory
from tests.patients.factories import PatientFactory, SiteFactory, TumourProfileFactory, example_signers

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"


@pytest.fixture
def patient(site):
    patient = PatientFactory(site=site)
    TumourProfileFactory(patient=patient)
    CalcificationFindingFactory(study=ImagingStudyFactory(patient=patient, final=True))
    return patient


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def reads(patient) -> list[str]:
    return [e.request_path for e in AuditEvent.objects.filter(action=Action.VIEW,
                                                             patient_id=patient.id)]


def test_every_read_of_the_record_is_a_view_event(api_client, radiologist, patient):
    study = patient.studies.get()
    alert = raise_alert(patient)
    item = scheduled(patient, study.study_date)
    urls = [f"/api/patients/{patient.uuid}/", f"/api/patients/{patient.uuid}/timeline/",
            f"/api/patients/{patient.uuid}/fhir/", f"/api/patients/{patient.uuid}/findings.csv/",
            f"/api/studies/{study.uuid}/", f"/api/alerts/{alert.id}/",
            f"/api/schedule/{item.uuid}/"]
    client = api_client(radiologist)
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert sorted(reads(patient)) == sorted(urls)
    view = events(Action.VIEW)[0]
    assert view.actor_id == radiologist.id and view.actor_username == "radiologist"
    assert str(view.patient_uuid) == str(patient.uuid)


def test_lists_and_refused_reads_are_not_views(api_client, radiologist, outsider, patient):
    api_client(radiologist).get("/api/patients/")
    api_client(outsider).get(f"/api/patients/{patient.uuid}/")  # 404
    assert reads(patient) == []


def test_fhir_download_is_recorded(api_client, coordinator, patient):
    api_client(coordinator).get(f"/api/patients/{patient.uuid}/fhir/")
    (event,) = events(Action.FHIR_DOWNLOAD)
    assert event.actor_id == coordinator.id and event.patient_id == patient.id
    assert str(event.patient_uuid) == str(patient.uuid)
    assert event.request_path == f"/api/patients/{patient.uuid}/fhir/"


def test_findings_csv_is_an_export_of_the_patient(api_client, coordinator, patient):
    api_client(coordinator).get(f"/api/patients/{patient.uuid}/findings.csv/")
    (event,) = events(Action.EXPORT)
    assert event.actor_id == coordinator.id and event.patient_id == patient.id
    assert event.changes == {"export": "findings.csv"}


def test_patient_list_csv_is_an_export_with_its_filters(api_client, coordinator, patient):
    api_client(coordinator).get("/api/patients/export.csv/?follow_up_status=active&site=north")
    (event,) = events(Action.EXPORT)
    assert event.actor_id == coordinator.id and event.patient_id is None
    assert event.changes == {"export": "patients.csv",
                             "filters": {"follow_up_status": "active", "site": "north"}}


def test_cohort_csv_is_an_export_with_its_filters(client, radiologist, patient):
    client.force_login(radiologist)
    response = client.get("/cohort/export.csv", {"surgery_from": "2010-01-01"})
    assert response.status_code == 200
    (event,) = events(Action.EXPORT)
    assert event.actor_id == radiologist.id and event.patient_id is None
    assert event.changes["export"] == "cohort-concordance.csv"
    assert event.changes["filters"] == {"surgery_from": ["2010-01-01"]}


def test_refused_cohort_csv_is_not_an_export(client, radiologist):
    client.force_login(radiologist)
    client.get("/cohort/export.csv", {"surgery_from": "2022-01-01", "surgery_to": "2021-01-01"})
    assert events(Action.EXPORT) == []


def test_import_command_records_one_event_with_counts(db):
    SiteFactory(code="north"), SiteFactory(code="south")
    example_signers()
    call_command("import_registry", str(EXAMPLE), "--dry-run", "--no-progress")
    assert events(Action.IMPORT) == []  # a dry run writes nothing
    call_command("import_registry", str(EXAMPLE), "--no-progress")
    event, *per_patient = events(Action.IMPORT)
    assert event.actor_id is None and event.actor_username == "import_registry (command)"
    assert event.changes["source"] == "command"
    assert event.changes["created"]["patient"] == 3 == Patient.objects.count()
    assert event.patient_id is None
    text = str(event.changes)
    for p in Patient.objects.all():
        assert p.mrn not in text and p.family_name not in text
    # One event per patient written to, naming her (id and UUID, not her details).
    assert sorted(e.patient_id for e in per_patient) == sorted(Patient.objects.values_list("id", flat=True))
    case = Patient.objects.get(mrn="REG-1001")
    mine = next(e for e in per_patient if e.patient_id == case.id)
    assert str(mine.patient_uuid) == str(case.uuid) and mine.object_type == "patients.Patient"
    assert mine.changes["created"]["patient"] == 1 and mine.changes["created"]["study"] == 8
    call_command("import_registry", str(EXAMPLE), "--no-progress")
    second = [e for e in events(Action.IMPORT) if e.patient_id is None][1]
    assert second.changes["created"]["patient"] == 0 and second.changes["present"]["patient"] == 3


def test_import_page_records_the_admin(client, site_admin, settings, tmp_path):
    settings.REGISTRY_UPLOAD_DIR = str(tmp_path)
    SiteFactory(code="south").members.add(site_admin)
    example_signers()
    client.force_login(site_admin)
    client.post("/registry/import/",
                {"file": SimpleUploadedFile("reg.csv", EXAMPLE.read_bytes(), "text/csv")})
    upload = RegistryUpload.objects.get()
    assert upload_run(upload.id) == "checked"  # the task, as the worker runs it
    assert events(Action.IMPORT) == []  # checked only
    client.post(f"/registry/import/{upload.uuid}/confirm/")
    assert upload_run(upload.id) == "imported"
    event = next(e for e in events(Action.IMPORT) if e.patient_id is None)
    assert event.actor_id == site_admin.id and event.changes["source"] == "upload"
    assert event.changes["created"]["patient"] == 3
