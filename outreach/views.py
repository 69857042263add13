"""Letters pages: a patient's letters, a batch printed from the worklist, the PDFs, and the
sites' letter templates (admins, with a preview)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from audit.context import note_patient_viewed
from audit.models import Action
from audit.services import audit_record
from core.formatting import day_month_year
from core.pdf import pdf_from_html
from core.permissions import can_write_letters, is_site_admin
from patients.access import get_patient_for_user, patients_for, sites_for
from surveillance.selectors import item_label, items_chosen

from . import letters as L
from . import selectors, services
from .forms import LettersBatchForm, LetterTemplateForm, PatientLetterForm, PreviewForm
from .models import Letter, LetterBatch, LetterKind, LetterTemplate


def _require_writer(request: HttpRequest) -> None:
    if not can_write_letters(request.user):
        raise PermissionDenied("Letters are written by coordinators, clinic staff and admins.")


def _require_admin(request: HttpRequest) -> None:
    if not is_site_admin(request.user):
        raise PermissionDenied("Only admins edit the letter templates.")


def _pdf(documents: list[str], filename: str) -> HttpResponse:
    response = HttpResponse(pdf_from_html(documents), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@require_POST
def letters_batch(request: HttpRequest) -> HttpResponse:
    """The worklist's "Print letters": one letter per ticked patient, then the batch page."""
    _require_writer(request)
    form = LettersBatchForm(request.POST)
    back = reverse("worklist") + (f"?{request.POST['filters']}" if request.POST.get("filters") else "")
    if not form.is_valid():
        messages.error(request, "Tick the items to write letters about.")
        return redirect(back)
    chosen = items_chosen(user=request.user, uuids=form.cleaned_data["item"])
    if len(chosen) != len(set(form.cleaned_data["item"])):
        messages.error(request, "Some of the ticked items are not on your worklist any more; reload it.")
        return redirect(back)
    batch = services.letters_for_worklist(
        items=chosen, by=request.user, gp_letters=form.cleaned_data["gp_letters"]
    )
    return redirect("letter-batch", uuid=batch.uuid)


def _batch_for(request: HttpRequest, uuid) -> LetterBatch:
    """The batch if this user printed it (letters of several patients: not shared)."""
    batch = LetterBatch.objects.filter(uuid=uuid).first()
    if batch is None or (batch.created_by_id != request.user.id and not request.user.is_superuser):
        raise Http404("No such letter batch.")
    return batch


@require_GET
def letter_batch(request: HttpRequest, uuid) -> HttpResponse:
    _require_writer(request)
    batch = _batch_for(request, uuid)
    letters = selectors.batch_letters(batch)
    for letter in letters:
        note_patient_viewed(letter.patient)  # the page names each patient of the batch
    patients = {
        str(p.uuid): p
        for p in patients_for(request.user)
        .filter(uuid__in=[s["patient"] for s in batch.skipped])
        .select_related("site")
    }
    skipped = [{**s, "patient": patients.get(s["patient"])} for s in batch.skipped]
    return render(request, "outreach/batch.html", {"batch": batch, "letters": letters, "skipped": skipped})


@require_GET
def letter_batch_pdf(request: HttpRequest, uuid) -> HttpResponse:
    _require_writer(request)
    batch = _batch_for(request, uuid)
    letters = selectors.batch_letters(batch)
    if not letters:
        raise Http404("This batch has no letter to print.")
    for letter in letters:
        note_patient_viewed(letter.patient)
    audit_record(action=Action.EXPORT, changes={"letter_batch": str(batch.uuid), "letters": len(letters)})
    return _pdf([x.html for x in letters], f"letters-{timezone.localtime(batch.created_at):%Y-%m-%d}.pdf")


@require_http_methods(["GET", "POST"])
def patient_letters(request: HttpRequest, uuid) -> HttpResponse:
    """A patient's letters: those sent (each printable again as sent) and a new one."""
    patient = get_patient_for_user(request.user, uuid)  # 404 for other sites, before the 403
    _require_writer(request)
    items, studies = selectors.letter_options(patient)
    today = timezone.localdate()
    for item in items:
        state = "lost" if item.lost_to_follow_up else item.state(today)
        item.letter_label = f"{item_label(item)} due {day_month_year(item.due_date)} ({state})"
    for study in studies:
        study.letter_label = (
            f"{study.get_modality_display()} of {day_month_year(study.study_date)}, BI-RADS {study.birads}"
        )
    form = PatientLetterForm(request.POST or None, items=items, studies=studies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            letter = services.letter_create(
                kind=data["kind"],
                patient=patient,
                by=request.user,
                items=[form.item_rows[i] for i in data["items"]],
                study=form.study_rows.get(data["study"]),
            )
        except services.LetterRefused as exc:
            form.add_error(None, exc.messages[0])
        else:
            messages.success(
                request,
                f"{letter.get_kind_display()} written (reference {letter.reference}) "
                "and recorded in the contact log.",
            )
            return redirect(
                reverse("patient-letters", kwargs={"uuid": patient.uuid}) + f"#letter-{letter.uuid}"
            )
    return render(
        request,
        "outreach/patient_letters.html",
        {
            "patient": patient,
            "form": form,
            "letters": selectors.patient_letters(patient),
            "contacts": selectors.patient_letter_contacts(patient),
            "contact": getattr(patient, "contact", None),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_GET
def letter_pdf(request: HttpRequest, uuid) -> HttpResponse:
    """A letter printed again exactly as it was sent (its stored document)."""
    letter = Letter.objects.select_related("patient").filter(uuid=uuid).first()
    if letter is None:
        raise Http404("No such letter.")
    get_patient_for_user(request.user, letter.patient.uuid)  # 404 for other sites
    _require_writer(request)
    audit_record(
        action=Action.EXPORT,
        obj=letter,
        patient=letter.patient,
        changes={"letter": letter.kind, "reprint": letter.reference},
    )
    return _pdf([letter.html], f"letter-{letter.reference}.pdf")


@require_GET
def letter_templates(request: HttpRequest) -> HttpResponse:
    _require_admin(request)
    sites = list(sites_for(request.user).select_related("letter_template").order_by("name"))
    return render(request, "outreach/templates_list.html", {"sites": sites})


def _site_for_admin(request: HttpRequest, pk: int):
    site = sites_for(request.user).filter(pk=pk).first()
    if site is None:
        raise Http404("No such site.")
    return site


def _preview_choice(data: QueryDict) -> tuple[str, str]:
    form = PreviewForm(data if "preview_kind" in data else None)
    if form.is_bound and form.is_valid():
        return form.cleaned_data["preview_kind"], form.cleaned_data["preview_language"]
    return LetterKind.OVERDUE_RECALL, "en-gb"


@require_http_methods(["GET", "POST"])
def letter_template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """A site's letterhead and signature, with a preview of any letter in any language:
    "Preview" shows the changes without saving them, "Save" keeps them (a new version)."""
    site = _site_for_admin(request, pk)  # 404 for other sites, before the 403
    _require_admin(request)
    template = LetterTemplate.objects.filter(site=site).first() or LetterTemplate(
        site=site, letterhead_name=site.name, signatory_name=f"{site.name} surveillance team"
    )
    form = LetterTemplateForm(request.POST or None, instance=template)
    kind, language = _preview_choice(request.POST if request.method == "POST" else request.GET)
    status = 200
    if request.method == "POST":
        if form.is_valid() and request.POST.get("action") == "save":
            services.letter_template_save(template=form.instance, by=request.user)
            messages.success(
                request, f"Letter template of {site.name} saved (version {form.instance.version})."
            )
            return redirect(
                reverse("letter-template-edit", kwargs={"pk": site.pk})
                + f"?preview_kind={kind}&preview_language={language}"
            )
        status = 200 if form.is_valid() else 400
    shown = form.instance if (request.method == "GET" or form.is_valid()) else template
    head = services.letterhead_for(site, shown if shown.letterhead_name else None)
    document = L.sample_letter(kind, language, head, timezone.localdate())
    return render(
        request,
        "outreach/template_edit.html",
        {
            "site": site,
            "form": form,
            "template": template,
            "saved": template.pk is not None,
            "preview_form": PreviewForm(initial={"preview_kind": kind, "preview_language": language}),
            "preview": _letter_body(document),
            "preview_css": _letter_css(),
            "preview_unsaved": request.method == "POST",
            "kind": kind,
            "language": language,
        },
        status=status,
    )


@require_GET
def letter_template_preview(request: HttpRequest, pk: int) -> HttpResponse:
    """The saved template's sample letter as a PDF, as it will print."""
    site = _site_for_admin(request, pk)
    _require_admin(request)
    kind, language = _preview_choice(request.GET)
    head = services.letterhead_for(site, LetterTemplate.objects.filter(site=site).first())
    return _pdf(
        [L.sample_letter(kind, language, head, timezone.localdate())], f"preview-{kind}-{language}.pdf"
    )


def _letter_body(document: str) -> str:
    """The letter itself (its <article>), to show inside a page."""
    return document[document.index("<article") : document.rindex("</article>") + len("</article>")]


def _letter_css() -> str:
    return render_to_string("outreach/letters/letter.css")
