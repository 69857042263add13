"""A patient's ordered imaging and treatment history as plain, immutable values.

Rules (alerts/rules.py), burden (imaging/burden.py) and charts (imaging/charts.py) are
pure functions of a `PatientHistory`; `load_histories` is the one place that reads it
from the database, in a fixed number of queries whatever the number of patients/studies.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from django.db.models import F, Lookup, Prefetch

from patients.models import Patient

from .vocabulary import Modality, Phase, StudyStatus


@dataclass(frozen=True, slots=True)
class CalcGroup:
    group: str
    breast: str
    morphology: str
    distribution: str
    extent_mm: float
    count_bin: str
    inside_tumor_bed: bool = True
    observed_change: str = ""
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Lesion:
    lesion: str
    breast: str
    lesion_type: str
    size_mm: float | None = None
    kinetics_initial: str = ""
    kinetics_delayed: str = ""
    observed_change: str = ""


@dataclass(frozen=True, slots=True)
class StudySnapshot:
    id: int
    study_date: date
    modality: str
    phase: str = Phase.SURVEILLANCE
    laterality: str = "bilateral"
    birads: str = ""
    status: str = StudyStatus.FINAL
    no_enhancement: bool = False
    breast_composition: str = ""
    calcifications: tuple[CalcGroup, ...] = ()
    enhancements: tuple[Lesion, ...] = ()

    @property
    def is_final(self) -> bool:
        return self.status == StudyStatus.FINAL

    @property
    def is_post_surgical(self) -> bool:
        return self.phase == Phase.SURVEILLANCE

    def covers(self, breast: str) -> bool:
        return self.laterality in ("bilateral", breast)


@dataclass(frozen=True, slots=True)
class PatientHistory:
    patient_id: int
    studies: tuple[StudySnapshot, ...]  # ordered by (study_date, id)
    surgery_date: date | None = None
    surgery_procedure: str = ""
    surgery_laterality: str = ""
    rt_end_date: date | None = None
    nac_start_date: date | None = None
    nac_end_date: date | None = None
    diagnosis_date: date | None = None
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def treatment_end(self) -> date | None:
        """The anchor of the post-treatment baseline: RT end when given, else surgery."""
        dates = [d for d in (self.surgery_date, self.rt_end_date) if d]
        return max(dates) if dates else None

    def is_post_surgical(self, study: StudySnapshot) -> bool:
        """After surgery by its date when a surgery is recorded (a study on the surgery day
        is pre-surgical), by its phase (`surveillance`) when none is: one definition for
        every rule, the burden series and the charts (docs/clinical-rules.md)."""
        if self.surgery_date is not None:
            return study.study_date > self.surgery_date
        return study.phase == Phase.SURVEILLANCE

    def is_post_treatment(self, study: StudySnapshot) -> bool:
        """Post-surgical and dated after `treatment_end` (radiotherapy end, when given)."""
        anchor = self.treatment_end
        return self.is_post_surgical(study) and (anchor is None or study.study_date > anchor)

    def surveillance_series(self, modality: str, breast: str) -> list[StudySnapshot]:
        """Final post-surgical studies of `modality` imaging `breast`, oldest first: the
        series every surveillance rule compares within. An MRI with neither a lesion nor
        an explicit "no enhancement" says nothing about enhancement and is left out."""
        return [s for s in self.final_studies(modality)
                if s.covers(breast) and self.is_post_surgical(s)
                and (modality != Modality.MR or s.enhancements or s.no_enhancement)]

    def final_studies(self, modality: str | None = None) -> list[StudySnapshot]:
        return [s for s in self.studies
                if s.is_final and (modality is None or s.modality == modality)]

    def mammograms(self) -> list[StudySnapshot]:
        return self.final_studies(Modality.MG)

    def mris(self) -> list[StudySnapshot]:
        return self.final_studies(Modality.MR)


def _snapshot(study, calcifications: Iterable, enhancements: Iterable) -> StudySnapshot:
    return StudySnapshot(
        id=study.id,
        study_date=study.study_date,
        modality=study.modality,
        phase=study.phase,
        laterality=study.laterality,
        birads=study.birads,
        status=study.status,
        no_enhancement=study.no_enhancement,
        breast_composition=study.breast_composition,
        calcifications=tuple(
            CalcGroup(
                group=c.group, breast=c.laterality, morphology=c.morphology,
                distribution=c.distribution, extent_mm=float(c.extent_mm),
                count_bin=c.count_bin, inside_tumor_bed=c.inside_tumor_bed,
                observed_change=c.observed_change, count=c.count,
            )
            for c in calcifications
        ),
        enhancements=tuple(
            Lesion(
                lesion=e.lesion, breast=e.laterality, lesion_type=e.lesion_type,
                size_mm=float(e.size_mm) if e.size_mm is not None else None,
                kinetics_initial=e.kinetics_initial, kinetics_delayed=e.kinetics_delayed,
                observed_change=e.observed_change,
            )
            for e in enhancements
        ),
    )


def history_of(patient: Patient, *, studies: Iterable[tuple], surgeries: Iterable,
               radiotherapy: Iterable, nac_courses: Iterable) -> PatientHistory:
    """The history of a patient (with `tumour` loaded) from model instances already read:
    `studies` as (study, its calcifications, its enhancements), each list in date order."""
    surgery = next(iter(surgeries), None)
    rt_ends = [r.end_date for r in radiotherapy if r.end_date]
    courses = list(nac_courses)
    nac_ends = [c.end_date for c in courses if c.end_date]
    tumour = getattr(patient, "tumour", None)
    return PatientHistory(
        patient_id=patient.id,
        studies=tuple(_snapshot(*row) for row in studies),
        surgery_date=surgery.date if surgery else None,
        surgery_procedure=surgery.procedure if surgery else "",
        surgery_laterality=surgery.laterality if surgery else "",
        rt_end_date=max(rt_ends) if rt_ends else None,
        nac_start_date=courses[0].start_date if courses else None,
        nac_end_date=max(nac_ends) if nac_ends else None,
        diagnosis_date=tumour.diagnosis_date if tumour else None,
    )


def history_from_patient(patient: Patient) -> PatientHistory:
    """Build the history of a patient loaded with `history_prefetches()`."""
    return history_of(
        patient,
        studies=[(s, s.calcifications.all(), s.enhancements.all()) for s in patient.studies.all()],
        surgeries=patient.surgeries.all(), radiotherapy=patient.radiotherapy.all(),
        nac_courses=patient.nac_courses.all(),
    )


def history_prefetches() -> list:
    """Prefetches that let `history_from_patient` run without further queries."""
    from .models import ImagingStudy

    return [
        "surgeries",
        "radiotherapy",
        "nac_courses",
        Prefetch(
            "studies",
            queryset=ImagingStudy.objects.order_by("study_date", "id").prefetch_related(
                "calcifications", "enhancements"
            ),
        ),
    ]


_STUDY_FIELDS = ("id", "patient_id", "study_date", "modality", "phase", "laterality", "birads",
                 "status", "no_enhancement", "breast_composition")
_CALC_FIELDS = ("study_id", "group", "laterality", "morphology", "distribution", "extent_mm",
                "count_bin", "inside_tumor_bed", "observed_change", "count")
_LESION_FIELDS = ("study_id", "lesion", "laterality", "lesion_type", "size_mm", "kinetics_initial",
                  "kinetics_delayed", "observed_change")


class _InSubquery(Lookup):
    """`lhs IN (subquery)`; on PostgreSQL `lhs = ANY(ARRAY(subquery))`.

    Findings are read by their studies' patients. PostgreSQL plans `IN (subquery)` (or
    the join) as a hash join over the whole findings table, estimated cheaper than
    ~2,400 index probes: a sequential scan of every finding of the cohort for every
    chunk, which made the re-evaluation grow with the square of the cohort (~0.2 s per
    query at 100,000 patients). The array is computed first (an init plan) and the
    findings are then read through their `study_id` index (~10 ms).
    """

    lookup_name = "in_subquery"

    def as_sql(self, compiler, connection, template: str = "{lhs} IN {rhs}"):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return template.format(lhs=lhs, rhs=rhs), (*lhs_params, *rhs_params)

    def as_postgresql(self, compiler, connection):
        return self.as_sql(compiler, connection, template="{lhs} = ANY(ARRAY{rhs})")


def patients_filter(ids: list[int], field: str) -> dict:
    """`field` among `ids` as a range when they are (nearly) contiguous, else an `IN` list.

    The re-evaluation's chunks are consecutive patient ids: a range costs two parameters
    where an `IN` list costs 200 in every one of the 7 queries (Django prepares each value
    and psycopg quotes it into the SQL, ~40% of loading a chunk). Rows of patients in the
    range but not in `ids` are dropped by the caller (`keep`), at most as many as kept.
    """
    low, high = min(ids), max(ids)
    if high - low < 2 * len(ids):
        return {f"{field}__gte": low, f"{field}__lte": high}
    return {f"{field}__in": ids}


def load_histories(patient_ids: Iterable[int]) -> dict[int, PatientHistory]:
    """Histories of many patients in a fixed number of queries (7 whatever the count).

    Reads plain rows (`values_list`) rather than prefetched model instances: the full
    re-evaluation loads every history of the cohort, and Django's per-instance prefetch
    work was ~90% of its time. The result equals `history_from_patient` of the same
    patients loaded with `history_prefetches()` (tests/imaging/test_history.py).
    """
    from patients.models import NacCourse, Radiotherapy, Surgery

    from .models import CalcificationFinding, EnhancementFinding, ImagingStudy

    ids = list(patient_ids)
    if not ids:
        return {}
    keep = set(ids)
    by_patient = patients_filter(ids, "patient_id")
    diagnosis = {pid: day for pid, day in Patient.objects.filter(**patients_filter(ids, "id"))
                 .order_by().values_list("id", "tumour__diagnosis_date") if pid in keep}
    surgeries: dict[int, tuple] = {}
    for pid, day, procedure, laterality in (Surgery.objects.filter(**by_patient)
                                            .order_by("-date", "-id")
                                            .values_list("patient_id", "date", "procedure", "laterality")):
        surgeries[pid] = (day, procedure, laterality)  # descending: the earliest is kept
    rt_ends: dict[int, list[date]] = {}
    for pid, end in Radiotherapy.objects.filter(end_date__isnull=False, **by_patient).order_by().values_list(
            "patient_id", "end_date"):
        rt_ends.setdefault(pid, []).append(cast(date, end))  # not null: filtered above
    courses: dict[int, list[tuple]] = {}
    for pid, start, end in (NacCourse.objects.filter(**by_patient).order_by("start_date", "id")
                            .values_list("patient_id", "start_date", "end_date")):
        courses.setdefault(pid, []).append((start, end))
    in_chunk = _InSubquery(F("study_id"), ImagingStudy.objects.filter(**by_patient).order_by().values("id"))
    calcs: dict[int, list[CalcGroup]] = {}
    for row in (CalcificationFinding.objects.filter(in_chunk)
                .order_by("laterality", "group", "id").values_list(*_CALC_FIELDS)):
        sid, group, breast, morphology, distribution, extent, count_bin, inside, change, count = row
        calcs.setdefault(sid, []).append(CalcGroup(
            group=group, breast=breast, morphology=morphology, distribution=distribution,
            extent_mm=float(extent), count_bin=count_bin, inside_tumor_bed=inside,
            observed_change=change, count=count))
    lesions: dict[int, list[Lesion]] = {}
    for row in (EnhancementFinding.objects.filter(in_chunk)
                .order_by("laterality", "lesion", "id").values_list(*_LESION_FIELDS)):
        sid, lesion, breast, lesion_type, size, initial, delayed, change = row
        lesions.setdefault(sid, []).append(Lesion(
            lesion=lesion, breast=breast, lesion_type=lesion_type,
            size_mm=float(size) if size is not None else None, kinetics_initial=initial,
            kinetics_delayed=delayed, observed_change=change))
    studies: dict[int, list[StudySnapshot]] = {}
    for row in (ImagingStudy.objects.filter(**by_patient).order_by("study_date", "id")
                .values_list(*_STUDY_FIELDS)):
        sid, pid, day, modality, phase, laterality, birads, status, no_enh, composition = row
        if pid not in keep:
            continue
        studies.setdefault(pid, []).append(StudySnapshot(
            id=sid, study_date=day, modality=modality, phase=phase,
            laterality=laterality, birads=birads, status=status, no_enhancement=no_enh,
            breast_composition=composition, calcifications=tuple(calcs.get(sid, ())),
            enhancements=tuple(lesions.get(sid, ()))))
    histories = {}
    for pid, diagnosis_date in diagnosis.items():
        surgery = surgeries.get(pid)
        nac = courses.get(pid, [])
        nac_ends = [end for _, end in nac if end]
        histories[pid] = PatientHistory(
            patient_id=pid,
            studies=tuple(studies.get(pid, ())),
            surgery_date=surgery[0] if surgery else None,
            surgery_procedure=surgery[1] if surgery else "",
            surgery_laterality=surgery[2] if surgery else "",
            rt_end_date=max(rt_ends[pid]) if pid in rt_ends else None,
            nac_start_date=nac[0][0] if nac else None,
            nac_end_date=max(nac_ends) if nac_ends else None,
            diagnosis_date=diagnosis_date,
        )
    return histories


def load_history(patient_id: int) -> PatientHistory:
    return load_histories([patient_id])[patient_id]
