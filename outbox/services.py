"""Writing and processing outbox events (Healthchecks' Flip + `sendalerts`, generalised)."""

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.tasks import enqueue

from .handlers import handlers_for
from .models import Event

logger = logging.getLogger(__name__)


def event_write(*, kind: str, patient_id: int | None, object_id: int | None = None) -> Event:
    """Record that `kind` happened, and queue its processing for after commit.

    Must run inside the transaction of the change it records. If the broker is down at
    commit, the error is logged and swallowed (the change is saved) and the sweep
    processes the event.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_write must run in the transaction of the change it records")
    event = Event.objects.create(kind=kind, patient_id=patient_id, object_id=object_id)
    transaction.on_commit(lambda: _enqueue(event.id))
    return event


def _enqueue(event_id: int) -> None:
    from .tasks import process_event  # the task module imports this one

    enqueue(process_event, event_id)


def event_process(event_id: int) -> bool:
    """Claim one event and run its handlers, all in one transaction.

    1. Claim: ``filter(id=i, processed_at=None).update(processed_at=now)``; a count other
       than 1 means another delivery processed (or is processing) it: do nothing. A
       concurrent claim waits on the row lock and then finds it processed.
    2. Run every handler of its kind in the same transaction, so a worker killed mid-way
       leaves the event unclaimed (the transaction never commits) for the redelivery or
       the sweep.
    3. On error: roll back, count the attempt and keep the error on the event, re-raise
       (the task retries with backoff; the sweep tries again later).
    Returns True when this call processed the event.
    """
    try:
        with transaction.atomic():
            claimed = Event.objects.filter(id=event_id, processed_at=None).update(
                processed_at=timezone.now(), attempts=F("attempts") + 1, last_error="")
            if claimed != 1:
                return False
            event = Event.objects.get(id=event_id)
            for handler in handlers_for(event.kind):
                handler(event)
    except Exception as exc:
        Event.objects.filter(id=event_id, processed_at=None).update(
            attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:200])
        raise
    return True


def events_sweep(limit: int = 1000) -> tuple[int, int]:
    """Process every unprocessed event, oldest first; returns (processed, failed).

    One bad event is logged and left for the next sweep; it does not stop this one.
    """
    ids = list(Event.objects.filter(processed_at=None).order_by("created_at", "id")
               .values_list("id", flat=True)[:limit])
    processed = failed = 0
    for event_id in ids:
        try:
            processed += event_process(event_id)
        except Exception:
            failed += 1
            logger.exception("outbox event %s failed; left for the next sweep", event_id)
    if ids:
        logger.info("outbox sweep: %d processed, %d failed, %d already done",
                    processed, failed, len(ids) - processed - failed)
    return processed, failed
