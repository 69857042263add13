"""Celery tasks: thin wrappers taking ids only, `acks_late`, retrying with backoff.

The work itself lives in `alerts.evaluation` and `alerts.notifications.alerts`, so unit
tests call those functions directly (no eager mode) and the fault tests run a real worker.
"""

import logging

from celery import Task, shared_task

from .evaluation import outbox_process, outbox_sweep, reevaluate_chunk, reevaluation_start
from .notifications.alerts import notification_send, notifications_due
from .notifications.email import ChannelError

logger = logging.getLogger(__name__)

DEFAULT_CHUNK_SIZE = 200


def backoff(retries: int) -> int:
    """Seconds before retry n (0-based): 10, 20, 40, … capped at 10 minutes."""
    return min(10 * 2 ** retries, 600)


def enqueue(task: Task, *args) -> None:
    """`task.delay(*args)`, logging and swallowing a broker failure.

    Called after commit: the clinical change is saved whatever happens here, and the
    outbox sweep (or the notification sweep) picks up what could not be queued.
    """
    try:
        task.delay(*args)
    except Exception as exc:
        logger.warning("could not enqueue %s%r (%s: %s); the sweep will pick it up",
                       task.name, args, type(exc).__name__, exc)


@shared_task(bind=True, acks_late=True, max_retries=8)
def process_outbox(self: Task, outbox_id: int) -> bool:
    try:
        return outbox_process(outbox_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True)
def sweep_outbox() -> dict:
    """Beat task: process every unprocessed outbox row, then re-queue unsent notifications."""
    processed, failed = outbox_sweep()
    due = notifications_due()
    for notification_id in due:
        enqueue(send_notification, notification_id)
    return {"processed": processed, "failed": failed, "notifications": len(due)}


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
