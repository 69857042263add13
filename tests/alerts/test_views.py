"""Inbox, detail, acknowledge and resolve: scoping, roles, query budgets."""

import pytest
from django.urls import reverse

from alerts.models import Alert, AlertState
from alerts.selectors import open_alerts_for_patient
from alerts.services import alert_raise
from tests.alerts.builders import finalize_progressing, surveillance_patient
from tests.patients.factories import PatientFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("alert-inbox")


def make_alerts(site, n, *, rule="calc_extent_increase", severity="medium"):
    alerts = []
    for i in range(n):
        patient = PatientFactory(site=site)
        alerts.append(alert_raise(patient_id=patient.id, rule=rule, severity=severity,
                                  breast="left", trigger=f"study:{1000 + i}",
                                  reason=f"extent 18 mm → {30 + i} mm")[0])
    return alerts


@pytest.fixture
def real_alert(site, radiologist):
    from alerts.evaluation import evaluate_patient

    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    return Alert.objects.get(rule="calc_morphology_worse")


def test_inbox_needs_login(client):
    response = client.get(INBOX)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_inbox_shows_only_the_users_sites(client, site, other_site, radiologist):
    mine = make_alerts(site, 2)
    theirs = make_alerts(other_site, 1)
    client.force_login(radiologist)
    body = client.get(INBOX).content.decode()
    assert all(reverse("alert-detail", args=[a.pk]) in body for a in mine)
    assert reverse("alert-detail", args=[theirs[0].pk]) not in body
    assert "2 cases" in body


def test_inbox_filters(client, site, coordinator):
    make_alerts(site, 2)
    high = make_alerts(site, 1, rule="birads_suspicious", severity="high")[0]
    resolved = make_alerts(site, 1, rule="mri_washout", severity="high")[0]
    Alert.objects.filter(pk=resolved.pk).update(state=AlertState.RESOLVED,
                                                resolved_by=coordinator, resolution="false_positive")
    client.force_login(coordinator)

    def shown(**params):
        cases = client.get(INBOX, params).context["cases"]
        return sorted(a.pk for case in cases for a in case.alerts)

    assert len(shown()) == 3  # open or acknowledged by default
    assert shown(severity="high") == [high.pk]
    assert shown(rule="birads_suspicious") == [high.pk]
    assert shown(state="resolved") == [resolved.pk]
    assert len(shown(state="all")) == 4
    assert shown(site="north", severity="high") == [high.pk]
    # A filter the user may not use is ignored, and said so.
    assert len(shown(site="south")) == 3
    assert len(shown(severity="bogus")) == 3
    assert "Select a valid choice" in client.get(INBOX, {"site": "south"}).content.decode()


def test_inbox_query_count_does_not_grow_with_alerts(client, site, radiologist,
                                                     django_assert_max_num_queries):
    make_alerts(site, 3)
    client.force_login(radiologist)
    with django_assert_max_num_queries(8) as few:
        client.get(INBOX)
    make_alerts(site, 40)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(INBOX)
    assert len(response.context["cases"]) == 43


def test_inbox_paginates(client, site, radiologist):
    make_alerts(site, 55)
    client.force_login(radiologist)
    first = client.get(INBOX, {"severity": "medium"})
    assert len(first.context["cases"]) == 50
    assert "severity=medium&amp;page=2" in first.content.decode()
    second = client.get(INBOX, {"severity": "medium", "page": 2})
    assert len(second.context["cases"]) == 5


def test_detail_shows_reason_findings_and_burden(client, radiologist, real_alert,
                                                 django_assert_max_num_queries):
    client.force_login(radiologist)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("alert-detail", args=[real_alert.pk]))
    body = response.content.decode()
    assert "highest morphology fine pleomorphic → fine linear branching" in body
    assert "Fine linear or fine-linear branching" in body  # the triggering study's findings
    assert "33 mm" in body and "18 mm" in body  # the burden table ("none" without calcifications)
    assert "this alert" in body
    assert radiologist.email in body or "pending" in body  # the notification's outcome
    assert 'action="' + reverse("alert-acknowledge", args=[real_alert.pk]) in body


def test_detail_of_another_sites_alert_is_404(client, outsider, real_alert):
    client.force_login(outsider)
    assert client.get(reverse("alert-detail", args=[real_alert.pk])).status_code == 404
    response = client.post(reverse("alert-acknowledge", args=[real_alert.pk]))
    assert response.status_code == 404


@pytest.mark.parametrize("persona", ["clinic_staff", "coordinator"])
def test_only_radiologists_act_on_imaging_alerts(client, request, persona, real_alert):
    client.force_login(request.getfixturevalue(persona))
    body = client.get(reverse("alert-detail", args=[real_alert.pk])).content.decode()
    assert "Acknowledge</button>" not in body
    assert client.post(reverse("alert-acknowledge", args=[real_alert.pk])).status_code == 403
    assert client.post(reverse("alert-resolve", args=[real_alert.pk]),
                       {"resolution": "false_positive"}).status_code == 403
    real_alert.refresh_from_db()
    assert real_alert.state == "open"


def test_acknowledge_then_resolve_records_who_what_when(client, radiologist, real_alert):
    client.force_login(radiologist)
    url = reverse("alert-detail", args=[real_alert.pk])
    response = client.post(reverse("alert-acknowledge", args=[real_alert.pk]),
                           {"note": "reviewing with the surgeon"}, follow=True)
    assert response.redirect_chain[-1][0] == url
    real_alert.refresh_from_db()
    assert (real_alert.state, real_alert.acknowledged_by) == ("acknowledged", radiologist)
    assert real_alert.acknowledge_note == "reviewing with the surgeon"

    missing = client.post(reverse("alert-resolve", args=[real_alert.pk]), {"note": "?"})
    assert missing.status_code == 400 and "Choose a resolution." in missing.content.decode()

    response = client.post(reverse("alert-resolve", args=[real_alert.pk]),
                           {"resolution": "biopsy_ordered", "note": "stereotactic biopsy booked"},
                           follow=True)
    body = response.content.decode()
    real_alert.refresh_from_db()
    assert (real_alert.state, real_alert.resolved_by, real_alert.resolution) == (
        "resolved", radiologist, "biopsy_ordered")
    assert "Biopsy ordered" in body and "stereotactic biopsy booked" in body
    assert real_alert.resolved_at.strftime("%Y-%m-%d") in body
    assert "Resolve</button>" not in body
    again = client.post(reverse("alert-acknowledge", args=[real_alert.pk]), follow=True)
    assert "already acknowledged" in again.content.decode()


def test_resolving_an_open_alert_records_the_acknowledgement_too(radiologist, real_alert):
    from alerts.services import alert_resolve

    alert, changed = alert_resolve(alert=real_alert, by=radiologist, resolution="benign_no_action")
    assert changed and alert.acknowledged_by == radiologist
    assert alert.acknowledged_at == alert.resolved_at


def test_open_alerts_for_patient(site, real_alert, radiologist):
    from alerts.services import alert_resolve

    patient = real_alert.patient
    assert {a.rule for a in open_alerts_for_patient(patient)} == {
        "calc_morphology_worse", "calc_extent_increase"}
    alert_resolve(alert=real_alert, by=radiologist, resolution="false_positive")
    assert [a.rule for a in open_alerts_for_patient(patient)] == ["calc_extent_increase"]


def test_surveillance_alert_without_a_study_has_a_detail_page(client, site, coordinator):
    patient = PatientFactory(site=site)
    alert, _ = alert_raise(patient_id=patient.id, rule="surveillance_overdue", severity="medium",
                           trigger="item:42", reason="mammogram due 2024-06-01 is 75 days overdue")
    client.force_login(coordinator)
    response = client.get(reverse("alert-detail", args=[alert.pk]))
    assert response.status_code == 200
    assert "75 days overdue" in response.content.decode()
    assert "Findings of the triggering study" not in response.content.decode()
