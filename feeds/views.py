"""The reconciliation queue and the message log. Login, site scoping (404 outside the user's
sites), roles; every message opened is audited (it holds a patient's details)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from audit.models import Action
from audit.services import audit_record
from core.permissions import can_reconcile_feeds, is_site_admin
from patients.access import get_patient_for_user

from .forms import CloseForm, LogFilterForm, RegisterForm
from .models import Message
from .selectors import get_message_for_user, messages_for, pid_of, queue_for
from .services import held_close, held_match, held_register, message_reprocess

PAGE_SIZE = 50


def _require(request: HttpRequest) -> None:
    if not can_reconcile_feeds(request.user):
        raise PermissionDenied("Your role cannot do this.")


def queue(request: HttpRequest) -> HttpResponse:
    _require(request)
    rows, total = queue_for(request.user)
    return render(request, "feeds/queue.html", {"rows": rows, "total": total,
                                                "close_form": CloseForm()})


def message_log(request: HttpRequest) -> HttpResponse:
    _require(request)
    form = LogFilterForm(request.GET or None)
    qs = messages_for(request.user).select_related("site").defer("raw")
    if form.is_valid():
        if status := form.cleaned_data["status"]:
            qs = qs.filter(status=status)
        if kind := form.cleaned_data["type"]:
            qs = qs.filter(message_type__startswith=kind)
        if q := form.cleaned_data["q"].strip():
            qs = qs.filter(control_id=q) | qs.filter(accession=q)
    page = Paginator(qs.order_by("-received_at", "-id"), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "feeds/log.html", {"page": page, "form": form, "filter_query": query.urlencode()})


def message_detail(request: HttpRequest, uuid) -> HttpResponse:
    message = get_message_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request)
    audit_record(action=Action.VIEW, obj=message, patient=message.patient, actor=request.user)
    return render(request, "feeds/message.html", {
        "message": message, "who": pid_of(message), "orders": message.orders.select_related("scheduled_item"),
        "can_reprocess": is_site_admin(request.user)
        and message.status in (Message.Status.ERROR, Message.Status.REJECTED),
        "close_form": CloseForm(),
    })


@require_POST
def message_match(request: HttpRequest, uuid) -> HttpResponse:
    message = get_message_for_user(request.user, uuid)
    _require(request)
    if not request.POST.get("patient"):
        messages.error(request, "Choose the patient the message is about.")
        return redirect("feed-queue")
    patient = get_patient_for_user(request.user, request.POST["patient"])
    try:
        done = held_match(message=message, patient=patient, by=request.user)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return redirect("feed-queue")
    outcome = done[0] if done else message
    if outcome.status == Message.Status.PROCESSED:
        messages.success(request, f"Matched to {patient.full_name}: {len(done)} message(s) processed.")
    else:
        messages.error(request, f"Matched, but the message was not filed: {outcome.detail}")
    return redirect("feed-queue")


def message_register(request: HttpRequest, uuid) -> HttpResponse:
    message = get_message_for_user(request.user, uuid)
    _require(request)
    if message.status != Message.Status.HELD or message.hold_reason != Message.HoldReason.UNMATCHED:
        messages.info(request, "This message is not waiting for a new patient.")
        return redirect("feed-queue")
    who = pid_of(message)
    if request.method == "GET":  # the form shows the message's PID: a read of health data
        audit_record(action=Action.VIEW, obj=message, patient=message.patient, actor=request.user)
    initial = {"family_name": who.family_name, "given_name": who.given_name,
               "date_of_birth": who.date_of_birth} if who else {}
    form = RegisterForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            patient = held_register(message=message, data=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            for name, errors in exc.message_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            messages.success(request, f"{patient.full_name} registered; the message was processed.")
            return redirect(patient)
    return render(request, "feeds/register.html", {"message": message, "form": form, "who": who})


@require_POST
def message_close(request: HttpRequest, uuid) -> HttpResponse:
    message = get_message_for_user(request.user, uuid)
    _require(request)
    form = CloseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what was done before closing the hold.")
    else:
        try:
            held_close(message=message, by=request.user, note=form.cleaned_data["note"])
            messages.success(request, "Hold closed.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("feed-queue")


@require_POST
def message_process_again(request: HttpRequest, uuid) -> HttpResponse:
    message = get_message_for_user(request.user, uuid)
    if not is_site_admin(request.user):
        raise PermissionDenied("Only admins process a refused message again.")
    message = message_reprocess(message=message, by=request.user)
    level = messages.success if message.ack_code == "AA" else messages.error
    level(request, f"Processed again: {message.get_status_display().lower()}. {message.detail}")
    return redirect("feed-message", uuid=message.uuid)
