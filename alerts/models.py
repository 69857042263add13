"""Alerts, their notifications, thresholds and re-evaluation runs."""

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from patients.models import Patient

from .rules import Thresholds


class Rule(models.TextChoices):
    """The rules of docs/clinical-rules.md ("Alert rules")."""

    CALC_NEW_GROUP = "calc_new_group", "New calcification group"
    CALC_EXTENT_INCREASE = "calc_extent_increase", "Calcification extent increase"
    CALC_COUNT_INCREASE = "calc_count_increase", "Calcification count increase"
    CALC_MORPHOLOGY_WORSE = "calc_morphology_worse", "Calcification morphology worse"
    CALC_DISTRIBUTION_WORSE = "calc_distribution_worse", "Calcification distribution worse"
    CALC_REPORTED_INCREASE = "calc_reported_increase", "Radiologist reported increase"
    BIRADS_SUSPICIOUS = "birads_suspicious", "Suspicious BI-RADS after surgery"
    MRI_NEW_ENHANCEMENT = "mri_new_enhancement", "New MRI enhancement"
    MRI_ENHANCEMENT_GROWTH = "mri_enhancement_growth", "MRI enhancement growth"
    MRI_WASHOUT = "mri_washout", "New washout (type 3) curve"
    SURVEILLANCE_OVERDUE = "surveillance_overdue", "Surveillance overdue"
    LOST_TO_FOLLOW_UP = "lost_to_follow_up", "Lost to follow-up"


# Raised by the surveillance sweep, not by the imaging rules (who may act on them:
# core.permissions).
SURVEILLANCE_RULES = frozenset({Rule.SURVEILLANCE_OVERDUE, Rule.LOST_TO_FOLLOW_UP})


class Severity(models.TextChoices):
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class AlertState(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    SUPERSEDED = "superseded", "Superseded"


class Resolution(models.TextChoices):
    BIOPSY_ORDERED = "biopsy_ordered", "Biopsy ordered"
    SHORT_INTERVAL_FOLLOW_UP = "short_interval_follow_up", "Short-interval follow-up"
    BENIGN_NO_ACTION = "benign_no_action", "Benign, no action"
    FALSE_POSITIVE = "false_positive", "False positive"


class Alert(models.Model):
    """A rule decision for one patient. Fires once: `dedup_key` is unique.

    The key is (patient, rule, breast, trigger), where the trigger is the study that
    raised it (``study:<id>``) or, for surveillance rules, the scheduled item
    (``item:<id>``). Any number of deliveries of the same work yields one alert.
    """

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="alerts")
    rule = models.CharField(max_length=32, choices=Rule.choices)
    severity = models.CharField(max_length=6, choices=Severity.choices)
    breast = models.CharField(max_length=5, blank=True)
    study = models.ForeignKey("imaging.ImagingStudy", null=True, blank=True,
                              on_delete=models.CASCADE, related_name="alerts")
    dedup_key = models.CharField(max_length=120, unique=True)
    reason = models.TextField(help_text="Why the rule fired, in words a radiologist reads.")
    details = models.JSONField(default=dict, blank=True)
    state = models.CharField(max_length=12, choices=AlertState.choices, default=AlertState.OPEN)
    created_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                        on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledge_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=24, choices=Resolution.choices, blank=True)
    resolve_note = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "severity", "created_at"]),
            models.Index(fields=["patient", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state=AlertState.RESOLVED)
                | (Q(resolved_by__isnull=False) & ~Q(resolution="")),
                name="alert_resolved_has_who_and_resolution",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} ({self.get_severity_display()}) #{self.pk}"

    @property
    def is_surveillance(self) -> bool:
        """Overdue or lost to follow-up, rather than a change seen on imaging."""
        return self.rule in SURVEILLANCE_RULES

    @staticmethod
    def make_dedup_key(*, patient_id: int, rule: str, breast: str, trigger: str) -> str:
        return f"{patient_id}:{rule}:{breast or '-'}:{trigger}"


class AlertSettings(models.Model):
    """The rule thresholds (one row, pk 1). Edit through `thresholds_update` so every
    change is audited in `ThresholdChange`; the admin does."""

    extent_mm = models.DecimalField(
        "Extent increase (mm)", max_digits=5, decimal_places=1, default=5,
        validators=[MinValueValidator(0)],
        help_text="calc_extent_increase: growth over the nadir in mm (and the % below).")
    extent_percent = models.DecimalField(
        "Extent increase (%)", max_digits=5, decimal_places=1, default=20,
        validators=[MinValueValidator(0)])
    lesion_growth_mm = models.DecimalField(
        "MRI lesion growth (mm)", max_digits=5, decimal_places=1, default=5,
        validators=[MinValueValidator(0)],
        help_text="mri_enhancement_growth: growth since the prior MRI in mm (and the % below).")
    lesion_growth_percent = models.DecimalField(
        "MRI lesion growth (%)", max_digits=5, decimal_places=1, default=20,
        validators=[MinValueValidator(0)])
    updated_at = models.DateTimeField(auto_now=True)

    FIELDS = ("extent_mm", "extent_percent", "lesion_growth_mm", "lesion_growth_percent")

    class Meta:
        verbose_name = verbose_name_plural = "alert thresholds"
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="alert_settings_singleton"),
        ]

    def __str__(self) -> str:
        return "Alert thresholds"

    @classmethod
    def current(cls) -> "AlertSettings":
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj

    def as_dict(self) -> dict[str, float]:
        return {f: float(getattr(self, f)) for f in self.FIELDS}

    def thresholds(self) -> Thresholds:
        return Thresholds(**self.as_dict())


class ThresholdChange(models.Model):
    """Audit of every change to `AlertSettings`: who, when, before and after."""

    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    changed_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField()
    after = models.JSONField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]

    def __str__(self) -> str:
        return f"Threshold change #{self.pk}"


class Notification(models.Model):
    """One message about one alert to one recipient on one channel.

    Written before sending (in the transaction that created the alert) and updated with
    the outcome, so a failure is recorded, never silent. Unique per (alert, channel,
    address): redelivered work cannot send twice.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (permanent)"

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="notifications")
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    address = models.CharField(max_length=254)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["alert", "channel", "address"],
                                    name="notification_once_per_alert_channel_address"),
        ]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(status__in=["pending", "sending"]),
                         name="notification_unsent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} for alert #{self.alert_id}: {self.status}"


class Reevaluation(models.Model):
    """A full-cohort re-evaluation (e.g. after a threshold change), split into chunks.

    Chunk tasks add to the counters as they finish, so the command (and the admin) can
    show progress without a Celery result backend.
    """

    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    chunk_size = models.PositiveIntegerField()
    total_patients = models.PositiveIntegerField()
    done_patients = models.PositiveIntegerField(default=0)
    failed_patients = models.PositiveIntegerField(default=0)
    alerts_created = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Re-evaluation #{self.pk}: {self.done_patients}/{self.total_patients}"
