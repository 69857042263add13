"""Thin views: the coordinator's worklist, an item's contact log, the calendar feed."""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from core.http import AuthenticatedHttpRequest
from core.permissions import can_sign_studies, can_view_worklist, can_work_worklist
from patients.access import sites_for

from .forms import BiopsyFilterForm, BiopsyResultForm, ContactForm, WorklistFilterForm
from .models import ContactLog
from .selectors import (
    biopsy_counts,
    biopsy_follow_up_for_user,
    biopsy_follow_ups,
    item_contacts,
    item_for_user,
    worklist_counts,
    worklist_items,
)
from .services import calendar as cal
from .services.biopsies import biopsy_result_record
from .services.contacts import contact_log

PAGE_SIZE = 50


def _require_viewer(request: AuthenticatedHttpRequest) -> None:
    if not can_view_worklist(request.user):
        raise PermissionDenied("The worklist is for coordinators, clinic staff, radiologists and admins.")


@require_GET
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_viewer(request)
    today = timezone.localdate()
    sites = list(sites_for(request.user))
    form = WorklistFilterForm(request.GET or None, sites=sites)
    filters: dict = {}
    if form.is_bound:
        form.is_valid()  # valid filters apply even when another one is not (it shows its error)
        filters = form.cleaned_data
    items = worklist_items(user=request.user, as_of=today, site_id=filters.get("site"),
                           kind=filters.get("kind", ""), state=filters.get("state", ""))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    outcomes = dict(ContactLog.Outcome.choices)
    for item in page:
        item.current_state = "lost" if item.lost_to_follow_up else item.state(today)
        item.days_late = (today - item.due_date).days
        # last_contact_outcome: annotated by worklist_items (the stubs cannot see it).
        item.last_contact_label = outcomes.get(getattr(item, "last_contact_outcome"), "")  # noqa: B009
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "surveillance/worklist.html", {
        "form": form, "page": page, "today": today, "filter_query": query.urlencode(),
        "counts": worklist_counts(user=request.user, as_of=today),
        "biopsy_counts": biopsy_counts(user=request.user, as_of=today),
    })


@require_http_methods(["GET", "POST"])
def worklist_item(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    _require_viewer(request)
    item = item_for_user(user=request.user, uuid=uuid)
    if item is None:
        raise Http404("No such scheduled item.")
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        if not can_work_worklist(request.user):
            raise PermissionDenied("Radiologists can view the worklist but not log contacts.")
        if form.is_valid():
            try:
                contact_log(item=item, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Contact logged.")
                return redirect("worklist-item", uuid=item.uuid)
    today = timezone.localdate()
    item.current_state = "lost" if item.lost_to_follow_up else item.state(today)
    return render(request, "surveillance/item.html", {
        "item": item, "patient": item.patient, "contacts": item_contacts(item), "form": form,
        "today": today,
    }, status=400 if request.method == "POST" else 200)


def can_record_biopsy_results(user) -> bool:
    """Coordinators, clinic staff and admins (who work the worklist) and radiologists."""
    return can_work_worklist(user) or can_sign_studies(user)


@require_GET
def biopsies(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Biopsies ordered by an alert's resolution, until their histology is recorded."""
    _require_viewer(request)
    today = timezone.localdate()
    form = BiopsyFilterForm(request.GET or None)
    state = form.cleaned_data.get("state", "") if form.is_valid() else ""
    page = Paginator(biopsy_follow_ups(user=request.user, as_of=today, state=state), PAGE_SIZE) \
        .get_page(request.GET.get("page"))
    for follow_up in page:
        follow_up.current_state = follow_up.state(today)
        follow_up.days_late = (today - follow_up.due_date).days
    return render(request, "surveillance/biopsies.html", {"form": form, "page": page, "today": today,
                                                          "state": state})


@require_http_methods(["GET", "POST"])
def biopsy(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    _require_viewer(request)
    follow_up = biopsy_follow_up_for_user(user=request.user, uuid=uuid)
    if follow_up is None:
        raise Http404("No such biopsy follow-up.")
    may_record = can_record_biopsy_results(request.user)
    initial = {"biopsy_date": follow_up.biopsy_date, "histology": follow_up.histology, "note": follow_up.note}
    form = BiopsyResultForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_record:
            raise PermissionDenied("Coordinators, staff, radiologists and admins record biopsy results.")
        if form.is_valid():
            try:
                biopsy_result_record(follow_up=follow_up, by=request.user, **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(field if field in form.fields else None, error)
            else:
                messages.success(request, "Biopsy result recorded.")
                return redirect("worklist-biopsy", uuid=follow_up.uuid)
    today = timezone.localdate()
    follow_up.current_state = follow_up.state(today)
    return render(request, "surveillance/biopsy.html", {
        "follow_up": follow_up, "patient": follow_up.patient, "form": form, "may_record": may_record,
        "today": today,
    }, status=400 if request.method == "POST" else 200)


@require_http_methods(["GET", "POST"])
def calendar_settings(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require_viewer(request)
    new_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            cal.calendar_token_revoke(user=request.user)
            messages.success(request, "Calendar link revoked: calendars using it stop updating.")
            return redirect("worklist-calendar")
        raw = cal.calendar_token_create(user=request.user)
        new_url = request.build_absolute_uri(reverse("worklist-calendar-feed", kwargs={"token": raw}))
    return render(request, "surveillance/calendar.html", {"token": cal.active_token(user=request.user),
                                                          "new_url": new_url})


@login_not_required
@never_cache
@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed: the secret in the URL is the only credential (calendar apps
    cannot log in). 404 for an unknown or revoked token."""
    user = cal.user_for_token(token)
    if user is None or not can_view_worklist(user):
        raise Http404("No such calendar.")
    body = cal.ical.calendar_text(cal.feed_events(user=user, as_of=timezone.localdate()),
                                  name="Surveillance worklist", stamp=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="worklist.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
