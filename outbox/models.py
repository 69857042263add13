"""The outbox: every side effect of a clinical change, written in the change's transaction.

A service that changes clinical data writes an `Event` in the same transaction; after
commit a Celery task runs the handlers registered for its kind (`outbox.handlers`), and a
periodic sweep runs whatever is left (a broker or worker that was down). Events carry ids
only, never patient details.
"""

from django.db import models
from django.db.models import Q


class Event(models.Model):
    """One thing that happened to a patient's record, waiting for its handlers."""

    class Kind(models.TextChoices):
        # A study was signed, or a signed study amended: alerts are evaluated, the study
        # is matched to the surveillance plan.
        STUDY_FINALIZED = "study_finalized", "Study finalized"
        STUDY_AMENDED = "study_amended", "Study amended"
        # A study was voided with a reason: it leaves every rule, the plan and the cohort.
        STUDY_VOIDED = "study_voided", "Study voided"
        # Surgery, radiotherapy, tumour profile or the patient's risk flags changed:
        # the surveillance plan is rebuilt from the new anchors.
        ANCHORS_CHANGED = "anchors_changed", "Treatment anchors changed"
        VISIT_RECORDED = "visit_recorded", "Clinic visit recorded"
        VISIT_VOIDED = "visit_voided", "Clinic visit voided"
        # A surveillance protocol changed: every plan built on it is refreshed.
        PROTOCOL_CHANGED = "protocol_changed", "Protocol changed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Plain ids, not foreign keys: the outbox sits below the apps whose records it names,
    # and an event outlives a record deleted after it was written.
    patient_id = models.BigIntegerField(null=True, blank=True)
    object_id = models.BigIntegerField(
        null=True, blank=True, help_text="The study, visit or protocol the event is about.")
    created_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            # Keeps the sweep cheap however long the processed history grows.
            models.Index(fields=["created_at"], condition=Q(processed_at__isnull=True),
                         name="outbox_event_unprocessed_idx"),
            models.Index(fields=["patient_id", "kind"], name="outbox_patient_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"

    @property
    def patient_pk(self) -> int:
        """The patient's id, for the kinds that name one (all but protocol_changed)."""
        if self.patient_id is None:
            raise ValueError(f"Outbox event {self} names no patient.")
        return self.patient_id

    @property
    def object_pk(self) -> int:
        """The study's, visit's or protocol's id, for the kinds that name one."""
        if self.object_id is None:
            raise ValueError(f"Outbox event {self} names no object.")
        return self.object_id
