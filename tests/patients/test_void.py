"""Voiding records with a reason (issue 16, item 2): service, pages, API, and what a voided
record leaves (plan, rules, exports, FHIR) and keeps (the history, the audit trail)."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

from alerts.models import Alert, AlertState
from alerts.services import alert_raise
from api.tokens import token_create
from audit.models import Action, AuditEvent
from imaging.models import ImagingStudy
from imaging.services import study_void
from outbox.models import Event
from outbox.services import events_sweep
from patients.models import ClinicalEvent, ClinicVisit, NacCourse, Pathology, Radiotherapy, Surgery
from patients.services import record_void
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import (
    ClinicVisitFactory,
    NacCourseFactory,
    PathologyFactory,
    PatientFactory,
    RadiotherapyFactory,
    SurgeryFactory,
)

pytestmark = pytest.mark.django_db
REASON = "Entered on the wrong patient"


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


@pytest.fixture
def surgery(patient):
    s = SurgeryFactory(patient=patient, date=date(2021, 3, 4))
    PathologyFactory(surgery=s)
    return s


def api(user) -> APIClient:
    client = APIClient()
    _, token = token_create(user=user, client="tests")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


# --- the service ---------------------------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda p: NacCourseFactory(patient=p), lambda p: RadiotherapyFactory(patient=p),
    lambda p: SurgeryFactory(patient=p), lambda p: ClinicVisitFactory(patient=p),
    lambda p: ClinicalEvent.objects.create(patient=p, date=date(2022, 1, 1), kind="local_recurrence"),
])
def test_a_voided_record_is_kept_with_who_when_why_and_seen_by_nothing_else(patient, clinic_staff, make):
    record = make(patient)
    model = type(record)
    record_void(record=record, by=clinic_staff, reason=f"  {REASON} ")
    kept = model.all_objects.get(pk=record.pk)
    assert kept.voided_by == clinic_staff and kept.voided_at and kept.void_reason == REASON
    assert not model.objects.filter(pk=record.pk).exists()
    assert model.all_objects.active().filter(pk=record.pk).count() == 0
    assert model.all_objects.voided().filter(pk=record.pk).count() == 1
    assert AuditEvent.objects.filter(action=Action.VOID, object_id=str(record.pk),
                                     object_type=model._meta.label, patient_id=patient.pk).exists()


def test_the_outbox_event_of_each_kind(patient, clinic_staff):
    record_void(record=SurgeryFactory(patient=patient), by=clinic_staff, reason=REASON)
    visit = ClinicVisitFactory(patient=patient)
    record_void(record=visit, by=clinic_staff, reason=REASON)
    kinds = list(Event.objects.order_by("id").values_list("kind", "object_id"))
    assert kinds == [(Event.Kind.ANCHORS_CHANGED, None), (Event.Kind.VISIT_VOIDED, visit.pk)]


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 501])
def test_a_reason_is_required(patient, clinic_staff, reason):
    nac = NacCourseFactory(patient=patient)
    with pytest.raises(ValidationError) as exc:
        record_void(record=nac, by=clinic_staff, reason=reason)
    assert "reason" in exc.value.message_dict
    assert NacCourse.objects.filter(pk=nac.pk).exists()


def test_voiding_twice_keeps_the_first_reason(patient, clinic_staff):
    nac = NacCourseFactory(patient=patient)
    record_void(record=nac, by=clinic_staff, reason=REASON)
    record_void(record=nac, by=clinic_staff, reason="another")
    assert NacCourse.all_objects.get(pk=nac.pk).void_reason == REASON
    assert AuditEvent.objects.filter(action=Action.VOID).count() == 1


def test_roles(patient, radiologist, coordinator):
    with pytest.raises(PermissionDenied):
        record_void(record=SurgeryFactory(patient=patient), by=radiologist, reason=REASON)
    with pytest.raises(PermissionDenied):
        record_void(record=NacCourseFactory(patient=patient), by=coordinator, reason=REASON)
    record_void(record=ClinicVisitFactory(patient=patient), by=coordinator, reason=REASON)  # logs visits


def test_a_voided_surgery_takes_its_pathology_with_it(surgery, clinic_staff):
    record_void(record=surgery, by=clinic_staff, reason=REASON)
    assert not Pathology.objects.filter(surgery=surgery).exists()
    assert Pathology.all_objects.filter(surgery=surgery).exists()


def test_a_draft_is_voided_by_staff_a_signed_study_only_by_a_radiologist(patient, clinic_staff, radiologist):
    draft = ImagingStudyFactory(patient=patient)
    study_void(study=draft, by=clinic_staff, reason=REASON)
    signed = ImagingStudyFactory(patient=patient, final=True, accession="A1")
    with pytest.raises(PermissionDenied):
        study_void(study=signed, by=clinic_staff, reason=REASON)
    study_void(study=signed, by=radiologist, reason=REASON)
    assert not ImagingStudy.objects.filter(patient=patient).exists()
    assert ImagingStudy.all_objects.filter(patient=patient).count() == 2  # never deleted
    # The accession is free again for the study entered correctly.
    ImagingStudyFactory(patient=patient, final=True, accession="A1")


def test_a_voided_signed_study_supersedes_its_alerts(patient, radiologist):
    signed = ImagingStudyFactory(patient=patient, final=True, study_date=date(2023, 5, 1))
    alert, _ = alert_raise(patient_id=patient.pk, rule="birads_suspicious", severity="high",
                           trigger=f"study:{signed.pk}", reason="BI-RADS 4", study_id=signed.pk)
    study_void(study=signed, by=radiologist, reason=REASON)
    events_sweep()
    alert.refresh_from_db()
    assert alert.state == AlertState.SUPERSEDED
    assert AuditEvent.objects.filter(action=Action.VOID, object_type="imaging.ImagingStudy").exists()


# --- pages ---------------------------------------------------------------------------------

def void_url(patient, kind, pk):
    return reverse(f"patient-{kind}-void", kwargs={"uuid": patient.uuid, "pk": pk})


def test_confirm_page_then_post_with_a_reason(client, patient, surgery, clinic_staff):
    client.force_login(clinic_staff)
    url = void_url(patient, "surgery", surgery.pk)
    page = client.get(url)
    assert page.status_code == 200 and "Void surgery" in page.content.decode()
    assert Surgery.objects.filter(pk=surgery.pk).exists()  # a GET voids nothing
    refused = client.post(url, {"reason": "  "})
    assert refused.status_code == 200 and "Say why this record is being voided." in refused.content.decode()
    assert Surgery.objects.filter(pk=surgery.pk).exists()
    done = client.post(url, {"reason": REASON})
    assert done.status_code == 302
    assert not Surgery.objects.filter(pk=surgery.pk).exists()
    assert client.get(url).status_code == 404  # voided: nothing left to void
    for page_name in ("patient-records", "patient-timeline"):
        html = client.get(reverse(page_name, kwargs={"uuid": patient.uuid})).content.decode()
        assert "<del>Surgery · 4 Mar 2021" in html and REASON in html


@pytest.mark.parametrize("kind,make", [
    ("nac", lambda p: NacCourseFactory(patient=p)),
    ("radiotherapy", lambda p: RadiotherapyFactory(patient=p)),
    ("visit", lambda p: ClinicVisitFactory(patient=p)),
    ("event", lambda p: ClinicalEvent.objects.create(patient=p, date=date(2022, 1, 1), kind="death")),
])
def test_each_record_kind_has_its_void_page_linked_from_the_records(client, patient, clinic_staff,
                                                                     kind, make):
    record = make(patient)
    client.force_login(clinic_staff)
    url = void_url(patient, kind, record.pk)
    assert url in client.get(reverse("patient-records", kwargs={"uuid": patient.uuid})).content.decode()
    assert client.post(url, {"reason": REASON}).status_code == 302
    assert type(record).all_objects.get(pk=record.pk).void_reason == REASON


def test_pages_are_scoped_and_respect_roles(client, patient, surgery, outsider, radiologist):
    client.force_login(outsider)
    assert client.get(void_url(patient, "surgery", surgery.pk)).status_code == 404
    client.force_login(radiologist)
    assert client.get(void_url(patient, "surgery", surgery.pk)).status_code == 403
    assert client.post(void_url(patient, "surgery", surgery.pk), {"reason": REASON}).status_code == 403
    assert Surgery.objects.filter(pk=surgery.pk).exists()


def test_study_void_page(client, patient, radiologist, clinic_staff):
    signed = ImagingStudyFactory(patient=patient, final=True)
    url = reverse("study-void", kwargs={"uuid": signed.uuid})
    client.force_login(clinic_staff)
    assert client.get(url).status_code == 403
    client.force_login(radiologist)
    detail = client.get(reverse("study-detail", kwargs={"uuid": signed.uuid})).content.decode()
    assert url in detail
    assert client.post(url, {"reason": ""}).status_code == 200
    assert client.post(url, {"reason": REASON}).status_code == 302
    assert client.get(reverse("study-detail", kwargs={"uuid": signed.uuid})).status_code == 404
    html = client.get(reverse("patient-timeline", kwargs={"uuid": patient.uuid})).content.decode()
    assert "<del>Imaging study" in html and REASON in html


# --- API -----------------------------------------------------------------------------------

def test_api_void_needs_a_reason_and_the_role(patient, surgery, clinic_staff, radiologist, outsider):
    url = f"/api/patients/{patient.uuid}/surgeries/{surgery.pk}/void/"
    assert api(outsider).post(url, {"reason": REASON}).status_code == 404
    assert api(radiologist).post(url, {"reason": REASON}, format="json").status_code == 403
    missing = api(clinic_staff).post(url, {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()
    blank = api(clinic_staff).post(url, {"reason": " "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()
    done = api(clinic_staff).post(url, {"reason": REASON}, format="json")
    assert done.status_code == 200 and done.json()["void_reason"] == REASON
    assert api(clinic_staff).post(url, {"reason": REASON}, format="json").status_code == 404
    assert api(clinic_staff).get(url).status_code == 405  # POST only


def test_api_record_ids_and_voided_rows_left_out(patient, surgery, clinic_staff):
    client = api(clinic_staff)
    rows = client.get(f"/api/patients/{patient.uuid}/").json()["surgeries"]
    assert [r["id"] for r in rows] == [surgery.pk] and "void_reason" not in rows[0]
    client.post(f"/api/patients/{patient.uuid}/surgeries/{surgery.pk}/void/", {"reason": REASON},
                format="json")
    assert client.get(f"/api/patients/{patient.uuid}/").json()["surgeries"] == []
    fhir = client.get(f"/api/patients/{patient.uuid}/fhir/").content.decode()
    assert "2021-03-04" not in fhir
    export = client.get("/api/patients/export.csv").content.decode()
    assert "2021-03-04" not in export


def test_api_study_void(patient, radiologist, clinic_staff):
    signed = ImagingStudyFactory(patient=patient, final=True)
    url = f"/api/studies/{signed.uuid}/void/"
    assert api(clinic_staff).post(url, {"reason": REASON}, format="json").status_code == 403
    assert api(radiologist).post(url, {}, format="json").status_code == 400
    assert api(radiologist).post(url, {"reason": REASON}, format="json").status_code == 200
    assert api(radiologist).get(f"/api/studies/{signed.uuid}/").status_code == 404


def test_voided_visit_and_radiotherapy_left_out_of_the_records_page(client, patient, clinic_staff):
    visit = ClinicVisitFactory(patient=patient, findings="unremarkable-visit-text")
    rt = RadiotherapyFactory(patient=patient, target="boost-target-text")
    record_void(record=visit, by=clinic_staff, reason=REASON)
    record_void(record=rt, by=clinic_staff, reason=REASON)
    client.force_login(clinic_staff)
    html = client.get(reverse("patient-records", kwargs={"uuid": patient.uuid})).content.decode()
    assert "unremarkable-visit-text" not in html
    assert "<del>Radiotherapy" in html and "boost-target-text" in html  # struck through, in history
    assert ClinicVisit.all_objects.filter(pk=visit.pk).exists()
    assert Radiotherapy.all_objects.filter(pk=rt.pk).exists()
    assert not Alert.objects.exists()
