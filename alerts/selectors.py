"""Reads for alerts, scoped to the user's sites; each owns its select_related."""

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Case, F, IntegerField, Max, Q, QuerySet, Value, When
from django.http import Http404

from audit.context import note_patient_viewed
from imaging.burden import Burden, burden_series, nadir, post_treatment_series
from imaging.charts import ExtentThreshold
from imaging.history import PatientHistory
from imaging.vocabulary import Phase
from patients.access import sites_for
from patients.models import Patient

from .models import LIVE_STATES, Alert, AlertSettings, AlertState, Severity

ACTIVE = "active"  # the inbox's default state filter: open or acknowledged
# States in which an alert asks nothing more of anyone (superseded: the history changed).
CLOSED_STATES = (AlertState.RESOLVED, AlertState.SUPERSEDED)
SEVERITY_RANK: dict[str, int] = {Severity.MEDIUM: 1, Severity.HIGH: 2}
STATE_ORDER = (AlertState.OPEN, AlertState.ACKNOWLEDGED)
CASE_KEY = re.compile(r"^(study|alert)-([1-9][0-9]{0,17})$")


def alerts_for(user: User, *, severity: str = "", rule: str = "", site: str = "",
               state: str = ACTIVE) -> QuerySet[Alert]:
    """The alerts of the user's sites, newest first, filtered; a fixed number of queries."""
    qs = Alert.objects.select_related("patient", "patient__site", "study")
    if not user.is_superuser:
        qs = qs.filter(patient__site__in=sites_for(user))
    if severity:
        qs = qs.filter(severity=severity)
    if rule:
        qs = qs.filter(rule=rule)
    if site:
        qs = qs.filter(patient__site__code=site)
    if state == ACTIVE:
        qs = qs.filter(state__in=LIVE_STATES)
    elif state in AlertState.values:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def alert_for_user(user: User, pk: int) -> Alert:
    """The alert if the user may see its patient, else 404 (never 403)."""
    qs = Alert.objects.select_related("patient", "patient__site", "study", "acknowledged_by",
                                      "resolved_by")
    if not user.is_superuser:
        qs = qs.filter(patient__site__in=sites_for(user))
    try:
        alert = qs.get(pk=pk)
    except Alert.DoesNotExist as exc:
        raise Http404("No such alert.") from exc
    note_patient_viewed(alert.patient)  # the audit middleware records who viewed it
    return alert


def open_alerts_for_patient(patient: Patient) -> QuerySet[Alert]:
    """Open or acknowledged alerts of one patient (the timeline's in-app channel), newest
    first; resolved and superseded ones need nothing more."""
    return (Alert.objects.filter(patient=patient, state__in=LIVE_STATES)
            .select_related("study").order_by("-created_at", "-id"))


def extent_threshold() -> ExtentThreshold:
    """The extent rule's current thresholds, as the charts draw them."""
    current = AlertSettings.current()
    return ExtentThreshold(mm=float(current.extent_mm), percent=float(current.extent_percent))


@dataclass(frozen=True)
class BurdenRow:
    burden: Burden
    phase: str
    post_treatment: bool
    is_nadir: bool


def burden_table(history: PatientHistory) -> dict[str, list[BurdenRow]]:
    """Per breast, every final mammogram's burden, marking the post-treatment series and
    its nadir; breasts without any calcification on any exam are left out."""
    phases = {s.id: Phase(s.phase).label for s in history.studies}
    table = {}
    for breast in ("left", "right"):
        series = burden_series(history, breast)
        if not any(b.groups for b in series):
            continue
        post = post_treatment_series(history, breast)
        post_ids = {b.study_id for b in post}
        low = nadir(post)
        table[breast] = [
            BurdenRow(b, phases[b.study_id], b.study_id in post_ids,
                      low is not None and b.study_id == low.study_id)
            for b in series
        ]
    return table


@dataclass(frozen=True)
class AlertCase:
    """The alerts one study raised for its patient (or one surveillance alert): one line
    of the inbox, one email, acknowledged or resolved together or alert by alert."""

    key: str  # Alert.case_key
    alerts: tuple[Alert, ...]  # highest severity first

    @property
    def first(self) -> Alert:
        return self.alerts[0]

    @property
    def patient(self) -> Patient:
        return self.first.patient

    @property
    def study(self):
        return self.first.study

    @property
    def severity(self) -> str:
        return self.first.severity

    @property
    def is_surveillance(self) -> bool:
        return self.first.is_surveillance

    @property
    def state(self) -> str:
        """The least advanced state of its alerts: open while any is open."""
        states = {a.state for a in self.alerts}
        return next((s for s in STATE_ORDER if s in states), self.first.state)

    @property
    def raised(self) -> datetime:
        return min(a.created_at for a in self.alerts)

    @property
    def active(self) -> list[Alert]:
        return [a for a in self.alerts if a.state not in CLOSED_STATES]


def _case_order(alert: Alert) -> tuple:
    return (-SEVERITY_RANK.get(alert.severity, 0), alert.created_at, alert.pk)


def group_cases(alerts) -> list[AlertCase]:
    """Alerts → cases, in the order each case first appears; alerts highest severity first."""
    by_key: dict[str, list[Alert]] = defaultdict(list)
    for alert in alerts:
        by_key[alert.case_key].append(alert)
    return [AlertCase(key, tuple(sorted(group, key=_case_order))) for key, group in by_key.items()]


def case_groups(alerts: QuerySet[Alert]) -> QuerySet:
    """One row per case of `alerts` (its study, or its alert when it has none), highest
    severity first, then the case with the newest alert: what the inbox pages through.
    One GROUP BY; `cases_of` loads the page's alerts."""
    rank = Case(*(When(severity=s, then=Value(r)) for s, r in SEVERITY_RANK.items()),
                default=Value(0), output_field=IntegerField())
    solo = Case(When(study__isnull=True, then=F("id")), default=None, output_field=IntegerField())
    return (alerts.order_by().annotate(solo=solo).values("study_id", "solo")
            .annotate(rank=Max(rank), latest=Max("created_at"))
            .order_by("-rank", "-latest", "-study_id", "-solo"))


def cases_of(alerts: QuerySet[Alert], groups) -> list[AlertCase]:
    """The cases of `groups` (rows of `case_groups`) in their order: one query."""
    groups = list(groups)
    studies = [g["study_id"] for g in groups if g["study_id"] is not None]
    solos = [g["solo"] for g in groups if g["study_id"] is None]
    found = {c.key: c for c in group_cases(alerts.filter(Q(study_id__in=studies) | Q(id__in=solos)))}
    keys = [f"study-{g['study_id']}" if g["study_id"] is not None else f"alert-{g['solo']}"
            for g in groups]
    return [found[k] for k in keys if k in found]


def parse_case_keys(keys: list[str]) -> tuple[list[int], list[int]]:
    """(study ids, alert ids) of case keys; ValueError names a key that is not one."""
    studies: list[int] = []
    alerts: list[int] = []
    for key in keys:
        match = CASE_KEY.match(key)
        if not match:
            raise ValueError(key)
        (studies if match[1] == "study" else alerts).append(int(match[2]))
    return studies, alerts


def active_alerts_of_cases(user: User, keys: list[str]) -> list[Alert]:
    """The unresolved alerts of these cases that the user may see, locked by nobody yet
    (the services lock each row). A surveillance alert's case key names the alert."""
    studies, alert_ids = parse_case_keys(keys)
    qs = (Alert.objects.select_related("patient", "study")
          .filter(Q(study_id__in=studies) | Q(id__in=alert_ids, study__isnull=True))
          .exclude(state__in=CLOSED_STATES).order_by("id"))
    if not user.is_superuser:
        qs = qs.filter(patient__site__in=sites_for(user))
    return list(qs)


def case_of(alert: Alert) -> AlertCase:
    """The case an alert belongs to, all its alerts, whatever their state."""
    if alert.study_id is None:
        return AlertCase(alert.case_key, (alert,))
    siblings = Alert.objects.filter(study_id=alert.study_id).select_related("patient", "study")
    return group_cases(siblings)[0]
