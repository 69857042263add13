"""The dashboard: what needs attention at the user's sites today."""

from datetime import timedelta

from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from alerts.models import SURVEILLANCE_RULES, Alert, AlertState, Severity
from core.permissions import can_act_on_imaging_alerts, can_act_on_surveillance_alerts
from imaging.selectors import drafts_awaiting_signature, recent_studies
from patients.access import patients_for
from surveillance.selectors import digest_for_dashboard, worklist_counts


def open_alerts_by_severity(user) -> dict[str, int]:
    counts = dict(
        Alert.objects.filter(patient__in=patients_for(user), state=AlertState.OPEN)
        .values_list("severity").annotate(n=Count("id")).values_list("severity", "n")
    )
    return {s.value: counts.get(s.value, 0) for s in (Severity.HIGH, Severity.MEDIUM)}


def latest_open_alerts(user, *, limit: int = 8) -> list[Alert]:
    return list(
        Alert.objects.filter(patient__in=patients_for(user), state=AlertState.OPEN)
        # "high" sorts before "medium": the most urgent first, then the newest.
        .select_related("patient", "study").order_by("severity", "-created_at")[:limit]
    )


SUPERSEDED_SHOWN_DAYS = 14


def recently_superseded(user, *, days: int = SUPERSEDED_SHOWN_DAYS, limit: int = 8) -> list[Alert]:
    """Alerts the user acts on that a change of the history superseded in the last `days`
    (an amendment, a study signed out of date order, a voided record, corrected treatment
    dates): the reader is told what no longer holds, and why."""
    kinds = Alert.objects.filter(patient__in=patients_for(user), state=AlertState.SUPERSEDED,
                                 superseded_at__gte=timezone.now() - timedelta(days=days))
    if not can_act_on_imaging_alerts(user):
        kinds = kinds.filter(rule__in=SURVEILLANCE_RULES)
    if not can_act_on_surveillance_alerts(user):
        kinds = kinds.exclude(rule__in=SURVEILLANCE_RULES)
    return list(kinds.select_related("patient").order_by("-superseded_at", "-id")[:limit])


def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    counts = open_alerts_by_severity(user)
    return render(request, "clinic/dashboard.html", {
        "alert_counts": counts,
        "open_alert_total": sum(counts.values()),
        "alerts": latest_open_alerts(user),
        "superseded": recently_superseded(user),
        "superseded_days": SUPERSEDED_SHOWN_DAYS,
        "recent_studies": recent_studies(user),
        "drafts": drafts_awaiting_signature(user),
        "patient_count": patients_for(user).count(),
        "surveillance_digest": digest_for_dashboard(user),
        "surveillance_counts": worklist_counts(user=user, as_of=timezone.localdate()),
    })
