"""API views: thin — they scope, validate the request shape and call services."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from alerts.models import Alert
from alerts.services import alert_acknowledge, alert_resolve, refusal
from audit.context import note_patient_viewed
from audit.models import Action
from audit.services import audit_record
from core.permissions import (
    can_act_on_alert,
    can_act_on_alerts,
    can_draft_studies,
    can_edit_records,
    can_log_visits,
    can_register_patients,
    can_see_contact,
    can_sign_studies,
    can_view_worklist,
    can_work_worklist,
)
from imaging.models import ImagingStudy, StudyAmendment
from imaging.records import with_records
from imaging.services import (
    StudyValidationError,
    can_void_study,
    study_amend,
    study_as_dict,
    study_finalize,
    study_save_draft,
    study_void,
)
from patients.access import patients_for
from patients.models import ClinicalEvent, ClinicVisit, NacCourse, Patient, Radiotherapy, Surgery
from patients.selectors import patients_by_mrn, possible_duplicates
from patients.services import PatientValidationError, can_void, patient_save, record_save, record_void
from surveillance.models import ScheduledItem
from surveillance.selectors import item_contacts
from surveillance.services.contacts import contact_log

from . import exports
from .fhir.bundle import patient_bundle
from .fhir.careplan import planned_exams
from .filters import AlertFilter, PatientFilter, ScheduleFilter, StudyFilter
from .pagination import ApiPagination
from .permissions import ActionCapabilities
from .serializers.alerts import (
    AlertAcknowledgeSerializer,
    AlertResolveSerializer,
    AlertSerializer,
)
from .serializers.base import drf_errors, prefetched
from .serializers.patients import (
    DuplicateSerializer,
    EventSerializer,
    MrnLookupSerializer,
    PatientLinkSerializer,
    PatientSerializer,
    VisitSerializer,
    VoidSerializer,
)
from .serializers.schedule import ContactSerializer, ScheduledItemSerializer
from .serializers.studies import AmendmentSerializer, StudyAmendSerializer, StudySerializer
from .serializers.timeline import TimelineSerializer
from .timeline import patient_timeline

WRITE_METHODS = ["get", "post", "put", "patch", "head", "options"]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is not in a state that allows this change."
    default_code = "conflict"


class FhirJsonRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


VOIDABLE_ROWS = {"surgeries": Surgery, "nac_courses": NacCourse, "radiotherapy": Radiotherapy,
                 "visits": ClinicVisit, "events": ClinicalEvent}


class VoidedSerializer(serializers.Serializer):
    voided_at = serializers.DateTimeField()
    void_reason = serializers.CharField()


def _record_create(request, serializer_class, model, **fields) -> Response:
    """Validate the body, save a visit or an outcome event of the patient with its outbox
    events (`record_save`), answer 201 with it; the clinical rules' refusals are HTTP 400
    with the field's message."""
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        record = record_save(model(**fields, **serializer.validated_data))
    except DjangoValidationError as exc:
        raise ValidationError(drf_errors(exc)) from exc
    return Response(serializer_class(record).data, status=status.HTTP_201_CREATED)


def _void(request, void) -> Response:
    """Validate the reason (HTTP 400 with the field's message), void, answer what was kept."""
    serializer = VoidSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    try:
        record = void(serializer.validated_data["reason"])
    except DjangoValidationError as exc:
        raise ValidationError(drf_errors(exc)) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    return Response(VoidedSerializer(record).data)


def patient_queryset(user) -> QuerySet[Patient]:
    """The user's patients with everything the patient serializer reads (5 queries a page).

    The nested rows are prefetched into plain lists (`to_attr`, read by
    `PrefetchedListSerializer`): a prefetch into the related managers builds a queryset
    per patient and relation, ~150 querysets for a page of 50.
    """
    return (
        patients_for(user)
        .select_related("site", "tumour", "contact")
        .prefetch_related(
            Prefetch("nac_courses", to_attr=prefetched("nac_courses")),
            Prefetch("radiotherapy", to_attr=prefetched("radiotherapy")),
            Prefetch("surgeries", queryset=Surgery.objects.select_related("pathology"),
                     to_attr=prefetched("surgeries")),
        )
        .order_by("family_name", "given_name", "id")
    )


class PatientViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin,
                     viewsets.ReadOnlyModelViewSet):
    """Patients of your sites, with tumour profile, NAC, radiotherapy, surgery and pathology.

    Nested lists sent on create/update replace the patient's rows; lists left out stay.
    """

    serializer_class = PatientSerializer
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_class = PatientFilter
    pagination_class = ApiPagination
    permission_classes = [ActionCapabilities]
    http_method_names = WRITE_METHODS
    action_capabilities = {"create": can_register_patients, "update": can_edit_records,
                           "partial_update": can_edit_records,
                           # As on the pages (patients.views.RECORDS).
                           "record_visit": can_log_visits, "record_event": can_edit_records,
                           # Which of the two: by the record's kind, in `record_void`.
                           "void_record": lambda user: can_edit_records(user) or can_log_visits(user)}
    read_actions = ("lookup",)

    def get_queryset(self) -> QuerySet[Patient]:
        if self.action == "timeline":
            # The patient with the rows api/timeline.py reads, in one query; not the list's prefetches.
            return with_records(patients_for(self.request.user))
        return patient_queryset(self.request.user)

    def get_object(self) -> Patient:
        patient = super().get_object()
        note_patient_viewed(patient)  # recorded by the audit middleware on reads only
        return patient

    def _save(self, serializer, patient: Patient | None = None) -> Patient:
        try:
            saved = patient_save(data=serializer.validated_data, by=self.request.user,
                                 patient=patient)
        except PatientValidationError as exc:
            raise ValidationError(exc.errors) from exc
        return self.get_queryset().get(pk=saved.pk)

    @extend_schema(responses={201: PatientSerializer, 409: DuplicateSerializer})
    def create(self, request, *args, **kwargs):
        """Register a patient. The same names and date of birth under another MRN at the
        site answer 409 with the link of each such patient the user may see; send
        `confirm_duplicate: true` to register her anyway."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not data.pop("confirm_duplicate", False):
            found = possible_duplicates(site=data["site"], given_name=data["given_name"],
                                        family_name=data["family_name"],
                                        date_of_birth=data["date_of_birth"], mrn=data["mrn"])
            if found.exists():
                visible = patients_for(request.user).filter(pk__in=found.values("pk"))
                return Response({
                    "detail": "A patient with the same name and date of birth is registered at "
                              "this site under another MRN. If this is someone else, send "
                              "confirm_duplicate: true to register her anyway.",
                    "duplicates": [_patient_link(request, p) for p in visible.order_by("id")],
                }, status=status.HTTP_409_CONFLICT)
        patient = self._save(serializer)
        return Response(self.get_serializer(patient).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=MrnLookupSerializer, responses={200: PatientLinkSerializer(many=True)})
    @action(detail=False, methods=["post"], filterset_class=None, pagination_class=None)
    def lookup(self, request):
        """Find your sites' patients by MRN, sent in the body (an MRN never goes into a
        URL): with or without the site's prefix and punctuation. The patients' links."""
        query = MrnLookupSerializer(data=request.data)
        query.is_valid(raise_exception=True)
        found = patients_by_mrn(patients_for(request.user).select_related("site"),
                                query.validated_data["mrn"]).order_by("id")[:LOOKUP_LIMIT]
        links = [_patient_link(request, p) for p in found]
        if not links:
            return Response({"detail": "No patient with this MRN at your sites."},
                            status=status.HTTP_404_NOT_FOUND)
        return Response(links)

    def update(self, request, *args, **kwargs):
        patient = self.get_object()
        serializer = self.get_serializer(patient, data=request.data,
                                         partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        patient = self._save(serializer, patient)
        return Response(self.get_serializer(patient).data)

    @extend_schema(request=VoidSerializer, responses={200: VoidedSerializer})
    @action(detail=True, methods=["post"], serializer_class=VoidSerializer, filterset_class=None,
            pagination_class=None,
            url_path=r"(?P<kind>surgeries|nac_courses|radiotherapy|visits|events)/(?P<record_id>[0-9]+)/void")
    def void_record(self, request, uuid=None, kind=None, record_id=None):
        """Void one of the patient's surgeries (with its pathology), NAC courses, radiotherapy
        courses, visits or outcome events, with a required reason. The record leaves the
        plan, the rules, the cohort, the exports and FHIR; its row and reason are kept."""
        patient = self.get_object()
        model = VOIDABLE_ROWS[kind]
        record = model.objects.filter(patient=patient, pk=record_id).first()
        if record is None:
            raise NotFound("No such record of this patient (or it is voided already).")
        if not can_void(request.user, record):
            raise PermissionDenied("Your role cannot void this record.")
        return _void(request, lambda reason: record_void(record=record, by=request.user, reason=reason))

    @extend_schema(responses=VisitSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=VisitSerializer, filterset_class=None,
            pagination_class=None)
    def visits(self, request, uuid=None):
        """The patient's clinic visits, newest first (voided ones are not listed)."""
        patient = self.get_object()
        rows = patient.visits.select_related("recorded_by").order_by("-date", "-id")
        return Response(VisitSerializer(rows, many=True).data)

    @extend_schema(request=VisitSerializer, responses={201: VisitSerializer})
    @visits.mapping.post
    def record_visit(self, request, uuid=None):
        """Record a clinic visit (the clinical-exam visits count for the surveillance plan).
        `400` with the field's message for a date before birth or in the future."""
        return _record_create(request, VisitSerializer, ClinicVisit, patient=self.get_object(),
                              recorded_by=request.user)

    @extend_schema(responses=EventSerializer(many=True))
    @action(detail=True, methods=["get"], serializer_class=EventSerializer, filterset_class=None,
            pagination_class=None)
    def events(self, request, uuid=None):
        """The patient's outcome events (recurrence, progression, death…), oldest first
        (voided ones are not listed)."""
        patient = self.get_object()
        return Response(EventSerializer(patient.events.order_by("date", "id"), many=True).data)

    @extend_schema(request=EventSerializer, responses={201: EventSerializer})
    @events.mapping.post
    def record_event(self, request, uuid=None):
        """Record an outcome event. `400` with the field's message for a date before birth
        or in the future, or a kind that is not one of the listed ones."""
        return _record_create(request, EventSerializer, ClinicalEvent, patient=self.get_object())

    @extend_schema(responses=TimelineSerializer)
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def timeline(self, request, uuid=None):
        """Calcification burden per breast (with nadir) and MRI lesions: the chart's data."""
        patient = self.get_object()
        # Already in TimelineSerializer's shape and types (tests/api check they agree); its
        # field-by-field pass over every point cost more than reading the rows.
        return Response(patient_timeline(patient))

    @extend_schema(responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"], renderer_classes=[FhirJsonRenderer, JSONRenderer],
            filterset_class=None, pagination_class=None)
    def fhir(self, request, uuid=None):
        """FHIR R4 Bundle (type collection) of the patient's record, with a CarePlan of
        the scheduled surveillance; see docs/api.md."""
        patient = self.get_object()
        items = ScheduledItem.objects.filter(patient=patient).order_by("due_date", "kind")
        planned = planned_exams(items, timezone.localdate())
        bundle = patient_bundle(patient, planned=planned, with_contact=can_see_contact(request.user))
        audit_record(action=Action.FHIR_DOWNLOAD, obj=patient, patient=patient)
        return Response(bundle)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"], url_path="findings.csv", filterset_class=None,
            pagination_class=None)
    def findings_csv(self, request, uuid=None) -> HttpResponse:
        """Every calcification and enhancement finding of the patient, one row each."""
        patient = self.get_object()
        response = exports.findings_csv(patient)
        audit_record(action=Action.EXPORT, obj=patient, patient=patient,
                     changes={"export": "findings.csv"})
        return response

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=False, methods=["get"], url_path="export.csv", pagination_class=None)
    def export_csv(self, request) -> HttpResponse:
        """The filtered patient list (same filters as the list) as CSV."""
        response = exports.patients_csv(self.filter_queryset(self.get_queryset()))
        # The filters are codes, dates and flags (no patient details; see filters.py).
        filters = {k: v for k, v in request.query_params.items() if k != "format"}
        audit_record(action=Action.EXPORT, changes={"export": "patients.csv",
                                                    "filters": filters})
        return response


LOOKUP_LIMIT = 20


def _patient_link(request, patient: Patient) -> dict:
    """Where a patient is, by UUID: the API record and the timeline page."""
    return {"uuid": str(patient.uuid), "site": patient.site.code,
            "url": request.build_absolute_uri(
                reverse("api-patient-detail", kwargs={"uuid": patient.uuid})),
            "timeline": request.build_absolute_uri(patient.get_absolute_url())}


def _study_errors(exc: StudyValidationError) -> dict:
    """Service errors in DRF's layout: finding rows keyed by their index, like DRF's own."""
    errors: dict = {("non_field_errors" if k == "__all__" else k): list(v)
                    for k, v in exc.study_errors.items()}
    if exc.non_field:
        errors.setdefault("non_field_errors", []).extend(exc.non_field)
    for key, rows in (("calcifications", exc.calc_errors), ("enhancements", exc.enh_errors)):
        if rows:
            errors[key] = {str(i): row for i, row in sorted(rows.items())}
    return errors


class StudyViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin,
                   viewsets.ReadOnlyModelViewSet):
    """Imaging studies with their findings. Create and update save a draft in one request;
    `sign` and `amend` are for radiologists."""

    serializer_class = StudySerializer
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_class = StudyFilter
    pagination_class = ApiPagination
    permission_classes = [ActionCapabilities]
    http_method_names = WRITE_METHODS
    action_capabilities = {"create": can_draft_studies, "update": can_draft_studies,
                           "partial_update": can_draft_studies, "sign": can_sign_studies,
                           "amend": can_sign_studies,
                           # A draft: can_draft_studies; a signed study: can_sign_studies (study_void).
                           "void": lambda user: can_draft_studies(user) or can_sign_studies(user)}

    def get_queryset(self) -> QuerySet[ImagingStudy]:
        return (
            ImagingStudy.objects.filter(patient__in=patients_for(self.request.user))
            .select_related("patient", "signed_by")
            .prefetch_related(
                "calcifications", "enhancements",
                Prefetch("amendments",
                         queryset=StudyAmendment.objects.select_related("amended_by")),
            )
            .order_by("-study_date", "-id")
        )

    def get_object(self) -> ImagingStudy:
        study = super().get_object()
        note_patient_viewed(study.patient)  # recorded by the audit middleware on reads only
        return study

    def _draft(self, serializer, study: ImagingStudy | None = None) -> ImagingStudy:
        data = dict(serializer.validated_data)
        patient = data.pop("patient", None) or study.patient
        existing = study_as_dict(study) if study is not None else {}
        calcs = data.pop("calcifications", existing.get("calcifications", []))
        enhs = data.pop("enhancements", existing.get("enhancements", []))
        try:
            saved = study_save_draft(patient=patient, data=data, by=self.request.user,
                                     calcifications=calcs, enhancements=enhs, study=study)
        except StudyValidationError as exc:
            raise ValidationError(_study_errors(exc)) from exc
        except DjangoPermissionDenied as exc:
            raise Conflict(str(exc)) from exc
        return self.get_queryset().get(pk=saved.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        study = self._draft(serializer)
        return Response(self.get_serializer(study).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        study = self.get_object()
        serializer = self.get_serializer(study, data=request.data,
                                         partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        study = self._draft(serializer, study)
        return Response(self.get_serializer(study).data)

    @extend_schema(request=None, responses=StudySerializer)
    @action(detail=True, methods=["post"])
    def sign(self, request, uuid=None):
        """Sign the draft (radiologists only). Signing a final study again changes nothing."""
        try:
            study = study_finalize(study=self.get_object(), by=request.user)
        except StudyValidationError as exc:
            raise ValidationError(_study_errors(exc)) from exc
        return Response(self.get_serializer(self.get_queryset().get(pk=study.pk)).data)

    @extend_schema(request=VoidSerializer, responses={200: VoidedSerializer})
    @action(detail=True, methods=["post"], serializer_class=VoidSerializer)
    def void(self, request, uuid=None):
        """Void a draft, or a signed study (radiologists only), with a required reason. A
        signed study is never deleted: it leaves every rule, the plan and the cohort, and its
        alerts are superseded."""
        study = self.get_object()
        if not can_void_study(request.user, study):
            raise PermissionDenied("Only a radiologist can void a signed study.")
        return _void(request, lambda reason: study_void(study=study, by=request.user, reason=reason))

    @extend_schema(request=StudyAmendSerializer,
                   responses={200: AmendmentSerializer,
                              204: OpenApiResponse(description="Nothing changed.")})
    @action(detail=True, methods=["post"], serializer_class=StudyAmendSerializer)
    def amend(self, request, uuid=None):
        """Change a signed study (radiologists only); the reason is required and kept."""
        study = self.get_object()
        if not study.is_final:
            raise Conflict("This study is a draft: change it with PUT/PATCH, then sign it.")
        serializer = StudyAmendSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        reason = data.pop("reason")
        existing = study_as_dict(study)
        calcs = data.pop("calcifications", existing["calcifications"])
        enhs = data.pop("enhancements", existing["enhancements"])
        try:
            amendment = study_amend(study=study, by=request.user, reason=reason, data=data,
                                    calcifications=calcs, enhancements=enhs)
        except StudyValidationError as exc:
            raise ValidationError(_study_errors(exc)) from exc
        except DjangoValidationError as exc:
            raise ValidationError(drf_errors(exc)) from exc
        if amendment is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(AmendmentSerializer(amendment).data)


class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts of your sites' patients. Radiologists `acknowledge` and `resolve` them."""

    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    pagination_class = ApiPagination
    permission_classes = [ActionCapabilities]
    # Which kinds of alert the user may act on is checked per alert by the services.
    action_capabilities = {"acknowledge": can_act_on_alerts, "resolve": can_act_on_alerts}

    def get_queryset(self) -> QuerySet[Alert]:
        return (
            Alert.objects.filter(patient__in=patients_for(self.request.user))
            .select_related("patient", "study", "acknowledged_by", "resolved_by")
            .order_by("-created_at", "-id")
        )

    def get_object(self) -> Alert:
        alert = super().get_object()
        note_patient_viewed(alert.patient)  # recorded by the audit middleware on reads only
        return alert

    def _answer(self, alert: Alert) -> Response:
        return Response(self.get_serializer(self.get_queryset().get(pk=alert.pk)).data)

    @extend_schema(request=AlertAcknowledgeSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        """open → acknowledged (radiologists). Acknowledging again changes nothing and
        returns the alert as it is."""
        alert = self.get_object()
        serializer = AlertAcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert, _ = alert_acknowledge(alert=alert, by=request.user,
                                     note=serializer.validated_data["note"])
        return self._answer(alert)

    @extend_schema(request=AlertResolveSerializer, responses=AlertSerializer)
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        """open or acknowledged → resolved with a resolution (radiologists). Resolving a
        resolved alert changes nothing and returns it as it is."""
        alert = self.get_object()
        if not can_act_on_alert(request.user, alert):  # the kind decides, before any field
            raise PermissionDenied(refusal(alert))
        serializer = AlertResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            alert, _ = alert_resolve(alert=alert, by=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(drf_errors(exc)) from exc
        return self._answer(alert)


class ScheduleViewSet(viewsets.ReadOnlyModelViewSet):
    """Scheduled surveillance items of your sites' patients, and each item's contact log.

    Coordinators, clinic staff and admins log contacts (`POST …/contacts/`), as on the
    worklist page and through the same service; radiologists read only.
    """

    serializer_class = ScheduledItemSerializer
    lookup_field = "uuid"
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    filterset_class = ScheduleFilter
    pagination_class = ApiPagination
    permission_classes = [ActionCapabilities]
    action_capabilities = {"list": can_view_worklist, "retrieve": can_view_worklist,
                           "contacts": can_view_worklist}

    def get_queryset(self) -> QuerySet[ScheduledItem]:
        return (
            ScheduledItem.objects.filter(patient__in=patients_for(self.request.user))
            .select_related("patient", "study")
            .order_by("due_date", "kind", "id")
        )

    def get_serializer_context(self) -> dict:
        return {**super().get_serializer_context(), "today": timezone.localdate()}

    def get_object(self) -> ScheduledItem:
        item = super().get_object()
        note_patient_viewed(item.patient)  # recorded by the audit middleware on reads only
        return item

    @extend_schema(methods=["GET"], responses=ContactSerializer(many=True))
    @extend_schema(methods=["POST"], request=ContactSerializer,
                   responses={201: ContactSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=ContactSerializer,
            filterset_class=None)
    def contacts(self, request, uuid=None):
        """The item's contact log, newest first; POST logs a contact and applies it to
        the item (rescheduled → new date; declined → cancelled; imaging done elsewhere →
        done on `done_on`)."""
        item = self.get_object()  # another site's item is a 404 before any role check
        if request.method == "POST" and not can_work_worklist(request.user):
            raise PermissionDenied("Radiologists can read the contact log but not log contacts.")
        if request.method == "GET":
            page = self.paginate_queryset(item_contacts(item))
            return self.get_paginated_response(ContactSerializer(page, many=True).data)
        serializer = ContactSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            entry = contact_log(item=item, by=request.user, **serializer.validated_data)
        except DjangoValidationError as exc:
            raise ValidationError(drf_errors(exc)) from exc
        return Response(ContactSerializer(entry).data, status=status.HTTP_201_CREATED)
