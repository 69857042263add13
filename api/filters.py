"""List filters (django-filter). None of them takes a patient detail: no names or MRNs
in URLs; patients are filtered by UUID."""

from datetime import UTC

import django_filters as df
from django.db.models import Exists, OuterRef
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from alerts.models import Alert, AlertState, Rule, Severity
from imaging import vocabulary as iv
from imaging.models import ImagingStudy
from patients import vocabulary as pv
from patients.models import Pathology, Patient
from surveillance.models import ScheduledItem

SCHEDULE_STATES = ("upcoming", "due", "overdue", "done", "cancelled")


class InstantFilter(df.IsoDateTimeFilter):
    """An ISO 8601 date-time, compared in UTC. Python reads offsets up to ±23:59 but
    PostgreSQL refuses any beyond ±15:59, so the value is converted before the query."""

    def filter(self, qs, value):
        if value is not None:
            try:
                value = value.astimezone(UTC)
            except OverflowError as exc:
                raise ValidationError({self.field_name: ["Date-time out of range."]}) from exc
        return super().filter(qs, value)


class PatientFilter(df.FilterSet):
    site = df.CharFilter(field_name="site__code", help_text="Site code.")
    follow_up_status = df.ChoiceFilter(choices=pv.FollowUpStatus.choices)
    subtype = df.ChoiceFilter(field_name="tumour__subtype", choices=pv.Subtype.choices)
    histology = df.ChoiceFilter(field_name="tumour__histology", choices=pv.Histology.choices)
    diagnosed_after = df.DateFilter(field_name="tumour__diagnosis_date", lookup_expr="gte")
    diagnosed_before = df.DateFilter(field_name="tumour__diagnosis_date", lookup_expr="lte")
    pcr = df.BooleanFilter(method="filter_pcr", help_text="Pathological complete response at surgery.")

    class Meta:
        model = Patient
        fields = ["site", "follow_up_status", "subtype", "histology", "pcr"]

    def filter_pcr(self, queryset, name: str, value: bool):
        # Through the pathology's manager: a voided surgery's pathology counts for nothing
        # (a join `surgeries__pathology__pcr` would not apply the managers).
        return queryset.filter(Exists(Pathology.objects.filter(surgery__patient=OuterRef("pk"), pcr=value)))


class StudyFilter(df.FilterSet):
    patient = df.UUIDFilter(field_name="patient__uuid", help_text="Patient UUID.")
    modality = df.ChoiceFilter(choices=iv.Modality.choices)
    phase = df.ChoiceFilter(choices=iv.Phase.choices)
    status = df.ChoiceFilter(choices=iv.StudyStatus.choices)
    birads = df.ChoiceFilter(choices=iv.BiRads.choices)
    laterality = df.ChoiceFilter(choices=pv.Laterality.choices)
    date_after = df.DateFilter(field_name="study_date", lookup_expr="gte")
    date_before = df.DateFilter(field_name="study_date", lookup_expr="lte")

    class Meta:
        model = ImagingStudy
        fields = ["patient", "modality", "phase", "status", "birads", "laterality"]


class AlertFilter(df.FilterSet):
    patient = df.UUIDFilter(field_name="patient__uuid", help_text="Patient UUID.")
    severity = df.ChoiceFilter(choices=Severity.choices)
    rule = df.ChoiceFilter(choices=Rule.choices)
    state = df.ChoiceFilter(choices=AlertState.choices)
    breast = df.ChoiceFilter(choices=pv.Breast.choices)
    created_after = InstantFilter(field_name="created_at", lookup_expr="gte")
    created_before = InstantFilter(field_name="created_at", lookup_expr="lte")

    class Meta:
        model = Alert
        fields = ["patient", "severity", "rule", "state", "breast"]


class ScheduleFilter(df.FilterSet):
    """`state` is computed as of today from the stored status and the item's dates, the
    same way `ScheduledItem.state()` does."""

    patient = df.UUIDFilter(field_name="patient__uuid", help_text="Patient UUID.")
    kind = df.ChoiceFilter(choices=ScheduledItem.Kind.choices)
    state = df.ChoiceFilter(choices=[(s, s) for s in SCHEDULE_STATES], method="filter_state",
                            help_text="State as of today.")
    site = df.CharFilter(field_name="patient__site__code", help_text="Site code.")
    due_after = df.DateFilter(field_name="due_date", lookup_expr="gte")
    due_before = df.DateFilter(field_name="due_date", lookup_expr="lte")

    class Meta:
        model = ScheduledItem
        fields = ["patient", "kind", "state", "site"]

    def filter_state(self, queryset, name: str, value: str):
        today = timezone.localdate()
        pending = queryset.filter(status=ScheduledItem.Status.PENDING)
        if value == "upcoming":
            return pending.filter(due_from__gt=today)
        if value == "due":
            return pending.filter(due_from__lte=today, overdue_after__gte=today)
        if value == "overdue":
            return pending.filter(overdue_after__lt=today)
        return queryset.filter(status=value)  # done, cancelled
