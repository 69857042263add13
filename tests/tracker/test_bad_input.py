"""Bad input sweep: HTML-ish, SQL-ish, unicode and overlong text in every text field is
either refused with a form error or stored as typed and shown escaped; wrong types to the
API are 400; oversized and malformed CSVs get a clear error on the registry import page."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from api.tokens import token_create
from imaging.models import ImagingStudy
from patients.models import ClinicVisit, Patient
from surveillance.models import ContactLog
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import PatientFactory, SurgeryFactory

pytestmark = pytest.mark.django_db

HTML = "<script>alert(1)</script>"
SQL = "'; DROP TABLE patients_patient; --"
UNICODE = "Zoë 👩\u200d⚕️ \u202eمريم\u202c e\u0301\u0327 ﷺ"
OVERLONG = "x" * 5000
VALUES = {"html": HTML, "sql": SQL, "unicode": UNICODE, "overlong": OVERLONG}


def logged_in(client, user):
    client.force_login(user)
    return client


def assert_escaped(html: str) -> None:
    assert HTML not in html, "raw <script> reached the page"


def assert_saved_or_refused(response, form_key: str, field: str, value: str, stored) -> None:
    """Either a redirect with the value stored exactly, or the form again with an error on
    that field (and nothing stored)."""
    if response.status_code == 302:
        assert stored() == value
    else:
        assert response.status_code in (200, 400)
        assert field in response.context[form_key].errors, (field, response.context[form_key].errors)


@pytest.mark.parametrize("kind", VALUES)
@pytest.mark.parametrize("field", ["mrn", "given_name", "family_name", "notes"])
def test_patient_form_text_fields(client, site, clinic_staff, field, kind):
    value = VALUES[kind]
    data = {"site": site.id, "mrn": "N-1", "given_name": "Ana", "family_name": "Lopes",
            "date_of_birth": "1970-01-02", "follow_up_status": "active", field: value}
    c = logged_in(client, clinic_staff)
    response = c.post(reverse("patient-create"), data)
    assert_saved_or_refused(response, "form", field, value,
                            lambda: getattr(Patient.objects.get(), field))
    if kind == "overlong" and field != "notes":
        assert response.status_code == 200  # max_length: refused, not truncated
        assert not Patient.objects.exists()
    if response.status_code == 302:
        patient = Patient.objects.get()
        for url in (reverse("patient-list"), patient.get_absolute_url(),
                    reverse("patient-records", kwargs={"uuid": patient.uuid}),
                    reverse("patient-edit", kwargs={"uuid": patient.uuid})):
            page = c.get(url)
            assert page.status_code == 200
            assert_escaped(page.content.decode())
    assert_escaped(response.content.decode())


@pytest.mark.parametrize("kind", VALUES)
def test_visit_findings(client, site, coordinator, kind):
    value = VALUES[kind]
    patient = PatientFactory(site=site)
    c = logged_in(client, coordinator)
    response = c.post(reverse("patient-visit-add", kwargs={"uuid": patient.uuid}),
                      {"date": "2021-02-03", "kind": "clinical_exam", "findings": value})
    assert_saved_or_refused(response, "form", "findings", value,
                            lambda: ClinicVisit.objects.get().findings)
    for url in (patient.get_absolute_url(), reverse("patient-records", kwargs={"uuid": patient.uuid})):
        assert_escaped(c.get(url).content.decode())


def _mammogram(report_text: str, group: str) -> dict:
    return {"study_date": "2021-03-04", "phase": "surveillance", "laterality": "bilateral",
            "birads": "2", "breast_composition": "c", "report_text": report_text,
            "calc-TOTAL_FORMS": "1", "calc-INITIAL_FORMS": "0", "calc-MIN_NUM_FORMS": "0",
            "calc-MAX_NUM_FORMS": "1000",
            "calc-0-group": group, "calc-0-laterality": "left", "calc-0-morphology": "fine_pleomorphic",
            "calc-0-distribution": "segmental", "calc-0-extent_mm": "12", "calc-0-count_bin": "11-20",
            "calc-0-observed_change": "stable", "calc-0-quadrant": "UOQ", "calc-0-clock": "2"}


@pytest.mark.parametrize("kind", VALUES)
@pytest.mark.parametrize("field", ["report_text", "group"])
def test_study_form_report_text_and_group_labels(client, site, clinic_staff, field, kind):
    value = VALUES[kind]
    patient = PatientFactory(site=site, date_of_birth=date(1966, 5, 14))
    c = logged_in(client, clinic_staff)
    data = _mammogram(value if field == "report_text" else "Stable.",
                      value if field == "group" else "L1")
    url = reverse("study-create", kwargs={"uuid": patient.uuid}) + "?modality=MG"
    response = c.post(url, data)
    assert_escaped(response.content.decode())
    if response.status_code == 302:
        study = ImagingStudy.objects.get()
        stored = study.report_text if field == "report_text" else study.calcifications.get().group
        assert stored == value
        for page_url in (reverse("study-detail", kwargs={"uuid": study.uuid}),
                         reverse("study-edit", kwargs={"uuid": study.uuid}),
                         patient.get_absolute_url()):
            assert_escaped(c.get(page_url).content.decode())
    else:
        assert response.status_code == 200
        assert not ImagingStudy.objects.exists()
        html = response.content.decode()
        assert "errorlist" in html or "field-error" in html


@pytest.mark.parametrize("kind", VALUES)
def test_contact_log_note(client, site, coordinator, kind):
    from surveillance.services.sweep import surveillance_sweep

    value = VALUES[kind]
    patient = PatientFactory(site=site)
    SurgeryFactory(patient=patient, date=date(2023, 1, 10), laterality="right")
    surveillance_sweep()
    item = patient.scheduled_items.order_by("due_date").first()
    c = logged_in(client, coordinator)
    url = reverse("worklist-item", kwargs={"uuid": item.uuid})
    response = c.post(url, {"outcome": "called", "note": value})
    assert_escaped(response.content.decode())
    if response.status_code == 302:
        assert ContactLog.objects.get().note == value
        assert_escaped(c.get(url).content.decode())
        assert_escaped(c.get(reverse("worklist")).content.decode())
    else:
        assert kind == "overlong" and "note" in response.context["form"].errors
        assert not ContactLog.objects.exists()


def api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_create(user=user, client='tests')[1]}")
    return client


@pytest.mark.parametrize("kind", VALUES)
@pytest.mark.parametrize("field", ["mrn", "given_name", "family_name", "notes"])
def test_api_patient_text_fields(site, clinic_staff, field, kind):
    value = VALUES[kind]
    body = {"site": site.code, "mrn": "A-1", "given_name": "Ana", "family_name": "Lopes",
            "date_of_birth": "1970-01-02", field: value}
    response = api(clinic_staff).post("/api/patients/", body, format="json")
    if response.status_code == 201:
        assert getattr(Patient.objects.get(), field) == value
        assert response.json()[field] == value
        assert response["Content-Type"].startswith("application/json")
    else:
        assert response.status_code == 400, response.content
        assert field in response.json()
        assert not Patient.objects.exists()


@pytest.mark.parametrize("body", [
    {"date_of_birth": 19700102},
    {"date_of_birth": "yesterday"},
    {"given_name": ["Ana"]},
    {"given_name": {"x": 1}},
    {"lifetime_risk_percent": "a lot"},
    {"chest_radiation_before_30": "perhaps"},
    {"nac_courses": "AC x4"},
    {"nac_courses": [{"regimen": "AC", "cycles": "four", "start_date": "2014-04-01"}]},
    {"surgeries": {"date": "2014-10-06"}},
    {"site": 3.5},
], ids=lambda b: next(iter(b)) + ":" + type(next(iter(b.values()))).__name__)
def test_api_wrong_types_are_400(site, clinic_staff, body):
    base = {"site": site.code, "mrn": "A-1", "given_name": "Ana", "family_name": "Lopes",
            "date_of_birth": "1970-01-02"}
    response = api(clinic_staff).post("/api/patients/", base | body, format="json")
    assert response.status_code == 400, response.content
    assert next(iter(body)) in response.json()
    assert not Patient.objects.exists()


@pytest.mark.parametrize("payload", [b"[1, 2, 3]", b"\"text\"", b"{not json", b"null"])
def test_api_malformed_bodies_are_400(site, clinic_staff, payload):
    response = api(clinic_staff).post("/api/patients/", payload, content_type="application/json")
    assert response.status_code == 400
    assert not Patient.objects.exists()


@pytest.mark.parametrize("body", [
    {"birads": ["2"]}, {"study_date": 2021}, {"report_text": {"a": 1}},
    {"calcifications": "L1"}, {"calcifications": [{"group": "L1", "extent_mm": "twelve"}]},
], ids=lambda b: next(iter(b)))
def test_api_study_wrong_types_are_400(site, clinic_staff, body):
    patient = PatientFactory(site=site)
    study = ImagingStudyFactory(patient=patient)
    response = api(clinic_staff).patch(f"/api/studies/{study.uuid}/", body, format="json")
    assert response.status_code == 400, response.content
    study.refresh_from_db()
    assert study.birads == "2" and study.report_text == ""


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_registry_oversized_csv_is_refused_clearly(client, site_admin, settings):
    settings.REGISTRY_MAX_UPLOAD_BYTES = 1000
    c = logged_in(client, site_admin)
    page = c.post(reverse("registry-import"), {"file": _upload("big.csv", b"record\n" + b"x," * 2000)})
    html = page.content.decode()
    assert page.status_code in (200, 400)
    assert "the limit is" in html
    assert not Patient.objects.exists()


@pytest.mark.parametrize("content", [
    b"\x00\x01\x02binary",
    b"record,site,mrn\npatient,north,\"unterminated\n",
    b"",
    b"no,header,we,know\n1,2,3,4\n",
    ("record,site,mrn,given_name\npatient,north,M1," + HTML + "\n").encode(),
], ids=["binary", "unterminated-quote", "empty", "unknown-header", "html-cell"])
def test_registry_malformed_csv_gets_a_clear_error(client, site, site_admin, content, settings, tmp_path):
    from registry.models import RegistryUpload
    from registry.uploads import upload_run

    settings.REGISTRY_UPLOAD_DIR = str(tmp_path)
    c = logged_in(client, site_admin)
    page = c.post(reverse("registry-import"), {"file": _upload("bad.csv", content)})
    if page.status_code == 302:  # stored: the task checks it, then the upload's page reports
        upload_run(RegistryUpload.objects.get().id)
        page = c.get(page["Location"])
    html = page.content.decode()
    assert page.status_code in (200, 400)
    assert_escaped(html)
    assert "Import now" not in html
    assert any(s in html for s in ("Problems found", "errorlist", "field-error")), html[-2000:]
    assert not Patient.objects.exists()
