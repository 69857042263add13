"""Contact details in the patients API: nested `contact`, validated as a whole, hidden from
roles that do not need them."""

from datetime import date

import pytest

from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db
TODAY = date.today()


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


def test_api_reads_and_writes_contact_details(api_client, clinic_staff, radiologist, patient):
    url = f"/api/patients/{patient.uuid}/"
    staff = api_client(clinic_staff)
    response = staff.patch(url, {"contact": {"mobile_phone": "07700 900123", "may_phone": True,
                                             "consent_recorded_on": TODAY.isoformat(),
                                             "preferred_channel": "phone"}}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["contact"]["mobile_phone"] == "07700 900123"
    bad = staff.patch(url, {"contact": {"preferred_channel": "email"}}, format="json")
    assert bad.status_code == 400
    assert "preferred_channel" in bad.json()["contact"]
    assert api_client(radiologist).get(url).json()["contact"] is None
