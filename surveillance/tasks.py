"""Celery tasks: thin, idempotent, no patient details in arguments."""

from datetime import date

from celery import Task, shared_task
from django.utils import timezone

from core.tasks import backoff, enqueue

from .services.biopsies import biopsy_follow_ups_open, biopsy_overdue_sweep
from .services.digests import digests_send
from .services.fan_out import plan_chunk_run, plans_fan_out, waiting_patients
from .services.plans import plans_refresh_stale
from .services.sweep import surveillance_sweep

# A sweep of 100,000 patients on first run (every plan generated) takes minutes.
LONG = {"soft_time_limit": 50 * 60, "time_limit": 55 * 60}


@shared_task(acks_late=True, **LONG)
def daily_sweep_and_digest(as_of: str | None = None, fan_out: bool = True) -> dict:
    """The daily beat: sweep first, so the digest reports today's transitions.

    Many plans to write (a first sweep after an import): they are sent to the workers in
    chunks, and the last chunk done continues the sweep with `fan_out` false
    (services/fan_out.py). With `fan_out` false every plan is written here."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    if fan_out:
        fan = plans_fan_out(as_of=day)
        if fan.pending:  # beat fired twice: the sweep under way continues when its chunks are done
            return {"plan_chunks_pending": fan.pending}
        for chunk_id in fan.chunk_ids:
            generate_plan_chunk.delay(chunk_id)
        if fan.new:
            return {"plan_chunks": len(fan.chunk_ids)}
        waiting, stale = fan.waiting, fan.stale
    else:  # chunks sent again by an earlier beat may still be running
        waiting, stale = waiting_patients(), None
    return {"sweep": surveillance_sweep(as_of=day, skip_plans=waiting, stale=stale),
            "digests": digests_send(as_of=day)}


@shared_task(bind=True, acks_late=True, max_retries=3)
def generate_plan_chunk(self: Task, chunk_id: int) -> None:
    """One chunk of a fanned-out sweep's plans; the last chunk continues the sweep."""
    try:
        day = plan_chunk_run(chunk_id)
    except Exception as exc:  # e.g. the database went away: the chunk is not done, try again
        raise self.retry(exc=exc, countdown=backoff(self.request.retries)) from exc
    if day is not None:  # if Redis refuses it, the next beat runs the sweep
        enqueue(daily_sweep_and_digest, day.isoformat(), False)


@shared_task(acks_late=True, **LONG)
def refresh_stale_plans() -> dict:
    """After a protocol change: regenerate the future items of every plan it affects, in
    chunks on the workers when there are many (services/fan_out.py)."""
    fan = plans_fan_out(as_of=timezone.localdate(), sweep_after=False)
    for chunk_id in fan.chunk_ids:
        generate_plan_chunk.delay(chunk_id)
    if fan.new:
        return {"plan_chunks": len(fan.chunk_ids)}
    return plans_refresh_stale(stale=fan.stale)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def biopsy_follow_through() -> dict:
    """Every few minutes: open the follow-ups of alerts just resolved as biopsy ordered,
    and stamp the ones whose result is late."""
    return {"opened": biopsy_follow_ups_open(),
            "overdue": biopsy_overdue_sweep(as_of=timezone.localdate())}
