"""Cohort aggregation in the database: a fixed number of queries whatever the cohort size.

Definitions (docs/cohort.md):

1. The *index surgery* of a patient is her earliest surgery that has surgical pathology
   (ties on date broken by id). Surgery filters apply to it.
2. Per modality (MR, MG) the *post-NAC study* is the LAST final study of that modality in
   phase `post_nac`. Its status for a patient is one of
   `positive` (MRI: an enhancement finding; mammography: a calcification group of
   morphology rank >= 1), `negative`, `draft_only` (post-NAC studies exist but none is
   signed) or `missing`.
3. Truth: residual disease = not pCR under the chosen definition, computed here from
   ypT/ypN (`Pathology.pcr` stores only the pathologist's own definition).

Each query groups patients by (subtype, pCR, MRI status, mammography status, histology
of excised calcifications) and counts them; Python only adds up those few grouped rows.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    DateField,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest

from imaging.models import CalcificationFinding, EnhancementFinding, ImagingStudy
from imaging.vocabulary import MORPHOLOGY_RANK, Modality, Phase, StudyStatus
from patients import vocabulary as pv
from patients.models import ClinicalEvent, ClinicVisit, Pathology, Patient, Surgery

from .stats import TwoByTwo

MODALITIES = (Modality.MR, Modality.MG)

POSITIVE, NEGATIVE, DRAFT_ONLY, MISSING = "positive", "negative", "draft_only", "missing"
# A signed MRI with neither a lesion nor an explicit "no enhancement" (signed before the rule
# that refuses them): it says nothing about enhancement, so it is neither positive nor negative.
UNREAD = "unread"
NO_PATHOLOGY = "no_pathology"
EXCLUSION_LABELS = {
    NO_PATHOLOGY: "No surgical pathology",
    MISSING: "No post-NAC study of this modality",
    DRAFT_ONLY: "Post-NAC study not signed (draft only)",
    UNREAD: "Post-NAC MRI signed with neither a lesion nor 'no enhancement'",
}

SUSPICIOUS_MORPHOLOGIES = tuple(m for m, rank in MORPHOLOGY_RANK.items() if rank >= 1)

# Event-free survival events (docs/cohort.md): recurrence or a biopsy-confirmed progression.
EFS_EVENT_KINDS = (
    pv.EventKind.LOCAL_RECURRENCE,
    pv.EventKind.REGIONAL_RECURRENCE,
    pv.EventKind.DISTANT_RECURRENCE,
    pv.EventKind.CONFIRMED_PROGRESSION,
)

UNKNOWN_SUBTYPE = pv.Subtype.UNKNOWN.value


@dataclass(frozen=True)
class CohortFilters:
    """What the page, the CSV and the API filter on. `site_ids` is already scoped."""

    site_ids: tuple[int, ...]
    pcr_definition: str = pv.PcrDefinition.YPT0IS_YPN0
    subtype: str = ""
    procedure: str = ""
    surgery_from: date | None = None
    surgery_to: date | None = None

    @property
    def has_surgery_filter(self) -> bool:
        return bool(self.procedure or self.surgery_from or self.surgery_to)


def pcr_q(definition: str, prefix: str = "") -> Q:
    """pCR as a database condition; mirrors `patients.vocabulary.is_pcr` exactly."""
    no_invasive = Q(**{f"{prefix}ypt__in": [pv.YpT.T0, pv.YpT.TIS]})
    node_negative = Q(**{f"{prefix}ypn": pv.YpN.N0})
    if definition == pv.PcrDefinition.YPT0_YPN0:
        return Q(**{f"{prefix}ypt": pv.YpT.T0}) & node_negative
    if definition == pv.PcrDefinition.YPT0IS_YPN0:
        return no_invasive & node_negative
    if definition == pv.PcrDefinition.YPT0IS_BREAST:
        return no_invasive
    raise ValueError(f"unknown pCR definition {definition!r}")


def _post_nac(modality: str, patient=None, **extra) -> QuerySet[ImagingStudy]:
    return ImagingStudy.objects.filter(
        patient=OuterRef("surgery__patient") if patient is None else patient,
        modality=modality, phase=Phase.POST_NAC, **extra,
    )


def _imaging_status(modality: str) -> Case:
    """positive / negative / draft_only / missing for the last final post-NAC study; an
    MRI is negative only when marked "no enhancement", else `UNREAD`."""
    last_final = _post_nac(modality, status=StudyStatus.FINAL)
    # Nested one level deeper (inside the finding subquery), hence OuterRef(OuterRef()).
    last_id = Subquery(
        _post_nac(modality, patient=OuterRef(OuterRef("surgery__patient")), status=StudyStatus.FINAL)
        .order_by("-study_date", "-id").values("id")[:1]
    )
    if modality == Modality.MR:
        finding = EnhancementFinding.objects.filter(study_id=last_id)
    else:
        finding = CalcificationFinding.objects.filter(
            study_id=last_id, morphology__in=SUSPICIOUS_MORPHOLOGIES
        )
    read_negative = []
    if modality == Modality.MR:
        # The last signed MRI's "no enhancement" flag, read with it (one index probe; as
        # `Exists(id=last_id, no_enhancement)` it was two per patient).
        flagged = Subquery(last_final.order_by("-study_date", "-id").values("no_enhancement")[:1],
                           output_field=BooleanField())
        read_negative = [When(flagged, then=Value(NEGATIVE))]
    return Case(
        When(Exists(finding), then=Value(POSITIVE)),
        *read_negative,
        When(Exists(last_final), then=Value(UNREAD if modality == Modality.MR else NEGATIVE)),
        # No signed study (the branch above): any post-NAC study left is a draft. Asked as
        # drafts, the few are read by the (status, study_date) index; asked as "any study",
        # PostgreSQL scanned all 1.2 million studies for it (0.5–0.9 s of the concordance's
        # ~2.4 s at 100,000 patients).
        When(Exists(_post_nac(modality, status=StudyStatus.DRAFT)), then=Value(DRAFT_ONLY)),
        default=Value(MISSING),
        output_field=CharField(),
    )


def index_pathology(filters: CohortFilters) -> QuerySet[Pathology]:
    """One pathology row per patient (of her index surgery), scoped and filtered."""
    earlier = Pathology.objects.filter(surgery__patient=OuterRef("surgery__patient")).filter(
        Q(surgery__date__lt=OuterRef("surgery__date"))
        | Q(surgery__date=OuterRef("surgery__date"), surgery__id__lt=OuterRef("surgery__id"))
    )
    qs = Pathology.objects.filter(surgery__patient__site_id__in=filters.site_ids).filter(
        ~Exists(earlier)
    )
    if filters.subtype:
        qs = qs.filter(_subtype_q(filters.subtype, "surgery__patient__"))
    if filters.procedure:
        qs = qs.filter(surgery__procedure=filters.procedure)
    if filters.surgery_from:
        qs = qs.filter(surgery__date__gte=filters.surgery_from)
    if filters.surgery_to:
        qs = qs.filter(surgery__date__lte=filters.surgery_to)
    return qs


def _subtype_q(subtype: str, prefix: str = "") -> Q:
    # A patient without a tumour profile has an unknown subtype.
    q = Q(**{f"{prefix}tumour__subtype": subtype})
    if subtype == UNKNOWN_SUBTYPE:
        q |= Q(**{f"{prefix}tumour__isnull": True})
    return q


def _with_groups(qs: QuerySet[Pathology], definition: str) -> QuerySet[Pathology]:
    return qs.annotate(
        subtype=Coalesce(F("surgery__patient__tumour__subtype"), Value(UNKNOWN_SUBTYPE)),
        is_pcr=ExpressionWrapper(pcr_q(definition), output_field=BooleanField()),
        mr=_imaging_status(Modality.MR),
        mg=_imaging_status(Modality.MG),
    )


# --- Concordance and histology ------------------------------------------------------------


@dataclass
class SubtypeCounts:
    """Everything counted for one subtype (or the whole cohort)."""

    tables: dict[str, TwoByTwo] = field(default_factory=lambda: {m: TwoByTwo() for m in MODALITIES})
    excluded: dict[str, dict[str, int]] = field(
        default_factory=lambda: {m: dict.fromkeys(EXCLUSION_LABELS, 0) for m in MODALITIES}
    )
    # Histology of excised calcifications among mammography-positive patients.
    histology: dict[str, int] = field(
        default_factory=lambda: {h: 0 for h in pv.CalcificationHistology.values}
    )

    def add(self, other: "SubtypeCounts") -> None:
        for m in MODALITIES:
            self.tables[m] = self.tables[m] + other.tables[m]
            for reason, n in other.excluded[m].items():
                self.excluded[m][reason] += n
        for h, n in other.histology.items():
            self.histology[h] += n


def _cell(status: str, is_pcr: bool) -> str:
    if status == POSITIVE:
        return "fp" if is_pcr else "tp"
    return "tn" if is_pcr else "fn"


def concordance_counts(filters: CohortFilters) -> dict[str, SubtypeCounts]:
    """Counts per subtype (two queries). Sum them for the whole cohort (`total_counts`)."""
    rows = (
        _with_groups(index_pathology(filters), filters.pcr_definition)
        .values("subtype", "is_pcr", "mr", "mg", "excised_calcification_histology")
        .annotate(n=Count("id"))
        .order_by()
    )
    result: dict[str, SubtypeCounts] = {}
    for row in rows:  # grouped rows: at most subtypes × 2 × 4 × 4 × 5, not patients
        counts = result.setdefault(row["subtype"], SubtypeCounts())
        for m, status in ((Modality.MR, row["mr"]), (Modality.MG, row["mg"])):
            if status in (POSITIVE, NEGATIVE):
                cell = _cell(status, bool(row["is_pcr"]))
                counts.tables[m] = counts.tables[m] + TwoByTwo(**{cell: row["n"]})
            else:
                counts.excluded[m][status] += row["n"]
        if row["mg"] == POSITIVE:
            counts.histology[row["excised_calcification_histology"]] += row["n"]
    for subtype, n in _without_pathology(filters).items():
        counts = result.setdefault(subtype, SubtypeCounts())
        for m in MODALITIES:
            counts.excluded[m][NO_PATHOLOGY] += n
    return result


def _without_pathology(filters: CohortFilters) -> dict[str, int]:
    """Patients in scope with no surgical pathology, per subtype (one query).

    With a surgery filter, only patients with a surgery matching it count (their
    pathology is missing); otherwise every patient in scope without pathology.
    """
    qs = Patient.objects.filter(site_id__in=filters.site_ids).filter(
        ~Exists(Pathology.objects.filter(surgery__patient=OuterRef("pk")))
    )
    if filters.subtype:
        qs = qs.filter(_subtype_q(filters.subtype))
    if filters.has_surgery_filter:
        surgeries = Surgery.objects.filter(patient=OuterRef("pk"))
        if filters.procedure:
            surgeries = surgeries.filter(procedure=filters.procedure)
        if filters.surgery_from:
            surgeries = surgeries.filter(date__gte=filters.surgery_from)
        if filters.surgery_to:
            surgeries = surgeries.filter(date__lte=filters.surgery_to)
        qs = qs.filter(Exists(surgeries))
    rows = (
        qs.annotate(st=Coalesce(F("tumour__subtype"), Value(UNKNOWN_SUBTYPE)))
        .values("st").annotate(n=Count("id")).order_by()
    )
    return {row["st"]: row["n"] for row in rows}


def total_counts(per_subtype: dict[str, SubtypeCounts]) -> SubtypeCounts:
    total = SubtypeCounts()
    for counts in per_subtype.values():
        total.add(counts)
    return total


# --- Event-free survival ------------------------------------------------------------------


@dataclass(frozen=True)
class SurvivalRow:
    """Patients of one (pCR, mammography status) group sharing a follow-up time and outcome."""

    is_pcr: bool
    mg: str
    days: int
    event: bool
    n: int


def _latest(qs: QuerySet, field_name: str) -> Subquery:
    return Subquery(qs.order_by(f"-{field_name}").values(field_name)[:1], output_field=DateField())


def survival_rows(filters: CohortFilters) -> list[SurvivalRow]:
    """Follow-up of mammography-eligible patients, grouped (one query).

    Time runs from the index surgery to the first EFS event on or after it, else to the
    last contact: the latest final study, clinic visit or clinical event (any kind), never
    before the surgery itself.
    """
    patient = OuterRef("surgery__patient")
    surgery_date = OuterRef("surgery__date")
    first_event = Subquery(
        ClinicalEvent.objects.filter(patient=patient, kind__in=EFS_EVENT_KINDS,
                                     date__gte=surgery_date)
        .order_by("date").values("date")[:1],
        output_field=DateField(),
    )
    surgery = F("surgery__date")
    last_contact = Greatest(
        surgery,
        Coalesce(_latest(ImagingStudy.objects.filter(patient=patient, status=StudyStatus.FINAL),
                         "study_date"), surgery),
        Coalesce(_latest(ClinicVisit.objects.filter(patient=patient), "date"), surgery),
        Coalesce(_latest(ClinicalEvent.objects.filter(patient=patient), "date"), surgery),
        output_field=DateField(),
    )
    rows = (
        index_pathology(filters)
        .annotate(
            is_pcr=ExpressionWrapper(pcr_q(filters.pcr_definition), output_field=BooleanField()),
            mg=_imaging_status(Modality.MG),
            event_date=first_event,
        )
        .annotate(
            event=ExpressionWrapper(Q(event_date__isnull=False), output_field=BooleanField()),
            follow_up=ExpressionWrapper(
                Coalesce(F("event_date"), last_contact, output_field=DateField()) - surgery,
                output_field=DurationField(),
            ),
        )
        .values("is_pcr", "mg", "event", "follow_up")
        .annotate(n=Count("id"))
        .order_by()
    )
    return [
        SurvivalRow(bool(r["is_pcr"]), r["mg"], r["follow_up"].days, bool(r["event"]), r["n"])
        for r in rows
        if r["mg"] in (POSITIVE, NEGATIVE)
    ]


def subtypes_present(per_subtype: Iterable[str]) -> list[str]:
    """Subtypes in vocabulary order (unknown last)."""
    order = list(pv.Subtype.values)
    return sorted(per_subtype, key=lambda s: order.index(s) if s in order else len(order))
