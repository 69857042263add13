"""Sites, patients, tumour profile and treatment (NAC, radiotherapy, surgery, pathology)."""

import uuid
from datetime import date

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from . import vocabulary as v


class Site(models.Model):
    """A clinic of the network. Users see only the patients of their sites."""

    code = models.SlugField(max_length=32, unique=True)
    name = models.CharField(max_length=200, unique=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="sites", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


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


class NacCourse(models.Model):
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


class Radiotherapy(models.Model):
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


class Surgery(models.Model):
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


class ClinicVisit(models.Model):
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


class ClinicalEvent(models.Model):
    """Outcome events for event-free survival: recurrence, confirmed progression, death."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="events")
    date = models.DateField()
    kind = models.CharField(max_length=24, choices=v.EventKind.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"
