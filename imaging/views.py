"""Study entry, signing and amendment pages. Studies are addressed by their UUID.

Every write goes through `imaging.services` (all or nothing); the forms only parse input
and show the service's errors in place.
"""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.http import AnyUser, AuthenticatedHttpRequest
from core.permissions import can_draft_studies, can_sign_studies
from patients.access import get_patient_for_user
from patients.forms import VoidForm
from patients.models import Patient

from . import vocabulary as v
from .display import amendment_lines
from .forms import (
    GROUP_LIST_ID,
    LESION_LIST_ID,
    AmendForm,
    CalcificationFormSet,
    EnhancementFormSet,
    StudyForm,
    apply_service_errors,
)
from .models import ImagingStudy, StudyProposal
from .proposals import Prefill, prefill, review_summary
from .selectors import finding_labels, get_study_for_user
from .services import (
    CALC_FIELDS,
    ENH_FIELDS,
    STUDY_FIELDS,
    StudyValidationError,
    can_void_study,
    proposal_reviewed,
    study_amend,
    study_as_dict,
    study_finalize,
    study_save_draft,
    study_void,
)


def _require(request: AuthenticatedHttpRequest, capability: Callable[[AnyUser], bool]) -> None:
    if not capability(request.user):
        raise PermissionDenied("Your role cannot do this.")


def _initial_rows(study: ImagingStudy | None, related: str, fields) -> list[dict]:
    if study is None or study.pk is None:
        return []
    return [{f: getattr(x, f) for f in fields} for x in getattr(study, related).all()]


def _open_prefill(study: ImagingStudy, amend: bool) -> Prefill | None:
    """What the draft's unreviewed proposal (from its report text) prefills, if anything."""
    if amend or study.pk is None:
        return None
    stored = StudyProposal.objects.filter(study=study, reviewed_at=None).first()
    if stored is None:
        return None
    has_findings = study.calcifications.exists() or study.enhancements.exists()
    values = {f: getattr(study, f) for f in STUDY_FIELDS}
    filled = prefill(stored.proposal, modality=study.modality, study_values=values,
                     has_findings=has_findings)
    return filled or None


class StudyPage:
    """The forms of one study entry page (new draft, edit draft, or amend a final study).

    A draft filed by the hospital feed may carry findings proposed from its report text:
    until a person saves the form they are shown prefilled and marked as proposed
    (`imaging.proposals`); saving makes them the study's values, signing stays a
    radiologist's act.
    """

    def __init__(self, request: AuthenticatedHttpRequest, patient: Patient, study: ImagingStudy, *,
                 amend: bool):
        data = request.POST if request.method == "POST" else None
        self.study = study
        self.prefill = _open_prefill(study, amend)
        proposed = self.prefill or Prefill()
        self.form = StudyForm(data, instance=study, initial=proposed.study)
        calc_rows = (_initial_rows(study, "calcifications", CALC_FIELDS)
                     or [r.values for r in proposed.calcifications])
        enh_rows = (_initial_rows(study, "enhancements", ENH_FIELDS)
                    or [r.values for r in proposed.enhancements])
        self.calcs = (CalcificationFormSet(data, prefix="calc", initial=calc_rows)
                      if study.modality == v.Modality.MG else None)
        self.enhs = (EnhancementFormSet(data, prefix="enh", initial=enh_rows)
                     if study.modality == v.Modality.MR else None)
        self.amend_form = AmendForm(data) if amend else None
        if self.prefill:
            mark_proposed(self.form, proposed.study, proposed.study_evidence)
            for formset, rows in ((self.calcs, proposed.calcifications), (self.enhs, proposed.enhancements)):
                for form, row in zip(formset.forms if formset is not None else [], rows, strict=False):
                    form.proposed_row = True
                    mark_proposed(form, row.values, row.evidence)

    def is_valid(self) -> bool:
        parts = [self.form, self.calcs, self.enhs, self.amend_form]
        return all([p.is_valid() for p in parts if p is not None])

    def calc_rows(self):
        return self.calcs.rows() if self.calcs is not None else []

    def enh_rows(self):
        return self.enhs.rows() if self.enhs is not None else []

    def service_kwargs(self) -> dict:
        return {
            "data": self.form.service_data(),
            "calcifications": [r.service_row() for r in self.calc_rows()],
            "enhancements": [r.service_row() for r in self.enh_rows()],
        }

    def show_errors(self, exc: StudyValidationError) -> None:
        apply_service_errors(exc, self.form, self.calc_rows(), self.enh_rows())


def mark_proposed(form, values: dict, evidence: dict[str, str]) -> None:
    """Flag the form's fields that hold a proposed value (the template marks them)."""
    for name in values:
        if name in form.fields:
            form.fields[name].proposed = True
            form.fields[name].proposed_evidence = evidence.get(name, "")
            form.fields[name].widget.attrs["data-proposed"] = "1"


def _render(request: AuthenticatedHttpRequest, page: StudyPage, patient: Patient, *, title: str,
            mode: str) -> HttpResponse:
    groups, lesions = finding_labels(patient)
    return render(request, "imaging/study_form.html", {
        "page": page, "form": page.form, "calcs": page.calcs, "enhs": page.enhs,
        "amend_form": page.amend_form, "patient": patient, "study": page.study, "title": title,
        "mode": mode, "group_labels": groups, "lesion_labels": lesions,
        "group_list_id": GROUP_LIST_ID, "lesion_list_id": LESION_LIST_ID,
    })


def _save_draft(request: AuthenticatedHttpRequest, page: StudyPage, patient: Patient,
                study: ImagingStudy | None) -> ImagingStudy | None:
    """Save through the service; None (with errors shown on the page) when it refuses."""
    if not page.is_valid():
        return None
    try:
        saved = study_save_draft(patient=patient, by=request.user, study=study,
                                 signing="sign" in request.POST and can_sign_studies(request.user),
                                 **page.service_kwargs())
    except StudyValidationError as exc:
        page.show_errors(exc)
        return None
    if page.prefill:
        proposal_reviewed(study=saved, by=request.user,
                          summary=review_summary(page.prefill, study_as_dict(saved)))
    if "sign" in request.POST and can_sign_studies(request.user):
        study_finalize(study=saved, by=request.user)
        messages.success(request, "Study saved and signed.")
    else:
        messages.success(request, "Study saved as a draft.")
    return saved


def study_create(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_draft_studies)
    modality = request.GET.get("modality", v.Modality.MG)
    if modality not in v.Modality.values:
        modality = v.Modality.MG
    study = ImagingStudy(patient=patient, modality=modality)
    page = StudyPage(request, patient, study, amend=False)
    if request.method == "POST":
        saved = _save_draft(request, page, patient, None)
        if saved is not None:
            return redirect(patient)
    title = f"New {v.Modality(modality).label.lower()} study"
    return _render(request, page, patient, title=title, mode="create")


def study_edit(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    study = get_study_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require(request, can_draft_studies)
    if study.is_final:
        messages.info(request, "This study is signed: a radiologist can amend it.")
        return redirect("study-detail", uuid=study.uuid)
    page = StudyPage(request, study.patient, study, amend=False)
    if request.method == "POST":
        saved = _save_draft(request, page, study.patient, study)
        if saved is not None:
            return redirect(study.patient)
    return _render(request, page, study.patient, title="Edit draft study", mode="edit")


def study_detail(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    study = get_study_for_user(request.user, uuid)
    amendments = [{"amendment": a, "lines": amendment_lines(a.changes)} for a in study.amendments.all()]
    return render(request, "imaging/study_detail.html", {
        "study": study, "patient": study.patient, "amendments": amendments,
        "viewer_url": study.patient.site.viewer_url(study.accession),
    })


@require_POST
def study_sign(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    study = get_study_for_user(request.user, uuid)  # 404 before 403: outsiders learn nothing
    _require(request, can_sign_studies)
    if study.is_final:
        messages.info(request, "This study was already signed.")
    else:
        try:
            study_finalize(study=study, by=request.user)
        except ValidationError as exc:
            messages.error(request, "Cannot sign: " + "; ".join(exc.messages))
            return redirect("study-edit", uuid=study.uuid)
        messages.success(request, "Study signed. Alerts are evaluated for this patient.")
    return redirect(reverse("study-detail", kwargs={"uuid": study.uuid}))


def study_amend_view(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    study = get_study_for_user(request.user, uuid)
    _require(request, can_sign_studies)
    if not study.is_final:
        return redirect("study-edit", uuid=study.uuid)
    page = StudyPage(request, study.patient, study, amend=True)
    amend_form = page.amend_form
    assert amend_form is not None
    if request.method == "POST" and page.is_valid():
        try:
            amendment = study_amend(study=study, by=request.user,
                                    reason=amend_form.cleaned_data["reason"], **page.service_kwargs())
        except StudyValidationError as exc:
            page.show_errors(exc)
        except ValidationError as exc:  # the reason
            for message in exc.messages:
                amend_form.add_error("reason", message)
        else:
            if amendment is None:
                messages.info(request, "Nothing was changed, so no amendment was recorded.")
            else:
                messages.success(request, "Amendment recorded.")
            return redirect("study-detail", uuid=study.uuid)
    return _render(request, page, study.patient, title="Amend signed study", mode="amend")


def study_void_view(request: AuthenticatedHttpRequest, uuid) -> HttpResponse:
    """Confirm page (GET) and void (POST, a reason required) of a draft or a signed study.
    A signed study is never deleted: voided, it stays in the history struck through with
    its reason, and its alerts are superseded."""
    study = get_study_for_user(request.user, uuid)  # 404 before 403; a voided study: 404
    if not can_void_study(request.user, study):
        raise PermissionDenied("Only a radiologist can void a signed study."
                               if study.is_final else "Your role cannot void this study.")
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        study_void(study=study, by=request.user, reason=form.cleaned_data["reason"])
        messages.success(request,
                         f"The {study.get_modality_display()} of {study.study_date:%d %b %Y} was voided.")
        return redirect(study.patient)
    label = f"{'signed' if study.is_final else 'draft'} study"
    return render(request, "patients/void_confirm.html", {
        "form": form, "patient": study.patient, "record": study, "label": label,
        "title": f"Void {label}", "cancel_url": reverse("study-detail", kwargs={"uuid": study.uuid}),
    })
