"""Celery tasks: thin wrappers taking ids only, `acks_late`, retrying with backoff.

The work itself lives in `alerts.evaluation` and `alerts.notifications.alerts`, so unit
tests call those functions directly (no eager mode) and the fault tests run a real worker.
Evaluation after a study is signed runs through the outbox (`alerts.handlers`).
"""

import logging

from celery import Task, shared_task

from core.tasks import backoff, enqueue

from .evaluation import reevaluate_chunk, reevaluation_start
from .notifications.alerts import notification_send, notifications_due
from .notifications.email import ChannelError

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 200


@shared_task(acks_late=True)
def sweep_notifications() -> dict:
    """Beat task: re-queue the notifications not sent yet (broker or worker was down)."""
    due = notifications_due()
    for notification_id in due:
        enqueue(send_notification, notification_id)
    return {"notifications": len(due)}


@shared_task(bind=True, acks_late=True, max_retries=8)
def send_notification(self: Task, notification_id: int) -> str:
    try:
        return notification_send(notification_id)
    except ChannelError as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True)
def reevaluate_cohort(started_by_id: int | None = None,
                      chunk_size: int = DEFAULT_CHUNK_SIZE) -> int:
    """Split the cohort into chunks, one task each, so every worker takes a share."""
    from django.contrib.auth import get_user_model

    by = get_user_model().objects.filter(pk=started_by_id).first() if started_by_id else None
    run, chunks = reevaluation_start(chunk_size=chunk_size, by=by)
    for chunk in chunks:
        reevaluate_patients.delay(run.id, chunk)
    logger.info("re-evaluation #%s: %d patients in %d chunks", run.id, run.total_patients,
                len(chunks))
    return run.id


@shared_task(bind=True, acks_late=True, max_retries=3)
def reevaluate_patients(self: Task, run_id: int | None, patient_ids: list[int]) -> dict:
    try:
        created, failed = reevaluate_chunk(run_id, patient_ids)
    except Exception as exc:  # e.g. the database went away between patients
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    return {"alerts": created, "failed": failed}
