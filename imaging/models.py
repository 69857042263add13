"""Imaging studies with structured BI-RADS findings (docs/clinical-rules.md, "Vocabulary")."""

import uuid
from datetime import date, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.constraints import FieldCheck, name_constraint_fields
from core.voiding import Voidable
from patients.models import Patient
from patients.vocabulary import Breast, Laterality

from . import vocabulary as v

name_constraint_fields({
    "study_date_plausible": ("study_date", "The study date cannot be before 1900."),
    "study_final_requires_signer": ("status", "A final study must be signed by a radiologist."),
})

STUDY_DATE_MIN = date(1900, 1, 1)
# A study dated "tomorrow" in UTC can be today in a clinic east of Greenwich.
FUTURE_TOLERANCE = timedelta(days=1)


class ImagingStudy(Voidable):
    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="studies")
    accession = models.CharField(max_length=64, blank=True,
                                 help_text="Accession number from the RIS/PACS, when known.")
    study_date = models.DateField()
    modality = models.CharField(max_length=2, choices=v.Modality.choices)
    phase = models.CharField(max_length=12, choices=v.Phase.choices,
                             default=v.Phase.SURVEILLANCE)
    laterality = models.CharField(max_length=10, choices=Laterality.choices,
                                  default=Laterality.BILATERAL)
    birads = models.CharField("BI-RADS", max_length=2, choices=v.BiRads.choices, blank=True)
    breast_composition = models.CharField(
        max_length=1, choices=v.BreastComposition.choices, blank=True
    )
    bpe = models.CharField("Background parenchymal enhancement", max_length=10,
                           choices=v.Bpe.choices, blank=True)
    no_enhancement = models.BooleanField(
        default=False, help_text="MRI: no enhancement anywhere (complete response)."
    )
    lexicon_version = models.CharField(max_length=40, default=v.LEXICON_VERSION)
    report_text = models.TextField(blank=True)
    status = models.CharField(max_length=5, choices=v.StudyStatus.choices,
                              default=v.StudyStatus.DRAFT)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["study_date", "id"]
        verbose_name_plural = "imaging studies"
        constraints = [
            models.CheckConstraint(
                condition=Q(status=v.StudyStatus.DRAFT)
                | Q(signed_by__isnull=False, signed_at__isnull=False),
                name="study_final_requires_signer",
            ),
            # Plain: on SQLite a new constraint rebuilds the table and drops its study-date
            # trigger (migrations/0002). Mapped to its field below.
            models.CheckConstraint(
                condition=Q(study_date__gte=STUDY_DATE_MIN), name="study_date_plausible"
            ),
            # A voided study gives its accession back (it is re-entered correctly).
            models.UniqueConstraint(
                fields=["patient", "accession"], condition=~Q(accession="") & Q(voided_at__isnull=True),
                name="study_accession_unique_per_patient",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "study_date"]),
            models.Index(fields=["status", "study_date"]),
            # The cohort view reads each patient's last signed post-NAC study per modality.
            models.Index(fields=["patient", "modality", "-study_date", "-id"],
                         condition=Q(phase="post_nac", status="final"),
                         name="study_post_nac_final_idx"),
            # The daily surveillance sweep matches the studies saved since its last run.
            models.Index(fields=["updated_at"], name="study_updated_at_idx"),
            # The programme measures read the post-surgical BI-RADS 0, 4 and 5 assessments
            # (a few per cent of the studies).
            models.Index(fields=["study_date"],
                         condition=Q(phase="surveillance", status="final",
                                     birads__in=["0", "4", "4A", "4B", "4C", "5"]),
                         name="study_abnormal_postsurg_idx"),
        ]
        # Dated before birth or in the future is refused by triggers (migrations 0002, 0009):
        # a check constraint can neither read the patient row nor the clock.

    def __str__(self) -> str:
        return f"{self.get_modality_display()} {self.study_date} ({self.get_status_display()})"

    @property
    def is_final(self) -> bool:
        return self.status == v.StudyStatus.FINAL

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.study_date:
            if self.study_date > date.today() + FUTURE_TOLERANCE:
                errors["study_date"] = "Study date cannot be in the future."
            elif self.patient_id and self.study_date < self.patient.date_of_birth:
                errors["study_date"] = "Study date cannot be before the patient's date of birth."
        if self.modality != v.Modality.MG and self.breast_composition:
            errors["breast_composition"] = "Breast composition is recorded on mammograms only."
        if self.modality != v.Modality.MR and (self.bpe or self.no_enhancement):
            errors["bpe"] = "Background enhancement and 'no enhancement' are MRI fields."
        if self.status == v.StudyStatus.FINAL and not self.signed_by_id:
            errors["status"] = "A final study must be signed by a radiologist."
        if errors:
            raise ValidationError(errors)


CLOCK_MESSAGE = "Clock position must be between 1 and 12."


class FindingLocation(models.Model):
    """Location fields shared by calcification and enhancement findings."""

    laterality = models.CharField(max_length=5, choices=Breast.choices)
    quadrant = models.CharField(max_length=13, choices=v.Quadrant.choices, blank=True)
    clock = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Clock face, 1–12.",
        validators=[MinValueValidator(1, CLOCK_MESSAGE), MaxValueValidator(12, CLOCK_MESSAGE)])
    depth = models.CharField(max_length=9, choices=v.Depth.choices, blank=True)
    nipple_distance_mm = models.DecimalField(
        "Distance from nipple (mm)", max_digits=5, decimal_places=1, null=True, blank=True,
        validators=[MinValueValidator(0)],
    )
    observed_change = models.CharField(max_length=26, choices=v.ObservedChange.choices,
                                       blank=True)

    class Meta:
        abstract = True

    @classmethod
    def location_constraints(cls, prefix: str) -> list[models.BaseConstraint]:
        return [
            FieldCheck(
                condition=Q(clock__isnull=True) | Q(clock__gte=1, clock__lte=12),
                name=f"{prefix}_clock_1_to_12", field="clock", message=CLOCK_MESSAGE,
            ),
            FieldCheck(
                condition=Q(nipple_distance_mm__isnull=True) | Q(nipple_distance_mm__gte=0),
                name=f"{prefix}_nipple_distance_not_negative", field="nipple_distance_mm",
                message="The distance from the nipple cannot be negative.",
            ),
        ]


class CalcificationFinding(FindingLocation):
    """One calcification group in one breast on one mammogram."""

    study = models.ForeignKey(ImagingStudy, on_delete=models.CASCADE,
                              related_name="calcifications")
    group = models.CharField(
        max_length=32,
        help_text="Stable label linking the same calcification group across exams (e.g. L1).",
    )
    morphology = models.CharField(max_length=24, choices=v.Morphology.choices)
    distribution = models.CharField(max_length=10, choices=v.Distribution.choices)
    extent_mm = models.DecimalField("Extent (mm)", max_digits=5, decimal_places=1,
                                    validators=[MinValueValidator(0)])
    count = models.PositiveIntegerField(null=True, blank=True, help_text="Exact count, if known.")
    count_bin = models.CharField(max_length=5, choices=v.CountBin.choices)
    # No default: whether a group lies in the tumour bed decides a new group's alert
    # severity (docs/clinical-rules.md, calc_new_group), so someone must say which.
    inside_tumor_bed = models.BooleanField("Inside tumour bed")
    clip_present = models.BooleanField(default=False)

    class Meta:
        ordering = ["laterality", "group"]
        constraints = [
            FieldCheck(condition=Q(extent_mm__gte=0), name="calc_extent_not_negative",
                       field="extent_mm", message="The extent cannot be negative."),
            models.UniqueConstraint(fields=["study", "laterality", "group"],
                                    name="calc_group_once_per_study"),
            *FindingLocation.location_constraints("calc"),
        ]

    def __str__(self) -> str:
        return f"{self.laterality} {self.group}: {self.get_morphology_display()}, {self.extent_mm} mm"

    @property
    def morphology_rank(self) -> int:
        return v.MORPHOLOGY_RANK[self.morphology]

    def clean(self) -> None:
        super().clean()
        if self.count is not None and self.count_bin and v.count_bin_for(self.count) != self.count_bin:
            raise ValidationError(
                {"count_bin": f"A count of {self.count} belongs in bin {v.count_bin_for(self.count)}."}
            )


class EnhancementFinding(FindingLocation):
    """One enhancing lesion on one MRI."""

    study = models.ForeignKey(ImagingStudy, on_delete=models.CASCADE,
                              related_name="enhancements")
    lesion = models.CharField(
        max_length=32, help_text="Stable label linking the same lesion across exams (e.g. R-NME1)."
    )
    lesion_type = models.CharField(max_length=5, choices=v.LesionType.choices)
    size_mm = models.DecimalField("Size (mm)", max_digits=5, decimal_places=1, null=True,
                                  blank=True, validators=[MinValueValidator(0)])
    mass_shape = models.CharField(max_length=9, choices=v.MassShape.choices, blank=True)
    mass_margin = models.CharField(max_length=13, choices=v.MassMargin.choices, blank=True)
    nme_distribution = models.CharField("NME distribution", max_length=16,
                                        choices=v.NmeDistribution.choices, blank=True)
    nme_pattern = models.CharField("NME internal pattern", max_length=14,
                                   choices=v.NmePattern.choices, blank=True)
    kinetics_initial = models.CharField(max_length=6, choices=v.KineticsInitial.choices,
                                        blank=True)
    kinetics_delayed = models.CharField(max_length=10, choices=v.KineticsDelayed.choices,
                                        blank=True)

    class Meta:
        ordering = ["laterality", "lesion"]
        constraints = [
            FieldCheck(condition=Q(size_mm__isnull=True) | Q(size_mm__gte=0),
                       name="enh_size_not_negative", field="size_mm",
                       message="The size cannot be negative."),
            models.UniqueConstraint(fields=["study", "laterality", "lesion"],
                                    name="enh_lesion_once_per_study"),
            *FindingLocation.location_constraints("enh"),
        ]

    def __str__(self) -> str:
        return f"{self.laterality} {self.lesion}: {self.get_lesion_type_display()}"

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.lesion_type != v.LesionType.MASS and (self.mass_shape or self.mass_margin):
            errors["mass_shape"] = "Shape and margin describe masses only."
        if self.lesion_type != v.LesionType.NME and (self.nme_distribution or self.nme_pattern):
            errors["nme_distribution"] = "Distribution and internal pattern describe NME only."
        if errors:
            raise ValidationError(errors)


class StudyAmendment(models.Model):
    """A change to a final study: kept forever, with who, when, why and what changed."""

    study = models.ForeignKey(ImagingStudy, on_delete=models.CASCADE, related_name="amendments")
    amended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    amended_at = models.DateTimeField(auto_now_add=True)
    reason = models.TextField()
    changes = models.JSONField(help_text="Before/after values of every changed field and finding.")

    class Meta:
        ordering = ["amended_at"]

    def __str__(self) -> str:
        return f"Amendment of study {self.study_id} at {self.amended_at:%Y-%m-%d %H:%M}"


class StudyProposal(models.Model):
    """Findings proposed for a draft study from its report text (the HL7 feed's extractor).

    Never findings of the study: the study form shows them prefilled and marked as
    proposed, and they become the study's values only when a person saves the form.
    `proposal` holds the extractor's output as plain JSON (`Proposal.as_dict()`): study
    fields, `calcifications` and `enhancements` rows, and `evidence` spans of the report.
    """

    study = models.OneToOneField(ImagingStudy, on_delete=models.CASCADE, related_name="proposal")
    proposal = models.JSONField()
    source = models.CharField(max_length=100, help_text="What proposed it, e.g. 'HL7 ORU message 42'.")
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True,
                                       help_text="When a person first saved the study form over it.")

    def __str__(self) -> str:
        return f"Proposal for study {self.study_id}"

    @property
    def is_reviewed(self) -> bool:
        return self.reviewed_at is not None
