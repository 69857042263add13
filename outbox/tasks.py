"""Celery tasks of the outbox: thin, ids only, `acks_late`, retrying with backoff."""

from celery import Task, shared_task

from core.tasks import backoff

from .services import event_process, events_sweep


@shared_task(bind=True, acks_late=True, max_retries=8)
def process_event(self: Task, event_id: int) -> bool:
    try:
        return event_process(event_id)
    except Exception as exc:
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc


@shared_task(acks_late=True)
def sweep_outbox() -> dict:
    """Beat task: process every event left unprocessed (broker or worker down)."""
    processed, failed = events_sweep()
    return {"processed": processed, "failed": failed}
