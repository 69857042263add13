"""The hospital feed: where messages come from, how procedures map, and every message kept.

docs/hl7.md describes the messages and fields; `feeds.services` processes them.
"""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from imaging.models import ImagingStudy
from imaging.vocabulary import Modality
from patients.models import Patient, Site
from patients.vocabulary import Laterality
from surveillance.models import ScheduledItem


class FeedSource(models.Model):
    """Which site a message belongs to: its sending facility (MSH-4) and, optionally, the
    assigning authority of the medical record number (PID-3.4). Admins configure them."""

    sending_facility = models.CharField(
        max_length=100, help_text="MSH-4 (first component) of the hospital's messages, e.g. NORTH_RIS.")
    assigning_authority = models.CharField(
        max_length=100, blank=True,
        help_text="PID-3.4 of the MRN to use, e.g. NORTH. Leave empty to take the first identifier "
        "of PID-3 for every authority.")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="feed_sources")
    is_active = models.BooleanField(default=True, help_text="Inactive: messages are rejected (AR).")
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["sending_facility", "assigning_authority"]
        constraints = [
            models.UniqueConstraint(fields=["sending_facility", "assigning_authority"],
                                    name="feed_source_once"),
        ]

    def __str__(self) -> str:
        authority = f" / {self.assigning_authority}" if self.assigning_authority else ""
        return f"{self.sending_facility}{authority} → {self.site}"


class ProcedureCode(models.Model):
    """A procedure code of OBR-4 (and ORC/OBR of orders) and what it means to the tracker."""

    code = models.CharField(max_length=50, unique=True,
                            help_text="OBR-4.1 as the hospital sends it, e.g. 77067 or 24606-6.")
    description = models.CharField(max_length=200, blank=True)
    modality = models.CharField(max_length=2, choices=Modality.choices)
    laterality = models.CharField(
        max_length=10, choices=Laterality.choices, blank=True,
        help_text="Leave empty when the code does not say; the procedure text or the report decides.")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} → {self.modality}"


class Message(models.Model):
    """One message as received (raw bytes, without the MLLP frame), and what became of it."""

    class Status(models.TextChoices):
        PROCESSED = "processed", "Processed"  # ACK AA
        HELD = "held", "Held for staff"  # ACK AA: accepted, waits in the reconciliation queue
        IGNORED = "ignored", "Not used"  # ACK AA: a valid message the tracker has no use for
        ERROR = "error", "Error"  # ACK AE
        REJECTED = "rejected", "Rejected"  # ACK AR

    class HoldReason(models.TextChoices):
        UNMATCHED = "unmatched_patient", "No patient with this MRN at the site"
        DOB_MISMATCH = "dob_mismatch", "MRN found, date of birth differs"
        STUDY_SIGNED = "study_signed", "Report changed after the study was signed"
        MERGE_CONFLICT = "merge_conflict", "Merge needs a person"

    ACCEPTED = (Status.PROCESSED, Status.HELD, Status.IGNORED)

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    last_received_at = models.DateTimeField(default=timezone.now)
    deliveries = models.PositiveIntegerField(default=1, help_text="Times the sender sent it.")
    raw = models.BinaryField(help_text="The bytes received (a prefix when too large).")
    size = models.PositiveIntegerField(help_text="Bytes received.")
    encoding = models.CharField(max_length=20, blank=True, help_text="How the bytes were decoded.")
    control_id = models.CharField("Control ID", max_length=199, blank=True)
    sending_application = models.CharField(max_length=100, blank=True)
    sending_facility = models.CharField(max_length=100, blank=True)
    message_type = models.CharField(max_length=20, blank=True, help_text="MSH-9, e.g. ORU^R01.")
    message_time = models.DateTimeField(null=True, blank=True, help_text="MSH-7.")
    site = models.ForeignKey(Site, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="feed_messages")
    mrn = models.CharField("MRN", max_length=32, blank=True)
    accession = models.CharField(max_length=64, blank=True)
    patient = models.ForeignKey(Patient, null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="feed_messages")
    study = models.ForeignKey(ImagingStudy, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="feed_messages")
    status = models.CharField(max_length=10, choices=Status.choices)
    hold_reason = models.CharField(max_length=20, choices=HoldReason.choices, blank=True)
    detail = models.TextField(blank=True, help_text="Why it was held, refused or ignored.")
    ack_code = models.CharField(max_length=2)
    processed_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            # Idempotent by control ID: a message accepted once is never processed twice.
            models.UniqueConstraint(
                fields=["sending_application", "sending_facility", "control_id"],
                condition=Q(status__in=["processed", "held", "ignored"]) & ~Q(control_id=""),
                name="feed_message_accepted_once"),
            models.CheckConstraint(condition=~Q(status="held") | ~Q(hold_reason=""),
                                   name="feed_message_held_has_reason"),
        ]
        indexes = [
            models.Index(fields=["status", "site"], name="feed_message_status_idx"),
            models.Index(fields=["site", "mrn"], condition=Q(status="held"),
                         name="feed_message_held_mrn_idx"),
            models.Index(fields=["accession", "message_type"], name="feed_message_accession_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.message_type or 'message'} {self.control_id or '#' + str(self.pk)}"

    @property
    def raw_text(self) -> str:
        """The message for reading: segments on their own lines, undecodable bytes marked."""
        text = bytes(self.raw).decode(self.encoding or "utf-8", errors="replace")
        return text.replace("\r\n", "\n").replace("\r", "\n")


class Order(models.Model):
    """An imaging order (ORM^O01 / OMI^O23) and the surveillance item it fulfils."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        CANCELLED = "cancelled", "Cancelled"
        COMPLETED = "completed", "Result received"

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="feed_orders")
    placer_number = models.CharField(max_length=64, help_text="ORC-2.")
    accession = models.CharField(max_length=64, blank=True, help_text="ORC-3 (filler order number).")
    procedure_code = models.CharField(max_length=50, blank=True)
    modality = models.CharField(max_length=2, choices=Modality.choices)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True)
    scheduled_for = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    scheduled_item = models.ForeignKey(ScheduledItem, null=True, blank=True, on_delete=models.SET_NULL,
                                       related_name="feed_orders")
    study = models.ForeignKey(ImagingStudy, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="feed_orders")
    message = models.ForeignKey(Message, on_delete=models.PROTECT, related_name="orders",
                                help_text="The last message that changed it.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_for", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "placer_number"], name="feed_order_once"),
        ]

    def __str__(self) -> str:
        return f"Order {self.placer_number} ({self.modality})"

    def clean(self) -> None:
        if not self.placer_number:
            raise ValidationError({"placer_number": "An order needs its placer order number (ORC-2)."})
