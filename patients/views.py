"""Clinic pages that write a patient's records: registration, tumour profile, NAC,
surgery with pathology, radiotherapy, visits and outcome events.

Views stay thin: scoping through `patients.access`, validation by the model forms, writes
through `patients.services` (the API writes through the same functions). The pages that
read everything about a patient (list, timeline, records overview) are in `clinic.views`.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from core.http import AnyUser, AuthenticatedHttpRequest
from core.permissions import can_edit_records, can_log_visits, can_register_patients

from . import services
from .access import get_patient_for_user, sites_for
from .forms import (
    ClinicalEventForm,
    ClinicVisitForm,
    NacCourseForm,
    PathologyForm,
    PatientForm,
    RadiotherapyForm,
    SurgeryForm,
    TumourProfileForm,
)
from .models import ClinicalEvent, ClinicVisit, NacCourse, Radiotherapy, Surgery, TumourProfile


def _require(request: AuthenticatedHttpRequest, capability: Callable[[AnyUser], bool]) -> None:
    if not capability(request.user):
        raise PermissionDenied("Your role cannot change these records.")


def patient_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    _require(request, can_register_patients)
    form = PatientForm(request.POST or None, sites=sites_for(request.user))
    if request.method == "POST" and form.is_valid():
        patient = services.record_save(form.instance)
        messages.success(request, "Patient registered. Record the tumour profile next.")
        return redirect("patient-tumour", uuid=patient.uuid)
    return render(request, "patients/form.html", {"form": form, "title": "Register a patient"})


def patient_edit(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_edit_records)
    form = PatientForm(request.POST or None, instance=patient, sites=sites_for(request.user))
    if request.method == "POST" and form.is_valid():
        services.record_save(form.instance)
        messages.success(request, "Patient details saved.")
        return redirect(patient)
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": "Edit patient details"})


def tumour_edit(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_edit_records)
    instance = TumourProfile.objects.filter(patient=patient).first() or TumourProfile(patient=patient)
    form = TumourProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.record_save(form.instance)
        messages.success(request, f"Tumour profile saved (subtype {form.instance.get_subtype_display()}).")
        return redirect(patient)
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": "Tumour profile at diagnosis"})


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
        instance = model(patient=patient)
        if isinstance(instance, ClinicVisit):
            instance.recorded_by = request.user
    else:
        instance = get_object_or_404(model, pk=pk, patient=patient)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.record_save(form.instance)
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
        if form.is_valid() and (skip_path or path_form.is_valid()):
            services.surgery_save(surgery=form.instance,
                                  pathology=None if skip_path else path_form.instance)
            messages.success(request, "Surgery saved." if skip_path else "Surgery and pathology saved.")
            return redirect(patient)
    return render(request, "patients/surgery_form.html", {
        "form": form, "path_form": path_form, "patient": patient,
        "title": "Record surgery and pathology" if pk is None else "Edit surgery and pathology",
    })
