"""Thin views: the coordinator's worklist, an item's contact log, the calendar feed."""

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from audit.context import note_patient_viewed
from audit.models import Action
from audit.services import audit_record
from core.csvexport import csv_response
from core.formatting import day_month_year
from core.http import AuthenticatedHttpRequest
from core.permissions import (
    can_edit_contact,
    can_record_biopsy_results,
    can_see_contact,
    can_view_worklist,
    can_work_worklist,
)
from patients.access import sites_for

from .forms import BiopsyFilterForm, BiopsyResultForm, BulkForm, ContactForm, WorklistFilterForm
from .models import ContactLog, ScheduledItem
from .selectors import (
    biopsy_counts,
    biopsy_follow_up_for_user,
    biopsy_follow_ups,
    item_contacts,
    item_for_user,
    item_label,
    items_chosen,
    worklist_colleagues,
    worklist_counts,
    worklist_items,
    worklist_patients,
    worklist_rows,
)
from .services import calendar as cal
from .services import contacts
from .services.biopsies import biopsy_result_record
from .services.contacts import contact_log

PATIENTS_PER_PAGE = 25
PAGE_SIZE = 50  # biopsy follow-ups per page


def _require_viewer(request: AuthenticatedHttpRequest) -> None:
    if not can_view_worklist(request.user):
        raise PermissionDenied("The worklist is for coordinators, clinic staff, radiologists and admins.")


@require_http_methods(["GET", "POST"])
def worklist(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The worklist (GET) and its actions on the ticked items (POST, then back to the same
    filters; a bad action shows the page again with its errors, status 400)."""
    _require_viewer(request)
    bulk = None
    if request.method == "POST":
        if not can_work_worklist(request.user):
            raise PermissionDenied("Radiologists can view the worklist but not act on it.")
        bulk = BulkForm(request.POST, colleagues=worklist_colleagues(request.user))
        response = _bulk_action(request, bulk)
        if response is not None:
            return response
    return _worklist_page(request, bulk)


def _filter_query(request: HttpRequest) -> str:
    """The filters the page was showing: the query string on GET, `filters` on POST."""
    if request.method == "POST":
        return request.POST.get("filters", "")
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _worklist_page(request: AuthenticatedHttpRequest, bulk: BulkForm | None) -> HttpResponse:
    today = timezone.localdate()
    sites = list(sites_for(request.user))
    can_work = can_work_worklist(request.user)
    colleagues = list(worklist_colleagues(request.user)) if can_work else []
    filter_query = _filter_query(request)
    form = WorklistFilterForm(QueryDict(filter_query) or None, sites=sites, colleagues=colleagues)
    items = worklist_items(user=request.user, as_of=today, filters=form.filters())
    page_number = (request.POST if request.method == "POST" else request.GET).get("page")
    page = Paginator(worklist_patients(items), PATIENTS_PER_PAGE).get_page(page_number)
    # The items carry the selector's annotations (last contact, last seen) and take the page's own.
    rows: list[Any] = worklist_rows(items, [row["patient_id"] for row in page])
    outcomes = dict(ContactLog.Outcome.choices)
    ticked = set(request.POST.getlist("item")) if bulk is not None else set()
    item_errors = getattr(bulk, "item_errors", {})
    groups: dict[int, dict] = {}
    for item in rows:
        item.ticked, item.error = str(item.uuid) in ticked, item_errors.get(str(item.uuid), "")
        item.current_state = "lost" if item.lost_to_follow_up else item.state(today)
        item.days_late = (today - item.due_date).days
        item.last_contact_label = outcomes.get(item.last_contact_outcome, "")
        group = groups.setdefault(item.patient_id, {"patient": item.patient, "items": [],
                                                    "last_contact_at": item.last_contact_at,
                                                    "last_contact_label": item.last_contact_label,
                                                    "last_seen_on": item.last_seen_on})
        group["items"].append(item)
    return render(request, "surveillance/worklist.html", {
        "form": form, "page": page, "groups": list(groups.values()), "items": rows, "today": today,
        "filter_query": filter_query, "counts": worklist_counts(user=request.user, as_of=today),
        "biopsy_counts": biopsy_counts(user=request.user, as_of=today),
        "can_work": can_work, "show_contact": can_see_contact(request.user),
        "bulk": bulk or BulkForm(colleagues=colleagues),
        "worklist_url": reverse("worklist") + (f"?{filter_query}" if filter_query else ""),
    }, status=400 if bulk is not None else 200)


def _bulk_action(request: AuthenticatedHttpRequest, bulk: BulkForm) -> HttpResponse | None:
    """Apply the action; None when it could not be applied (the page shows why)."""
    bulk.item_errors = {}
    if not bulk.is_valid():
        return None
    data = bulk.cleaned_data
    chosen = items_chosen(user=request.user, uuids=data["item"])
    if len(chosen) != len(set(data["item"])):
        bulk.add_error("item", "Some of the ticked items are not on your worklist any more; reload it.")
        return None
    action = data["action"]
    if action == "csv":
        return worklist_csv(request, chosen)
    try:
        if action == "assign":
            owner = bulk.colleagues.get(data["owner"]) if data["owner"] else None
            if data["owner"] and owner is None:
                bulk.add_error("owner", "Choose a colleague of your sites.")
                return None
            n = contacts.items_assign(items=chosen, by=request.user, owner=owner,
                                      due_date=data["owner_due_date"])
            who = (owner.get_full_name() or owner.username) if owner else "nobody"
            message = f"{n} item{pluralize(n)} assigned to {who}."
        elif action == "reschedule":
            entries = contacts.contacts_log(items=chosen, by=request.user, note=data["note"],
                                            outcome=ContactLog.Outcome.RESCHEDULED, new_date=data["new_date"])
            when = day_month_year(data["new_date"])
            message = f"{len(entries)} item{pluralize(len(entries))} rescheduled to {when}."
        else:
            entries = contacts.contacts_log(items=chosen, by=request.user, outcome=data["outcome"],
                                            note=data["note"])
            label = dict(ContactLog.Outcome.choices)[data["outcome"]].lower()
            message = f"Contact recorded for {len(entries)} item{pluralize(len(entries))}: {label}."
    except contacts.BulkError as exc:
        for field, error in exc.field_errors.items():
            field = {"due_date": "owner_due_date"}.get(field, field)
            bulk.add_error(field if field in bulk.fields else None, error)
        bulk.item_errors = exc.item_errors
        bulk.item_error_lines = [
            f"{i.patient.full_name} ({i.patient.mrn}), {item_label(i).lower()} due "
            f"{day_month_year(i.due_date)}: {exc.item_errors[str(i.uuid)]}"
            for i in chosen if str(i.uuid) in exc.item_errors]
        if exc.item_errors and not exc.field_errors:
            bulk.add_error(None, f"{len(exc.item_errors)} of the ticked items cannot take this action "
                                 "(marked below); nothing was changed.")
        return None
    messages.success(request, message)
    query = QueryDict(request.POST.get("filters", ""), mutable=True)
    if request.POST.get("page", "").isdigit() and request.POST["page"] != "1":
        query["page"] = request.POST["page"]
    return redirect(reverse("worklist") + (f"?{query.urlencode()}" if query else ""))


CSV_COLUMNS = ("patient", "mrn", "site", "exam", "due_date", "state", "owner", "act_by", "mobile_phone",
               "home_phone", "email", "preferred_channel", "language", "may_phone", "may_write",
               "last_contact", "last_contact_outcome", "item")


def worklist_csv(request: AuthenticatedHttpRequest, chosen: list[ScheduledItem]) -> HttpResponse:
    """The ticked items, with how to reach each patient, as CSV (audited as an export)."""
    today = timezone.localdate()
    items: list[Any] = worklist_rows(ScheduledItem.objects.all(), sorted({i.patient_id for i in chosen}))
    wanted = {i.id for i in chosen}
    show_contact = can_see_contact(request.user)
    rows = []
    for item in items:
        if item.id not in wanted:
            continue
        contact = getattr(item.patient, "contact", None) if show_contact else None
        rows.append({
            "patient": item.patient.full_name, "mrn": item.patient.mrn, "site": item.patient.site.name,
            "exam": item_label(item), "due_date": item.due_date,
            "state": "lost" if item.lost_to_follow_up else item.state(today),
            "owner": (item.owner.get_full_name() or item.owner.username) if item.owner else "",
            "act_by": item.owner_due_date or "",
            "mobile_phone": contact.mobile_phone if contact else "",
            "home_phone": contact.home_phone if contact else "",
            "email": contact.email if contact else "",
            "preferred_channel": contact.preferred_channel if contact else "",
            "language": contact.preferred_language if contact else "",
            "may_phone": ("yes" if contact.may_phone else "no") if contact else "",
            "may_write": ("yes" if contact.may_write else "no") if contact else "",
            "last_contact": item.last_contact_at.date() if item.last_contact_at else "",
            "last_contact_outcome": item.last_contact_outcome or "", "item": item.uuid,
        })
    audit_record(action=Action.EXPORT, changes={"export": "worklist.csv", "items": len(rows)})
    return csv_response(f"worklist-{today:%Y-%m-%d}.csv", CSV_COLUMNS, rows)


@require_http_methods(["GET", "POST"])
def worklist_item(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    _require_viewer(request)
    item = item_for_user(user=request.user, uuid=uuid)
    if item is None:
        raise Http404("No such scheduled item.")
    note_patient_viewed(item.patient)  # the audit middleware records the view
    can_work = can_work_worklist(request.user)
    form = ContactForm(request.POST or None)
    if request.method == "POST":
        if not can_work:
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
        "can_work": can_work, "today": today,
        "show_contact": can_see_contact(request.user), "can_edit_contact": can_edit_contact(request.user),
        "contact_next": request.path,
    }, status=400 if request.method == "POST" else 200)


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
    note_patient_viewed(follow_up.patient)
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
        # The configured address, as in the feed's own links and the e-mails (not the Host
        # header this request happened to use).
        new_url = settings.SITE_URL + reverse("worklist-calendar-feed", kwargs={"token": raw})
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
    events = cal.feed_events(user=user, as_of=timezone.localdate())
    body = cal.ical.calendar_text(events, name="Surveillance worklist", stamp=timezone.now())
    # Read by a calendar app on the token owner's behalf: recorded as theirs.
    audit_record(action=Action.LIST, actor=user, changes={"view": "worklist-calendar-feed",
                                                          "items": len(events)})
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="worklist.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response
