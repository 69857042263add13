"""The clinic's patient pages: the patient list, the timeline and the records overview.

These pages bring together what every domain app knows of a patient (records, studies,
alerts, the surveillance plan), so they live above all of them. Views stay thin: reads
through `clinic.selectors`, scoping through `patients.access`.
"""

from datetime import date
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.http import urlencode

from audit.context import note_search
from audit.models import Action
from audit.services import audit_record
from core.formatting import day_month_year, month_year
from core.pagination import BoundedCountPaginator, count_limit_for
from core.pdf import pdf_from_html
from core.permissions import can_edit_contact, can_see_contact, can_write_letters
from imaging.chart_svg import figure_svg
from imaging.charts import chart_alerts, timeline_figure
from imaging.display import calcification_summary, enhancement_summary, label
from imaging.records import StudyRow
from imaging.trend import describe, open_alert_breasts, trends
from imaging.vocabulary import Modality, StudyStatus
from patients.access import sites_for
from patients.models import Site
from patients.vocabulary import FollowUpStatus, Subtype

from .forms import PatientFilterForm
from .selectors import patient_list as select_patients
from .selectors import patient_timeline as select_timeline

PAGE_SIZE = 25
SUBTYPE_LABELS = dict(Subtype.choices)
FOLLOW_UP_LABELS = dict(FollowUpStatus.choices)
_UUID_SLOT = UUID(int=0)


# The list's search words live in the session, never in a URL (addresses reach browser
# history, proxies and access logs): the search form is POSTed, stored here, and the page
# redirects to the filters (codes only) with SEARCH_FLAG, which applies the stored words.
SEARCH_SESSION_KEY = "patient_list_search"
SEARCH_FLAG = "search"


def patient_list(request: HttpRequest) -> HttpResponse:
    sites = sites_for(request.user)
    if request.method == "POST":
        form = PatientFilterForm(request.POST, sites=sites)
        if not form.search_refused:
            return _search_redirect(request, form)
    else:
        data = request.GET.copy()
        data.pop("q", None)  # an old bookmark's words are not searched (nor kept in the form)
        if request.GET.get(SEARCH_FLAG):
            data["q"] = request.session.get(SEARCH_SESSION_KEY, "")
        form = PatientFilterForm(data, sites=sites)  # always bound: no filters is valid
    kwargs = form.selector_kwargs()
    if kwargs["q"]:
        note_search(kwargs["q"])
    patients = select_patients(user=request.user, **kwargs)
    if form.search_refused:
        patients = patients.none()
    # Plain values, not model instances: the rows are only shown.
    # Counted up to a bound (core.pagination), without the joins only the columns need.
    number = request.GET.get("page") or 1
    page = BoundedCountPaginator(patients.values(*LIST_COLUMNS), PAGE_SIZE, counted=patients,
                                 count_limit=count_limit_for(number, PAGE_SIZE)).get_page(number)
    query = request.GET.copy()
    for name in ("page", "q"):
        query.pop(name, None)
    sort_query = query.copy()
    sort_query.pop("sort", None)
    timeline_url = reverse("patient-timeline", kwargs={"uuid": _UUID_SLOT})
    return render(request, "clinic/patient_list.html", {
        "form": form, "page": page, "sort": kwargs["sort"],
        "rows": [_patient_line(p, timeline_url) for p in page.object_list],
        "query": query.urlencode(), "sort_query": sort_query.urlencode(),
        "show_site": len(sites) > 1,
    })


def _search_redirect(request: HttpRequest, form: PatientFilterForm) -> HttpResponse:
    """Keep the search words in the session; the filters go to the URL."""
    q = form.cleaned_data.get("q", "").strip() if form.is_valid() else ""
    request.session[SEARCH_SESSION_KEY] = q
    filters = {name: request.POST[name] for name in FILTER_NAMES if request.POST.get(name)}
    if q:
        filters[SEARCH_FLAG] = "1"
    url = reverse("patient-list")
    return redirect(f"{url}?{urlencode(filters)}" if filters else url)


FILTER_NAMES = ("site", "follow_up_status", "subtype", "pcr", "alert", "overdue", "sort")


# The patient list's columns (`clinic.selectors.patient_list` annotates the last three).
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


def _study_line(row: StudyRow, study_url: str, site: Site) -> dict:
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
        "viewer_url": site.viewer_url(s.accession),
    }


def patient_timeline(request: HttpRequest, uuid) -> HttpResponse:
    show_contact = can_see_contact(request.user)
    timeline = select_timeline(user=request.user, uuid=uuid, with_contact=show_contact)
    today = date.today()
    # One reverse() for the whole table, a UUID put in its slot per row (reverse: ~60 µs).
    study_url = reverse("study-detail", kwargs={"uuid": _UUID_SLOT})
    patient = timeline.patient
    rows = [_study_line(row, study_url, patient.site) for row in timeline.studies]
    figure, sentences = _chart(timeline, today, study_urls={r["study"].id: r["url"] for r in rows})
    return render(request, "clinic/timeline.html", {
        "t": timeline, "patient": patient, "figure": figure,
        "trend_sentences": sentences,
        "study_rows": rows, "age": patient.age_on(today),
        "plan": timeline.surveillance_plan(as_of=today),
        "show_contact": show_contact, "can_edit_contact": can_edit_contact(request.user),
        "can_write_letters": can_write_letters(request.user),
    })


def _chart(timeline, today: date, *, study_urls: dict[int, str] | None = None) -> tuple[dict, list[str]]:
    """The timeline figure and the trend sentences above it: the open imaging alerts
    marked, the extent threshold drawn, no "stable" for a breast with an open progression
    alert."""
    imaging_alerts = [a for a in timeline.open_alerts if not a.is_surveillance]
    breast_trends = trends(timeline.history)
    figure = timeline_figure(timeline.history, alerts=chart_alerts(imaging_alerts), today=today,
                             breast_trends=breast_trends, threshold=timeline.extent_threshold,
                             study_urls=study_urls)
    flagged = open_alert_breasts(imaging_alerts)
    return figure, [describe(t, open_alert=flagged.get(t.breast, "")) for t in breast_trends]


def patient_records(request: HttpRequest, uuid) -> HttpResponse:
    """Treatment and follow-up records of one patient, with links to edit each."""
    timeline = select_timeline(user=request.user, uuid=uuid)
    return render(request, "clinic/records.html", {
        "t": timeline, "patient": timeline.patient,
        "timeline_url": reverse("patient-timeline", kwargs={"uuid": timeline.patient.uuid}),
    })


def _summary_context(request: HttpRequest, uuid) -> dict:
    """What the printable summary shows: identity, treatment, the burden chart as a static
    SVG (imaging.chart_svg, drawn from the timeline's own figure), trends, studies, the
    plan and open alerts."""
    timeline = select_timeline(user=request.user, uuid=uuid)
    today = date.today()
    figure, sentences = _chart(timeline, today)
    study_url = reverse("study-detail", kwargs={"uuid": _UUID_SLOT})
    patient = timeline.patient
    return {
        "t": timeline, "patient": patient, "age": patient.age_on(today), "today": today,
        "chart_svg": figure_svg(figure, width=960, height=540,
                                title="Calcification extent per breast over time, and MRI enhancement"),
        "trend_sentences": sentences,
        "study_rows": [_study_line(row, study_url, patient.site) for row in timeline.studies],
        "plan": timeline.surveillance_plan(as_of=today),
        "printed_by": request.user.get_full_name() or request.user.get_username(),
        "printed_at": timezone.localtime(),
    }


def patient_summary(request: HttpRequest, uuid) -> HttpResponse:
    """The patient summary to print (the browser's print, with the print stylesheet)."""
    return render(request, "clinic/summary.html", _summary_context(request, uuid))


def patient_summary_pdf(request: HttpRequest, uuid) -> HttpResponse:
    """The same summary as a PDF (WeasyPrint): her name, MRN and birth date on every page."""
    context = _summary_context(request, uuid)
    patient = context["patient"]
    html = render_to_string("clinic/summary_document.html", context, request=request)
    audit_record(action=Action.EXPORT, obj=patient, patient=patient, changes={"export": "summary.pdf"})
    response = HttpResponse(pdf_from_html([html]), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="summary-{timezone.localdate():%Y-%m-%d}.pdf"'
    return response
