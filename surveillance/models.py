"""Surveillance protocol, each patient's plan of scheduled items, contacts and digests.

docs/clinical-rules.md, "Surveillance schedule". The cadences live in `Protocol` rows (admins edit
them); the date arithmetic is pure (`surveillance/schedule.py`).
"""

import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from patients.models import ClinicVisit, Patient, Site
from patients.vocabulary import Laterality

from . import schedule


class Protocol(models.Model):
    """Cadences of the surveillance schedule. One network default, optionally one per site.

    Every save bumps `version`; plans generated from an older version are regenerated
    (future items only) by a task enqueued after commit and, as a safety net, by the
    daily sweep.
    """

    name = models.CharField(max_length=100)
    site = models.OneToOneField(
        Site, null=True, blank=True, on_delete=models.CASCADE, related_name="surveillance_protocol",
        help_text="Leave empty for the network default; a site's own protocol overrides it.",
    )
    is_default = models.BooleanField(default=False, help_text="The network default protocol.")
    version = models.PositiveIntegerField(default=1, editable=False)
    duration_years = models.PositiveSmallIntegerField(default=10)
    # Clinical exams.
    exam_early_interval_months = models.PositiveSmallIntegerField(default=4)
    exam_early_until_year = models.PositiveSmallIntegerField(default=2)
    exam_mid_interval_months = models.PositiveSmallIntegerField(default=6)
    exam_mid_until_year = models.PositiveSmallIntegerField(default=5)
    exam_late_interval_months = models.PositiveSmallIntegerField(default=12)
    # Mammography.
    mammo_after_diagnosis_months = models.PositiveSmallIntegerField(
        default=12, help_text="First mammogram no earlier than the diagnosis mammogram + this.")
    mammo_after_rt_months = models.PositiveSmallIntegerField(
        default=6, help_text="…and no earlier than radiotherapy end (or surgery) + this.")
    mammo_interval_months = models.PositiveSmallIntegerField(default=12)
    # Residual suspicious calcifications left in place.
    residual_interval_months = models.PositiveSmallIntegerField(default=6)
    residual_duration_years = models.PositiveSmallIntegerField(default=2)
    # MRI for high-risk patients.
    mri_interval_months = models.PositiveSmallIntegerField(default=12)
    mri_offset_months = models.PositiveSmallIntegerField(
        default=6, help_text="MRI offset from the mammogram, so imaging alternates.")
    high_risk_compositions = models.CharField(
        max_length=4, default="cd", help_text="Breast compositions (letters) that make a patient high-risk.")
    high_risk_max_age_at_diagnosis = models.PositiveSmallIntegerField(default=50)
    high_risk_lifetime_percent = models.DecimalField(max_digits=4, decimal_places=1, default=20)
    # States.
    due_lead_days = models.PositiveSmallIntegerField(
        default=30, help_text="An item is due from this many days before its date.")
    grace_days = models.PositiveSmallIntegerField(
        default=60, help_text="An item is overdue this many days after its date.")
    lost_after_months = models.PositiveSmallIntegerField(
        default=12, help_text="Lost to follow-up when nothing is done this long after an item went overdue.")
    window_max_days = models.PositiveSmallIntegerField(
        default=183, help_text="Matching window either side of the date: half the item's interval, "
        "at most this many days.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(fields=["is_default"], condition=Q(is_default=True),
                                    name="protocol_one_default"),
            models.CheckConstraint(condition=Q(is_default=False) | Q(site__isnull=True),
                                   name="protocol_default_has_no_site"),
            models.CheckConstraint(condition=Q(is_default=True) | Q(site__isnull=False),
                                   name="protocol_site_or_default"),
            models.CheckConstraint(
                condition=Q(exam_early_interval_months__gte=1, exam_mid_interval_months__gte=1,
                            exam_late_interval_months__gte=1, mammo_interval_months__gte=1,
                            residual_interval_months__gte=1, mri_interval_months__gte=1,
                            duration_years__gte=1),
                name="protocol_intervals_positive"),
            models.CheckConstraint(
                condition=Q(exam_mid_until_year__gte=F("exam_early_until_year")),
                name="protocol_exam_years_ordered"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs) -> None:
        if self.pk:
            self.version = (Protocol.objects.filter(pk=self.pk).values_list("version", flat=True)
                            .first() or 0) + 1
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = {}
        if self.is_default and self.site_id:
            errors["site"] = "The network default protocol belongs to no site."
        if not self.is_default and not self.site_id:
            errors["site"] = "Choose the site this protocol is for (or make it the network default)."
        if self.exam_mid_until_year < self.exam_early_until_year:
            errors["exam_mid_until_year"] = "Must not be before the end of the early exam period."
        letters = set(self.high_risk_compositions)
        if not letters <= set("abcd"):
            errors["high_risk_compositions"] = "Use the letters a, b, c, d only (e.g. 'cd')."
        if errors:
            raise ValidationError(errors)

    def rules(self) -> schedule.ProtocolRules:
        """The cadences as a plain value for the pure schedule functions."""
        return schedule.ProtocolRules(
            duration_years=self.duration_years,
            exam_early_interval_months=self.exam_early_interval_months,
            exam_early_until_year=self.exam_early_until_year,
            exam_mid_interval_months=self.exam_mid_interval_months,
            exam_mid_until_year=self.exam_mid_until_year,
            exam_late_interval_months=self.exam_late_interval_months,
            mammo_after_diagnosis_months=self.mammo_after_diagnosis_months,
            mammo_after_rt_months=self.mammo_after_rt_months,
            mammo_interval_months=self.mammo_interval_months,
            residual_interval_months=self.residual_interval_months,
            residual_duration_years=self.residual_duration_years,
            mri_interval_months=self.mri_interval_months,
            mri_offset_months=self.mri_offset_months,
            high_risk_compositions=frozenset(self.high_risk_compositions),
            high_risk_max_age_at_diagnosis=self.high_risk_max_age_at_diagnosis,
            high_risk_lifetime_percent=float(self.high_risk_lifetime_percent),
            due_lead_days=self.due_lead_days,
            grace_days=self.grace_days,
            lost_after_months=self.lost_after_months,
            window_max_days=self.window_max_days,
        )


class PatientPlan(models.Model):
    """What a patient's items were generated from: the sweep compares it with the present."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="surveillance_plan")
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="plans")
    protocol_version = models.PositiveIntegerField()
    surgery_date = models.DateField()
    rt_end_date = models.DateField(null=True, blank=True)
    high_risk = models.BooleanField(default=False)
    high_risk_reasons = models.CharField(max_length=200, blank=True)
    ends_on = models.DateField(help_text="End of the surveillance period (surgery + duration).")
    generated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Plan of patient #{self.patient_id}"


class LiveItemManager(models.Manager):
    """The plan's items; superseded ones (from corrected or voided treatment dates) are
    left out everywhere but the patient's history (`ScheduledItem.all_objects`)."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().exclude(status="superseded")


class ScheduledItem(models.Model):
    class Kind(models.TextChoices):
        CLINICAL_EXAM = schedule.CLINICAL_EXAM, "Clinical exam"
        MAMMOGRAM = schedule.MAMMOGRAM, "Mammogram"
        DIAGNOSTIC_MAMMOGRAM = schedule.DIAGNOSTIC_MAMMOGRAM, "Diagnostic mammogram"
        MRI = schedule.MRI, "MRI"

    class Status(models.TextChoices):
        """What is stored; `state(as_of)` adds upcoming / due / overdue for pending items."""

        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"
        # Generated from treatment dates that were corrected or voided: never missed,
        # overdue or lost. Kept (not deleted) only when it carries a contact log.
        SUPERSEDED = "superseded", "Superseded"

    class Source(models.TextChoices):
        STUDY = "study", "Imaging study"
        VISIT = "visit", "Clinic visit"
        ELSEWHERE = "elsewhere", "Done elsewhere"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="scheduled_items")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    laterality = models.CharField(max_length=10, choices=Laterality.choices, blank=True,
                                  help_text="Breast(s) to image; empty for clinical exams.")
    due_date = models.DateField()
    interval_months = models.PositiveSmallIntegerField(
        help_text="The series' cadence; the matching window is half of it either side.")
    original_due_date = models.DateField(null=True, blank=True,
                                         help_text="Set when a coordinator rescheduled the item.")
    due_from = models.DateField(help_text="Due from this date (due date − lead days).")
    overdue_after = models.DateField(help_text="Overdue after this date (due date + grace).")
    lost_after_date = models.DateField(
        help_text="Lost to follow-up if nothing was done by this date (overdue + 12 months).")
    window_start = models.DateField()
    window_end = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    done_on = models.DateField(null=True, blank=True)
    done_source = models.CharField(max_length=10, choices=Source.choices, blank=True)
    study = models.ForeignKey("imaging.ImagingStudy", null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="scheduled_items")
    visit = models.ForeignKey(ClinicVisit, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="scheduled_items")
    cancel_reason = models.CharField(max_length=200, blank=True)
    # Transition stamps written by the daily sweep (the digest reads them).
    became_due_on = models.DateField(null=True, blank=True)
    became_overdue_on = models.DateField(null=True, blank=True)
    lost_on = models.DateField(null=True, blank=True)
    lost_to_follow_up = models.BooleanField(default=False)
    # Who on the team brings the patient in for this item, and by when (the worklist's
    # "assign"): nobody owns a new item.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_items")
    owner_due_date = models.DateField(null=True, blank=True,
                                      help_text="The owner acts on the item by this date.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = LiveItemManager()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, after the default one)

    # Not stored: set on the items a page shows (surveillance.selectors, surveillance.views).
    current_state: str  # due, overdue, lost, … on the day shown
    missed: bool  # still pending with its matching window closed
    days_late: int
    last_contact_label: str

    class Meta:
        ordering = ["due_date", "kind"]
        indexes = [
            models.Index(fields=["patient", "kind", "due_date"]),
            # Partial indexes keep the daily sweep's transition queries to the few new rows.
            models.Index(fields=["due_from"], condition=Q(status="pending", became_due_on__isnull=True),
                         name="item_not_yet_due_idx"),
            models.Index(fields=["overdue_after"],
                         condition=Q(status="pending", became_overdue_on__isnull=True),
                         name="item_not_yet_overdue_idx"),
            models.Index(fields=["lost_after_date"],
                         condition=Q(status="pending", lost_on__isnull=True, became_overdue_on__isnull=False),
                         name="item_not_yet_lost_idx"),
            models.Index(fields=["patient", "status", "done_on"], name="item_patient_done_idx"),
            # The digests read the transitions stamped in a few days' range.
            models.Index(fields=["became_due_on"], name="item_became_due_idx"),
            models.Index(fields=["became_overdue_on"], name="item_became_overdue_idx"),
            models.Index(fields=["lost_on"], name="item_lost_on_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(window_start__lte=F("due_date"),
                                               window_end__gte=F("due_date")),
                                   name="item_window_contains_due_date"),
            models.CheckConstraint(condition=~Q(status="done") | Q(done_on__isnull=False),
                                   name="item_done_has_date"),
        ]

    def __str__(self) -> str:
        side = f" ({self.laterality})" if self.laterality else ""
        return f"{self.get_kind_display()}{side} due {self.due_date}"

    def state(self, as_of: date) -> str:
        """upcoming / due / overdue / done / cancelled on `as_of` (pure: no database)."""
        return schedule.item_state(self.status, self.due_from, self.overdue_after, as_of)

    @property
    def breast_label(self) -> str:
        return self.get_laterality_display() if self.laterality else ""


class ContactLog(models.Model):
    """A coordinator's attempt to bring a patient in for one item: who, when, what.

    A letter about no scheduled item (a result letter for a study outside the plan) is
    logged for the patient alone: `item` is empty only for letters.
    """

    class Outcome(models.TextChoices):
        CALLED = "called", "Called"
        NO_ANSWER = "no_answer", "No answer"
        LETTER_SENT = "letter_sent", "Letter sent"
        RESCHEDULED = "rescheduled", "Rescheduled"
        DECLINED = "declined", "Declined"
        DONE_ELSEWHERE = "done_elsewhere", "Imaging done elsewhere"

    item = models.ForeignKey(ScheduledItem, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="contacts")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="surveillance_contacts")
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    new_date = models.DateField(null=True, blank=True, help_text="Rescheduled to this date.")
    done_on = models.DateField(null=True, blank=True, help_text="Date of the imaging done elsewhere.")
    note = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["patient", "at"])]
        constraints = [
            models.CheckConstraint(condition=~Q(outcome="rescheduled") | Q(new_date__isnull=False),
                                   name="contact_rescheduled_has_date"),
            models.CheckConstraint(condition=~Q(outcome="done_elsewhere") | Q(done_on__isnull=False),
                                   name="contact_done_elsewhere_has_date"),
            models.CheckConstraint(condition=Q(item__isnull=False) | Q(outcome="letter_sent"),
                                   name="contact_without_item_is_a_letter"),
        ]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} #{self.pk}"


class Digest(models.Model):
    """One coordinator's daily digest: claimed (row created) before the email is sent."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        EMPTY = "empty", "Nothing new"
        IN_APP = "in_app", "In-app only (no email address)"
        FAILED = "failed", "Failed"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    date = models.DateField()
    period_start = models.DateField(help_text="Transitions stamped from this date…")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENDING)
    newly_due = models.PositiveIntegerField(default=0)
    newly_overdue = models.PositiveIntegerField(default=0)
    newly_lost = models.PositiveIntegerField(default=0)
    content = models.JSONField(default=dict, blank=True,
                               help_text="The digest's rows, for the in-app copy.")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(default=timezone.now,
                                      help_text="When a run last claimed it for sending.")
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-date"]
        constraints = [
            models.UniqueConstraint(fields=["user", "date"], name="digest_once_per_user_per_day"),
        ]

    def __str__(self) -> str:
        return f"Digest of user #{self.user_id} for {self.date}"

    @property
    def total(self) -> int:
        return self.newly_due + self.newly_overdue + self.newly_lost


class Transition(models.Model):
    """One follow-up transition of one item (newly due, overdue, lost to follow-up),
    written by the sweep when it happens. Each coordinator of the patient's site receives
    it in exactly one digest: the first digest of theirs that claims it
    (`TransitionDelivery`, unique per transition and coordinator), whenever it happened."""

    class Kind(models.TextChoices):
        DUE = "due", "Newly due"
        OVERDUE = "overdue", "Newly overdue"
        LOST = "lost", "Lost to follow-up"

    item = models.ForeignKey(ScheduledItem, on_delete=models.CASCADE, related_name="transitions")
    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    on = models.DateField(help_text="The day the sweep stamped it.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["item", "kind"], name="transition_once_per_item_and_kind"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} of item #{self.item_id}"


class TransitionDelivery(models.Model):
    """`transition` was claimed by `digest` for its coordinator: the claim is the row, and
    the unique constraint makes a second claim (a concurrent run, a later day) impossible."""

    transition = models.ForeignKey(Transition, on_delete=models.CASCADE, related_name="deliveries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    digest = models.ForeignKey("Digest", on_delete=models.CASCADE, related_name="deliveries")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["transition", "user"], name="transition_delivered_once_per_user"),
        ]

    def __str__(self) -> str:
        return f"Transition #{self.transition_id} in digest #{self.digest_id}"


class CalendarToken(models.Model):
    """A secret for a coordinator's calendar feed. Only its SHA-256 is stored."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=8, help_text="First characters, to recognise the token.")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar token {self.hint}… of user #{self.user_id}"


class SweepRun(models.Model):
    """One run of the daily sweep: when, for which day, and what it changed."""

    as_of = models.DateField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"Sweep for {self.as_of}"


class PlanFanOut(models.Model):
    """Many missing or stale plans (the first sweep after an import, a protocol change)
    spread over the Celery workers in chunks (services/fan_out.py). A sweep goes on, by a
    task of its own, once every chunk is done (`continued_at`), or at the next beat."""

    as_of = models.DateField()
    sweep_after = models.BooleanField(
        default=True,
        help_text="Continue the day's sweep once every chunk is done (not after a protocol change).")
    started_at = models.DateTimeField(auto_now_add=True)
    continued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = "plans written in chunks"
        verbose_name_plural = "plans written in chunks"

    def __str__(self) -> str:
        return f"Plans for {self.as_of}, in chunks"


class PlanChunk(models.Model):
    """One chunk of a fanned-out sweep: the patients' row ids (a task carries only the
    chunk's id), and whether it is done. A chunk that failed is done too: the next sweep
    finds its plans still stale and tries them again, as it does for any chunk."""

    fan_out = models.ForeignKey(PlanFanOut, on_delete=models.CASCADE, related_name="chunks")
    patient_ids = models.JSONField()
    done_at = models.DateTimeField(null=True, blank=True)
    failed = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"Chunk #{self.pk} of {len(self.patient_ids)} patients"


class BiopsyFollowUp(models.Model):
    """The biopsy an alert's resolution ordered, tracked until its histology is recorded.

    Opened for every alert resolved as "biopsy ordered" (`services.biopsies`, every few
    minutes and in the daily sweep); overdue when no result is recorded by `due_date`;
    a malignant result (DCIS, invasive) records a confirmed-progression outcome event.
    """

    class Histology(models.TextChoices):
        BENIGN = "benign", "Benign"
        DCIS = "dcis", "DCIS"
        INVASIVE = "invasive", "Invasive carcinoma"
        OTHER = "other", "Other"

    MALIGNANT = frozenset({Histology.DCIS, Histology.INVASIVE})

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="biopsy_follow_ups")
    alert = models.OneToOneField("alerts.Alert", on_delete=models.CASCADE,
                                 related_name="biopsy_follow_up")
    ordered_on = models.DateField(help_text="The day the alert was resolved as biopsy ordered.")
    due_date = models.DateField(help_text="A result is expected by this date.")
    biopsy_date = models.DateField(null=True, blank=True)
    histology = models.CharField(max_length=10, choices=Histology.choices, blank=True)
    note = models.TextField(blank=True)
    result_recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                           on_delete=models.PROTECT, related_name="+")
    result_recorded_at = models.DateTimeField(null=True, blank=True)
    # Stamped by the sweep the day it went overdue.
    became_overdue_on = models.DateField(null=True, blank=True)
    # The outcome event a malignant result recorded (kept in step when the result changes).
    event = models.OneToOneField("patients.ClinicalEvent", null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="biopsy_follow_up")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_date", "id"]
        indexes = [
            models.Index(fields=["due_date"], condition=Q(histology="", became_overdue_on__isnull=True),
                         name="biopsy_not_yet_overdue_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(histology="") | Q(biopsy_date__isnull=False),
                                   name="biopsy_result_has_date"),
            models.CheckConstraint(
                condition=Q(biopsy_date__isnull=True) | Q(biopsy_date__gte=F("ordered_on")),
                name="biopsy_not_before_order"),
            models.CheckConstraint(condition=Q(due_date__gte=F("ordered_on")), name="biopsy_due_after_order"),
        ]

    def __str__(self) -> str:
        return f"Biopsy follow-up of alert #{self.alert_id}"

    def state(self, as_of: date) -> str:
        """awaiting / overdue / done on `as_of` (pure)."""
        if self.histology:
            return "done"
        return "overdue" if as_of > self.due_date else "awaiting"

    @property
    def malignant(self) -> bool:
        return self.histology in self.MALIGNANT

    def clean(self) -> None:
        errors = {}
        if self.histology and not self.biopsy_date:
            errors["biopsy_date"] = "Give the date of the biopsy with its histology."
        if self.biopsy_date and self.ordered_on and self.biopsy_date < self.ordered_on:
            errors["biopsy_date"] = "The biopsy cannot be before it was ordered."
        if self.biopsy_date and self.biopsy_date > timezone.localdate():
            errors["biopsy_date"] = "The biopsy date cannot be in the future."
        if errors:
            raise ValidationError(errors)
