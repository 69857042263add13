"""Registry uploads from the web page: stored, then checked or imported by a Celery task.

The page saves the file in a `RegistryUpload` row and queues `run_registry_upload` with
the row's id (never patient data); the task runs `import_registry` and records its
progress and report on the row, which the page polls (`status`). All or nothing, as from
the command: a file with any problem writes nothing, and an import writes in one
transaction.

Nothing uploaded is left behind when Redis or a worker dies: beat runs `uploads_requeue`,
which queues again an upload still queued a few minutes after it was queued (the broker
was down at commit, or lost the message) and one still running after the task's hard time
limit (its worker died; the import's transaction was rolled back with it).
"""

import logging
from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from core.tasks import enqueue

from .importer import ImportReport, Problem, decode_upload, import_registry
from .models import RegistryUpload

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(days=1)  # checked files never confirmed are deleted after a day
# A worker takes a queued task within seconds; a queue left this long lost its message.
REQUEUE_AFTER = timedelta(minutes=3)
Status = RegistryUpload.Status


def upload_queue(upload: RegistryUpload) -> None:
    """Queue the upload's task once the row is committed."""
    RegistryUpload.objects.filter(pk=upload.pk).update(queued_at=timezone.now())
    transaction.on_commit(partial(_enqueue, upload.pk))


def _enqueue(upload_id: int) -> None:
    from .tasks import run_registry_upload  # the task module imports this one

    enqueue(run_registry_upload, upload_id)


def uploads_requeue(now=None) -> int:
    """Queue again the uploads no worker took, or whose worker died; returns how many.

    Queued: still queued `REQUEUE_AFTER` after it was queued. Running: claimed longer ago
    than the task's hard time limit, after which Celery has killed it (and its
    transaction rolled back). Running it twice is safe: `upload_run` claims the row.
    """
    now = now or timezone.now()
    limit = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + REQUEUE_AFTER
    lost = (Q(status=Status.QUEUED) & (Q(queued_at__lt=now - REQUEUE_AFTER)
                                       | Q(queued_at__isnull=True, created_at__lt=now - REQUEUE_AFTER))
            | Q(status=Status.RUNNING, started_at__lt=now - limit))
    ids = list(RegistryUpload.objects.filter(lost).order_by("created_at").values_list("pk", flat=True))
    RegistryUpload.objects.filter(pk__in=ids).update(queued_at=now)
    for upload_id in ids:
        _enqueue(upload_id)
    if ids:
        logger.warning("registry uploads queued again (no worker took or finished them): %s", ids)
    return len(ids)


def upload_confirm(upload: RegistryUpload) -> bool:
    """Import a checked upload (queued again, now writing). False if it is not ready."""
    if upload.status != Status.CHECKED or not upload.file:
        return False
    upload.write, upload.status, upload.stage, upload.done, upload.total = True, Status.QUEUED, "", 0, None
    upload.finished_at = None
    upload.save(update_fields=["write", "status", "stage", "done", "total", "finished_at"])
    upload_queue(upload)
    return True


def uploads_delete_stale(now=None) -> int:
    """Uploads left unconfirmed for a day, with their files (they hold patient data).
    Queued and running ones are kept: the requeue sweep sees them through."""
    cutoff = (now or timezone.now()) - STALE_AFTER
    stale = list(RegistryUpload.objects.filter(created_at__lt=cutoff)
                 .exclude(status__in=[Status.QUEUED, Status.RUNNING]))
    for upload in stale:
        if upload.file:
            upload.file.delete(save=False)
    RegistryUpload.objects.filter(pk__in=[u.pk for u in stale]).delete()
    return len(stale)


def report_as_dict(report: ImportReport) -> dict:
    return {
        "rows": report.rows,
        "problems": [{"row": p.row, "column": p.column, "message": p.message} for p in report.problems],
        "table": [list(row) for row in report.table],
        "created": sum(report.created.values()),
        "written": report.written,
    }


def upload_run(upload_id: int) -> str:
    """Check or import one upload (the task's body). Returns the upload's final status.

    Runs again safely: a finished upload is left as it is, and an import interrupted by a
    killed worker was rolled back with its transaction, so running it again starts afresh.
    """
    claimed = RegistryUpload.objects.filter(pk=upload_id, status__in=[Status.QUEUED, Status.RUNNING]).update(
        status=Status.RUNNING, stage="", done=0, total=None, started_at=timezone.now())
    upload = RegistryUpload.objects.select_related("site", "uploaded_by").filter(pk=upload_id).first()
    if upload is None or not claimed:
        return upload.status if upload else "missing"

    def progress(stage: str, done: int, total: int | None) -> None:
        # Inside the import's transaction an update would only show at its commit.
        if not connection.in_atomic_block:
            RegistryUpload.objects.filter(pk=upload_id).update(stage=stage, done=done, total=total)

    try:
        with upload.file.open("rb") as f:
            raw = f.read()
        report = import_registry(decode_upload(raw), dry_run=not upload.write, default_site=upload.site,
                                 user=upload.uploaded_by, allowed_sites=set(upload.allowed_sites),
                                 source="upload", on_progress=progress)
    except ValueError as exc:  # not UTF-8 text
        report = ImportReport()
        report.problems.append(Problem(1, "(file)", str(exc)))
    except Exception:
        logger.exception("registry upload %s failed", upload_id)  # the id only: no patient data
        RegistryUpload.objects.filter(pk=upload_id).update(status=Status.FAILED, finished_at=timezone.now())
        return Status.FAILED
    if not report.ok:
        status = Status.PROBLEMS
    else:
        status = Status.IMPORTED if upload.write else Status.CHECKED
    upload.status, upload.report, upload.finished_at = status, report_as_dict(report), timezone.now()
    upload.stage, upload.done = "", report.rows
    upload.save(update_fields=["status", "report", "finished_at", "stage", "done"])
    if status in (Status.IMPORTED, Status.PROBLEMS) and upload.file:
        upload.file.delete(save=True)  # nothing more to do with the patient data
    return status

