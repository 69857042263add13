"""The database side of the programme quality measures (`cohort/quality.py`).

A fixed number of queries whatever the cohort's size (7 grouped by site or subtype, 9 by
year, 11 by radiologist; `tests/cohort/test_quality.py` asserts them), each small at
100,000 patients (benchmark row 9):

1. the alerts, the abnormal post-surgical exams and the biopsy follow-ups are read as rows
   (their medians need the values; tens of thousands at most), their dates as local dates
   by the database; an abnormal exam's acknowledgement, resolution and biopsy are matched
   to it in Python from the alert and biopsy rows already read, not by a subquery per
   exam;
2. adherence is summed from the daily snapshot (`cohort.models`), never from the three
   million scheduled exams;
3. overdue patients are found through the few exams the sweep stamped overdue (its
   partial index), the patients with a plan and those lost counted by site or subtype.

The alert models are read through a few fields only (rule, state, resolution, the three
timestamps, the study), so the measures keep working whatever else the alert engine
records. On PostgreSQL, turn JIT off for the application's role (docs/deployment.md,
"PostgreSQL settings"): it compiled for longer than these queries run.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, OuterRef, Q, Subquery, Sum, When
from django.db.models.functions import ExtractYear, TruncDate
from django.utils import timezone

from alerts.models import Alert, Resolution, Rule
from imaging.models import ImagingStudy
from imaging.vocabulary import Phase, StudyStatus
from patients.models import Patient
from patients.vocabulary import FollowUpStatus, Subtype
from surveillance.models import BiopsyFollowUp, ScheduledItem

from .models import AdherenceCount, AdherenceSnapshot
from .quality import (
    FOLLOW_UP_YEARS,
    Adherence,
    GroupMeasures,
    PlanStatus,
    QualityReport,
    Start,
    biopsy_follow_through,
    rule_outcomes,
    timeliness,
)
from .services import adherence_rebuild

GROUP_BY = {"site": "Site", "radiologist": "Radiologist", "subtype": "Subtype", "year": "Year"}
# Post-surgical assessments that need a diagnostic follow-up: more imaging (0) or a biopsy.
ABNORMAL_BIRADS = ("0", "4", "4A", "4B", "4C", "5")
NO_RADIOLOGIST = "No radiologist (surveillance alert)"
BIOPSY_ORDERED = Resolution.BIOPSY_ORDERED.value


@dataclass(frozen=True)
class QualityFilters:
    site_ids: tuple[int, ...]
    subtype: str = ""
    radiologist_id: int | None = None
    date_from: date | None = None  # alerts raised, exams done, biopsies ordered, exams due on or after
    date_to: date | None = None  # … on or before
    group_by: str = "site"

    def in_period(self, day: date) -> bool:
        return ((self.date_from is None or day >= self.date_from)
                and (self.date_to is None or day <= self.date_to))


class AlertRow(NamedTuple):
    """An alert as the measures read it; a `Start` (day raised, acknowledged, resolved) and
    an `AlertOutcome` (rule, state, resolution, histology) by its field names."""

    rule: str
    state: str
    resolution: str
    day: date  # raised
    acknowledged: date | None
    resolved: date | None
    study_id: int | None
    radiologist_id: int | None
    site_id: int
    subtype: str | None
    histology: str  # of its biopsy follow-up ("" without a result)


def _scoped(qs, f: QualityFilters, patient: str = "patient__", signer: str | None = None):
    qs = qs.filter(**{f"{patient}site_id__in": f.site_ids})
    if f.subtype:
        qs = qs.filter(**{f"{patient}tumour__subtype": f.subtype})
    if f.radiologist_id and signer:
        qs = qs.filter(**{signer: f.radiologist_id})
    return qs


def _alert_rows(f: QualityFilters) -> list[AlertRow]:
    """Every alert of the selection, whatever the period (the abnormal exams need the alerts
    they raised, raised in the period or not)."""
    local = timezone.get_current_timezone()
    # A voided study's alerts (superseded) measure nothing: the join does not apply the
    # studies' default manager, so the voided ones are excluded here.
    qs = _scoped(Alert.objects.exclude(study__voided_at__isnull=False), f,
                 signer="study__signed_by_id").annotate(
        raised=TruncDate("created_at", tzinfo=local), acked=TruncDate("acknowledged_at", tzinfo=local),
        done=TruncDate("resolved_at", tzinfo=local))
    return [AlertRow(*row[:10], row[10] or "") for row in qs.order_by().values_list(
        "rule", "state", "resolution", "raised", "acked", "done", "study_id", "study__signed_by_id",
        "patient__site_id", "patient__tumour__subtype", "biopsy_follow_up__histology")]


def _abnormal_rows(f: QualityFilters) -> list[tuple]:
    """Signed post-surgical BI-RADS 0/4/5 exams of the period; for a BI-RADS 0 the next
    signed exam of the patient that is not 0 (a subquery evaluated for those only)."""
    qs = _scoped(ImagingStudy.objects.filter(status=StudyStatus.FINAL, phase=Phase.SURVEILLANCE,
                                             birads__in=ABNORMAL_BIRADS), f, signer="signed_by_id")
    if f.date_from:
        qs = qs.filter(study_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(study_date__lte=f.date_to)
    next_exam = (ImagingStudy.objects.filter(patient_id=OuterRef("patient_id"), status=StudyStatus.FINAL,
                                             study_date__gt=OuterRef("study_date"))
                 .exclude(birads="0").order_by("study_date").values("study_date")[:1])
    qs = qs.annotate(next_exam=Case(When(birads="0", then=Subquery(next_exam))))
    return list(qs.order_by().values_list("id", "study_date", "birads", "signed_by_id", "patient__site_id",
                                          "patient__tumour__subtype", "next_exam"))


def _biopsy_rows(f: QualityFilters) -> list[tuple]:
    """Biopsy follow-ups of the selection, whatever the period (the abnormal exams need
    theirs): (ordered on, due, biopsy date, histology, signer, site, subtype, study)."""
    qs = _scoped(BiopsyFollowUp.objects.all(), f, signer="alert__study__signed_by_id")
    return list(qs.order_by().values_list("ordered_on", "due_date", "biopsy_date", "histology",
                                          "alert__study__signed_by_id", "patient__site_id",
                                          "patient__tumour__subtype", "alert__study_id"))


def _snapshot(as_of: date) -> AdherenceSnapshot:
    """The latest adherence snapshot; built now when there is none yet (a new database)."""
    latest = AdherenceSnapshot.objects.order_by("-built_at", "-id").first()
    return latest or adherence_rebuild(as_of=as_of)


def _adherence(f: QualityFilters, snapshot: AdherenceSnapshot, field: str | None) -> dict:
    """Adherence per value of `field` (None: the whole selection, under the key None)."""
    qs = AdherenceCount.objects.filter(snapshot=snapshot, site_id__in=f.site_ids)
    if f.subtype:
        qs = qs.filter(subtype=f.subtype)
    if f.date_from:
        qs = qs.filter(due_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(due_date__lte=f.date_to)
    if field == "due_year":
        qs = qs.annotate(due_year=ExtractYear("due_date"))
    keys = [field] if field else []
    by_key: dict = {}
    for row in qs.order_by().values(*keys, "follow_up_year").annotate(closed=Sum("closed"), done=Sum("done")):
        years = by_key.setdefault(row[field] if field else None, {y: (0, 0) for y in FOLLOW_UP_YEARS})
        if row["follow_up_year"] in years:
            years[row["follow_up_year"]] = (row["done"], row["closed"])
    return {key: Adherence(years) for key, years in by_key.items()}


def _status(f: QualityFilters, as_of: date, field: str | None) -> dict:
    """Patients with a plan, overdue today and lost, per value of `field` (a patient field
    path; None: the whole selection, under the key None)."""
    patients = _scoped(Patient.objects.filter(surveillance_plan__isnull=False), f, patient="").order_by()
    counts = {"patients": Count("id"),
              "lost": Count("id", filter=Q(follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP))}
    # Overdue as the daily sweep stamped it (and the worklist shows it): pending, stamped
    # overdue, not lost. The sweep's partial index `item_not_yet_lost_idx` holds exactly
    # these rows, a few thousand of the millions of exams.
    overdue_items = _scoped(ScheduledItem.objects.filter(
        status=ScheduledItem.Status.PENDING, lost_on__isnull=True, became_overdue_on__isnull=False,
        patient__follow_up_status=FollowUpStatus.ACTIVE), f).order_by()
    overdue_count = Count("patient_id", distinct=True)
    if field is None:
        row = patients.aggregate(**counts)
        overdue = overdue_items.aggregate(n=overdue_count)["n"]
        return {None: PlanStatus(patients=row["patients"], overdue=overdue, lost=row["lost"])}
    rows = {row[field]: row for row in patients.values(field).annotate(**counts)}
    overdue_by = {row[f"patient__{field}"]: row["n"]
                  for row in overdue_items.values(f"patient__{field}").annotate(n=overdue_count)}
    return {key: PlanStatus(patients=row["patients"], overdue=overdue_by.get(key, 0), lost=row["lost"])
            for key, row in rows.items()}


def quality_report(f: QualityFilters, *, as_of: date, site_names: dict[int, str]) -> QualityReport:
    """Every measure, overall and per group (`f.group_by`), as of `as_of`."""
    return _report(f, as_of=as_of, site_names=site_names)


def _report(f: QualityFilters, *, as_of: date, site_names: dict[int, str]) -> QualityReport:
    alerts = _alert_rows(f)
    abnormal = _abnormal_rows(f)
    biopsies = _biopsy_rows(f)
    snapshot = _snapshot(as_of)
    # Adherence and follow-up status are grouped by site, subtype or due year; by
    # radiologist (and, for the status, by year) they are shown for the whole selection.
    # Groups partition the selection, so the whole is their sum, not another query.
    adherence_field = {"site": "site_id", "subtype": "subtype", "year": "due_year"}.get(f.group_by)
    status_field = {"site": "site_id", "subtype": "tumour__subtype"}.get(f.group_by)
    adherence = _adherence(f, snapshot, adherence_field)
    status = _status(f, as_of, status_field)
    alert_key, abnormal_key, biopsy_key = _keys(f.group_by)

    in_period = [a for a in alerts if f.in_period(a.day)]
    period_biopsies = [b for b in biopsies if f.in_period(b[0])]
    abnormal_starts = _abnormal_starts(abnormal, alerts, biopsies)
    alert_groups = _group(in_period, alert_key, lambda a: a)
    abnormal_groups = _group(zip(abnormal, abnormal_starts, strict=True), lambda r: abnormal_key(r[0]),
                             lambda r: r[1])
    biopsy_groups = _group(period_biopsies, biopsy_key, _biopsy)
    keys = set(alert_groups) | set(abnormal_groups) | set(biopsy_groups)
    if adherence_field:
        keys |= {k if f.group_by != "subtype" else (k or None) for k in adherence}
    if status_field:
        keys |= set(status)
    labels = _labels(f.group_by, keys, site_names)

    def adherence_of(key):
        return adherence.get(key if f.group_by != "subtype" else (key or ""), _empty_adherence())

    groups = [
        GroupMeasures(
            key=str(key if key is not None else ""), label=labels[key],
            alerts=timeliness(alert_groups.get(key, []), as_of),
            abnormal=timeliness(abnormal_groups.get(key, []), as_of),
            biopsies=biopsy_follow_through(biopsy_groups.get(key, []), as_of),
            adherence=adherence_of(key) if adherence_field else None,
            status=status.get(key, PlanStatus(0, 0, 0)) if status_field else None,
        )
        for key in sorted(keys, key=lambda k: labels[k])
    ]
    whole_adherence = (_sum_adherence(adherence.values()) if adherence_field
                       else _adherence(f, snapshot, None).get(None, _empty_adherence()))
    whole_status = (_sum_status(status.values()) if status_field
                    else _status(f, as_of, None).get(None, PlanStatus(0, 0, 0)))
    overall = GroupMeasures(
        key="all", label="All", alerts=timeliness(in_period, as_of),
        abnormal=timeliness(abnormal_starts, as_of),
        biopsies=biopsy_follow_through((_biopsy(r) for r in period_biopsies), as_of),
        adherence=whole_adherence, status=whole_status)
    outcomes = rule_outcomes(in_period, Rule.values)
    return QualityReport(as_of=as_of, group_by=f.group_by, groups=groups, overall=overall, rules=outcomes,
                         adherence_as_of=snapshot.as_of)


def _keys(group_by: str) -> tuple[Callable, Callable, Callable]:
    """Group keys of an alert row, an abnormal exam row and a biopsy row."""
    if group_by == "site":
        return (lambda a: a.site_id), (lambda r: r[4]), (lambda b: b[5])
    if group_by == "radiologist":
        return (lambda a: a.radiologist_id), (lambda r: r[3]), (lambda b: b[4])
    if group_by == "subtype":
        return (lambda a: a.subtype), (lambda r: r[5]), (lambda b: b[6])
    return (lambda a: a.day.year), (lambda r: r[1].year), (lambda b: b[0].year)


def _abnormal_starts(abnormal: list[tuple], alerts: list[AlertRow], biopsies: list[tuple]) -> list[Start]:
    """Each abnormal exam acknowledged by the first acknowledgement of an alert it raised;
    resolved, for a BI-RADS 0, by the next exam that is not 0, for 4 and 5 by its biopsy
    with a result or else by the first resolution of its alerts other than biopsy ordered."""
    first_ack: dict[int, date] = {}
    first_other: dict[int, date] = {}
    for a in alerts:
        if a.study_id is None:
            continue
        if a.acknowledged and (a.study_id not in first_ack or a.acknowledged < first_ack[a.study_id]):
            first_ack[a.study_id] = a.acknowledged
        if a.resolved and a.resolution != BIOPSY_ORDERED and (
                a.study_id not in first_other or a.resolved < first_other[a.study_id]):
            first_other[a.study_id] = a.resolved
    first_biopsy: dict[int, date] = {}
    for _, _, biopsy_date, histology, *_, study_id in biopsies:
        if histology and study_id and (study_id not in first_biopsy or biopsy_date < first_biopsy[study_id]):
            first_biopsy[study_id] = biopsy_date
    starts = []
    for study_id, study_date, birads, *_, next_exam in abnormal:
        resolved = next_exam if birads == "0" else (first_biopsy.get(study_id) or first_other.get(study_id))
        starts.append(Start(day=study_date, acknowledged=first_ack.get(study_id), resolved=resolved))
    return starts


def _empty_adherence() -> Adherence:
    return Adherence({y: (0, 0) for y in FOLLOW_UP_YEARS})


def _sum_adherence(parts: Iterable[Adherence]) -> Adherence:
    years = {y: [0, 0] for y in FOLLOW_UP_YEARS}
    for part in parts:
        for y, (done, total) in part.by_year.items():
            years[y][0] += done
            years[y][1] += total
    return Adherence({y: (d, t) for y, (d, t) in years.items()})


def _sum_status(parts: Iterable[PlanStatus]) -> PlanStatus:
    parts = list(parts)
    return PlanStatus(patients=sum(p.patients for p in parts), overdue=sum(p.overdue for p in parts),
                      lost=sum(p.lost for p in parts))


def _group(rows: Iterable, key, start) -> dict[object, list]:
    out: dict[object, list] = {}
    for row in rows:
        out.setdefault(key(row), []).append(start(row))
    return out


def _biopsy(row: tuple) -> tuple[date, date, date | None]:
    ordered, due, biopsy_date, histology = row[:4]
    return ordered, due, biopsy_date if histology else None


def _labels(group_by: str, keys: set, site_names: dict[int, str]) -> dict[object, str]:
    if group_by == "site":
        return {k: site_names.get(k, f"Site {k}") for k in keys}
    if group_by == "subtype":
        names = dict(Subtype.choices)
        return {k: names.get(k, "No tumour profile") if k else "No tumour profile" for k in keys}
    if group_by == "year":
        return {k: str(k) for k in keys}
    users = {u.pk: u.get_full_name() or u.get_username()
             for u in get_user_model().objects.filter(pk__in=[k for k in keys if k is not None])}
    return {k: users.get(k, NO_RADIOLOGIST) if k is not None else NO_RADIOLOGIST for k in keys}

