"""Alerts app models. The outbox is written with every clinical change that needs evaluation."""

from django.db import models
from django.db.models import Q

from patients.models import Patient


class Outbox(models.Model):
    """Work to do after commit, written in the same transaction as the clinical change.

    A task claims a row with
    ``Outbox.objects.filter(id=i, processed_at=None).update(processed_at=now())``; a
    periodic sweep claims whatever is left, so nothing is lost while Redis or the
    worker is down (Healthchecks' Flip).
    """

    class Kind(models.TextChoices):
        STUDY_FINALIZED = "study_finalized", "Study finalized"
        STUDY_AMENDED = "study_amended", "Study amended"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="+")
    study = models.ForeignKey("imaging.ImagingStudy", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        verbose_name_plural = "outbox"
        indexes = [
            # Keeps the sweep cheap however long the processed history grows.
            models.Index(fields=["created_at"], condition=Q(processed_at__isnull=True),
                         name="outbox_unprocessed_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"
