"""The alert inbox, by case, and its actions on ticked cases. Thin: selectors read,
services write.

The page of one alert puts the alert beside the patient's imaging or her worklist item
and contact log, so it lives in the layer that knows them all (`clinic.alert_page`).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from core.http import AuthenticatedHttpRequest
from core.permissions import (
    can_act_on_alert,
    can_act_on_alerts,
    can_act_on_imaging_alerts,
    can_act_on_surveillance_alerts,
)
from patients.access import sites_for

from .forms import CaseActionForm, InboxFilterForm
from .selectors import active_alerts_of_cases, alerts_for, case_groups, cases_of
from .services import cases_acknowledge, cases_resolve

PAGE_SIZE = 50  # cases per page


def _inbox(request: AuthenticatedHttpRequest, *, action_form: CaseActionForm | None = None,
           status: int = 200) -> HttpResponse:
    sites = list(sites_for(request.user))
    form = InboxFilterForm(request.GET, sites=sites)
    alerts = alerts_for(request.user, **form.filters())
    page = Paginator(case_groups(alerts), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    cases = cases_of(alerts, page.object_list)
    return render(request, "alerts/inbox.html", {
        "form": form, "page": page, "cases": cases,
        # The cases the user may tick: unresolved, of a kind the user acts on.
        "actionable": {c.key for c in cases if c.active and can_act_on_alert(request.user, c)},
        "action_form": action_form or _action_form(request),
        "query": query.urlencode(), "show_site": len(sites) > 1,
        "here": request.get_full_path(),
    }, status=status)


def _action_form(request: AuthenticatedHttpRequest, data=None) -> CaseActionForm:
    return CaseActionForm(data, imaging=can_act_on_imaging_alerts(request.user),
                          surveillance=can_act_on_surveillance_alerts(request.user))


@require_GET
def alert_inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _inbox(request)


def _next(request: AuthenticatedHttpRequest) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return reverse("alert-inbox")


@require_POST
def alert_cases_action(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Acknowledge or resolve the ticked cases (every unresolved alert of each).

    403 when one of them holds an alert of a kind the user may not act on (nothing is
    changed); 400 with the form's errors for nothing ticked or a resolution that does not
    fit an alert's kind."""
    if not can_act_on_alerts(request.user):
        raise PermissionDenied("Your role does not act on alerts.")
    form = _action_form(request, request.POST)
    if not form.is_valid():
        return _inbox(request, action_form=form, status=400)
    data = form.cleaned_data
    alerts = active_alerts_of_cases(request.user, data["cases"])
    try:
        if data["action"] == "acknowledge":
            changed = cases_acknowledge(alerts=alerts, by=request.user, note=data["note"])
            done = "acknowledged"
        else:
            changed = cases_resolve(alerts=alerts, by=request.user, resolution=data["resolution"],
                                    note=data["note"])
            done = "resolved"
    except ValidationError as exc:
        for error in exc.message_dict.get("resolution", exc.messages):
            form.add_error("resolution", f"{error} (a ticked case cannot take this resolution)")
        return _inbox(request, action_form=form, status=400)
    cases = len(data["cases"])
    messages.success(request, f"{changed} alert{'s' if changed != 1 else ''} {done} in "
                              f"{cases} case{'s' if cases != 1 else ''}.")
    return redirect(_next(request))
