"""Alert cases: the alerts one study raised for its patient are one line of the inbox, one
email, and are acknowledged or resolved together (or one by one); surveillance alerts
belong to the worklist's workers, with their own resolutions and page."""

from datetime import date, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from alerts.evaluation import evaluate_patient
from alerts.models import (
    IMAGING_RESOLUTIONS,
    SURVEILLANCE_RESOLUTIONS,
    Alert,
    Notification,
    resolutions_for,
)
from alerts.notifications.alerts import (
    notification_send,
    notifications_create_for,
    notifications_create_for_many,
)
from alerts.selectors import group_cases
from alerts.services import alert_raise
from surveillance.models import ScheduledItem
from surveillance.services.contacts import contact_log
from surveillance.services.sweep import surveillance_sweep
from tests.alerts.builders import finalize_progressing, surveillance_patient
from tests.imaging.factories import ImagingStudyFactory
from tests.patients.factories import PatientFactory, SurgeryFactory

pytestmark = pytest.mark.django_db

INBOX = reverse("alert-inbox")
ACTION = reverse("alert-cases-action")
HIGH_RULES = ("calc_morphology_worse", "calc_distribution_worse", "calc_reported_increase",
              "birads_suspicious")


def study_case(site, *, rules=HIGH_RULES, severity="high", patient=None):
    """One study of a new patient with an alert per rule: one case."""
    patient = patient or PatientFactory(site=site)
    study = ImagingStudyFactory(patient=patient, final=True, study_date=date(2020, 6, 15))
    alerts = [alert_raise(patient_id=patient.id, rule=rule, severity=severity, breast="left",
                          trigger=f"study:{study.id}", study_id=study.id,
                          reason=f"{rule} on the 2020 mammogram")[0] for rule in rules]
    return study, alerts


def overdue_case(site, *, patient=None, item_id=None):
    patient = patient or PatientFactory(site=site)
    alert, _ = alert_raise(patient_id=patient.id, rule="surveillance_overdue", severity="medium",
                           trigger=f"item:{item_id or patient.id + 9000}",
                           reason="mammogram due 2024-06-01 is 75 days overdue")
    return alert


def key(alert):
    return alert.case_key


# --- grouping and the inbox ---------------------------------------------------------


def test_a_progressing_mammogram_is_one_case_with_all_its_reasons(client, site, radiologist):
    patient = surveillance_patient(site)
    study = finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    raised = Alert.objects.filter(patient=patient)
    assert raised.count() >= 2
    client.force_login(radiologist)
    response = client.get(INBOX)
    (case,) = response.context["cases"]
    assert case.key == f"study-{study.id}" and case.study == study
    assert {a.pk for a in case.alerts} == set(raised.values_list("pk", flat=True))
    assert case.severity == "high" and case.alerts[0].severity == "high"  # the highest first
    body = response.content.decode()
    assert "1 case," in body
    for alert in raised:
        assert reverse("alert-detail", args=[alert.pk]) in body
    assert reverse("patient-timeline", kwargs={"uuid": patient.uuid}) in body
    assert reverse("study-detail", kwargs={"uuid": study.uuid}) in body


def test_cases_sorted_by_severity_then_newest(client, site, radiologist):
    _, medium_old = study_case(site, rules=("calc_extent_increase",), severity="medium")
    _, high = study_case(site, rules=("calc_morphology_worse", "calc_extent_increase"))
    overdue = overdue_case(site)
    _, medium_new = study_case(site, rules=("calc_count_increase",), severity="medium")
    client.force_login(radiologist)
    cases = client.get(INBOX).context["cases"]
    assert [c.key for c in cases] == [key(high[0]), key(medium_new[0]), key(overdue), key(medium_old[0])]
    # A surveillance alert is a case of its own, with no study.
    assert cases[2].study is None and cases[2].alerts == (overdue,)


@pytest.mark.parametrize(("states", "case_state"), [
    (("open", "acknowledged"), "open"),
    (("acknowledged", "resolved"), "acknowledged"),
    (("resolved", "resolved"), "resolved"),
])
def test_a_case_is_as_far_as_its_least_advanced_alert(site, states, case_state):
    _, alerts = study_case(site, rules=("calc_morphology_worse", "calc_extent_increase"))
    for alert, state in zip(alerts, states, strict=True):
        alert.state = state
    (case,) = group_cases(alerts)
    assert case.state == case_state
    assert len(case.active) == sum(s != "resolved" for s in states)


def test_inbox_query_count_is_constant_per_page(client, site, radiologist, django_assert_num_queries):
    study_case(site)
    overdue_case(site)
    client.force_login(radiologist)
    client.get(INBOX)  # session, roles and the like warmed up as in the second request
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(INBOX)
    for _ in range(15):
        study_case(site)
        overdue_case(site)
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(INBOX)
    assert len(response.context["cases"]) == 32
    assert sum(len(c.alerts) for c in response.context["cases"]) == 16 * 4 + 16


def test_inbox_pages_through_cases_not_alerts(client, site, radiologist):
    for _ in range(51):
        study_case(site, rules=("calc_morphology_worse", "birads_suspicious"))
    client.force_login(radiologist)
    first = client.get(INBOX)
    assert len(first.context["cases"]) == 50
    assert all(len(c.alerts) == 2 for c in first.context["cases"])  # a case is never split
    assert len(client.get(INBOX, {"page": 2}).context["cases"]) == 1


# --- acting on cases ---------------------------------------------------------------


def test_radiologist_acknowledges_several_cases_at_once(client, site, radiologist):
    _, first = study_case(site)
    _, second = study_case(site, rules=("calc_extent_increase",), severity="medium")
    _, untouched = study_case(site)
    client.force_login(radiologist)
    response = client.post(ACTION, {"case": [key(first[0]), key(second[0])], "action": "acknowledge",
                                    "note": "seen at the MDT", "next": INBOX + "?severity=high"})
    assert response.status_code == 302 and response["Location"] == INBOX + "?severity=high"
    for alert in first + second:
        alert.refresh_from_db()
        assert (alert.state, alert.acknowledged_by, alert.acknowledge_note) == (
            "acknowledged", radiologist, "seen at the MDT")
    assert {a.state for a in Alert.objects.filter(pk__in=[a.pk for a in untouched])} == {"open"}
    followed = client.get(response["Location"])
    assert "5 alerts acknowledged in 2 cases." in followed.content.decode()


def test_radiologist_resolves_a_case_and_its_parts_one_by_one(client, site, radiologist):
    _, alerts = study_case(site)
    client.force_login(radiologist)
    one = client.post(reverse("alert-resolve", args=[alerts[0].pk]), {"resolution": "false_positive"})
    assert one.status_code == 302
    response = client.post(ACTION, {"case": key(alerts[0]), "action": "resolve",
                                    "resolution": "biopsy_ordered", "note": "stereotactic"})
    assert response.status_code == 302
    resolutions = dict(Alert.objects.filter(pk__in=[a.pk for a in alerts]).values_list("pk", "resolution"))
    assert resolutions[alerts[0].pk] == "false_positive"  # resolved before: left as it was
    assert {resolutions[a.pk] for a in alerts[1:]} == {"biopsy_ordered"}


@pytest.mark.parametrize(("data", "error"), [
    ({"action": "acknowledge"}, "Tick at least one case."),
    ({"action": "resolve", "case": "CASE"}, "Choose a resolution."),
    ({"action": "resolve", "case": "CASE", "resolution": "contacted"}, "Select a valid choice"),
    ({"action": "resolve", "case": "CASE", "resolution": "nonsense"}, "Select a valid choice"),
    ({"action": "archive", "case": "CASE"}, "Select a valid choice"),
    ({"action": "acknowledge", "case": "patient-1"}, "not one of the inbox"),
    ({"case": "CASE"}, "Choose an action."),
])
def test_bad_case_actions_are_400_with_the_reason_and_change_nothing(client, site, radiologist, data, error):
    _, alerts = study_case(site)
    data = {k: key(alerts[0]) if v == "CASE" else v for k, v in data.items()}
    client.force_login(radiologist)
    response = client.post(ACTION, data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert set(Alert.objects.values_list("state", flat=True)) == {"open"}


def test_a_resolution_that_does_not_fit_a_ticked_case_is_refused(client, site, radiologist):
    """A user with both roles is offered both kinds; each case must fit the one chosen."""
    from django.contrib.auth.models import Group

    from core.roles import COORDINATOR

    radiologist.groups.add(Group.objects.get_or_create(name=COORDINATOR)[0])
    _, imaging = study_case(site)
    overdue = overdue_case(site)
    client.force_login(radiologist)
    body = client.get(INBOX).content.decode()
    assert 'value="contacted"' in body and 'value="biopsy_ordered"' in body
    response = client.post(ACTION, {"case": [key(overdue), key(imaging[0])], "action": "resolve",
                                    "resolution": "contacted"})
    assert response.status_code == 400
    assert "a ticked case cannot take this resolution" in response.content.decode()
    assert set(Alert.objects.values_list("state", flat=True)) == {"open"}  # all or nothing


def test_only_cases_of_the_users_kind_can_be_ticked(client, site, coordinator):
    _, imaging = study_case(site)
    overdue = overdue_case(site)
    client.force_login(coordinator)
    response = client.get(INBOX)
    assert response.context["actionable"] == {key(overdue)}
    body = response.content.decode()
    assert 'value="rescheduled"' in body and 'value="biopsy_ordered"' not in body
    assert f'value="{key(imaging[0])}" id="case-{key(imaging[0])}"' in body


def test_a_case_the_user_may_not_act_on_refuses_the_whole_action(client, site, radiologist, coordinator):
    _, imaging = study_case(site)
    overdue = overdue_case(site)
    client.force_login(coordinator)
    response = client.post(ACTION, {"case": [key(overdue), key(imaging[0])], "action": "acknowledge"})
    assert response.status_code == 403
    client.force_login(radiologist)
    response = client.post(ACTION, {"case": [key(overdue), key(imaging[0])], "action": "acknowledge"})
    assert response.status_code == 403
    assert set(Alert.objects.values_list("state", flat=True)) == {"open"}  # all or nothing


def test_another_sites_cases_are_not_touched(client, site, other_site, outsider):
    _, alerts = study_case(site)
    client.force_login(outsider)
    response = client.post(ACTION, {"case": key(alerts[0]), "action": "acknowledge"})
    assert response.status_code == 302
    assert set(Alert.objects.values_list("state", flat=True)) == {"open"}


# --- surveillance alerts belong to the worklist's workers --------------------------------


def test_coordinator_bulk_resolves_overdue_cases_with_a_surveillance_resolution(client, site, coordinator):
    overdue = [overdue_case(site) for _ in range(3)]
    client.force_login(coordinator)
    response = client.post(ACTION, {"case": [key(a) for a in overdue[:2]], "action": "resolve",
                                    "resolution": "rescheduled", "note": "booked for March"})
    assert response.status_code == 302
    states = dict(Alert.objects.values_list("pk", "resolution"))
    assert [states[a.pk] for a in overdue] == ["rescheduled", "rescheduled", ""]
    wrong = client.post(ACTION, {"case": key(overdue[2]), "action": "resolve",
                                 "resolution": "false_positive"})
    assert wrong.status_code == 400


@pytest.mark.parametrize(("persona", "rule", "allowed"), [
    ("coordinator", "surveillance_overdue", True),
    ("coordinator", "lost_to_follow_up", True),
    ("clinic_staff", "lost_to_follow_up", True),
    ("radiologist", "surveillance_overdue", False),
    ("radiologist", "lost_to_follow_up", False),
    ("coordinator", "calc_extent_increase", False),
    ("radiologist", "calc_extent_increase", True),
])
def test_who_acts_on_which_alert_and_with_which_resolutions(client, request, site, persona, rule, allowed):
    patient = PatientFactory(site=site)
    alert, _ = alert_raise(patient_id=patient.id, rule=rule, severity="medium", trigger="item:7",
                           reason="the reason")
    client.force_login(request.getfixturevalue(persona))
    body = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert ("Resolve</button>" in body) is allowed
    fitting = resolutions_for(surveillance=alert.is_surveillance)
    other = SURVEILLANCE_RESOLUTIONS if fitting == IMAGING_RESOLUTIONS else IMAGING_RESOLUTIONS
    if allowed:
        assert all(f'value="{r.value}"' in body for r in fitting)
        assert not any(f'value="{r.value}"' in body for r in other)
        wrong = client.post(reverse("alert-resolve", args=[alert.pk]), {"resolution": other[0].value})
        assert wrong.status_code == 400 and "Select a valid choice" in wrong.content.decode()
    ack = client.post(reverse("alert-acknowledge", args=[alert.pk]))
    assert ack.status_code == (302 if allowed else 403)
    resolved = client.post(reverse("alert-resolve", args=[alert.pk]), {"resolution": fitting[0].value})
    assert resolved.status_code == (302 if allowed else 403)
    alert.refresh_from_db()
    assert alert.state == ("resolved" if allowed else "open")


def test_service_refuses_a_resolution_of_the_other_kind(site, coordinator, radiologist):
    from django.core.exceptions import ValidationError

    from alerts.services import alert_resolve

    overdue = overdue_case(site)
    with pytest.raises(ValidationError) as exc:
        alert_resolve(alert=overdue, by=coordinator, resolution="biopsy_ordered")
    assert "Patient contacted" in str(exc.value)
    _, imaging = study_case(site)
    with pytest.raises(ValidationError):
        alert_resolve(alert=imaging[0], by=radiologist, resolution="deceased")


@pytest.fixture
def overdue_item(site, coordinator):
    patient = PatientFactory(site=site, date_of_birth=date(1955, 6, 1))
    SurgeryFactory(patient=patient, date=date.today() - timedelta(days=200), laterality="right")
    surveillance_sweep()
    item = ScheduledItem.objects.filter(patient=patient).order_by("due_date").first()
    contact_log(item=item, by=coordinator, outcome="no_answer", note="Rang twice, no answer")
    alert = overdue_case(site, patient=patient, item_id=item.id)
    return alert, item


def test_surveillance_alert_page_shows_the_worklist_item_and_contacts_not_the_chart(
        client, coordinator, overdue_item, django_assert_max_num_queries):
    alert, item = overdue_item
    client.force_login(coordinator)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("alert-detail", args=[alert.pk]))
    body = response.content.decode()
    assert reverse("worklist-item", kwargs={"uuid": item.uuid}) in body
    assert "Contact log" in body and "Rang twice, no answer" in body
    assert "alert-chart" not in body and "plotly" not in body and "Calcification burden" not in body
    assert 'value="contacted"' in body and 'value="biopsy_ordered"' not in body


def test_imaging_alert_page_shows_the_case_and_the_chart(client, site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    alert = Alert.objects.get(rule="calc_morphology_worse")
    client.force_login(radiologist)
    body = client.get(reverse("alert-detail", args=[alert.pk])).content.decode()
    assert "alert-chart" in body and "Worklist item" not in body
    assert f"This case: {Alert.objects.filter(study=alert.study).count()} alerts" in body
    assert f'name="case" value="study-{alert.study_id}"' in body
    assert "stable since" not in body and "open alert: " in body


# --- one email per case --------------------------------------------------------------


def test_one_email_per_case_not_per_alert(site, radiologist, django_capture_on_commit_callbacks):
    """Four high-severity alerts of one study: one notification per radiologist, one
    email listing all four. SMTP is Django's locmem backend; the rest is the real path."""
    _, alerts = study_case(site)
    rows = notifications_create_for_many(alerts)
    assert [(n.alert_id, n.address) for n in rows] == [(alerts[0].pk, radiologist.email)]
    # One at a time (as the evaluation raises them), the case's later alerts add nothing.
    _, more = study_case(site)
    created = [n for a in more for n in notifications_create_for(a)]
    assert [n.alert_id for n in created] == [more[0].pk]
    for n in Notification.objects.all():
        assert notification_send(n.id) == "sent"
    assert len(mail.outbox) == 2
    body = mail.outbox[0].body
    assert all(a.reason in body for a in alerts) and "4 alerts" in body
    assert "and 3 more alerts" in mail.outbox[0].subject


def test_a_progressing_mammogram_sends_one_email(site, radiologist, django_capture_on_commit_callbacks):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    high = Alert.objects.filter(patient=patient, severity="high").count()
    assert high >= 1
    assert Notification.objects.count() == 1
    for n in Notification.objects.all():
        notification_send(n.id)
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(("mm", "percent", "label"), [(None, None, "nadir + 5 mm and +20%"),
                                                      (3, 10, "nadir + 3 mm and +10%")])
def test_timeline_chart_draws_the_current_threshold_and_no_stable_headline(
        client, site, radiologist, mm, percent, label):
    from alerts.models import AlertSettings

    if mm is not None:
        # The shipped row exists (migration 0006): an admin changes it.
        AlertSettings.objects.update_or_create(pk=1, defaults={"extent_mm": mm, "extent_percent": percent})
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    client.force_login(radiologist)
    response = client.get(patient.get_absolute_url())
    (line,) = [t for t in response.context["figure"]["data"] if t["name"] == "Left breast alert threshold"]
    assert label in line["hovertext"][0]
    (sentence,) = response.context["trend_sentences"]
    assert "stable" not in sentence and "open alert: " in sentence
