"""`/api/analytics/`: the cohort's concordance and survival figures, and the programme
quality measures, as JSON.

DRF views authenticate themselves (session or token), hence `login_not_required` in
`cohort/api_urls.py`. Same filters, same numbers as the page (`cohort/analysis.py`).
"""

from django.http import QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.permissions import can_view_cohort, has_tracker_role
from imaging.vocabulary import Modality
from patients import vocabulary as pv

from .analysis import concordance_for, survival_for
from .export import concordance_json, filters_json, survival_json
from .forms import DEFAULT_PCR_DEFINITION, CohortFilterForm, ConcordanceQueryForm, QualityFilterForm
from .quality_export import quality_json
from .quality_selectors import GROUP_BY, quality_report


class MayViewCohort(permissions.BasePermission):
    message = "The cohort analytics are for radiologists, clinic staff and admins."

    def has_permission(self, request, view) -> bool:
        return can_view_cohort(request.user)


FILTER_PARAMETERS = [
    OpenApiParameter("pcr_definition", OpenApiTypes.STR, enum=pv.PcrDefinition.values,
                     description=f"pCR definition for the truth (default {DEFAULT_PCR_DEFINITION})."),
    OpenApiParameter("site", OpenApiTypes.STR,
                     description="Site code; one of your own sites (default: all of them)."),
    OpenApiParameter("subtype", OpenApiTypes.STR, enum=pv.Subtype.values,
                     description="Molecular subtype."),
    OpenApiParameter("procedure", OpenApiTypes.STR, enum=pv.SurgeryProcedure.values,
                     description="Type of the index surgery."),
    OpenApiParameter("surgery_from", OpenApiTypes.DATE, description="Index surgery on or after."),
    OpenApiParameter("surgery_to", OpenApiTypes.DATE, description="Index surgery on or before."),
]


def _estimate(name: str):
    return inline_serializer(name, fields={
        "value": serializers.FloatField(allow_null=True),
        "ci_low": serializers.FloatField(allow_null=True),
        "ci_high": serializers.FloatField(allow_null=True),
    })


_COUNTS = {k: serializers.IntegerField() for k in ("n", "tp", "fp", "fn", "tn")}
_METRICS = {k: _estimate(f"AnalyticsEstimate{k.capitalize()}")
            for k in ("sensitivity", "specificity", "ppv", "npv", "accuracy", "kappa")}
_EXCLUDED = inline_serializer("AnalyticsExcluded", fields={
    "total": serializers.IntegerField(),
    "no_pathology": serializers.IntegerField(),
    "missing": serializers.IntegerField(help_text="No post-NAC study of this modality."),
    "draft_only": serializers.IntegerField(help_text="Post-NAC study not signed."),
    "unread": serializers.IntegerField(
        help_text="Post-NAC MRI signed with neither a lesion nor 'no enhancement'."),
})
_FILTERS = inline_serializer("AnalyticsFilters", fields={
    "pcr_definition": serializers.CharField(),
    "sites": serializers.ListField(child=serializers.CharField()),
    "subtype": serializers.CharField(allow_null=True),
    "procedure": serializers.CharField(allow_null=True),
    "surgery_from": serializers.DateField(allow_null=True),
    "surgery_to": serializers.DateField(allow_null=True),
})
CONCORDANCE_RESPONSE = inline_serializer("AnalyticsConcordance", fields={
    "modality": serializers.CharField(),
    "filters": _FILTERS,
    **_COUNTS, **_METRICS, "excluded": _EXCLUDED,
    "by_subtype": inline_serializer("AnalyticsConcordanceSubtype", many=True, fields={
        "subtype": serializers.CharField(), **_COUNTS, **_METRICS, "excluded": _EXCLUDED,
    }),
})
SURVIVAL_RESPONSE = inline_serializer("AnalyticsSurvival", fields={
    "filters": _FILTERS,
    "time_unit": serializers.CharField(),
    "n": serializers.IntegerField(),
    "groups": inline_serializer("AnalyticsKmCurve", many=True, fields={
        "group": serializers.CharField(),
        "label": serializers.CharField(),
        "n": serializers.IntegerField(),
        "events": serializers.IntegerField(),
        "times": serializers.ListField(child=serializers.FloatField()),
        "survival": serializers.ListField(child=serializers.FloatField()),
        "censored_times": serializers.ListField(child=serializers.FloatField()),
        "at_risk": inline_serializer("AnalyticsAtRisk", many=True, fields={
            "time": serializers.FloatField(), "n": serializers.IntegerField()}),
    }),
    "log_rank": inline_serializer("AnalyticsLogRank", fields={
        "chi2": serializers.FloatField(allow_null=True),
        "df": serializers.IntegerField(),
        "p_value": serializers.FloatField(allow_null=True),
    }),
})
ERROR_RESPONSE = inline_serializer("AnalyticsError", fields={
    "detail": serializers.CharField(),
    "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
})


def _invalid(form: CohortFilterForm) -> Response:
    return Response({"detail": "Invalid query parameters.",
                     "errors": {k: list(v) for k, v in form.errors.items()}}, status=400)


class _AnalyticsView(APIView):
    permission_classes = [permissions.IsAuthenticated, MayViewCohort]
    form_class = CohortFilterForm

    def _form(self, query: QueryDict) -> CohortFilterForm:
        return self.form_class(query, user=self.request.user)


class ConcordanceView(_AnalyticsView):
    form_class = ConcordanceQueryForm

    @extend_schema(
        operation_id="analytics_concordance",
        summary="Post-NAC imaging against surgical pathology (2×2 table and metrics)",
        description="Eligible patients have a final post-NAC study of the modality and "
        "surgical pathology. Metrics carry Wilson 95% intervals; a metric whose "
        "denominator is zero is null. See docs/cohort.md for the definitions.",
        parameters=[OpenApiParameter("modality", OpenApiTypes.STR, required=True,
                                     enum=[Modality.MR, Modality.MG]), *FILTER_PARAMETERS],
        responses={200: CONCORDANCE_RESPONSE, 400: ERROR_RESPONSE},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        form = self._form(request.query_params)
        if not form.is_valid():
            return _invalid(form)
        filters = form.to_filters()
        body = concordance_json(concordance_for(filters), form.cleaned_data["modality"])
        body["filters"] = filters_json(filters, {s.id: s.code for s in form.sites})
        return Response(body)


class SurvivalView(_AnalyticsView):
    @extend_schema(
        operation_id="analytics_survival",
        summary="Event-free survival by pCR × residual calcifications (Kaplan–Meier)",
        description="Patients eligible for mammography concordance, in four groups. Events: "
        "local, regional or distant recurrence, or confirmed progression; time in months from "
        "the index surgery; censored at last contact. See docs/cohort.md.",
        parameters=FILTER_PARAMETERS,
        responses={200: SURVIVAL_RESPONSE, 400: ERROR_RESPONSE},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        form = self._form(request.query_params)
        if not form.is_valid():
            return _invalid(form)
        filters = form.to_filters()
        body = {"filters": filters_json(filters, {s.id: s.code for s in form.sites}),
                **survival_json(survival_for(filters))}
        return Response(body)


QUALITY_PARAMETERS = [
    OpenApiParameter("site", OpenApiTypes.STR, description="Site code, one of your own (default: all)."),
    OpenApiParameter("subtype", OpenApiTypes.STR, enum=pv.Subtype.values, description="Molecular subtype."),
    OpenApiParameter("radiologist", OpenApiTypes.INT,
                     description="User id of the radiologist who signed the exam that raised the alert."),
    OpenApiParameter("date_from", OpenApiTypes.DATE,
                     description="Alerts raised, exams done and scheduled exams due on or after."),
    OpenApiParameter("date_to", OpenApiTypes.DATE, description="… on or before."),
    OpenApiParameter("group_by", OpenApiTypes.STR, enum=list(GROUP_BY), description="Default: site."),
]


class MayViewQuality(permissions.BasePermission):
    message = "The programme measures are for the clinic's staff."

    def has_permission(self, request, view) -> bool:
        return has_tracker_role(request.user)


class QualityView(APIView):
    permission_classes = [permissions.IsAuthenticated, MayViewQuality]

    @extend_schema(
        operation_id="analytics_quality",
        summary="Programme quality: follow-up timeliness, adherence, overdue and lost, alert outcomes",
        description="The figures of the Programme quality page and its CSV, overall and per group. "
        "Shares carry Wilson 95% intervals and their counts; an undefined share is null. "
        "See docs/cohort.md, \"Programme quality\", for the definitions.",
        parameters=QUALITY_PARAMETERS,
        responses={200: OpenApiTypes.OBJECT, 400: ERROR_RESPONSE},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        form = QualityFilterForm(request.query_params, user=request.user)
        if not form.is_valid():
            return _invalid(form)
        report = quality_report(form.to_filters(), as_of=timezone.localdate(), site_names=form.site_names)
        body = quality_json(report)
        body["filters"] = {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                           for k, v in form.cleaned_data.items() if v not in (None, "")}
        return Response(body)
