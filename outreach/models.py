"""Letters: each site's letterhead and signature, and every letter sent, kept as rendered.

A `Letter` stores the whole HTML document it was printed from (CSS inline, nothing
fetched), so it can be printed again years later exactly as sent, whatever the site's
letterhead or the wording has become since; `template_version` and `inputs` say what it
was made from.
"""

import uuid

from django.conf import settings
from django.db import models

from imaging.models import ImagingStudy
from patients.models import Patient, Site
from patients.vocabulary import PreferredLanguage
from surveillance.models import ContactLog, ScheduledItem


class LetterKind(models.TextChoices):
    DUE_REMINDER = "due_reminder", "Surveillance-due reminder"
    OVERDUE_RECALL = "overdue_recall", "Overdue recall"
    RESULT = "result", "Result letter"
    GP = "gp", "Letter to the GP"


class LetterTemplate(models.Model):
    """A site's letterhead, signature and footer (admins edit them, with a preview).

    The wording of the letters is the tracker's, translated in its message catalogues;
    what differs between sites is who writes and how to reach them. Every save bumps
    `version`; each letter records the version it was printed with.
    """

    site = models.OneToOneField(Site, on_delete=models.CASCADE, related_name="letter_template")
    letterhead_name = models.CharField(
        "Service name", max_length=200, help_text="e.g. North Clinic — Breast Imaging Service"
    )
    letterhead_address = models.TextField("Address", blank=True, help_text="One line per line.")
    phone = models.CharField(
        "Phone for patients", max_length=40, blank=True, help_text="The number patients call to book or ask."
    )
    email = models.EmailField("E-mail for patients", blank=True)
    opening_hours = models.CharField(
        max_length=120, blank=True, help_text="e.g. Monday to Friday, 9:00–17:00"
    )
    signatory_name = models.CharField("Signed by", max_length=200)
    signatory_title = models.CharField(
        "Title", max_length=200, blank=True, help_text="e.g. Breast Surveillance Coordinator"
    )
    footer = models.TextField(
        blank=True, help_text="Printed at the foot of every letter to a patient (in every language)."
    )
    gp_letter_language = models.CharField(
        "Language of letters to GPs",
        max_length=8,
        choices=PreferredLanguage.choices,
        default=PreferredLanguage.ENGLISH,
    )
    version = models.PositiveIntegerField(default=1, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["site__name"]

    def __str__(self) -> str:
        return f"Letter template of {self.site}"

    @property
    def address_lines(self) -> list[str]:
        return [line.strip() for line in self.letterhead_address.splitlines() if line.strip()]


class LetterBatch(models.Model):
    """Letters printed together from the worklist (one PDF), and the patients left out."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    skipped = models.JSONField(
        default=list, blank=True, help_text="[{patient uuid, reason}] of the patients who got no letter."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Letter batch #{self.pk}"


class Letter(models.Model):
    class Recipient(models.TextChoices):
        PATIENT = "patient", "Patient"
        GP = "gp", "GP"

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="letters")
    kind = models.CharField(max_length=16, choices=LetterKind.choices)
    recipient = models.CharField(max_length=8, choices=Recipient.choices, default=Recipient.PATIENT)
    language = models.CharField(max_length=8, choices=PreferredLanguage.choices)
    summary = models.CharField(max_length=300, help_text="What was sent, in one line (English).")
    html = models.TextField(help_text="The document as printed (self-contained).")
    sha256 = models.CharField(max_length=64)
    template_version = models.PositiveIntegerField(
        help_text="Version of the site's letter template (0: default)."
    )
    inputs = models.JSONField(
        default=dict, blank=True, help_text="What the letter was made from (items, study, language)."
    )
    items = models.ManyToManyField(ScheduledItem, blank=True, related_name="letters")
    study = models.ForeignKey(
        ImagingStudy, null=True, blank=True, on_delete=models.SET_NULL, related_name="letters"
    )
    contacts = models.ManyToManyField(
        ContactLog, blank=True, related_name="letters", help_text="The contact log entries that record it."
    )
    batch = models.ForeignKey(
        LetterBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="letters"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def reference(self) -> str:
        """The reference printed on the letter (no patient detail in it)."""
        return str(self.uuid)[:8].upper()
