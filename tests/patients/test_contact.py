"""Contact details: the rules (both sides of each), the page, the API, FHIR and the audit."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from api.fhir import codes as c
from api.fhir.bundle import patient_bundle
from audit.models import Action, AuditEvent
from patients.models import ContactDetails, validate_phone
from patients.services import contact_details_save
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db

TODAY = date.today()
FULL = {
    "mobile_phone": "07700 900123", "home_phone": "+44 (0)20 7946-0958", "email": "rosa@example.org",
    "address_line1": "12 Mill Lane", "city": "Leeds", "postal_code": "ls1 4ab", "country": "United Kingdom",
    "preferred_language": "fr", "preferred_channel": "phone", "best_time": "mornings",
    "may_phone": True, "may_leave_voicemail": True, "may_text": True, "may_email": True,
    "may_write": True, "may_write_to_gp": True, "consent_recorded_on": TODAY - timedelta(days=3),
    "gp_name": "Dr Anna Price", "gp_practice": "Mill Lane Surgery", "gp_address": "1 High St\nLeeds LS2 1AA",
    "gp_phone": "0113 496 0000", "gp_email": "gp@example.org", "referring_physician": "Dr Okafor",
}


@pytest.mark.parametrize("number, ok", [
    ("0770090", True),                 # 7 digits: the shortest accepted
    ("077009", False),                 # 6 digits
    ("+44 20 7946 0958", True),
    ("+123 456 789 012 345", True),    # 15 digits: E.164's longest
    ("+123 456 789 012 3456", False),  # 16 digits
    ("(020) 7946-0958", True),
    ("020 7946 0958 ext 2", False),    # letters
    ("++44 20 7946 0958", False),
])
def test_phone_numbers(number, ok):
    if ok:
        validate_phone(number)
    else:
        with pytest.raises(ValidationError):
            validate_phone(number)


def _errors(**fields) -> dict:
    contact = ContactDetails(patient=PatientFactory(), **fields)
    try:
        contact.full_clean()
    except ValidationError as exc:
        return exc.message_dict
    return {}


def test_everything_filled_in_is_valid_and_normalised(site):
    contact = contact_details_save(patient=PatientFactory(site=site), data=FULL)
    assert contact.postal_code == "LS1 4AB"
    assert contact.address_lines == ["12 Mill Lane", "Leeds LS1 4AB", "United Kingdom"]
    assert contact.gp_address_lines == ["1 High St", "Leeds LS2 1AA"]


def test_nothing_filled_in_is_valid():
    assert _errors() == {}


@pytest.mark.parametrize("fields, field", [
    ({"may_phone": True, "consent_recorded_on": TODAY}, "mobile_phone"),
    ({"may_text": True, "home_phone": "0113 496 0001", "consent_recorded_on": TODAY}, "mobile_phone"),
    ({"may_email": True, "consent_recorded_on": TODAY}, "email"),
    ({"may_write": True, "address_line1": "1 Road", "consent_recorded_on": TODAY}, "postal_code"),
    ({"may_write_to_gp": True, "gp_name": "Dr X", "consent_recorded_on": TODAY}, "gp_address"),
    ({"may_leave_voicemail": True, "consent_recorded_on": TODAY}, "may_leave_voicemail"),
    ({"city": "Leeds"}, "address_line1"),
    ({"mobile_phone": "07700900123", "may_phone": True}, "consent_recorded_on"),
    ({"mobile_phone": "07700900123", "may_phone": True,
      "consent_recorded_on": TODAY + timedelta(days=1)}, "consent_recorded_on"),
    ({"mobile_phone": "07700900123", "preferred_channel": "phone"}, "preferred_channel"),
    ({"email": "a@b.org", "preferred_channel": "letter"}, "preferred_channel"),
    ({"email": "not an address"}, "email"),
])
def test_each_rule_names_its_field(fields, field):
    assert field in _errors(**fields)


@pytest.mark.parametrize("fields", [
    {"may_phone": True, "home_phone": "0113 496 0001", "consent_recorded_on": TODAY},
    {"may_text": True, "mobile_phone": "07700900123", "consent_recorded_on": TODAY},
    {"may_write": True, "address_line1": "1 Road", "postal_code": "LS1 1AA", "consent_recorded_on": TODAY},
    {"may_write": True, "address_line1": "1 Road", "city": "Leeds", "consent_recorded_on": TODAY,
     "preferred_channel": "letter"},
    {"mobile_phone": "07700900123", "may_phone": True, "may_leave_voicemail": True,
     "consent_recorded_on": TODAY, "preferred_channel": "phone"},
])
def test_the_other_side_of_each_rule_is_valid(fields):
    assert _errors(**fields) == {}


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, given_name="Rosa", family_name="Almeida")


def test_coordinator_records_contact_details_on_the_page(client, coordinator, patient):
    client.force_login(coordinator)
    url = reverse("patient-contact", kwargs={"uuid": patient.uuid})
    assert client.get(url).status_code == 200
    form = {k: ("on" if v is True else v) for k, v in FULL.items()}
    response = client.post(url, {**form, "next": reverse("worklist")})
    assert response.status_code == 302 and response.url == reverse("worklist")
    assert ContactDetails.objects.get(patient=patient).preferred_language == "fr"
    page = client.get(patient.get_absolute_url()).content.decode()
    assert "07700 900123" in page and 'href="tel:07700900123"' in page and "Dr Anna Price" in page


def test_bad_contact_input_shows_the_error_on_the_field_and_saves_nothing(client, coordinator, patient):
    client.force_login(coordinator)
    url = reverse("patient-contact", kwargs={"uuid": patient.uuid})
    response = client.post(url, {"preferred_language": "en-gb", "mobile_phone": "call me",
                                 "may_write": "on", "consent_recorded_on": TODAY.isoformat()})
    html = response.content.decode()
    assert response.status_code == 200 and "Use digits, spaces" in html
    assert "Letters need a postal address." in html
    assert not ContactDetails.objects.filter(patient=patient).exists()


def test_next_outside_the_site_is_ignored(client, coordinator, patient):
    client.force_login(coordinator)
    url = reverse("patient-contact", kwargs={"uuid": patient.uuid})
    response = client.post(url, {"preferred_language": "en-gb", "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == patient.get_absolute_url()
    assert "javascript:" not in client.get(url + "?next=javascript:alert(1)").content.decode()


def test_radiologists_neither_see_nor_edit_contact_details(client, radiologist, patient):
    contact_details_save(patient=patient, data=FULL)
    client.force_login(radiologist)
    assert client.get(reverse("patient-contact", kwargs={"uuid": patient.uuid})).status_code == 403
    assert "07700 900123" not in client.get(patient.get_absolute_url()).content.decode()


def test_other_sites_get_404(client, outsider, patient):
    client.force_login(outsider)
    assert client.get(reverse("patient-contact", kwargs={"uuid": patient.uuid})).status_code == 404


def test_changes_are_audited_with_before_and_after(patient):
    contact_details_save(patient=patient, data={"mobile_phone": "07700 900123"})
    contact_details_save(patient=patient, data={"mobile_phone": "07700 900999"})
    change = AuditEvent.objects.filter(object_type="patients.ContactDetails", action=Action.UPDATE).get()
    assert change.changes["mobile_phone"] == {"before": "07700 900123", "after": "07700 900999"}
    assert change.patient_id == patient.id


def test_fhir_patient_carries_telecom_address_language_and_gp(patient):
    contact_details_save(patient=patient, data=FULL)
    bundle = patient_bundle(patient)
    Bundle.model_validate(bundle)
    entries = {e["resource"]["resourceType"]: e for e in bundle["entry"]}
    res = entries["Patient"]["resource"]
    assert {"system": "phone", "value": "07700 900123", "use": "mobile", "rank": 1} in res["telecom"]
    assert {"system": "email", "value": "rosa@example.org", "use": "home"} in res["telecom"]
    assert res["address"][0]["postalCode"] == "LS1 4AB" and res["address"][0]["line"] == ["12 Mill Lane"]
    language = res["communication"][0]["language"]["coding"][0]
    assert (language["system"], language["code"]) == (c.BCP47, "fr")
    gp_ref = res["generalPractitioner"][0]["reference"]
    assert entries["Practitioner"]["fullUrl"] == gp_ref
    assert entries["Practitioner"]["resource"]["name"][0]["text"] == "Dr Anna Price"
    without = patient_bundle(patient, with_contact=False)
    assert "telecom" not in without["entry"][0]["resource"]
    assert all(e["resource"]["resourceType"] != "Practitioner" for e in without["entry"])
