"""Email notifications: template triplet, one send per notification, failures recorded.

SMTP is mocked at the channel edge only (Django's locmem backend in tests)."""

import smtplib
from unittest import mock

import pytest
from django.core import mail

from alerts.evaluation import evaluate_patient
from alerts.models import Alert, Notification
from alerts.notifications import ChannelError, render_email
from alerts.notifications.alerts import (
    MAX_ATTEMPTS,
    alert_email_context,
    notification_send,
    notifications_due,
)
from tests.alerts.builders import finalize_progressing, surveillance_patient

pytestmark = pytest.mark.django_db

SEND = "django.core.mail.EmailMultiAlternatives.send"


@pytest.fixture
def notification(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    evaluate_patient(patient.id)
    return Notification.objects.select_related("alert__patient").get()


def test_email_names_the_alert_but_never_the_patient(notification, settings):
    settings.SITE_URL = "https://tracker.clinic.example"
    alert, patient = notification.alert, notification.alert.patient
    subject, text, html = render_email("alert", alert_email_context(alert))
    # The case: the high-severity morphology alert and the medium extent alert of one study.
    assert subject == (f"[High] Calcification morphology worse and 1 more alert – alert #{alert.pk} "
                       "at North Clinic")
    assert "Calcification extent increase" in text and "Calcification extent increase" in html
    url = f"https://tracker.clinic.example/alerts/{alert.pk}/"
    assert url in text and f'href="{url}"' in html
    assert "fine linear branching" in text
    for secret in (patient.family_name, patient.given_name, patient.mrn, str(patient.uuid),
                   patient.date_of_birth.isoformat()):
        assert secret not in subject and secret not in text and secret not in html


def test_sent_once_however_often_delivered(notification):
    assert notification_send(notification.id) == "sent"
    assert notification_send(notification.id) == "skipped"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [notification.address]
    assert message.alternatives[0][1] == "text/html"
    notification.refresh_from_db()
    assert notification.status == "sent" and notification.sent_at and notification.attempts == 1


def test_transient_failure_is_recorded_and_retried(notification):
    with mock.patch(SEND, side_effect=smtplib.SMTPServerDisconnected("gone")):
        with pytest.raises(ChannelError) as exc:
            notification_send(notification.id)
    assert not exc.value.permanent
    notification.refresh_from_db()
    assert notification.status == "pending" and notification.attempts == 1
    assert notification.last_error == "SMTPServerDisconnected: gone"
    assert notifications_due() == [notification.id]
    assert notification_send(notification.id) == "sent"
    notification.refresh_from_db()
    assert notification.last_error == "" and len(mail.outbox) == 1


def test_permanent_failure_is_recorded_not_retried(notification):
    refused = smtplib.SMTPRecipientsRefused({notification.address: (550, b"no such user")})
    with mock.patch(SEND, side_effect=refused):
        assert notification_send(notification.id) == "failed"
    notification.refresh_from_db()
    assert notification.status == "failed" and "recipient refused" in notification.last_error
    assert notifications_due() == []


def test_gives_up_after_max_attempts(notification):
    Notification.objects.filter(id=notification.id).update(attempts=MAX_ATTEMPTS - 1)
    with mock.patch(SEND, side_effect=OSError("connection refused")):
        assert notification_send(notification.id) == "failed"
    notification.refresh_from_db()
    assert notification.status == "failed" and notification.attempts == MAX_ATTEMPTS


def test_stuck_sending_row_is_picked_up_again(notification):
    from datetime import timedelta

    from django.utils import timezone

    Notification.objects.filter(id=notification.id).update(
        status="sending", claimed_at=timezone.now() - timedelta(minutes=11))
    assert notifications_due() == [notification.id]
    notification.refresh_from_db()
    assert notification.status == "pending"


def test_a_broken_mail_server_never_blocks_alert_creation(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist)
    with mock.patch(SEND, side_effect=OSError("down")):
        evaluate_patient(patient.id)
    assert Alert.objects.count() == 2
    assert Notification.objects.get().status == "pending"


def test_medium_alerts_send_no_email(site, radiologist):
    patient = surveillance_patient(site)
    finalize_progressing(patient, radiologist, rows=[
        {"group": "L1", "laterality": "left", "morphology": "fine_pleomorphic",
         "distribution": "segmental", "extent_mm": 30, "count_bin": ">20",
         "inside_tumor_bed": True}])
    assert [a.rule for a in evaluate_patient(patient.id)] == ["calc_extent_increase"]
    assert Notification.objects.count() == 0
