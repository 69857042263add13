"""The API refuses a contradicting phase and an MRI without lesion or "no enhancement" with
HTTP 400 and a field message (docs/clinical-rules.md)."""

from datetime import date

import pytest

from tests.patients.factories import PatientFactory, SurgeryFactory

URL = "/api/studies/"


@pytest.fixture
def patient(site):
    patient = PatientFactory(site=site, date_of_birth=date(1960, 1, 1))
    SurgeryFactory(patient=patient, date=date(2016, 3, 1))
    return patient


def mri(patient, **overrides) -> dict:
    return {"patient": str(patient.uuid), "study_date": "2017-06-20", "modality": "MR",
            "phase": "surveillance", "laterality": "bilateral", "birads": "1", **overrides}


def test_a_phase_contradicting_the_surgery_date_is_a_400_on_phase(api_client, clinic_staff, patient):
    response = api_client(clinic_staff).post(URL, mri(patient, phase="post_nac"), format="json")
    assert response.status_code == 400
    assert "surveillance study" in response.json()["phase"][0]


def test_signing_an_mri_without_lesion_or_no_enhancement_is_a_400(api_client, radiologist, patient):
    client = api_client(radiologist)
    uuid = client.post(URL, mri(patient), format="json").json()["uuid"]
    response = client.post(f"{URL}{uuid}/sign/")
    assert response.status_code == 400
    assert "at least one enhancing lesion" in response.json()["no_enhancement"][0]
    assert client.patch(f"{URL}{uuid}/", {"no_enhancement": True}, format="json").status_code == 200
    assert client.post(f"{URL}{uuid}/sign/").json()["status"] == "final"
