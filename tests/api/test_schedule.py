"""Schedule endpoints: scheduled items and their contact log."""

from datetime import date, timedelta

import pytest
import time_machine

from surveillance.models import ContactLog
from tests.api.helpers import scheduled
from tests.patients.factories import PatientFactory

TODAY = date(2026, 11, 22)


@pytest.fixture(autouse=True)
def today():
    with time_machine.travel(TODAY, tick=False):
        yield TODAY


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


@pytest.fixture
def items(patient):
    """One item in each state as of TODAY."""
    return {
        "upcoming": scheduled(patient, TODAY + timedelta(days=90)),
        "due": scheduled(patient, TODAY + timedelta(days=10), kind="clinical_exam"),
        "overdue": scheduled(patient, TODAY - timedelta(days=100), kind="mri"),
        "done": scheduled(patient, TODAY - timedelta(days=400), status="done",
                          done_on=TODAY - timedelta(days=395), done_source="elsewhere"),
        "cancelled": scheduled(patient, TODAY - timedelta(days=700), status="cancelled",
                               cancel_reason="declined by the patient"),
    }


def test_list_is_scoped_with_state_as_of_today(api_client, coordinator, items, other_site):
    scheduled(PatientFactory(site=other_site), TODAY)
    body = api_client(coordinator).get("/api/schedule/").json()
    assert body["count"] == 5
    by_uuid = {row["uuid"]: row for row in body["results"]}
    for state, item in items.items():
        assert by_uuid[str(item.uuid)]["state"] == state


@pytest.mark.parametrize("state", ["upcoming", "due", "overdue", "done", "cancelled"])
def test_state_filter(api_client, coordinator, items, state):
    body = api_client(coordinator).get(f"/api/schedule/?state={state}").json()
    assert [r["uuid"] for r in body["results"]] == [str(items[state].uuid)]


def test_patient_kind_and_site_filters(api_client, coordinator, items, patient, site):
    client = api_client(coordinator)
    other = PatientFactory(site=site)
    scheduled(other, TODAY)
    assert client.get(f"/api/schedule/?patient={patient.uuid}").json()["count"] == 5
    assert client.get(f"/api/schedule/?patient={other.uuid}").json()["count"] == 1
    mri = client.get("/api/schedule/?kind=mri").json()["results"]
    assert [r["uuid"] for r in mri] == [str(items["overdue"].uuid)]
    assert client.get("/api/schedule/?site=north").json()["count"] == 6
    assert client.get("/api/schedule/?site=south").json()["count"] == 0
    assert client.get("/api/schedule/?state=lost").status_code == 400
    assert client.get("/api/schedule/?kind=xray").status_code == 400
    assert client.get("/api/schedule/?patient=not-a-uuid").status_code == 400


@pytest.mark.parametrize("rows", [5, 50])
def test_list_query_count_is_constant(api_client, coordinator, patient, rows,
                                      django_assert_max_num_queries):
    for i in range(rows):
        scheduled(patient, TODAY + timedelta(days=i))
    client = api_client(coordinator)
    # token + user, role groups, count, page (patient and study joined), the audit
    # trail's record of the read
    with django_assert_max_num_queries(5):
        assert client.get("/api/schedule/").json()["count"] == rows


def test_detail_and_404_for_other_sites(api_client, coordinator, outsider, items):
    url = f"/api/schedule/{items['overdue'].uuid}/"
    body = api_client(coordinator).get(url).json()
    assert body["kind"] == "mri" and body["state"] == "overdue"
    assert api_client(outsider).get(url).status_code == 404
    assert api_client(outsider).get(url + "contacts/").status_code == 404
    assert api_client().get(url).status_code == 401


def test_coordinator_logs_a_call(api_client, coordinator, items):
    item = items["due"]
    url = f"/api/schedule/{item.uuid}/contacts/"
    client = api_client(coordinator)
    response = client.post(url, {"outcome": "no_answer", "note": "Voicemail."}, format="json")
    assert response.status_code == 201
    assert response.json()["by"] == "coordinator" and response.json()["outcome"] == "no_answer"
    client.post(url, {"outcome": "called"}, format="json")
    log = client.get(url).json()
    assert log["count"] == 2
    assert [e["outcome"] for e in log["results"]] == ["called", "no_answer"]


def test_rescheduled_needs_a_new_date_and_moves_the_item(api_client, coordinator, items):
    item = items["overdue"]
    url = f"/api/schedule/{item.uuid}/contacts/"
    client = api_client(coordinator)
    missing = client.post(url, {"outcome": "rescheduled"}, format="json")
    assert missing.status_code == 400
    assert "new date" in missing.json()["new_date"][0]
    past = client.post(url, {"outcome": "rescheduled", "new_date": "2020-01-01"}, format="json")
    assert past.status_code == 400 and "past" in past.json()["new_date"][0]
    assert ContactLog.objects.count() == 0
    new_date = TODAY + timedelta(days=20)
    ok = client.post(url, {"outcome": "rescheduled", "new_date": new_date.isoformat()},
                     format="json")
    assert ok.status_code == 201
    body = client.get(f"/api/schedule/{item.uuid}/").json()
    assert body["due_date"] == new_date.isoformat()
    assert body["original_due_date"] == item.due_date.isoformat()
    assert body["state"] == "due"


def test_done_elsewhere_needs_a_date_and_marks_the_item_done(api_client, clinic_staff, items):
    item = items["overdue"]
    url = f"/api/schedule/{item.uuid}/contacts/"
    client = api_client(clinic_staff)
    missing = client.post(url, {"outcome": "done_elsewhere"}, format="json")
    assert missing.status_code == 400 and "done_on" in missing.json()
    done_on = TODAY - timedelta(days=3)
    ok = client.post(url, {"outcome": "done_elsewhere", "done_on": done_on.isoformat()},
                     format="json")
    assert ok.status_code == 201
    body = client.get(f"/api/schedule/{item.uuid}/").json()
    assert body["state"] == "done" and body["done_on"] == done_on.isoformat()
    assert body["done_source"] == "elsewhere"
    again = client.post(url, {"outcome": "called"}, format="json")
    assert again.status_code == 400 and "already done" in again.json()["outcome"][0]


def test_bad_outcome_lists_the_allowed_values(api_client, site_admin, items):
    response = api_client(site_admin).post(f"/api/schedule/{items['due'].uuid}/contacts/",
                                           {"outcome": "emailed"}, format="json")
    assert response.status_code == 400
    assert '"letter_sent"' in response.json()["outcome"][0]


def test_radiologist_reads_but_cannot_log(api_client, radiologist, items):
    url = f"/api/schedule/{items['due'].uuid}/contacts/"
    client = api_client(radiologist)
    assert client.get(url).status_code == 200
    assert client.post(url, {"outcome": "called"}, format="json").status_code == 403
    assert ContactLog.objects.count() == 0


def test_schedule_is_read_only_otherwise(api_client, coordinator, items):
    client = api_client(coordinator)
    assert client.post("/api/schedule/", {}, format="json").status_code == 405
    assert client.delete(f"/api/schedule/{items['due'].uuid}/").status_code == 405
