"""An uploaded registry file and the state of its import, run by a Celery task."""

import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models


class UploadStorage(FileSystemStorage):
    """Files under REGISTRY_UPLOAD_DIR (read at each use), readable by the tracker only."""

    def __init__(self):
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self):
        return settings.REGISTRY_UPLOAD_DIR

    @property
    def location(self):
        return os.path.abspath(self.base_location)


def upload_storage() -> UploadStorage:
    return UploadStorage()


def upload_path(upload: "RegistryUpload", filename: str) -> str:
    # The upload's random id, not the file's name (which may name a patient or a clinic).
    return f"{upload.uuid}.csv"


class RegistryUpload(models.Model):
    """One file uploaded on the import page: checked (dry run), then imported on confirmation.

    The task (`registry.tasks.run_registry_upload`) is given this row's id only; the file
    holds the patient data and is deleted once imported (or after a day unconfirmed).
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        CHECKED = "checked", "Checked"
        PROBLEMS = "problems", "Problems found"
        IMPORTED = "imported", "Imported"
        FAILED = "failed", "Failed"

    FINISHED = (Status.CHECKED, Status.PROBLEMS, Status.IMPORTED, Status.FAILED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(upload_to=upload_path, storage=upload_storage, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="registry_uploads")
    site = models.ForeignKey("patients.Site", null=True, blank=True, on_delete=models.PROTECT,
                             help_text="Used for rows whose 'site' column is blank.")
    allowed_sites = models.JSONField(default=list, help_text="Site codes the uploader may import into.")
    write = models.BooleanField(default=False, help_text="False: a dry run (check only).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=20, blank=True)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the task was last queued and when a worker last claimed it: the requeue sweep
    # (`uploads.uploads_requeue`) queues again what no worker took or finished.
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # The requeue sweep reads the few unfinished uploads, not the history.
            models.Index(fields=["status"], condition=models.Q(status__in=["queued", "running"]),
                         name="registry_upload_unfinished_idx"),
        ]

    def __str__(self) -> str:
        return f"registry upload {self.uuid} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in self.FINISHED
