"""The cohort page, the programme quality page and their CSV downloads. Thin: filters in,
report out."""

import csv
import json

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from alerts.models import Resolution, Rule
from audit.models import Action
from audit.services import audit_record
from core.permissions import can_view_cohort, has_tracker_role
from imaging.vocabulary import Modality
from patients.vocabulary import PcrDefinition

from . import charts
from .analysis import (
    HISTOLOGY_LABELS,
    MODALITY_LABELS,
    SAMPLED_HISTOLOGIES,
    CohortReport,
    cohort_report,
)
from .export import csv_rows
from .forms import CohortFilterForm, QualityFilterForm
from .quality import FOLLOW_UP_YEARS, WINDOWS
from .quality_export import quality_rows
from .quality_selectors import GROUP_BY, quality_report
from .selectors import EXCLUSION_LABELS, MODALITIES
from .stats import METRIC_LABELS, METRICS


def _form(request: HttpRequest) -> CohortFilterForm:
    if not can_view_cohort(request.user):
        raise PermissionDenied("The cohort view is for radiologists, clinic staff and admins.")
    return CohortFilterForm(request.GET, user=request.user)


def _figure(fig) -> dict:
    return json.loads(fig.to_json())


def cohort(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    context: dict = {"form": form, "metric_names": METRICS, "metric_labels": METRIC_LABELS,
                     "exclusion_labels": EXCLUSION_LABELS, "modality_labels": MODALITY_LABELS,
                     "histologies": [(h, HISTOLOGY_LABELS[h]) for h in SAMPLED_HISTOLOGIES]}
    status = 200
    if form.is_valid():
        report = cohort_report(form.to_filters())
        context.update(_report_context(report))
        context["csv_query"] = request.GET.urlencode()
    else:
        status = 400
    return render(request, "cohort/cohort.html", context, status=status)


TEST_LABELS = {
    Modality.MR: ("Enhancement", "No enhancement"),
    Modality.MG: ("Suspicious calcifications", "No suspicious calcifications"),
}
EFS_MARKS = (12.0, 24.0, 60.0)


def _report_context(report: CohortReport) -> dict:
    overall = report.overall
    curves = report.survival.curves
    return {
        "report": report,
        "pcr_label": dict(PcrDefinition.choices)[report.filters.pcr_definition],
        "test_labels": TEST_LABELS,
        "modalities": [overall.modalities[m] for m in MODALITIES],
        "histology_groups": [overall, *report.by_subtype],
        "survival_events": sum(c.events for c in curves),
        "efs_marks": EFS_MARKS,
        "survival_table": [{"curve": c, "efs": [c.survival_at(t) for t in EFS_MARKS]} for c in curves],
        "metric_chart": _figure(charts.metric_bars(
            {m: overall.modalities[m].concordance for m in MODALITIES}, MODALITY_LABELS)),
        "km_chart": _figure(charts.km_curves(curves, report.survival.time_unit)),
        "km_legend": charts.km_legend(curves),
        "km_axis_floor": _axis_floor(curves),
    }


def _axis_floor(curves) -> str:
    """"80%" when the survival axis does not start at 0 (the page says so), else ""."""
    floor = charts.survival_axis_floor(curves)
    return f"{floor:.0%}" if floor else ""


def cohort_csv(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400, content_type="text/plain; charset=utf-8",
        )
    report = cohort_report(form.to_filters())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="cohort-concordance-{stamp}.csv"'
    writer = csv.writer(response)
    writer.writerows(csv_rows(report, {s.id: s.code for s in form.sites}))
    # Aggregate filters (sites, dates, subtypes…): no patient details.
    audit_record(action=Action.EXPORT, changes={
        "export": "cohort-concordance.csv", "filters": {k: request.GET.getlist(k) for k in request.GET}})
    return response


def _quality_form(request: HttpRequest) -> QualityFilterForm:
    if not has_tracker_role(request.user):
        raise PermissionDenied("The programme measures are for the clinic's staff.")
    return QualityFilterForm(request.GET, user=request.user)


def _quality(form: QualityFilterForm):
    return quality_report(form.to_filters(), as_of=timezone.localdate(), site_names=form.site_names)


def quality(request: HttpRequest) -> HttpResponse:
    """Programme quality: follow-up timeliness, adherence, overdue and lost, alert outcomes."""
    form = _quality_form(request)
    context: dict = {"form": form, "windows": WINDOWS, "years": FOLLOW_UP_YEARS}
    status = 200
    if form.is_valid():
        report = _quality(form)
        rule_labels = dict(Rule.choices)
        resolution_labels = dict(Resolution.choices)
        resolutions = sorted({k for r in report.rules for k in r.resolutions},
                             key=lambda k: (k not in resolution_labels, resolution_labels.get(k, k)))
        with_adherence = [g for g in report.groups if g.adherence is not None and g.adherence.total]
        every = [report.overall, *report.groups]
        context.update({
            "report": report, "csv_query": request.GET.urlencode(),
            "group_label": GROUP_BY[report.group_by], "rule_labels": rule_labels,
            "resolutions": [(k, resolution_labels.get(k, k.replace("_", " "))) for k in resolutions],
            "alerts_chart": _figure(charts.resolved_within_bars(every, "alerts")),
            "abnormal_chart": _figure(charts.resolved_within_bars(every, "abnormal")),
            "adherence_chart": _figure(charts.adherence_lines(with_adherence or [report.overall])),
            "ppv_chart": _figure(charts.ppv_bars(report.rules, rule_labels)),
            "has_biopsies": any(r.biopsied for r in report.rules),
        })
    else:
        status = 400
    return render(request, "cohort/quality.html", context, status=status)


def quality_csv(request: HttpRequest) -> HttpResponse:
    form = _quality_form(request)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filters: " + "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items()),
            status=400, content_type="text/plain; charset=utf-8")
    report = _quality(form)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"programme-quality-{report.as_of.isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    filters = {k: str(v) for k, v in form.cleaned_data.items() if v not in (None, "")}
    csv.writer(response).writerows(quality_rows(report, filters))
    audit_record(action=Action.EXPORT, changes={
        "export": "programme-quality.csv", "filters": {k: request.GET.getlist(k) for k in request.GET}})
    return response
