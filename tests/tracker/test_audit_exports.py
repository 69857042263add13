"""Exports, FHIR downloads and registry imports are in the audit trail (issue 7)."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from audit.models import Action, AuditEvent
from tests.patients.factories import PatientFactory, example_signers

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "registry-example.csv"


def test_api_exports_and_fhir_download_are_recorded(client, site, coordinator):
    patient = PatientFactory(site=site)
    client.force_login(coordinator)
    assert client.get(reverse("api-patient-fhir", kwargs={"uuid": patient.uuid})).status_code == 200
    assert client.get(reverse("api-patient-findings-csv",
                              kwargs={"uuid": patient.uuid})).status_code == 200
    assert client.get(reverse("api-patient-export-csv"), {"site": site.code}).status_code == 200
    fhir = AuditEvent.objects.get(action=Action.FHIR_DOWNLOAD)
    assert (fhir.actor_username, fhir.patient_id, str(fhir.patient_uuid)) == (
        "coordinator", patient.id, str(patient.uuid))
    exports = AuditEvent.objects.filter(action=Action.EXPORT).order_by("id")
    assert [e.changes["export"] for e in exports] == ["findings.csv", "patients.csv"]
    assert exports[0].patient_id == patient.id
    assert exports[1].changes["filters"] == {"site": site.code}
    assert all(e.actor_username == "coordinator" for e in exports)


def test_cohort_export_is_recorded(client, site, radiologist):
    client.force_login(radiologist)
    assert client.get(reverse("cohort-export")).status_code == 200
    event = AuditEvent.objects.get(action=Action.EXPORT)
    assert event.changes["export"] == "cohort-concordance.csv" and event.actor_username == "radiologist"


def test_a_confirmed_registry_import_is_recorded(client, site_admin, settings, tmp_path):
    from tests.patients.factories import SiteFactory

    settings.REGISTRY_UPLOAD_DIR = str(tmp_path)
    SiteFactory(code="south").members.add(site_admin)
    example_signers()
    client.force_login(site_admin)
    from registry.models import RegistryUpload
    from registry.uploads import upload_run

    client.post(reverse("registry-import"), {
        "file": SimpleUploadedFile("reg.csv", EXAMPLE.read_bytes(), content_type="text/csv")})
    upload = RegistryUpload.objects.get()
    assert upload_run(upload.id) == "checked"  # the task, as the worker runs it
    assert not AuditEvent.objects.filter(action=Action.IMPORT).exists()  # a dry run is not an import
    client.post(reverse("registry-upload-confirm", kwargs={"uuid": upload.uuid}))
    assert upload_run(upload.id) == "imported"
    event = AuditEvent.objects.get(action=Action.IMPORT, patient_id__isnull=True)
    assert event.actor_username == "siteadmin" and event.changes["rows"] > 0
    assert sum(event.changes["created"].values()) > 0
