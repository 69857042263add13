"""Helpers for queueing Celery tasks from any layer."""

import logging

from celery import Task

logger = logging.getLogger(__name__)


def backoff(retries: int) -> int:
    """Seconds before retry n (0-based): 10, 20, 40, … capped at 10 minutes."""
    return min(10 * 2 ** retries, 600)


def enqueue(task: Task, *args) -> None:
    """`task.delay(*args)`, logging and swallowing a broker failure.

    Called after commit: the clinical change is saved whatever happens here, and a sweep
    (the outbox's, or the notifications') picks up what could not be queued.
    """
    try:
        task.delay(*args)
    except Exception as exc:
        logger.warning("could not enqueue %s%r (%s: %s); the sweep will pick it up",
                       task.name, args, type(exc).__name__, exc)
