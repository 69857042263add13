"""Alert lifecycle through the API: acknowledge and resolve (radiologists only)."""

import pytest

from alerts.models import Alert, AlertState, Resolution
from audit.models import Action, AuditEvent
from tests.api.test_alerts_timeline_exports import raise_alert
from tests.patients.factories import PatientFactory


@pytest.fixture
def alert(site):
    return raise_alert(PatientFactory(site=site))


def transitions(alert: Alert) -> int:
    return AuditEvent.objects.filter(action=Action.ALERT_TRANSITION, object_id=str(alert.pk)).count()


def test_radiologist_acknowledges_once(api_client, radiologist, alert):
    client = api_client(radiologist)
    url = f"/api/alerts/{alert.id}/acknowledge/"
    response = client.post(url, {"note": "Seen, comparing with priors."}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "acknowledged"
    assert body["acknowledged_by"] == "radiologist"
    assert body["acknowledge_note"] == "Seen, comparing with priors."
    first_at = body["acknowledged_at"]
    again = client.post(url, {"note": "again"}, format="json")
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == first_at
    assert again.json()["acknowledge_note"] == "Seen, comparing with priors."
    assert transitions(alert) == 1  # the repeat wrote no second record


def test_radiologist_resolves_with_resolution(api_client, radiologist, alert):
    response = api_client(radiologist).post(
        f"/api/alerts/{alert.id}/resolve/",
        {"resolution": "biopsy_ordered", "note": "Stereotactic biopsy booked."}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["state"] == "resolved" and body["resolution"] == "biopsy_ordered"
    assert body["resolved_by"] == "radiologist" and body["acknowledged_by"] == "radiologist"
    alert.refresh_from_db()
    assert alert.state == AlertState.RESOLVED and alert.resolve_note == "Stereotactic biopsy booked."


def test_resolve_needs_a_valid_resolution(api_client, radiologist, alert):
    client = api_client(radiologist)
    url = f"/api/alerts/{alert.id}/resolve/"
    bad = client.post(url, {"resolution": "ignored"}, format="json")
    assert bad.status_code == 400
    message = bad.json()["resolution"][0]
    assert all(f'"{value}"' in message for value in Resolution.values)
    missing = client.post(url, {"note": "x"}, format="json")
    assert missing.status_code == 400 and "resolution" in missing.json()
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


@pytest.mark.parametrize("persona", ["clinic_staff", "coordinator", "site_admin"])
def test_only_radiologists_act_on_alerts(api_client, alert, persona, request):
    client = api_client(request.getfixturevalue(persona))
    assert client.post(f"/api/alerts/{alert.id}/acknowledge/", {}, format="json").status_code == 403
    assert client.post(f"/api/alerts/{alert.id}/resolve/", {"resolution": "false_positive"},
                       format="json").status_code == 403
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_other_sites_alert_is_404(api_client, outsider, alert):
    client = api_client(outsider)
    assert client.post(f"/api/alerts/{alert.id}/acknowledge/", {}, format="json").status_code == 404
    assert client.post(f"/api/alerts/{alert.id}/resolve/", {"resolution": "false_positive"},
                       format="json").status_code == 404
    alert.refresh_from_db()
    assert alert.state == AlertState.OPEN


def test_anonymous_is_401(api_client, alert):
    assert api_client().post(f"/api/alerts/{alert.id}/acknowledge/", {}).status_code == 401


def test_actions_are_in_the_schema(api_client, coordinator):
    schema = api_client(coordinator).get("/api/schema/?format=json").json()
    ack = schema["paths"]["/api/alerts/{id}/acknowledge/"]["post"]
    resolve = schema["paths"]["/api/alerts/{id}/resolve/"]["post"]
    assert "requestBody" in ack and "200" in ack["responses"]
    ref = resolve["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert "resolution" in body["required"]


def test_a_superseded_alert_reads_as_superseded_and_cannot_be_acknowledged(api_client, radiologist,
                                                                           alert):
    from alerts.services import supersede_stale_alerts

    # The raised alert has no study behind it in the history: it no longer holds.
    synced = supersede_stale_alerts(alert.patient, reason="The study was re-read.")
    assert [a.pk for a in synced.superseded] == [alert.pk]
    client = api_client(radiologist)
    body = client.get(f"/api/alerts/{alert.id}/").json()
    assert body["state"] == "superseded" and body["superseded_reason"] == "The study was re-read."
    assert body["superseded_at"]
    response = client.post(f"/api/alerts/{alert.id}/acknowledge/", {}, format="json")
    assert response.json()["state"] == "superseded"
