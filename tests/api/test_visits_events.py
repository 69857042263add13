"""Clinic visits and outcome events through the API: listed with the ids their void action
takes, recorded with the same capabilities and clinical date rules as the pages."""

from datetime import date, timedelta

import pytest

from audit.models import Action, AuditEvent
from outbox.models import Event
from patients.models import ClinicalEvent, ClinicVisit
from patients.rules import FUTURE_TOLERANCE
from patients.services import record_void
from tests.patients.factories import ClinicVisitFactory, PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(site):
    return PatientFactory(site=site, date_of_birth=date(1960, 5, 1))


def test_visits_listed_newest_first_with_ids_voided_ones_left_out(api_client, patient, coordinator,
                                                                   clinic_staff):
    old = ClinicVisitFactory(patient=patient, date=date(2022, 3, 1), findings="scar soft")
    new = ClinicVisitFactory(patient=patient, date=date(2024, 3, 1), kind="telephone")
    gone = ClinicVisitFactory(patient=patient, date=date(2023, 3, 1))
    record_void(record=gone, by=clinic_staff, reason="Entered on the wrong patient")
    rows = api_client(coordinator).get(f"/api/patients/{patient.uuid}/visits/").json()
    assert [r["id"] for r in rows] == [new.pk, old.pk]
    assert rows[1] == {"id": old.pk, "date": "2022-03-01", "kind": old.kind, "findings": "scar soft",
                       "recorded_by": None, "created_at": rows[1]["created_at"]}


def test_a_visit_recorded_through_the_api_feeds_the_plan_and_the_audit_trail(api_client, patient,
                                                                             coordinator):
    response = api_client(coordinator).post(
        f"/api/patients/{patient.uuid}/visits/",
        {"date": "2024-06-03", "kind": "clinical_exam", "findings": "no palpable mass"}, format="json")
    assert response.status_code == 201, response.json()
    visit = ClinicVisit.objects.get(pk=response.json()["id"])
    assert (visit.patient, visit.recorded_by, visit.date) == (patient, coordinator, date(2024, 6, 3))
    assert response.json()["recorded_by"] == coordinator.username
    assert Event.objects.filter(kind=Event.Kind.VISIT_RECORDED, object_id=visit.pk).exists()
    assert AuditEvent.objects.filter(action=Action.CREATE, object_type="patients.ClinicVisit",
                                     object_id=str(visit.pk)).exists()


@pytest.mark.parametrize("day, field, words", [
    (date(1960, 4, 30), "date", "birth"),  # the day before birth
    # Past the day of tolerance (a clinic in another time zone than the server).
    (date.today() + FUTURE_TOLERANCE + timedelta(days=1), "date", "future"),
])
def test_impossible_visit_dates_are_refused_on_the_field(api_client, patient, coordinator, day, field, words):
    response = api_client(coordinator).post(f"/api/patients/{patient.uuid}/visits/",
                                            {"date": day.isoformat(), "kind": "clinical_exam"}, format="json")
    assert response.status_code == 400
    assert words in " ".join(response.json()[field]).lower()
    assert not ClinicVisit.objects.exists()


@pytest.mark.parametrize("day, ok", [(date(1960, 5, 1), True), (date.today() + FUTURE_TOLERANCE, True)])
def test_visit_dates_on_the_edges_are_accepted(api_client, patient, coordinator, day, ok):
    response = api_client(coordinator).post(f"/api/patients/{patient.uuid}/visits/",
                                            {"date": day.isoformat(), "kind": "clinical_exam"}, format="json")
    assert (response.status_code == 201) is ok, response.json()


def test_events_recorded_by_clinic_staff_only_listed_oldest_first(api_client, patient, clinic_staff,
                                                                   coordinator):
    url = f"/api/patients/{patient.uuid}/events/"
    refused = api_client(coordinator).post(url, {"date": "2024-01-02", "kind": "local_recurrence"},
                                           format="json")
    assert refused.status_code == 403 and not ClinicalEvent.objects.exists()
    staff = api_client(clinic_staff)
    assert staff.post(url, {"date": "2025-02-03", "kind": "death"}, format="json").status_code == 201
    assert staff.post(url, {"date": "2024-01-02", "kind": "local_recurrence", "notes": "biopsy proven"},
                      format="json").status_code == 201
    rows = api_client(coordinator).get(url).json()  # every role reads
    assert [(r["date"], r["kind"]) for r in rows] == [("2024-01-02", "local_recurrence"),
                                                      ("2025-02-03", "death")]
    bad = staff.post(url, {"date": "2024-01-02", "kind": "relapse"}, format="json")
    assert bad.status_code == 400 and "local_recurrence" in " ".join(bad.json()["kind"])
    # The id a row is listed with is the one its void action takes.
    void = staff.post(f"{url}{rows[0]['id']}/void/", {"reason": "Recorded twice"}, format="json")
    assert void.status_code == 200 and len(api_client(coordinator).get(url).json()) == 1


def test_another_sites_patient_is_not_found(api_client, patient, outsider):
    client = api_client(outsider)
    for kind in ("visits", "events"):
        assert client.get(f"/api/patients/{patient.uuid}/{kind}/").status_code == 404
        assert client.post(f"/api/patients/{patient.uuid}/{kind}/", {"date": "2024-01-02", "kind": "death"},
                           format="json").status_code == 404


def test_listing_costs_the_same_queries_for_one_or_many_visits(api_client, patient, coordinator,
                                                               django_assert_max_num_queries):
    client = api_client(coordinator)
    url = f"/api/patients/{patient.uuid}/visits/"
    ClinicVisitFactory(patient=patient, date=date(2020, 1, 1), recorded_by=coordinator)
    client.get(url)
    with django_assert_max_num_queries(12) as one:
        client.get(url)
    for year in range(2021, 2026):
        ClinicVisitFactory(patient=patient, date=date(year, 1, 1), recorded_by=coordinator)
    with django_assert_max_num_queries(len(one.captured_queries)):
        client.get(url)
