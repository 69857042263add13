"""Clinic pages for patients: list, create/edit, timeline, treatment and follow-up records.

Views stay thin: reads through `patients.selectors`, scoping through `patients.access`,
writes through model forms inside one transaction each.
"""

from datetime import date
from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html_join

from alerts.models import Rule
from imaging.charts import chart_alerts, timeline_figure
from imaging.display import calcification_summary, enhancement_summary, label
from imaging.trend import describe, trends
from imaging.vocabulary import Modality, StudyStatus
from tracker.formatting import day_month_year, month_year

from .access import get_patient_for_user, sites_for
from .forms import (
    ClinicalEventForm,
    ClinicVisitForm,
    NacCourseForm,
    PathologyForm,
    PatientFilterForm,
    PatientForm,
    RadiotherapyForm,
    SurgeryForm,
    TumourProfileForm,
)
from .models import ClinicalEvent, ClinicVisit, NacCourse, Radiotherapy, Surgery, TumourProfile
from .roles import ADMIN, CLINIC_STAFF, COORDINATOR, RADIOLOGIST, has_role
from .selectors import StudyRow
from .selectors import patient_list as select_patients
from .selectors import patient_timeline as select_timeline
from .vocabulary import FollowUpStatus, Subtype

PAGE_SIZE = 25
SUBTYPE_LABELS = dict(Subtype.choices)
FOLLOW_UP_LABELS = dict(FollowUpStatus.choices)
# Clinic staff (and admins) register patients and record treatment (DESIGN, issue 7);
# radiologists enter findings, coordinators log visits and contacts.
RECORD_EDITORS = (CLINIC_STAFF, ADMIN)
VISIT_LOGGERS = (CLINIC_STAFF, RADIOLOGIST, COORDINATOR, ADMIN)
STUDY_DRAFTERS = (CLINIC_STAFF, RADIOLOGIST, ADMIN)  # as imaging.views.STUDY_EDITORS


def _require(request: HttpRequest, *roles: str) -> None:
    if not has_role(request.user, *roles):
        raise PermissionDenied("Your role cannot change these records.")


def patient_list(request: HttpRequest) -> HttpResponse:
    sites = sites_for(request.user)
    # Always bound: an empty query string is a valid "no filters".
    form = PatientFilterForm(request.GET, sites=sites)
    kwargs = form.selector_kwargs()
    patients = select_patients(user=request.user, **kwargs)
    # Plain values, not model instances: the rows are only shown.
    page = ListPaginator(patients.values(*LIST_COLUMNS), PAGE_SIZE, counted=patients).get_page(
        request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    timeline_url = reverse("patient-timeline", kwargs={"uuid": _UUID_SLOT})
    return render(request, "patients/list.html", {
        "form": form, "page": page, "sort": kwargs["sort"],
        "rows": [_patient_line(p, timeline_url) for p in page.object_list],
        "query": query.urlencode(), "sort_query": sort_query.urlencode(),
        "show_site": len(sites) > 1, "can_create": has_role(request.user, *RECORD_EDITORS),
    })


class ListPaginator(Paginator):
    """Pages of `object_list`, counted on `counted`: the same rows without the columns'
    joins (counting through the tumour's LEFT JOIN took twice as long at 100,000 patients)."""

    def __init__(self, object_list, per_page, *, counted):
        super().__init__(object_list, per_page)
        self.counted = counted

    @cached_property
    def count(self) -> int:
        return self.counted.count()


# The patient list's columns (`patients.selectors.patient_list` annotates the last three).
LIST_COLUMNS = ("uuid", "family_name", "given_name", "mrn", "site__name", "tumour__diagnosis_date",
                "tumour__subtype", "follow_up_status", "pcr_value", "last_study_date", "open_alerts")


def _patient_line(row: dict, timeline_url: str) -> dict:
    """One row of the patient list (`LIST_COLUMNS`), its values formatted here (as
    `_study_line`: the template language's per-cell lookups were most of the page)."""
    diagnosed, subtype = row["tumour__diagnosis_date"], row["tumour__subtype"]
    return {
        "name": f"{row['family_name']}, {row['given_name']}",
        "url": timeline_url.replace(str(_UUID_SLOT), str(row["uuid"])),
        "mrn": row["mrn"],
        "site": row["site__name"],
        # No tumour profile recorded: both are None (the tumour is joined LEFT OUTER).
        "diagnosis": (f"{month_year(diagnosed)} · {SUBTYPE_LABELS.get(subtype, subtype)}"
                      if subtype is not None else ""),
        "pcr": row["pcr_value"],
        "follow_up": FOLLOW_UP_LABELS.get(row["follow_up_status"], row["follow_up_status"]),
        "last_study": day_month_year(row["last_study_date"]) or "–",
        "open_alerts": row["open_alerts"],
    }


def patient_create(request: HttpRequest) -> HttpResponse:
    _require(request, *RECORD_EDITORS)
    form = PatientForm(request.POST or None, sites=sites_for(request.user))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            patient = form.save()
        messages.success(request, "Patient registered. Record the tumour profile next.")
        return redirect("patient-tumour", uuid=patient.uuid)
    return render(request, "patients/form.html", {"form": form, "title": "Register a patient"})


def patient_edit(request: HttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, *RECORD_EDITORS)
    form = PatientForm(request.POST or None, instance=patient, sites=sites_for(request.user))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, "Patient details saved.")
        return redirect(patient)
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": "Edit patient details"})


_UUID_SLOT = UUID(int=0)


def _study_line(row: StudyRow, study_url: str) -> dict:
    """One row of the timeline's studies table, its values formatted here.

    The table has a row per study of ten years. The template language's per-row lookups,
    filters and {% url %} tags were most of the page's rendering; and a dict, not an
    object: the template language tries item access before attributes on every lookup,
    and the failed item access (an exception) doubled the table's cost.
    """
    s = row.study
    findings = ([calcification_summary(c) for c in row.calcifications]
                + [enhancement_summary(e) for e in row.enhancements])
    if s.modality == Modality.MR and s.no_enhancement:
        findings.append("No enhancement")
    breast = f" ({s.laterality})" if s.laterality != "bilateral" else ""
    return {
        "study": s,
        "date": day_month_year(s.study_date),
        "label": label("modality", s.modality) + breast,
        "phase": label("phase", s.phase),
        "birads": s.birads or "–",
        "findings": findings,
        "findings_html": format_html_join("", "<div>{}</div>", ((f,) for f in findings)),
        "no_findings": not row.calcifications and not row.enhancements and not s.no_enhancement,
        "signed": s.status == StudyStatus.FINAL,
        "url": study_url.replace(str(_UUID_SLOT), str(s.uuid)),
    }


def patient_timeline(request: HttpRequest, uuid) -> HttpResponse:
    timeline = select_timeline(user=request.user, uuid=uuid)
    today = date.today()
    marks = chart_alerts(a for a in timeline.open_alerts
                                 if a.rule not in (Rule.SURVEILLANCE_OVERDUE, Rule.LOST_TO_FOLLOW_UP))
    breast_trends = trends(timeline.history)
    figure = timeline_figure(timeline.history, alerts=marks, today=today, breast_trends=breast_trends)
    # One reverse() for the whole table, a UUID put in its slot per row (reverse: ~60 µs).
    study_url = reverse("study-detail", kwargs={"uuid": _UUID_SLOT})
    rows = [_study_line(row, study_url) for row in timeline.studies]
    patient = timeline.patient
    return render(request, "patients/timeline.html", {
        "t": timeline, "patient": patient, "figure": figure,
        "trend_sentences": [describe(t) for t in breast_trends],
        "study_rows": rows, "age": patient.age_on(today),
        "can_edit": has_role(request.user, *RECORD_EDITORS),
        "can_add_study": has_role(request.user, *STUDY_DRAFTERS),
        "can_log_visit": has_role(request.user, *VISIT_LOGGERS),
        "plan": timeline.surveillance_plan(as_of=today),
    })


def tumour_edit(request: HttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, *RECORD_EDITORS)
    instance = TumourProfile.objects.filter(patient=patient).first() or TumourProfile(patient=patient)
    form = TumourProfileForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, f"Tumour profile saved (subtype {form.instance.get_subtype_display()}).")
        return redirect(patient)
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": "Tumour profile at diagnosis"})


# Records that belong to one patient and have a simple form: (model, form, title, roles).
RECORDS = {
    "nac": (NacCourse, NacCourseForm, "NAC course", RECORD_EDITORS),
    "radiotherapy": (Radiotherapy, RadiotherapyForm, "Radiotherapy", RECORD_EDITORS),
    "visit": (ClinicVisit, ClinicVisitForm, "Clinic visit", VISIT_LOGGERS),
    "event": (ClinicalEvent, ClinicalEventForm, "Outcome event", RECORD_EDITORS),
}


def record_form(request: HttpRequest, uuid, kind: str, pk: int | None = None) -> HttpResponse:
    """Add (pk None) or edit one of the patient's NAC, radiotherapy, visit or event records."""
    model, form_class, title, roles = RECORDS[kind]
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, *roles)
    if pk is None:
        instance = model(patient=patient)
        if kind == "visit":
            instance.recorded_by = request.user
    else:
        instance = get_object_or_404(model, pk=pk, patient=patient)
    form = form_class(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
        messages.success(request, f"{title} saved.")
        return redirect(patient)
    verb = "Add" if pk is None else "Edit"
    return render(request, "patients/form.html",
                  {"form": form, "patient": patient, "title": f"{verb} {title.lower()}"})


def surgery_form(request: HttpRequest, uuid, pk: int | None = None) -> HttpResponse:
    """Surgery and, when known, its pathology: both saved or neither."""
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, *RECORD_EDITORS)
    surgery = (Surgery(patient=patient) if pk is None
               else get_object_or_404(Surgery.objects.select_related("pathology"), pk=pk, patient=patient))
    pathology = getattr(surgery, "pathology", None) if surgery.pk else None
    form = SurgeryForm(request.POST or None, instance=surgery)
    path_form = PathologyForm(request.POST or None, instance=pathology, prefix="path")
    if request.method == "POST":
        skip_path = pathology is None and path_form.is_blank()
        if form.is_valid() and (skip_path or path_form.is_valid()):
            with transaction.atomic():
                surgery = form.save()
                if not skip_path:
                    path_form.instance.surgery = surgery
                    path_form.save()
            messages.success(request, "Surgery saved." if skip_path else "Surgery and pathology saved.")
            return redirect(patient)
    return render(request, "patients/surgery_form.html", {
        "form": form, "path_form": path_form, "patient": patient,
        "title": "Record surgery and pathology" if pk is None else "Edit surgery and pathology",
    })


def patient_records(request: HttpRequest, uuid) -> HttpResponse:
    """Treatment and follow-up records of one patient, with links to edit each."""
    timeline = select_timeline(user=request.user, uuid=uuid)
    return render(request, "patients/records.html", {
        "t": timeline, "patient": timeline.patient,
        "can_edit": has_role(request.user, *RECORD_EDITORS),
        "can_log_visit": has_role(request.user, *VISIT_LOGGERS),
        "timeline_url": reverse("patient-timeline", kwargs={"uuid": timeline.patient.uuid}),
    })
