"""The database side of the programme quality measures (`cohort/quality.py`).

A fixed number of queries whatever the cohort's size (8 at most, `tests/cohort/
test_quality.py` asserts it): the alerts and the abnormal results are read as rows (a few
per patient at most) because their medians need the values; the scheduled exams and the
patients' follow-up status are counted by the database, grouped. The alert models are
read through a few fields only (rule, state, resolution, the three timestamps, the study)
so the measures keep working whatever else the alert engine records.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.functions import ExtractYear
from django.utils import timezone

from alerts.models import Alert, Rule
from imaging.models import ImagingStudy
from imaging.vocabulary import Phase, StudyStatus
from patients.models import Patient
from patients.vocabulary import FollowUpStatus, Subtype
from surveillance.models import BiopsyFollowUp, ScheduledItem

from .quality import (
    FOLLOW_UP_YEARS,
    AlertOutcome,
    GroupMeasures,
    PlanStatus,
    QualityReport,
    Start,
    adherence_from_cumulative,
    biopsy_follow_through,
    rule_outcomes,
    timeliness,
)

GROUP_BY = {"site": "Site", "radiologist": "Radiologist", "subtype": "Subtype", "year": "Year"}
# Post-surgical assessments that need a diagnostic follow-up: more imaging (0) or a biopsy.
ABNORMAL_BIRADS = ("0", "4", "4A", "4B", "4C", "5")
NO_RADIOLOGIST = "No radiologist (surveillance alert)"
YEAR = timedelta(days=365.25)


@dataclass(frozen=True)
class QualityFilters:
    site_ids: tuple[int, ...]
    subtype: str = ""
    radiologist_id: int | None = None
    date_from: date | None = None  # alerts raised, abnormal exams and exams due on or after
    date_to: date | None = None  # … on or before
    group_by: str = "site"


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _local(moment: datetime | None) -> date | None:
    return timezone.localdate(moment) if moment is not None else None


def _alert_rows(f: QualityFilters) -> list[tuple]:
    qs = Alert.objects.filter(patient__site_id__in=f.site_ids)
    if f.subtype:
        qs = qs.filter(patient__tumour__subtype=f.subtype)
    if f.radiologist_id:
        qs = qs.filter(study__signed_by_id=f.radiologist_id)
    if f.date_from:
        qs = qs.filter(created_at__gte=_start_of(f.date_from))
    if f.date_to:
        qs = qs.filter(created_at__lt=_start_of(f.date_to + timedelta(days=1)))
    return list(qs.order_by().values_list(
        "rule", "state", "resolution", "created_at", "acknowledged_at", "resolved_at",
        "study__signed_by_id", "patient__site_id", "patient__tumour__subtype", "biopsy_follow_up__histology"))


def _abnormal_rows(f: QualityFilters) -> list[tuple]:
    """Signed post-surgical BI-RADS 0/4/5 exams with the dates that acknowledge and resolve them:
    the first acknowledgement of an alert it raised; for BI-RADS 0 the next signed exam that
    is not 0, for 4 and 5 the biopsy (with a result) of one of its alerts, or failing that
    the first resolution of one of its alerts other than "biopsy ordered"."""
    qs = ImagingStudy.objects.filter(status=StudyStatus.FINAL, phase=Phase.SURVEILLANCE,
                                     birads__in=ABNORMAL_BIRADS, patient__site_id__in=f.site_ids)
    if f.subtype:
        qs = qs.filter(patient__tumour__subtype=f.subtype)
    if f.radiologist_id:
        qs = qs.filter(signed_by_id=f.radiologist_id)
    if f.date_from:
        qs = qs.filter(study_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(study_date__lte=f.date_to)
    its_alerts = Alert.objects.filter(study_id=OuterRef("pk")).order_by()
    qs = qs.annotate(
        ack=Subquery(its_alerts.filter(acknowledged_at__isnull=False).order_by("acknowledged_at")
                     .values("acknowledged_at")[:1]),
        next_exam=Subquery(ImagingStudy.objects.filter(
            patient_id=OuterRef("patient_id"), status=StudyStatus.FINAL,
            study_date__gt=OuterRef("study_date")).exclude(birads="0").order_by("study_date")
            .values("study_date")[:1]),
        biopsy=Subquery(BiopsyFollowUp.objects.filter(alert__study_id=OuterRef("pk")).exclude(histology="")
                        .order_by("biopsy_date").values("biopsy_date")[:1]),
        other=Subquery(its_alerts.filter(resolved_at__isnull=False).exclude(resolution="biopsy_ordered")
                       .order_by("resolved_at").values("resolved_at")[:1]),
    )
    return list(qs.order_by().values_list("study_date", "birads", "signed_by_id", "patient__site_id",
                                          "patient__tumour__subtype", "ack", "next_exam", "biopsy", "other"))


def _biopsy_rows(f: QualityFilters) -> list[tuple]:
    """Biopsy follow-ups, filtered and grouped like the alerts that ordered them (by the
    day of the order for the period)."""
    qs = BiopsyFollowUp.objects.filter(patient__site_id__in=f.site_ids)
    if f.subtype:
        qs = qs.filter(patient__tumour__subtype=f.subtype)
    if f.radiologist_id:
        qs = qs.filter(alert__study__signed_by_id=f.radiologist_id)
    if f.date_from:
        qs = qs.filter(ordered_on__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(ordered_on__lte=f.date_to)
    return list(qs.order_by().values_list("ordered_on", "due_date", "biopsy_date", "histology",
                                          "alert__study__signed_by_id", "patient__site_id",
                                          "patient__tumour__subtype"))


def _items(f: QualityFilters, as_of: date):
    qs = (ScheduledItem.objects.filter(patient__site_id__in=f.site_ids, window_end__lt=as_of)
          .exclude(status=ScheduledItem.Status.CANCELLED))
    if f.subtype:
        qs = qs.filter(patient__tumour__subtype=f.subtype)
    if f.date_from:
        qs = qs.filter(due_date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(due_date__lte=f.date_to)
    return qs.annotate(followed=ExpressionWrapper(
        F("due_date") - F("patient__surveillance_plan__surgery_date"), output_field=DurationField()))


def _adherence_counts() -> dict:
    """Cumulative counts per year of follow-up: items due before the end of year k."""
    in_window = Q(status=ScheduledItem.Status.DONE, done_on__gte=F("window_start"),
                  done_on__lte=F("window_end"))
    counts = {}
    for k in FOLLOW_UP_YEARS:
        before = Q(followed__lt=YEAR * k)
        counts[f"total_{k}"] = Count("id", filter=before)
        counts[f"done_{k}"] = Count("id", filter=before & in_window)
    return counts


def _adherence(row: dict):
    return adherence_from_cumulative([row[f"done_{k}"] for k in FOLLOW_UP_YEARS],
                                     [row[f"total_{k}"] for k in FOLLOW_UP_YEARS])


def _patients(f: QualityFilters, as_of: date):
    qs = Patient.objects.filter(site_id__in=f.site_ids, surveillance_plan__isnull=False)
    if f.subtype:
        qs = qs.filter(tumour__subtype=f.subtype)
    overdue_item = ScheduledItem.objects.filter(
        patient_id=OuterRef("pk"), status=ScheduledItem.Status.PENDING, overdue_after__lt=as_of,
        lost_to_follow_up=False)
    return qs.annotate(has_overdue=Exists(overdue_item))


_STATUS_COUNTS = {
    "patients": Count("id"),
    "overdue": Count("id", filter=Q(has_overdue=True, follow_up_status=FollowUpStatus.ACTIVE)),
    "lost": Count("id", filter=Q(follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP)),
}


def _status(row: dict) -> PlanStatus:
    return PlanStatus(patients=row["patients"], overdue=row["overdue"], lost=row["lost"])


def quality_report(f: QualityFilters, *, as_of: date, site_names: dict[int, str]) -> QualityReport:
    """Every measure, overall and per group (`f.group_by`), as of `as_of`."""
    alerts = _alert_rows(f)
    abnormal = _abnormal_rows(f)
    biopsies = _biopsy_rows(f)
    items, patients = _items(f, as_of), _patients(f, as_of)
    overall_adherence = _adherence(items.aggregate(**_adherence_counts()))
    overall_status = _status(patients.aggregate(**_STATUS_COUNTS))

    def alert_key(row) -> object:
        return {"site": row[7], "radiologist": row[6], "subtype": row[8],
                "year": _local(row[3]).year}[f.group_by]

    def abnormal_key(row) -> object:
        return {"site": row[3], "radiologist": row[2], "subtype": row[4], "year": row[0].year}[f.group_by]

    def biopsy_key(row) -> object:
        return {"site": row[5], "radiologist": row[4], "subtype": row[6], "year": row[0].year}[f.group_by]

    alert_starts = _group(alerts, alert_key, _alert_start)
    abnormal_starts = _group(abnormal, abnormal_key, _abnormal_start)
    biopsy_rows = _group(biopsies, biopsy_key, _biopsy)
    adherence, status = {}, {}
    if f.group_by in ("site", "subtype", "year"):
        field = {"site": "patient__site_id", "subtype": "patient__tumour__subtype",
                 "year": "due_year"}[f.group_by]
        grouped = items.annotate(due_year=ExtractYear("due_date")) if f.group_by == "year" else items
        adherence = {row[field]: _adherence(row)
                     for row in grouped.order_by().values(field).annotate(**_adherence_counts())}
    if f.group_by in ("site", "subtype"):
        field = {"site": "site_id", "subtype": "tumour__subtype"}[f.group_by]
        status = {row[field]: _status(row)
                  for row in patients.order_by().values(field).annotate(**_STATUS_COUNTS)}
    keys = set(alert_starts) | set(abnormal_starts) | set(biopsy_rows) | set(adherence) | set(status)
    labels = _labels(f.group_by, keys, site_names)
    groups = [
        GroupMeasures(
            key=str(key if key is not None else ""), label=labels[key],
            alerts=timeliness(alert_starts.get(key, []), as_of),
            abnormal=timeliness(abnormal_starts.get(key, []), as_of),
            biopsies=biopsy_follow_through(biopsy_rows.get(key, []), as_of),
            adherence=adherence.get(key) if f.group_by in ("site", "subtype", "year") else None,
            status=status.get(key) if f.group_by in ("site", "subtype") else None,
        )
        for key in sorted(keys, key=lambda k: labels[k])
    ]
    overall = GroupMeasures(
        key="all", label="All", alerts=timeliness((_alert_start(r) for r in alerts), as_of),
        abnormal=timeliness((_abnormal_start(r) for r in abnormal), as_of),
        biopsies=biopsy_follow_through((_biopsy(r) for r in biopsies), as_of),
        adherence=overall_adherence, status=overall_status)
    outcomes = rule_outcomes((AlertOutcome(rule=r[0], state=r[1], resolution=r[2], histology=r[9] or "")
                              for r in alerts), Rule.values)
    return QualityReport(as_of=as_of, group_by=f.group_by, groups=groups, overall=overall, rules=outcomes)


def _group(rows: Iterable[tuple], key, start) -> dict[object, list[Start]]:
    out: dict[object, list[Start]] = {}
    for row in rows:
        out.setdefault(key(row), []).append(start(row))
    return out


def _biopsy(row: tuple) -> tuple[date, date, date | None]:
    ordered, due, biopsy_date, histology = row[:4]
    return ordered, due, biopsy_date if histology else None


def _alert_start(row: tuple) -> Start:
    return Start(day=_local(row[3]), acknowledged=_local(row[4]), resolved=_local(row[5]))


def _abnormal_start(row: tuple) -> Start:
    study_date, birads, *_, ack, next_exam, biopsy, other = row
    resolved = next_exam if birads == "0" else (biopsy or _local(other))
    return Start(day=study_date, acknowledged=_local(ack), resolved=resolved)


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
