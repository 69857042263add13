"""Celery tasks of the cohort app: thin, idempotent."""

from celery import shared_task
from django.utils import timezone

from .services import adherence_rebuild


@shared_task(acks_late=True, soft_time_limit=20 * 60, time_limit=25 * 60)
def rebuild_adherence() -> dict:
    """Each morning after the surveillance sweep: the adherence counts of the measures."""
    snapshot = adherence_rebuild(as_of=timezone.localdate())
    return {"as_of": snapshot.as_of.isoformat(), "rows": snapshot.rows}
