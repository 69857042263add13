"""Alert inbox, detail, acknowledge and resolve. Thin: selectors read, services write."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_GET, require_POST

from core.http import AuthenticatedHttpRequest
from core.permissions import can_act_on_alert
from imaging.charts import chart_alerts, timeline_figure
from imaging.history import load_history
from patients.access import sites_for

from .forms import AcknowledgeForm, InboxFilterForm, ResolveForm
from .models import Alert
from .selectors import alert_for_user, alerts_for, burden_table
from .services import alert_acknowledge, alert_resolve

PAGE_SIZE = 50


@require_GET
def alert_inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    sites = list(sites_for(request.user))
    form = InboxFilterForm(request.GET, sites=sites)
    qs = alerts_for(request.user, **form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "alerts/inbox.html", {
        "form": form, "page": page, "alerts": page.object_list,
        "query": query.urlencode(), "show_site": len(sites) > 1,
    })


def _patient_url(patient) -> str | None:
    try:
        return patient.get_absolute_url()
    except NoReverseMatch:  # the patient pages are another app's; absent in some builds
        return None


def _detail(request: AuthenticatedHttpRequest, alert: Alert, *, ack_form=None, resolve_form=None,
            status: int = 200) -> HttpResponse:
    study = alert.study
    history = load_history(alert.patient_id)
    return render(request, "alerts/detail.html", {
        "alert": alert,
        "patient": alert.patient,
        "patient_url": _patient_url(alert.patient),
        "study": study,
        "calcifications": list(study.calcifications.all()) if study else [],
        "enhancements": list(study.enhancements.all()) if study else [],
        "burden": burden_table(history),
        "figure": timeline_figure(history, alerts=chart_alerts([alert])),
        "notifications": list(alert.notifications.select_related("recipient")),
        "can_act": can_act_on_alert(request.user, alert),
        "ack_form": ack_form or AcknowledgeForm(),
        "resolve_form": resolve_form or ResolveForm(),
    }, status=status)


@require_GET
def alert_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    return _detail(request, alert_for_user(request.user, pk))


def _acting_on(request: AuthenticatedHttpRequest, pk: int) -> Alert:
    alert = alert_for_user(request.user, pk)  # 404 for other sites, before the role check
    if not can_act_on_alert(request.user, alert):
        raise PermissionDenied("Only a radiologist can acknowledge or resolve alerts.")
    return alert


@require_POST
def alert_acknowledge_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    alert = _acting_on(request, pk)
    form = AcknowledgeForm(request.POST)
    if not form.is_valid():
        return _detail(request, alert, ack_form=form, status=400)
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
    form = ResolveForm(request.POST)
    if not form.is_valid():
        return _detail(request, alert, resolve_form=form, status=400)
    alert, changed = alert_resolve(alert=alert, by=request.user,
                                   resolution=form.cleaned_data["resolution"],
                                   note=form.cleaned_data["note"])
    if changed:
        messages.success(request, f"Alert #{alert.pk} resolved: {alert.get_resolution_display()}.")
    else:
        messages.info(request, f"Alert #{alert.pk} was already resolved.")
    return redirect(reverse("alert-detail", kwargs={"pk": alert.pk}))

