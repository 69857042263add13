"""The page of one alert, and its own acknowledge and resolve actions.

The page puts the alert beside what it is about, which other apps know: for an imaging
alert the triggering study's findings, the burden table and the chart (imaging); for a
surveillance alert (overdue, lost to follow-up) the worklist item and its contact log
(surveillance), and no chart. It lives here, above all of them, as the patient timeline
does; the alerts app keeps the inbox and the services.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from alerts.forms import AcknowledgeForm, CaseActionForm, ResolveForm
from alerts.models import Alert
from alerts.selectors import alert_for_user, burden_table, case_of, extent_threshold
from alerts.services import alert_acknowledge, alert_resolve, refusal
from core.http import AuthenticatedHttpRequest
from core.permissions import can_act_on_alert, can_see_contact, can_work_worklist
from imaging.charts import chart_alerts, timeline_figure
from imaging.history import load_history
from imaging.models import ImagingStudy
from imaging.trend import describe, open_alert_breasts, trends
from surveillance.models import ScheduledItem
from surveillance.selectors import item_contacts


def _patient_url(patient) -> str | None:
    try:
        return patient.get_absolute_url()
    except NoReverseMatch:  # the patient pages are another app's; absent in some builds
        return None


def _imaging_context(alert: Alert) -> dict:
    """The triggering study's findings, the burden table and the chart, with this case's
    open alerts marked and the extent threshold drawn."""
    study = alert.study
    history = load_history(alert.patient_id)
    open_alerts = [a for a in case_of(alert).alerts if a.state in ("open", "acknowledged")] or [alert]
    breast_trends = trends(history)
    flagged = open_alert_breasts(alert.patient.alerts.filter(state__in=("open", "acknowledged")))
    study_urls = {pk: reverse("study-detail", kwargs={"uuid": uuid}) for pk, uuid in
                  ImagingStudy.objects.filter(patient_id=alert.patient_id).values_list("id", "uuid")}
    return {
        "study": study,
        "calcifications": list(study.calcifications.all()) if study else [],
        "enhancements": list(study.enhancements.all()) if study else [],
        "burden": burden_table(history),
        "figure": timeline_figure(history, alerts=chart_alerts(open_alerts), breast_trends=breast_trends,
                                  threshold=extent_threshold(), study_urls=study_urls),
        "trend_sentences": [describe(t, open_alert=flagged.get(t.breast, "")) for t in breast_trends],
    }


def _surveillance_context(request: AuthenticatedHttpRequest, alert: Alert) -> dict:
    """The worklist item that raised the alert (of the alert's patient only) and its
    contact log."""
    item = (ScheduledItem.objects.select_related("owner", "study")
            .filter(id=alert.trigger_item_id, patient_id=alert.patient_id).first()
            if alert.trigger_item_id else None)
    if item is not None:
        item.current_state = "lost" if item.lost_to_follow_up else item.state(timezone.localdate())
    return {
        "item": item,
        "contacts": list(item_contacts(item)) if item is not None else [],
        "can_work": can_work_worklist(request.user),
        "show_contact": can_see_contact(request.user),
    }


def _page(request: AuthenticatedHttpRequest, alert: Alert, *, ack_form=None, resolve_form=None,
          status: int = 200) -> HttpResponse:
    surveillance = alert.is_surveillance
    context = {
        "alert": alert,
        "patient": alert.patient,
        "patient_url": _patient_url(alert.patient),
        "case": case_of(alert),
        "notifications": list(alert.notifications.select_related("recipient")),
        "can_act": can_act_on_alert(request.user, alert),
        "ack_form": ack_form or AcknowledgeForm(),
        "resolve_form": resolve_form or ResolveForm(surveillance=surveillance),
        "case_form": CaseActionForm(),
    }
    if surveillance:
        context.update(_surveillance_context(request, alert))
    else:
        context.update(_imaging_context(alert))
    return render(request, "alerts/detail.html", context, status=status)


@require_GET
def alert_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _page(request, alert_for_user(request.user, pk))


def _acting_on(request: AuthenticatedHttpRequest, pk: int) -> Alert:
    alert = alert_for_user(request.user, pk)  # 404 for other sites, before the role check
    if not can_act_on_alert(request.user, alert):
        raise PermissionDenied(refusal(alert))
    return alert


@require_POST
def alert_acknowledge_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = _acting_on(request, pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return _page(request, alert, ack_form=form, status=400)
    alert, changed = alert_acknowledge(alert=alert, by=request.user, note=form.cleaned_data["note"])
    if changed:
        messages.success(request, f"Alert #{alert.pk} acknowledged.")
    else:
        by = alert.acknowledged_by
        who = (by.get_full_name() or by.username) if by is not None else "someone else"
        messages.info(request, f"Alert #{alert.pk} was already acknowledged by {who}.")
    return redirect(reverse("alert-detail", kwargs={"pk": alert.pk}))


@require_POST
def alert_resolve_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = _acting_on(request, pk)
    form = ResolveForm(request.POST, surveillance=alert.is_surveillance)
    if not form.is_valid():
        return _page(request, alert, resolve_form=form, status=400)
    alert, changed = alert_resolve(alert=alert, by=request.user,
                                   resolution=form.cleaned_data["resolution"],
                                   note=form.cleaned_data["note"])
    if changed:
        messages.success(request, f"Alert #{alert.pk} resolved: {alert.get_resolution_display()}.")
    else:
        messages.info(request, f"Alert #{alert.pk} was already resolved.")
    return redirect(reverse("alert-detail", kwargs={"pk": alert.pk}))
