"""Reads for alerts, scoped to the user's sites; each owns its select_related."""

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import Http404

from audit.context import note_patient_viewed
from imaging.burden import Burden, burden_series, nadir, post_treatment_series
from imaging.history import PatientHistory
from imaging.vocabulary import Phase
from patients.access import sites_for
from patients.models import Patient

from .models import LIVE_STATES, Alert, AlertState

ACTIVE = "active"  # the inbox's default state filter: open or acknowledged


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
