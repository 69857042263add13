"""Sites, patients, tumour profile and treatment (NAC, radiotherapy, surgery, pathology)."""

import re
import uuid
from datetime import date
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.voiding import Voidable

from . import vocabulary as v

ACCESSION_SLOT = "{accession}"


class Site(models.Model):
    """A clinic of the network. Users see only the patients of their sites."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="sites", blank=True)
    viewer_url_template = models.CharField(
        "Image viewer URL", max_length=500, blank=True,
        help_text="Link from a study to its images in the PACS or viewer: {accession} is "
        "replaced by the study's accession number, e.g. "
        "https://pacs.example.org/viewer?accession={accession}. Leave empty for no link.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        template = self.viewer_url_template.strip()
        if template and ACCESSION_SLOT not in template:
            raise ValidationError({"viewer_url_template": f"Put {ACCESSION_SLOT} where the accession "
                                                          "number goes in the viewer's address."})
        if template and not template.lower().startswith(("https://", "http://")):
            raise ValidationError({"viewer_url_template": "The viewer's address starts with "
                                                          "https:// (or http://)."})

    def viewer_url(self, accession: str) -> str:
        """The link to a study's images, or "" without a template or an accession."""
        if not self.viewer_url_template or not accession:
            return ""
        return self.viewer_url_template.replace(ACCESSION_SLOT, quote(accession, safe=""))


class Patient(models.Model):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="patients")
    mrn = models.CharField("MRN", max_length=32, help_text="Medical record number, unique per site.")
    given_name = models.CharField(max_length=100)
    family_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    follow_up_status = models.CharField(
        max_length=20, choices=v.FollowUpStatus.choices, default=v.FollowUpStatus.ACTIVE
    )
    # High-risk flags (docs/clinical-rules.md, "Surveillance schedule"). Density and age come
    # from other records.
    pathogenic_variant = models.BooleanField(
        default=False, help_text="Known pathogenic variant (e.g. BRCA1/2, TP53, PALB2)."
    )
    chest_radiation_before_30 = models.BooleanField(default=False)
    lifetime_risk_percent = models.DecimalField(
        max_digits=4, decimal_places=1, null=True, blank=True,
        help_text="Estimated lifetime risk (%), e.g. from a risk model.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "mrn"], name="patient_mrn_unique_per_site"),
            models.CheckConstraint(
                condition=Q(date_of_birth__gte=date(1900, 1, 1)), name="patient_dob_plausible"
            ),
            models.CheckConstraint(
                condition=Q(lifetime_risk_percent__isnull=True)
                | Q(lifetime_risk_percent__gte=0, lifetime_risk_percent__lte=100),
                name="patient_lifetime_risk_percent_range",
            ),
        ]
        indexes = [
            models.Index(fields=["site", "follow_up_status"]),
            models.Index(fields=["family_name", "given_name"]),
        ]

    def __str__(self) -> str:
        # MRN and names are patient details: never log str(patient).
        return f"{self.family_name}, {self.given_name} ({self.mrn})"

    def get_absolute_url(self) -> str:
        return reverse("patient-timeline", kwargs={"uuid": self.uuid})

    @property
    def full_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, on: date) -> int:
        dob = self.date_of_birth
        return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))

    def clean(self) -> None:
        if self.date_of_birth and self.date_of_birth > date.today():
            raise ValidationError({"date_of_birth": "Date of birth cannot be in the future."})


class TumourProfile(models.Model):
    """The index cancer at diagnosis. The molecular subtype is derived, never typed in."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="tumour")
    laterality = models.CharField(max_length=10, choices=v.Laterality.choices)
    diagnosis_date = models.DateField()
    histology = models.CharField(max_length=10, choices=v.Histology.choices)
    grade = models.PositiveSmallIntegerField(choices=v.Grade.choices, null=True, blank=True)
    dcis_component = models.BooleanField(default=False, help_text="Associated DCIS.")
    comedo_necrosis = models.BooleanField(default=False)
    er_percent = models.PositiveSmallIntegerField("ER %", null=True, blank=True)
    pr_percent = models.PositiveSmallIntegerField("PR %", null=True, blank=True)
    her2_ihc = models.CharField("HER2 IHC", max_length=3, choices=v.Her2Ihc.choices, blank=True)
    her2_ish = models.CharField("HER2 ISH", max_length=16, choices=v.Her2Ish.choices, blank=True)
    ki67_percent = models.PositiveSmallIntegerField("Ki-67 %", null=True, blank=True)
    clinical_t = models.CharField("Clinical T", max_length=5, choices=v.ClinicalT.choices, blank=True)
    clinical_n = models.CharField("Clinical N", max_length=5, choices=v.ClinicalN.choices, blank=True)
    diagnosis_calcifications = models.BooleanField(
        default=False, help_text="Suspicious calcifications on the diagnostic mammogram."
    )
    diagnosis_mammogram_date = models.DateField(null=True, blank=True)
    subtype = models.CharField(
        max_length=16, choices=v.Subtype.choices, default=v.Subtype.UNKNOWN, editable=False,
        db_index=True,
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(er_percent__lte=100), name="tumour_er_percent_range"),
            models.CheckConstraint(condition=Q(pr_percent__lte=100), name="tumour_pr_percent_range"),
            models.CheckConstraint(
                condition=Q(ki67_percent__lte=100), name="tumour_ki67_percent_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_histology_display()} ({self.get_subtype_display()})"

    def save(self, *args, **kwargs) -> None:
        self.subtype = v.derive_subtype(
            self.er_percent, self.pr_percent, self.her2_ihc, self.her2_ish
        )
        super().save(*args, **kwargs)


class NacCourse(Voidable):
    """One neoadjuvant chemotherapy course (a patient may have several, e.g. AC then T+H)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="nac_courses")
    regimen = models.CharField(max_length=100, help_text="e.g. AC, paclitaxel + trastuzumab")
    agents = models.CharField(max_length=255, blank=True, help_text="Comma-separated agents.")
    cycles = models.PositiveSmallIntegerField(null=True, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["start_date"]
        verbose_name = "NAC course"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="nac_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.regimen} from {self.start_date}"

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": "NAC end date cannot be before its start date."})


class Radiotherapy(Voidable):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="radiotherapy")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    target = models.CharField(max_length=100, blank=True, help_text="e.g. whole breast + boost")

    class Meta:
        ordering = ["start_date"]
        verbose_name_plural = "radiotherapy"
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                name="radiotherapy_end_not_before_start",
            ),
        ]

    def __str__(self) -> str:
        return f"Radiotherapy from {self.start_date}"

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError(
                {"end_date": "Radiotherapy end date cannot be before its start date."}
            )


class Surgery(Voidable):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="surgeries")
    date = models.DateField()
    laterality = models.CharField(max_length=10, choices=v.Laterality.choices)
    procedure = models.CharField(max_length=12, choices=v.SurgeryProcedure.choices)
    axilla = models.CharField(max_length=5, choices=v.Axilla.choices, default=v.Axilla.NONE)
    margins = models.CharField(max_length=10, choices=v.Margins.choices, blank=True)
    residual_calcifications_in_place = models.BooleanField(
        default=False,
        help_text="Suspicious calcifications left in the treated breast after surgery "
        "(adds 6-monthly diagnostic mammograms for two years).",
    )

    class Meta:
        ordering = ["date"]
        verbose_name_plural = "surgeries"

    def __str__(self) -> str:
        return f"{self.get_procedure_display()} on {self.date}"


class ActivePathologyManager(models.Manager):
    """The pathology of active surgeries: a voided surgery takes its pathology with it."""

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(surgery__voided_at__isnull=True)


class Pathology(models.Model):
    """Surgical pathology after NAC. `pcr` is derived from ypT/ypN and the definition."""

    surgery = models.OneToOneField(Surgery, on_delete=models.CASCADE, related_name="pathology")
    ypt = models.CharField("ypT", max_length=8, choices=v.YpT.choices)
    ypn = models.CharField("ypN", max_length=10, choices=v.YpN.choices, blank=True)
    residual_dcis = models.BooleanField(default=False)
    pcr_definition = models.CharField(
        "pCR definition", max_length=16, choices=v.PcrDefinition.choices,
        default=v.PcrDefinition.YPT0IS_YPN0,
    )
    pcr = models.BooleanField("pCR", editable=False, default=False)
    rcb_class = models.CharField("RCB class", max_length=3, choices=v.RcbClass.choices, blank=True)
    rcb_index = models.DecimalField(
        "RCB index", max_digits=4, decimal_places=2, null=True, blank=True
    )
    excised_calcification_histology = models.CharField(
        max_length=12, choices=v.CalcificationHistology.choices,
        default=v.CalcificationHistology.NOT_SAMPLED,
    )

    objects = ActivePathologyManager()
    all_objects = models.Manager()  # noqa: DJ012 (a manager, after the default one)

    class Meta:
        verbose_name_plural = "pathology"
        constraints = [
            models.CheckConstraint(
                condition=Q(rcb_index__isnull=True) | Q(rcb_index__gte=0),
                name="pathology_rcb_index_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ypt} {self.ypn} ({'pCR' if self.pcr else 'residual disease'})"

    def save(self, *args, **kwargs) -> None:
        self.pcr = bool(v.is_pcr(self.ypt, self.ypn, self.pcr_definition))
        super().save(*args, **kwargs)


class ClinicVisit(Voidable):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="visits")
    date = models.DateField()
    kind = models.CharField(max_length=16, choices=v.VisitKind.choices,
                            default=v.VisitKind.CLINICAL_EXAM)
    findings = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date"]
        indexes = [
            models.Index(fields=["patient", "date"]),
            # The daily surveillance sweep matches the visits recorded since its last run.
            models.Index(fields=["created_at"], name="visit_created_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"


class ClinicalEvent(Voidable):
    """Outcome events for event-free survival: recurrence, confirmed progression, death."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="events")
    date = models.DateField()
    kind = models.CharField(max_length=24, choices=v.EventKind.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"


PHONE_CHARACTERS = re.compile(r"^\+?[0-9 ()./-]+$")


def validate_phone(value: str) -> None:
    """A telephone number as people write it: digits with spaces, brackets, dots or dashes,
    an optional leading +, and 7 to 15 digits (E.164 allows at most 15)."""
    if not PHONE_CHARACTERS.match(value):
        raise ValidationError("Use digits, spaces and + ( ) - . only, e.g. +44 20 7946 0958.")
    digits = sum(ch.isdigit() for ch in value)
    if digits < 7:
        raise ValidationError("Too short for a telephone number (at least 7 digits).")
    if digits > 15:
        raise ValidationError("Too long for a telephone number (at most 15 digits).")


# Preferred channel → the consent it needs, and how to say it.
CHANNEL_CONSENT: dict[str, tuple[str, str]] = {
    v.ContactChannel.PHONE: ("may_phone", "phone calls"),
    v.ContactChannel.TEXT: ("may_text", "text messages"),
    v.ContactChannel.EMAIL: ("may_email", "e-mail"),
    v.ContactChannel.LETTER: ("may_write", "letters"),
}


class ContactDetails(models.Model):
    """How to reach a patient, in which language, who her GP is, and what she agreed to.

    One row per patient, absent until someone records it. The `may_*` flags are the
    patient's consent to each channel: letters go out only with `may_write` (and a postal
    address), letters to her GP only with `may_write_to_gp`.
    """

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="contact")
    mobile_phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    home_phone = models.CharField(max_length=32, blank=True, validators=[validate_phone])
    email = models.EmailField("E-mail", blank=True)
    address_line1 = models.CharField("Address", max_length=200, blank=True)
    address_line2 = models.CharField("Address (line 2)", max_length=200, blank=True)
    city = models.CharField("Town or city", max_length=100, blank=True)
    postal_code = models.CharField("Postcode", max_length=16, blank=True)
    country = models.CharField(max_length=100, blank=True)
    preferred_language = models.CharField(max_length=8, choices=v.PreferredLanguage.choices,
                                          default=v.PreferredLanguage.ENGLISH,
                                          help_text="Letters to the patient are written in it.")
    interpreter_needed = models.BooleanField(default=False)
    preferred_channel = models.CharField(max_length=8, choices=v.ContactChannel.choices, blank=True,
                                         help_text="How she prefers to be reached.")
    best_time = models.CharField("Best time to call", max_length=100, blank=True,
                                 help_text="e.g. weekday mornings")
    may_phone = models.BooleanField("May phone", default=False)
    may_leave_voicemail = models.BooleanField("May leave a voicemail", default=False)
    may_text = models.BooleanField("May send text messages", default=False)
    may_email = models.BooleanField("May e-mail", default=False)
    may_write = models.BooleanField("May write (post)", default=False)
    may_write_to_gp = models.BooleanField("May write to her GP", default=False)
    consent_recorded_on = models.DateField(null=True, blank=True,
                                           help_text="When the patient gave these consents.")
    gp_name = models.CharField("GP", max_length=200, blank=True, help_text="e.g. Dr Anna Price")
    gp_practice = models.CharField("GP practice", max_length=200, blank=True)
    gp_address = models.TextField("GP address", blank=True)
    gp_phone = models.CharField("GP phone", max_length=32, blank=True, validators=[validate_phone])
    gp_email = models.EmailField("GP e-mail", blank=True)
    referring_physician = models.CharField(max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "contact details"
        verbose_name_plural = "contact details"

    def __str__(self) -> str:
        return f"Contact details of patient #{self.patient_id}"

    @property
    def phones(self) -> list[tuple[str, str]]:
        return [(label, number) for label, number in (("mobile", self.mobile_phone),
                                                       ("home", self.home_phone)) if number]

    @property
    def has_address(self) -> bool:
        return bool(self.address_line1 and (self.city or self.postal_code))

    @property
    def address_lines(self) -> list[str]:
        town = " ".join(x for x in (self.city, self.postal_code) if x)
        return [x for x in (self.address_line1, self.address_line2, town, self.country) if x]

    @property
    def gp_address_lines(self) -> list[str]:
        return [line.strip() for line in self.gp_address.splitlines() if line.strip()]

    def _normalise(self) -> None:
        for name in ("mobile_phone", "home_phone", "gp_phone", "address_line1", "address_line2",
                     "city", "country", "best_time", "gp_name", "gp_practice", "referring_physician"):
            setattr(self, name, " ".join((getattr(self, name) or "").split()))
        self.postal_code = " ".join((self.postal_code or "").upper().split())
        self.email, self.gp_email = (self.email or "").strip(), (self.gp_email or "").strip()
        self.gp_address = "\n".join(self.gp_address_lines)

    def clean(self) -> None:
        self._normalise()
        errors: dict[str, str] = {}
        if any((self.address_line2, self.city, self.postal_code, self.country)) and not self.address_line1:
            errors["address_line1"] = "Give the first line of the address."
        elif self.address_line1 and not (self.city or self.postal_code):
            errors["postal_code"] = "Give the postcode or the town of the address."
        needs = {  # consent flag: (field that must be filled, what it says when empty)
            "may_phone": ("mobile_phone", self.mobile_phone or self.home_phone,
                          "Give a phone number to record consent to phone."),
            "may_text": ("mobile_phone", self.mobile_phone, "Text messages need a mobile number."),
            "may_email": ("email", self.email, "Give the e-mail address to record consent to e-mail."),
            "may_write": ("address_line1", self.has_address, "Letters need a postal address."),
            "may_write_to_gp": ("gp_address", self.gp_name and self.gp_address,
                                "Letters to the GP need the GP's name and address."),
        }
        for flag, (field, present, message) in needs.items():
            if getattr(self, flag) and not present:
                errors.setdefault(field, message)
        if self.may_leave_voicemail and not self.may_phone:
            errors["may_leave_voicemail"] = "Voicemail needs consent to phone as well."
        channel = CHANNEL_CONSENT.get(self.preferred_channel)
        if channel and not getattr(self, channel[0]):
            errors["preferred_channel"] = (f"The patient has not agreed to {channel[1]}: record "
                                           "that consent or choose another channel.")
        consented = any(getattr(self, f) for f in needs) or self.may_leave_voicemail
        if consented and not self.consent_recorded_on:
            errors["consent_recorded_on"] = "Give the date the patient gave her consent."
        elif self.consent_recorded_on and self.consent_recorded_on > date.today():
            errors["consent_recorded_on"] = "The consent date cannot be in the future."
        if errors:
            raise ValidationError(errors)
