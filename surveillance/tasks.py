"""Celery tasks: thin, idempotent, no patient details in arguments."""

from datetime import date

from celery import shared_task
from django.utils import timezone

from .services.biopsies import biopsy_follow_ups_open, biopsy_overdue_sweep
from .services.digests import digests_send
from .services.plans import plans_refresh_stale
from .services.sweep import surveillance_sweep

# A sweep of 100,000 patients on first run (every plan generated) takes minutes.
LONG = {"soft_time_limit": 50 * 60, "time_limit": 55 * 60}


@shared_task(acks_late=True, **LONG)
def daily_sweep_and_digest(as_of: str | None = None) -> dict:
    """The daily beat: sweep first, so the digest reports today's transitions."""
    day = date.fromisoformat(as_of) if as_of else timezone.localdate()
    return {"sweep": surveillance_sweep(as_of=day), "digests": digests_send(as_of=day)}


@shared_task(acks_late=True, **LONG)
def refresh_stale_plans() -> dict:
    """After a protocol change: regenerate the future items of every plan it affects."""
    return plans_refresh_stale()


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def biopsy_follow_through() -> dict:
    """Every few minutes: open the follow-ups of alerts just resolved as biopsy ordered,
    and stamp the ones whose result is late."""
    return {"opened": biopsy_follow_ups_open(),
            "overdue": biopsy_overdue_sweep(as_of=timezone.localdate())}
