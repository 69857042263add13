"""The audit trail: append-only, enforced by the database (migration 0002)."""

from django.conf import settings
from django.db import models


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    CREATE = "create", "Created"
    UPDATE = "update", "Changed"
    DELETE = "delete", "Deleted"
    SIGN = "sign", "Signed"
    AMEND = "amend", "Amended"
    VOID = "void", "Voided"
    ALERT_TRANSITION = "alert_transition", "Alert transition"
    EXPORT = "export", "Exported"
    FHIR_DOWNLOAD = "fhir_download", "FHIR download"
    IMPORT = "import", "Imported"
    LOGIN = "login", "Logged in"
    LOGIN_FAILED = "login_failed", "Failed login"
    LOGOUT = "logout", "Logged out"
    ADMIN = "admin", "Admin page"
    LIST = "list", "Viewed a list"


class AuditEvent(models.Model):
    """Who did what to which record, when. Never updated, never deleted.

    Patients are referenced by id and UUID rather than a foreign key so that the trail
    outlives the records it describes.
    """

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.DO_NOTHING, db_constraint=False, related_name="+")
    actor_username = models.CharField(max_length=150, blank=True,
                                      help_text="As typed, for failed logins and deleted users.")
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    patient_uuid = models.UUIDField(null=True, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_path = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "at"]), models.Index(fields=["action", "at"])]

    def __str__(self) -> str:
        who = self.actor_username or "system"
        return f"{self.at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_type}"
