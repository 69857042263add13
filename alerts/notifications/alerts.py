"""Notifying a site's radiologists of a high-severity case.

One email per case, not per alert: the alerts one study raised for its patient are one
case (`Alert.case_key`), and a progressing mammogram can raise several at once.

1. `notifications_create_for(alert)`, in the transaction that created the alert, writes
   one `Notification` row per radiologist, on the case's first high-severity alert
   only (none when the case has a row for that address already), and enqueues sending
   after commit. The email lists every alert of the case as it is when sent.
2. `notification_send(id)` claims the row (pending → sending), sends, and records the
   outcome: sent; pending again with the error (the task retries with backoff); or
   failed (permanent, or out of attempts) — recorded on the row and the alert page.
3. The sweep re-enqueues pending rows and rows stuck in "sending" by a killed worker.
"""

import logging
from datetime import timedelta
from functools import partial

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from core.roles import RADIOLOGIST
from core.tasks import enqueue
from patients.models import Patient, Site

from ..models import Alert, AlertState, Notification, Severity
from .email import ChannelError, send_email

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
STUCK_AFTER = timedelta(minutes=10)


def alert_recipients(alert: Alert) -> list:
    """Active radiologists of the alert's site who have an email address."""
    site_id = Patient.objects.values_list("site_id", flat=True).get(id=alert.patient_id)
    return list(
        get_user_model().objects.filter(sites=site_id, groups__name=RADIOLOGIST, is_active=True)
        .exclude(email="").distinct().order_by("id")
    )


def _notified(alerts: list[Alert]) -> set[tuple[str, str]]:
    """(case key, address) pairs that already have a notification: one query."""
    studies = {a.study_id for a in alerts if a.study_id is not None}
    solos = {a.pk for a in alerts if a.study_id is None}
    rows = (Notification.objects.filter(Q(alert__study_id__in=studies) | Q(alert_id__in=solos))
            .values_list("alert__study_id", "alert_id", "address"))
    return {(f"study-{study_id}" if study_id is not None else f"alert-{alert_id}", address)
            for study_id, alert_id, address in rows}


def notifications_create_for(alert: Alert) -> list[Notification]:
    """Notification rows for a new alert (email for high severity) unless its case was
    notified already, sent after commit."""
    return notifications_create_for_many([alert])


def notifications_create_for_many(alerts: list[Alert]) -> list[Notification]:
    """The notifications of new alerts, one per case and recipient, in a fixed number of
    queries: the sites of the alerts' patients (1), their radiologists (1), the cases
    notified already (1), the rows (1 per 500).

    Recipients as `alert_recipients`; one row per address (the first radiologist's). A
    case's row goes on its first high-severity alert in `alerts`; a case notified before
    (an amendment raised one more alert on the same study) gets no second email.
    """
    high = [a for a in alerts if a.severity == Severity.HIGH]
    if not high:
        return []
    site_of = dict(Patient.objects.filter(id__in={a.patient_id for a in high})
                   .values_list("id", "site_id"))
    recipients = _recipients_by_site(set(site_of.values()))
    done = _notified(high)
    rows = []
    for alert in high:
        for user_id, email in recipients.get(site_of[alert.patient_id], ()):
            if (alert.case_key, email) not in done:
                done.add((alert.case_key, email))
                rows.append(Notification(alert=alert, channel=Notification.Channel.EMAIL,
                                         recipient_id=user_id, address=email))
    # New alerts have no rows yet: nothing conflicts, every row gets its id back.
    Notification.objects.bulk_create(rows)
    for n in rows:
        transaction.on_commit(partial(enqueue_send, n.id))
    return rows


def _recipients_by_site(site_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """Site id → (user id, email) of `alert_recipients`, by user id."""
    membership = Site.members.through.objects.filter(
        site_id__in=site_ids, user__groups__name=RADIOLOGIST, user__is_active=True,
    ).exclude(user__email="")
    out: dict[int, list[tuple[int, str]]] = {}
    for site_id, user_id, email in (membership.values_list("site_id", "user_id", "user__email")
                                    .distinct().order_by("site_id", "user_id")):
        out.setdefault(site_id, []).append((user_id, email))
    return out


def enqueue_send(notification_id: int) -> None:
    from ..tasks import send_notification

    enqueue(send_notification, notification_id)


def notification_send(notification_id: int) -> str:
    """Send one notification once. Returns its resulting status, or "skipped" if another
    delivery owns it. Raises `ChannelError` for a transient failure worth retrying."""
    claimed = Notification.objects.filter(
        id=notification_id, status=Notification.Status.PENDING
    ).update(status=Notification.Status.SENDING, claimed_at=timezone.now(),
             attempts=F("attempts") + 1)
    if claimed != 1:
        return "skipped"
    n = Notification.objects.select_related("alert", "alert__patient__site").get(id=notification_id)
    try:
        send_email("alert", alert_email_context(n.alert), [n.address])
    except ChannelError as exc:
        final = exc.permanent or n.attempts >= MAX_ATTEMPTS
        status = Notification.Status.FAILED if final else Notification.Status.PENDING
        Notification.objects.filter(id=n.id).update(status=status, last_error=exc.message[:300])
        logger.warning("notification %s for alert %s: %s (%s)", n.id, n.alert_id, exc.message,
                       "gave up" if final else "will retry")
        if final:
            return status
        raise
    Notification.objects.filter(id=n.id).update(status=Notification.Status.SENT,
                                                 sent_at=timezone.now(), last_error="")
    return Notification.Status.SENT


def case_alerts(alert: Alert) -> list[Alert]:
    """The unresolved alerts of the alert's case, highest severity first (the alert itself
    whatever its state): what its email lists."""
    if alert.study_id is None:
        return [alert]
    rank: dict[str, int] = {Severity.HIGH: 0, Severity.MEDIUM: 1}
    siblings = (Alert.objects.filter(study_id=alert.study_id)
                .filter(Q(pk=alert.pk) | ~Q(state__in=[AlertState.RESOLVED, AlertState.SUPERSEDED])))
    return sorted(siblings, key=lambda a: (a.pk != alert.pk, rank.get(a.severity, 2), a.created_at, a.pk))


def alert_email_context(alert: Alert) -> dict:
    """What the email may say: no names, MRN or birth date; the URL names the alert only."""
    alerts = case_alerts(alert)
    return {
        "alert": alert,
        "alerts": alerts,
        "others": len(alerts) - 1,
        "site_name": alert.patient.site.name,
        "alert_path": reverse("alert-detail", kwargs={"pk": alert.pk}),
    }


def notifications_due() -> list[int]:
    """Pending notifications, and those stuck in "sending" by a worker that died."""
    stuck = timezone.now() - STUCK_AFTER
    Notification.objects.filter(status=Notification.Status.SENDING, claimed_at__lt=stuck).update(
        status=Notification.Status.PENDING)
    return list(Notification.objects.filter(Q(status=Notification.Status.PENDING))
                .order_by("created_at").values_list("id", flat=True)[:500])
