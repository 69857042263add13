"""Sites, patients, tumour profile and treatment (NAC, radiotherapy, surgery, pathology)."""

import re
import uuid
from datetime import date
from typing import TYPE_CHECKING
from urllib.parse import quote

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from core.constraints import FieldCheck, name_constraint_fields
from core.voiding import Voidable

from . import rules
from . import vocabulary as v
from .rules import EARLIEST, LATEST, PatientDates, Span

ACCESSION_SLOT = "{accession}"
name_constraint_fields({
    "patient_dob_plausible": ("date_of_birth", f"Date of birth cannot be before {EARLIEST.year}."),
    "patient_lifetime_risk_percent_range": ("lifetime_risk_percent",
                                            "A percentage is between 0 and 100."),
    "patient_mrn_unique_per_site": ("mrn", "A patient with this MRN is already registered "
                                           "at this site."),
})
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]


def date_bounds(name: str, field: str, what: str, *, null: bool = False) -> FieldCheck:
    """A date column within `rules.EARLIEST`..`rules.LATEST` (blank allowed when `null`)."""
    inside = Q(**{f"{field}__gte": EARLIEST, f"{field}__lte": LATEST})
    return FieldCheck(condition=Q(**{f"{field}__isnull": True}) | inside if null else inside,
                      name=name, field=field,
                      message=f"{what} must lie between {EARLIEST.year} and {LATEST.year}.")


def end_not_before_start(name: str, what: str) -> FieldCheck:
    return FieldCheck(condition=Q(end_date__isnull=True) | Q(end_date__gte=F("start_date")),
                      name=name, field="end_date",
                      message=f"{what[0].upper()}{what[1:]} end date cannot be before its start date.")


def today() -> date:
    return date.today()


def patient_dates(patient: "Patient", *, without: models.Model | None = None,
                  with_others: bool = False) -> PatientDates:
    """The dates of `patient`'s records (`rules.PatientDates`), leaving out `without`
    (the record under check). Four queries; two more `with_others` (visits, events)."""
    if patient.pk is None:
        return PatientDates(birth=patient.date_of_birth)

    def others(model):
        qs = model.objects.filter(patient_id=patient.pk)
        if isinstance(without, model) and without.pk is not None:
            qs = qs.exclude(pk=without.pk)
        return qs

    diagnosis = (None if isinstance(without, TumourProfile) else
                 TumourProfile.objects.filter(patient_id=patient.pk)
                 .values_list("diagnosis_date", flat=True).first())
    return PatientDates(
        birth=patient.date_of_birth,
        diagnosis=diagnosis,
        nac=tuple(Span(s, e) for s, e in others(NacCourse).values_list("start_date", "end_date")),
        surgeries=tuple(others(Surgery).values_list("date", flat=True)),
        radiotherapy=tuple(Span(s, e) for s, e in
                           others(Radiotherapy).values_list("start_date", "end_date")),
        others=(tuple(others(ClinicVisit).values_list("date", flat=True))
                + tuple(others(ClinicalEvent).values_list("date", flat=True))
                if with_others else ()),
    )


def raise_errors(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationError(errors)


class PatientRecord(models.Model):
    """A record of one patient whose dates the rules check against her other records.

    `clean()` reads the other records from the database, unless a caller that validates a
    whole patient at once (the API's nested write, the CSV import) has set
    `patient_dates_given` to the dates of the rows it is about to write.
    """

    patient_dates_given: PatientDates | None = None
    if TYPE_CHECKING:  # every concrete record has its `patient` foreign key
        patient: "Patient"
        patient_id: int | None

    class Meta:
        abstract = True

    def sibling_dates(self) -> PatientDates:
        if self.patient_dates_given is not None:
            return self.patient_dates_given
        if not self.patient_id:
            return PatientDates()
        return patient_dates(self.patient, without=self)

    def birth(self) -> date | None:
        """The patient's date of birth (for records checked only against it)."""
        if self.patient_dates_given is not None:
            return self.patient_dates_given.birth
        return self.patient.date_of_birth if self.patient_id else None


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
        max_digits=4, decimal_places=1, null=True, blank=True, validators=PERCENT,
        help_text="Estimated lifetime risk (%), e.g. from a risk model.",
    )
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["family_name", "given_name"]
        constraints = [
            models.UniqueConstraint(fields=["site", "mrn"], name="patient_mrn_unique_per_site"),
            # Plain check constraints: on SQLite a new constraint rebuilds the table, which
            # the study-date trigger (imaging/migrations/0002) reads. `Patient.clean` and the
            # field validators refuse these values first; `core.constraints` maps the names.
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

    # Set by a caller that validates the patient with rows not yet written (see PatientRecord).
    patient_dates_given: PatientDates | None = None

    def clean(self) -> None:
        dates = self.patient_dates_given
        if dates is None:
            dates = (patient_dates(self, with_others=True) if self.pk is not None
                     else PatientDates(birth=self.date_of_birth))
        raise_errors(rules.patient_errors(self.date_of_birth, dates, today=today()))


class TumourProfile(PatientRecord):
    """The index cancer at diagnosis. The molecular subtype is derived, never typed in."""

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="tumour")
    laterality = models.CharField(max_length=10, choices=v.Laterality.choices)
    diagnosis_date = models.DateField()
    histology = models.CharField(max_length=10, choices=v.Histology.choices)
    grade = models.PositiveSmallIntegerField(choices=v.Grade.choices, null=True, blank=True)
    dcis_component = models.BooleanField(default=False, help_text="Associated DCIS.")
    comedo_necrosis = models.BooleanField(default=False)
    er_percent = models.PositiveSmallIntegerField("ER %", null=True, blank=True, validators=PERCENT)
    pr_percent = models.PositiveSmallIntegerField("PR %", null=True, blank=True, validators=PERCENT)
    her2_ihc = models.CharField("HER2 IHC", max_length=3, choices=v.Her2Ihc.choices, blank=True)
    her2_ish = models.CharField("HER2 ISH", max_length=16, choices=v.Her2Ish.choices, blank=True)
    ki67_percent = models.PositiveSmallIntegerField("Ki-67 %", null=True, blank=True,
                                                    validators=PERCENT)
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
            *(FieldCheck(condition=Q(**{f"{name}_percent__lte": 100}),
                         name=f"tumour_{name}_percent_range", field=f"{name}_percent",
                         message="A percentage is between 0 and 100.")
              for name in ("er", "pr", "ki67")),
            date_bounds("tumour_diagnosis_date_plausible", "diagnosis_date", "The diagnosis"),
            date_bounds("tumour_diagnosis_mammogram_plausible", "diagnosis_mammogram_date",
                        "The diagnosis mammogram", null=True),
        ]

    def __str__(self) -> str:
        return f"{self.get_histology_display()} ({self.get_subtype_display()})"

    def save(self, *args, **kwargs) -> None:
        self.subtype = v.derive_subtype(
            self.er_percent, self.pr_percent, self.her2_ihc, self.her2_ish
        )
        super().save(*args, **kwargs)

    def clean(self) -> None:
        raise_errors(rules.tumour_errors(self.diagnosis_date, self.diagnosis_mammogram_date,
                                         self.sibling_dates(), today=today()))

class NacCourse(Voidable, PatientRecord):
    """One neoadjuvant chemotherapy course (a patient may have several, e.g. AC then T+H)."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="nac_courses")
    regimen = models.CharField(max_length=100, help_text="e.g. AC, paclitaxel + trastuzumab")
    agents = models.CharField(max_length=255, blank=True, help_text="Comma-separated agents.")
    cycles = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(50)])
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["start_date"]
        verbose_name = "NAC course"
        constraints = [
            end_not_before_start("nac_end_not_before_start", "NAC"),
            date_bounds("nac_start_plausible", "start_date", "The start of NAC"),
            date_bounds("nac_end_plausible", "end_date", "The end of NAC", null=True),
            FieldCheck(condition=Q(cycles__isnull=True) | Q(cycles__gte=1, cycles__lte=50),
                       name="nac_cycles_range", field="cycles",
                       message="Cycles are between 1 and 50."),
        ]

    def __str__(self) -> str:
        return f"{self.regimen} from {self.start_date}"

    def clean(self) -> None:
        raise_errors(rules.nac_errors(Span(self.start_date, self.end_date), self.sibling_dates(),
                                      today=today()))


class Radiotherapy(Voidable, PatientRecord):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="radiotherapy")
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    target = models.CharField(max_length=100, blank=True, help_text="e.g. whole breast + boost")

    class Meta:
        ordering = ["start_date"]
        verbose_name_plural = "radiotherapy"
        constraints = [
            end_not_before_start("radiotherapy_end_not_before_start", "radiotherapy"),
            date_bounds("radiotherapy_start_plausible", "start_date", "The start of radiotherapy"),
            date_bounds("radiotherapy_end_plausible", "end_date", "The end of radiotherapy",
                        null=True),
        ]

    def __str__(self) -> str:
        return f"Radiotherapy from {self.start_date}"

    def clean(self) -> None:
        raise_errors(rules.radiotherapy_errors(Span(self.start_date, self.end_date),
                                               self.sibling_dates(), today=today()))


class Surgery(Voidable, PatientRecord):
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
        constraints = [date_bounds("surgery_date_plausible", "date", "The surgery")]

    def __str__(self) -> str:
        return f"{self.get_procedure_display()} on {self.date}"

    def clean(self) -> None:
        raise_errors(rules.surgery_errors(self.date, self.sibling_dates(), today=today()))


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
        "RCB index", max_digits=4, decimal_places=2, null=True, blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(rules.RCB_INDEX_MAX)],
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
            FieldCheck(
                condition=Q(rcb_index__isnull=True) | Q(rcb_index__gte=0),
                name="pathology_rcb_index_not_negative", field="rcb_index",
                message="The RCB index cannot be negative.",
            ),
            FieldCheck(
                condition=Q(rcb_index__isnull=True) | Q(rcb_index__lte=rules.RCB_INDEX_MAX),
                name="pathology_rcb_index_range", field="rcb_index",
                message=f"The RCB index is at most {rules.RCB_INDEX_MAX}.",
            ),
            # rules.pathology_errors, rule 1: RCB-0 is ypT0/Tis ypN0 and the other way round.
            FieldCheck(
                condition=~Q(rcb_class=v.RcbClass.RCB_0)
                | Q(ypt__in=[v.YpT.T0, v.YpT.TIS], ypn__in=["", v.YpN.N0]),
                name="pathology_rcb0_no_residual_invasive", field="rcb_class",
                message="RCB-0 means no residual invasive disease (ypT0/Tis ypN0).",
            ),
            FieldCheck(
                condition=Q(rcb_class__in=["", v.RcbClass.RCB_0])
                | ~Q(ypt__in=[v.YpT.T0, v.YpT.TIS], ypn=v.YpN.N0),
                name="pathology_complete_response_is_rcb0", field="rcb_class",
                message="ypT0/Tis ypN0 is a complete response: RCB-0.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ypt} {self.ypn} ({'pCR' if self.pcr else 'residual disease'})"

    def save(self, *args, **kwargs) -> None:
        self.pcr = bool(v.is_pcr(self.ypt, self.ypn, self.pcr_definition))
        super().save(*args, **kwargs)

    def clean(self) -> None:
        raise_errors(rules.pathology_errors(
            ypt=self.ypt, ypn=self.ypn, residual_dcis=self.residual_dcis,
            rcb_class=self.rcb_class, rcb_index=self.rcb_index))

class ClinicVisit(Voidable, PatientRecord):
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
        constraints = [date_bounds("visit_date_plausible", "date", "The visit")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"

    def clean(self) -> None:
        raise_errors(rules.when_errors(self.date, "date", "The visit", birth=self.birth(),
                                       today=today()))

class ClinicalEvent(Voidable, PatientRecord):
    """Outcome events for event-free survival: recurrence, confirmed progression, death."""

    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="events")
    date = models.DateField()
    kind = models.CharField(max_length=24, choices=v.EventKind.choices)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [date_bounds("event_date_plausible", "date", "The event")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.date}"

    def clean(self) -> None:
        raise_errors(rules.when_errors(self.date, "date", "The event", birth=self.birth(),
                                       today=today()))


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
