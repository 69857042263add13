"""Clinic pages that write a patient's records: registration, tumour profile, NAC,
surgery with pathology, radiotherapy, visits and outcome events.

Views stay thin: scoping through `patients.access`, validation by the model forms, writes
through `patients.services` (the API writes through the same functions). The pages that
read everything about a patient (list, timeline, records overview) are in `clinic.views`.
"""

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from core.http import AnyUser, AuthenticatedHttpRequest
from core.permissions import can_edit_contact, can_edit_records, can_log_visits, can_register_patients

from . import services
from .access import get_patient_for_user, patients_for, sites_for
from .forms import (
    ClinicalEventForm,
    ClinicVisitForm,
    ContactDetailsForm,
    NacCourseForm,
    PathologyForm,
    PatientForm,
    RadiotherapyForm,
    SurgeryForm,
    TumourProfileForm,
    VoidForm,
)
from .models import (
    ClinicalEvent,
    ClinicVisit,
    ContactDetails,
    NacCourse,
    Radiotherapy,
    Surgery,
    TumourProfile,
)
from .selectors import possible_duplicates


def _require(request: AuthenticatedHttpRequest, capability: Callable[[AnyUser], bool]) -> None:
    if not capability(request.user):
        raise PermissionDenied("Your role cannot change these records.")


def _saved(form: forms.BaseForm, save: Callable[[], object]) -> bool:
    """Run `save`; a rule or constraint it still finds broken becomes the form's error."""
    try:
        save()
    except ValidationError as exc:
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
        return False
    return True


def _duplicates(request: AuthenticatedHttpRequest, form: PatientForm) -> list[dict]:
    """Possible duplicates of the patient being registered, unless the user confirmed she
    is someone else; shown as soon as the names, date of birth, MRN and site are valid,
    whatever else the form still has to correct."""
    data = getattr(form, "cleaned_data", {})  # an empty POST leaves the form unbound
    needed = ("site", "given_name", "family_name", "date_of_birth", "mrn")
    if data.get("confirm_duplicate") or not all(data.get(name) for name in needed):
        return []
    found = list(possible_duplicates(site=data["site"], given_name=data["given_name"],
                                     family_name=data["family_name"],
                                     date_of_birth=data["date_of_birth"], mrn=data["mrn"]))
    visible = set(patients_for(request.user).filter(pk__in=[p.pk for p in found])
                  .values_list("pk", flat=True))
    return [{"mrn": p.mrn, "url": p.get_absolute_url() if p.pk in visible else ""} for p in found]


def patient_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Registration. The same name and date of birth under another MRN at the site is
    perhaps the same woman twice: the page says so, links to her record, and registers
    only once the user confirms this is someone else."""
    _require(request, can_register_patients)
    form = PatientForm(request.POST or None, sites=sites_for(request.user))
    duplicates: list[dict] = []
    if request.method == "POST":
        valid = form.is_valid()
        duplicates = _duplicates(request, form)
        if duplicates:
            form.ask_to_confirm_duplicate()
        elif valid and _saved(form, lambda: services.record_save(form.instance)):
            messages.success(request, "Patient registered. Record the tumour profile next.")
            return redirect("patient-tumour", uuid=form.instance.uuid)
    return render(request, "patients/form.html", {"form": form, "title": "Register a patient",
                                                  "duplicates": duplicates})


def patient_edit(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_edit_records)
    form = PatientForm(request.POST or None, instance=patient, sites=sites_for(request.user))
    if request.method == "POST" and form.is_valid() and _saved(
            form, lambda: services.record_save(form.instance)):
        messages.success(request, "Patient details saved.")
        return redirect(patient)
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": "Edit patient details"})


def tumour_edit(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_edit_records)
    instance = TumourProfile.objects.filter(patient=patient).first() or TumourProfile(patient=patient)
    form = TumourProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid() and _saved(
            form, lambda: services.record_save(form.instance)):
        messages.success(request, f"Tumour profile saved (subtype {form.instance.get_subtype_display()}).")
        return redirect(patient)
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": "Tumour profile at diagnosis"})


def contact_edit(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    """Phones, e-mail, address, language, preferences, consent and GP of one patient."""
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_edit_contact)
    instance = ContactDetails.objects.filter(patient=patient).first() or ContactDetails(patient=patient)
    form = ContactDetailsForm(request.POST or None, instance=instance)
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next") or "")
    if request.method == "POST" and form.is_valid():
        services.contact_details_save(patient=patient, data=form.cleaned_data)
        messages.success(request, "Contact details saved.")
        return redirect(next_url or patient.get_absolute_url())
    return render(request, "patients/contact_form.html",
                  {"form": form, "patient": patient, "title": "Contact details", "next": next_url})


def _safe_next(request: AuthenticatedHttpRequest, target: str) -> str:
    """`target` if it is a page of this site (the worklist sends people here and back), else ""."""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return ""


# Records that belong to one patient and have a simple form: (model, form, title, capability).
RECORDS = {
    "nac": (NacCourse, NacCourseForm, "NAC course", can_edit_records),
    "radiotherapy": (Radiotherapy, RadiotherapyForm, "Radiotherapy", can_edit_records),
    "visit": (ClinicVisit, ClinicVisitForm, "Clinic visit", can_log_visits),
    "event": (ClinicalEvent, ClinicalEventForm, "Outcome event", can_edit_records),
}


def record_form(request: AuthenticatedHttpRequest, uuid, kind: str, pk: int | None = None) -> HttpResponse:
    """Add (pk None) or edit one of the patient's NAC, radiotherapy, visit or event records."""
    model, form_class, title, capability = RECORDS[kind]
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, capability)
    if pk is None:
        instance = model(patient=patient)  # type: ignore[misc]  # each has its patient FK
        if isinstance(instance, ClinicVisit):
            instance.recorded_by = request.user
    else:
        instance = get_object_or_404(model, pk=pk, patient=patient)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid() and _saved(
            form, lambda: services.record_save(form.instance)):
        messages.success(request, f"{title} saved.")
        return redirect(patient)
    verb = "Add" if pk is None else "Edit"
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": f"{verb} {title.lower()}"})


def surgery_form(request: AuthenticatedHttpRequest, uuid, pk: int | None = None) -> HttpResponse:
    """Surgery and, when known, its pathology: both saved or neither."""
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_edit_records)
    surgery = (Surgery(patient=patient) if pk is None
               else get_object_or_404(Surgery.objects.select_related("pathology"), pk=pk, patient=patient))
    pathology = getattr(surgery, "pathology", None) if surgery.pk else None
    form = SurgeryForm(request.POST or None, instance=surgery)
    path_form = PathologyForm(request.POST or None, instance=pathology, prefix="path")
    if request.method == "POST":
        skip_path = pathology is None and path_form.is_blank()
        if form.is_valid() and (skip_path or path_form.is_valid()) and _saved(
                form, lambda: services.surgery_save(
                    surgery=form.instance, pathology=None if skip_path else path_form.instance)):
            messages.success(request, "Surgery saved." if skip_path else "Surgery and pathology saved.")
            return redirect(patient)
    return render(request, "patients/surgery_form.html", {
        "form": form, "path_form": path_form, "patient": patient,
        "title": "Record surgery and pathology" if pk is None else "Edit surgery and pathology",
    })


# Records voided from their own confirm page: kind in the URL → (model, what it is called).
VOIDABLE = {
    "surgery": (Surgery, "surgery (and its pathology)"),
    **{kind: (model, title.lower()) for kind, (model, _, title, _) in RECORDS.items()},
}


def record_void_view(request: AuthenticatedHttpRequest, uuid, kind: str, pk: int) -> HttpResponse:
    """Confirm page (GET) and void (POST, a reason required) of one NAC course, radiotherapy,
    surgery, visit or outcome event. The record leaves the plan, the rules, the cohort and
    the exports; the history keeps it struck through with its reason."""
    model, label = VOIDABLE[kind]
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    record = get_object_or_404(model, pk=pk, patient=patient)  # a voided record: 404
    if not services.can_void(request.user, record):
        raise PermissionDenied("Your role cannot void this record.")
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.record_void(record=record, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request, f"The {label} of {_record_date(record):%d %b %Y} was voided.")
        return redirect("patient-records", uuid=patient.uuid)
    return render(request, "patients/void_confirm.html", {
        "form": form, "patient": patient, "record": record, "label": label,
        "title": f"Void {label}", "cancel_url": reverse("patient-records", kwargs={"uuid": patient.uuid}),
    })


def _record_date(record):
    return getattr(record, "date", None) or record.start_date
