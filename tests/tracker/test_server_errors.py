"""Inputs that used to answer 500 now get a 400 or a 404 (security round 2)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.api.test_alerts_timeline_exports import raise_alert
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(radiologist):
    client = APIClient()
    client.force_authenticate(radiologist)
    return client


@pytest.mark.parametrize("value", ["2024-01-01T00:00:00+16:00", "2024-01-01T00:00:00-23:59",
                                   "0001-01-01T00:00:00+05:00", "9999-12-31T23:59:59-05:00"])
def test_a_time_zone_offset_beyond_postgresql_range_is_not_a_500(api, site, value):
    raise_alert(PatientFactory(site=site))
    response = api.get("/api/alerts/", {"created_after": value, "created_before": value})
    assert response.status_code in (200, 400), response.content


def test_an_offset_is_compared_as_the_instant_it_names(api, site):
    alert = raise_alert(PatientFactory(site=site))
    at = alert.created_at.astimezone()
    later = at.replace(microsecond=0).isoformat()
    assert api.get("/api/alerts/", {"created_after": "2000-01-01T00:00:00+20:00"}).json()["count"] == 1
    assert api.get("/api/alerts/", {"created_before": later}).status_code == 200


@pytest.mark.parametrize("path", [
    "/api/patients/{patient}/timeline.json", "/api/patients/{patient}/fhir.json",
    "/api/patients/{patient}/findings.csv.json", "/api/patients/export.csv.json",
    "/api/studies/{study}/sign.json", "/api/studies/{study}/amend.json",
    "/api/patients/{patient}.json", "/api/alerts/1/acknowledge.json",
])
def test_json_suffix_variants_are_404(api, site, path):
    patient = PatientFactory(site=site)
    study = ImagingStudyFactory(patient=patient)
    url = path.format(patient=patient.uuid, study=study.uuid)
    assert api.get(url).status_code == 404
    assert api.post(url, {}, format="json").status_code == 404


def test_json_nested_fifty_thousand_deep_is_a_400(api):
    body = "[" * 50_000 + "]" * 50_000
    response = api.generic("POST", "/api/studies/", body, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_a_csv_with_a_nul_byte_after_the_first_2_kb_is_refused_with_the_line(
        client, site_admin, settings, tmp_path):
    settings.REGISTRY_UPLOAD_DIR = str(tmp_path)
    client.force_login(site_admin)
    header = "record,site,mrn,family_name,given_name,date_of_birth\n"
    rows = "".join(f"patient,north,N-{i:05d},Name,Given,1960-01-01\n" for i in range(60))
    text = header + rows + "patient,north,N-99999,Nul\x00name,Given,1960-01-01\n"
    assert len(text.split("\x00")[0].encode()) > 2048
    upload = SimpleUploadedFile("reg.csv", text.encode(), "text/csv")
    response = client.post("/registry/import/", {"file": upload})
    assert response.status_code == 200
    assert "Line 62 holds a NUL character" in response.content.decode()
