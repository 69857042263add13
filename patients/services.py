"""Every write of a patient's record: registration, tumour profile, treatment, visits.

The clinic pages (`patients.views`), the API and the imports call these functions; each
validates with the models' own rules (`full_clean`) and writes, in the same transaction,
the outbox events other apps react to (`outbox.models.Event`): a changed surgery,
radiotherapy, tumour profile or risk flag rebuilds the surveillance plan, a recorded visit
is matched to it.

`patient_save` (the API's nested write) is all or nothing: every object is validated
(`full_clean`) before anything is written, and errors come back per field and per row,
keyed by the row's index as DRF does, e.g. ``{"nac_courses": {"1": {"end_date": [...]}}}``.
Nested lists given in `data` replace the patient's rows; lists left out are kept as they are.
The nested `contact` (contact details) is updated field by field.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction

from audit.models import Action
from audit.services import audit_record
from core.constraints import field_error_from_integrity
from core.permissions import can_edit_records, can_log_visits
from core.voiding import Voidable, void_record
from outbox.models import Event
from outbox.services import event_write

from .models import (
    ClinicalEvent,
    ClinicVisit,
    ContactDetails,
    NacCourse,
    Pathology,
    Patient,
    Radiotherapy,
    Surgery,
    TumourProfile,
    patient_dates,
)
from .rules import PatientDates, Span

PATIENT_FIELDS = (
    "site", "mrn", "given_name", "family_name", "date_of_birth", "follow_up_status",
    "pathogenic_variant", "chest_radiation_before_30", "lifetime_risk_percent", "notes",
)
RecordT = TypeVar("RecordT", bound=models.Model)

CHILD_LISTS = {"nac_courses": NacCourse, "radiotherapy": Radiotherapy, "surgeries": Surgery}


class PatientValidationError(Exception):
    """Nested per-field errors of a patient and its rows (DRF's error layout)."""

    def __init__(self, errors: dict[str, Any]):
        super().__init__("invalid patient data")
        self.errors = errors


def _clean(obj, exclude: list[str]) -> dict[str, Any]:
    try:
        obj.full_clean(exclude=exclude)
    except ValidationError as exc:
        return {("non_field_errors" if k == "__all__" else k): v
                for k, v in exc.message_dict.items()}
    return {}


def _build(model, patient: Patient, row: dict) -> tuple[Any, Any]:
    row = dict(row)
    pathology_data = row.pop("pathology", None)
    obj = model(patient=patient, **row)
    pathology = Pathology(surgery=obj, **pathology_data) if pathology_data else None
    return obj, pathology


@contextmanager
def refused_by_database() -> Iterator[None]:
    """A write the database refuses by a check constraint becomes that field's error."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError as exc:
        mapped = field_error_from_integrity(exc)
        if mapped is None:
            raise
        raise mapped from exc


def _whole_patient_dates(patient: Patient, data: dict[str, Any], tumour: TumourProfile | None,
                         rows: dict[str, list[tuple[Any, Any]]]) -> PatientDates:
    """The dates of the patient as this write leaves her: the rows given in `data`, the
    stored rows of the lists left out (`patient_save`)."""
    stored = patient_dates(patient, with_others=True) if patient.pk else PatientDates()
    diagnosis = (tumour.diagnosis_date if tumour is not None
                 else None if "tumour" in data else stored.diagnosis)

    def spans(key: str, kept: tuple[Span, ...]) -> tuple[Span, ...]:
        if key not in rows:
            return kept
        return tuple(Span(o.start_date, o.end_date) for o, _ in rows[key])

    surgeries = (tuple(o.date for o, _ in rows["surgeries"]) if "surgeries" in rows
                 else stored.surgeries)
    return PatientDates(birth=patient.date_of_birth, diagnosis=diagnosis,
                        nac=spans("nac_courses", stored.nac), surgeries=surgeries,
                        radiotherapy=spans("radiotherapy", stored.radiotherapy),
                        others=stored.others)


def _without(dates: PatientDates, key: str, index: int) -> PatientDates:
    """`dates` less row `index` of the list `key` (the row under check)."""
    name = {"nac_courses": "nac", "surgeries": "surgeries", "radiotherapy": "radiotherapy"}[key]
    rest = getattr(dates, name)
    return dataclasses.replace(dates, **{name: rest[:index] + rest[index + 1:]})


@transaction.atomic
def patient_save(*, data: dict[str, Any], by: User,
                 patient: Patient | None = None) -> Patient:
    """Create or update a patient with tumour and treatment rows; all or nothing.

    The clinical rules (`patients.rules`) check each record against the patient's other
    records as this write leaves them, before anything is written.
    """
    if patient is not None:
        patient = Patient.objects.select_for_update().get(pk=patient.pk)
    else:
        patient = Patient()
    for name in PATIENT_FIELDS:
        if name in data:
            setattr(patient, name, data[name])

    tumour = None
    if data.get("tumour") is not None:
        tumour = getattr(patient, "tumour", None) if patient.pk else None
        tumour = tumour or TumourProfile(patient=patient)
        for name, value in data["tumour"].items():
            setattr(tumour, name, value)
    rows: dict[str, list[tuple[Any, Any]]] = {
        key: [_build(model, patient, row) for row in data[key]]
        for key, model in CHILD_LISTS.items() if key in data}
    dates = _whole_patient_dates(patient, data, tumour, rows)

    patient.patient_dates_given = dates
    errors: dict[str, Any] = _clean(patient, exclude=["uuid"])
    if tumour is not None:
        tumour.patient_dates_given = dataclasses.replace(dates, diagnosis=None)
        if tumour_errors := _clean(tumour, exclude=["patient"]):
            errors["tumour"] = tumour_errors

    contact = None
    if data.get("contact") is not None:
        contact = getattr(patient, "contact", None) if patient.pk else None
        contact = contact or ContactDetails(patient=patient)
        for name, value in data["contact"].items():
            setattr(contact, name, value)
        if contact_errors := _clean(contact, exclude=["patient"]):
            errors["contact"] = contact_errors

    for key, built in rows.items():
        row_errors = {}
        for i, (obj, pathology) in enumerate(built):
            obj.patient_dates_given = _without(dates, key, i)
            err = _clean(obj, exclude=["patient"])
            if pathology is not None and (p_err := _clean(pathology, exclude=["surgery"])):
                err["pathology"] = p_err
            if err:
                row_errors[str(i)] = err
        if row_errors:
            errors[key] = row_errors
    if errors:
        raise PatientValidationError(errors)
    try:
        return _patient_write(patient, data, tumour, contact, rows)
    except ValidationError as exc:
        raise PatientValidationError(_clean_messages(exc)) from exc


def _clean_messages(exc: ValidationError) -> dict[str, Any]:
    return {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}


@transaction.atomic
def _patient_write(patient: Patient, data: dict[str, Any], tumour: TumourProfile | None,
                   contact: ContactDetails | None, rows: dict[str, list[tuple[Any, Any]]]) -> Patient:
    with refused_by_database():
        _patient_write_rows(patient, data, tumour, contact, rows)
    return patient


def _patient_write_rows(patient: Patient, data: dict[str, Any], tumour: TumourProfile | None,
                        contact: ContactDetails | None,
                        rows: dict[str, list[tuple[Any, Any]]]) -> None:
    patient.save()
    if tumour is not None:
        tumour.patient = patient
        tumour.save()
    elif "tumour" in data and patient.pk:
        TumourProfile.objects.filter(patient=patient).delete()
    if contact is not None:
        contact.patient = patient
        contact.save()
    for key, built in rows.items():
        getattr(patient, key).all().delete()
        for obj, pathology in built:
            obj.patient = patient
            obj.save()
            if pathology is not None:
                pathology.surgery = obj
                pathology.save()
    event_write(kind=Event.Kind.ANCHORS_CHANGED, patient_id=patient.id)


# Saving one of these can move the surveillance plan's anchors (surgery date, RT end,
# diagnosis mammogram, breast composition and risk flags).
ANCHORS = (Patient, TumourProfile, Surgery, Radiotherapy)


def _record_events(record: models.Model) -> None:
    if isinstance(record, ANCHORS):
        patient_id = record.pk if isinstance(record, Patient) else record.patient_id
        event_write(kind=Event.Kind.ANCHORS_CHANGED, patient_id=patient_id)
    elif isinstance(record, ClinicVisit):
        event_write(kind=Event.Kind.VISIT_RECORDED, patient_id=record.patient_id, object_id=record.pk)


@transaction.atomic
def record_save(record: RecordT) -> RecordT:
    """Validate and save one record of a patient (the patient herself, her tumour profile, a
    NAC course, radiotherapy, a visit or an outcome event), with its outbox events."""
    record.full_clean()
    with refused_by_database():
        record.save()
    _record_events(record)
    return record


@transaction.atomic
def surgery_save(*, surgery: Surgery, pathology: Pathology | None = None) -> Surgery:
    """A surgery and, when given, its pathology: both saved or neither."""
    surgery.full_clean()
    if pathology is not None:
        pathology.full_clean(exclude=["surgery"])
    with refused_by_database():
        surgery.save()
        if pathology is not None:
            pathology.surgery = surgery
            pathology.save()
    _record_events(surgery)
    return surgery


VOIDABLE = (NacCourse, Radiotherapy, Surgery, ClinicVisit, ClinicalEvent)


def can_void(user, record: models.Model) -> bool:
    """Voiding a record needs the capability that edits it."""
    return can_log_visits(user) if isinstance(record, ClinicVisit) else can_edit_records(user)


@transaction.atomic
def record_void(*, record: Voidable, by: User, reason: str | None) -> Voidable:
    """Void one of the patient's NAC courses, radiotherapy courses, surgeries (their
    pathology goes with them), visits or outcome events, with a reason.

    The row stays (the history shows it struck through with its reason); every other read
    no longer sees it (`core.voiding`). The outbox event re-plans the patient (treatment
    dates) or unlinks the visit from her plan; the audit trail records who, when and why.
    Voiding a voided record changes nothing.
    """
    if not isinstance(record, VOIDABLE):
        raise TypeError(f"{type(record).__name__} is not voided here")
    if not can_void(by, record):
        raise PermissionDenied("Your role cannot void this record.")
    record = type(record).all_objects.select_for_update().get(pk=record.pk)
    if not void_record(record, by=by, reason=reason):
        return record
    audit_record(action=Action.VOID, obj=record, actor=by,
                 changes={"voided": {"before": False, "after": True}, "reason": record.void_reason})
    if isinstance(record, ClinicVisit):
        event_write(kind=Event.Kind.VISIT_VOIDED, patient_id=record.patient_id, object_id=record.pk)
    elif isinstance(record, (NacCourse, Radiotherapy, Surgery)):
        event_write(kind=Event.Kind.ANCHORS_CHANGED, patient_id=record.patient_id)
    return record


@transaction.atomic
def contact_details_save(*, patient: Patient, data: dict[str, Any]) -> ContactDetails:
    """Record or change how to reach the patient (the contact page; the API writes the same
    rows through `patient_save`). Validated as a whole (`ContactDetails.clean`): a channel
    the patient prefers needs her consent, each consent the detail it uses."""
    contact = ContactDetails.objects.select_for_update().filter(patient=patient).first()
    contact = contact or ContactDetails(patient=patient)
    for name, value in data.items():
        setattr(contact, name, value)
    contact.full_clean()
    contact.save()
    return contact
class MergeConflict(Exception):
    """Two records that a person must merge: the message says what stands in the way."""


def _relations_to_patient() -> list:
    """Every relation of every installed app that points at a patient (one-to-one and
    foreign keys): a merge moves them all without naming the apps above this one."""
    return [rel for rel in Patient._meta.related_objects
            if (rel.one_to_one or rel.one_to_many) and not rel.field.many_to_many]


@transaction.atomic
def patient_merge(*, survivor: Patient, merged: Patient) -> Patient:
    """Move every record of `merged` to `survivor`, then delete `merged` (HL7 ADT^A40).

    1. Both patients are locked and must belong to the same site.
    2. Each one-to-one record (tumour profile, surveillance plan, …) moves when only
       `merged` has one; when both have one a person must choose: `MergeConflict`.
    3. Each foreign-key row moves in a savepoint; a uniqueness rule it would break (the
       same accession on both records) is a `MergeConflict`, and nothing has moved.
    4. `merged` is deleted; a `patients_merged` event re-evaluates the survivor's alerts
       and rebuilds her plan after commit. The caller records the audit event.
    """
    if survivor.pk == merged.pk:
        raise MergeConflict("A patient cannot be merged into herself.")
    locked = {p.pk: p for p in Patient.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])}
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    if survivor.site_id != merged.site_id:
        raise MergeConflict("The two records belong to different sites.")
    for rel in _relations_to_patient():
        model, field = rel.related_model, rel.field.name
        if rel.one_to_one:
            if model._base_manager.filter(**{field: survivor}).exists() and \
                    model._base_manager.filter(**{field: merged}).exists():
                raise MergeConflict(f"Both records have a {model._meta.verbose_name}: "
                                    "merge them by hand.")
        try:
            with transaction.atomic():
                model._base_manager.filter(**{field: merged}).update(**{field: survivor})
        except IntegrityError as exc:
            raise MergeConflict(f"Both records have {model._meta.verbose_name_plural} that cannot "
                                "exist twice on one patient (e.g. the same accession number).") from exc
    merged.delete()
    event_write(kind=Event.Kind.PATIENTS_MERGED, patient_id=survivor.pk)
    return survivor
