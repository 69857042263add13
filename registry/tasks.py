"""Celery task of the registry import: the upload's id only, `acks_late`."""

from celery import shared_task

from .uploads import upload_run, uploads_requeue


@shared_task(acks_late=True)
def run_registry_upload(upload_id: int) -> str:
    return upload_run(upload_id)


@shared_task
def requeue_registry_uploads() -> int:
    """Beat: queue again the uploads that no worker took or finished."""
    return uploads_requeue()
