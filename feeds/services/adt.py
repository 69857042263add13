"""ADT: register or update patients (A01/A04/A05/A08/A28/A31) and merge records (A40).

Every patient write goes through `patients.services` (record_save, patient_merge).
"""

from django.core.exceptions import ValidationError

from audit.models import Action
from audit.services import audit_record
from patients.models import Patient
from patients.services import MergeConflict, patient_merge, record_save

from ..models import Message
from ..parsing import error
from .common import Identity, Outcome, identity

REGISTER = {"A01", "A04", "A05", "A08", "A28", "A31"}
MERGE = {"A40"}
# Model fields of a patient and the PID fields they come from (for AE reasons).
PID_FIELD = {"mrn": "PID-3", "family_name": "PID-5.1", "given_name": "PID-5.2",
             "date_of_birth": "PID-7"}


def process(ctx) -> Outcome:
    trigger = ctx.trigger
    if trigger in REGISTER:
        return _register(ctx)
    if trigger in MERGE:
        return _merge(ctx)
    return Outcome(status=Message.Status.IGNORED,
                   detail=f"ADT^{trigger} is not used by the tracker (it registers, updates and merges "
                          "patients).")


def validation_reason(exc: ValidationError, fields: dict[str, str]) -> tuple[str, str]:
    """(reason, HL7 location) of a model's validation error, in the sender's terms."""
    if not hasattr(exc, "error_dict"):
        return "; ".join(exc.messages), ""
    parts, where = [], ""
    for name, errors in exc.message_dict.items():
        location = fields.get(name, "")
        where = where or location
        label = f"{location} ({name.replace('_', ' ')})" if location else name.replace("_", " ")
        parts.append(f"{label}: {' '.join(errors)}")
    return "; ".join(parts), where


def _save(patient: Patient) -> None:
    try:
        record_save(patient)
    except ValidationError as exc:
        raise error(*validation_reason(exc, PID_FIELD)) from exc


def _newer_update_applied(ctx, patient: Patient) -> bool:
    """An ADT with a later MSH-7 was applied already: this one arrived out of order."""
    if ctx.header.message_time is None:
        return False
    return Message.objects.filter(
        patient=patient, message_type__startswith="ADT", status=Message.Status.PROCESSED,
        message_time__gt=ctx.header.message_time).exists()


def _register(ctx) -> Outcome:
    who = identity(ctx.reader, ctx.rep)
    patient = Patient.objects.select_for_update().filter(site=ctx.site, mrn=who.mrn).first()
    if patient is not None and _newer_update_applied(ctx, patient):
        return Outcome(patient=patient, detail="Older than an update already applied (MSH-7): kept, "
                                              "not applied.")
    if patient is None:
        _require_demographics(who)
        patient = Patient(site=ctx.site, mrn=who.mrn, family_name=who.family_name,
                          given_name=who.given_name, date_of_birth=who.date_of_birth)
        _save(patient)
        detail = "Patient registered."
    else:
        changed = _update(patient, who)
        detail = "Patient updated." if changed else "No change to the patient."
    released = ctx.release_held(patient)
    if released:
        detail += f" {released} held message(s) for this MRN processed."
    return Outcome(patient=patient, detail=detail)


def _require_demographics(who: Identity) -> None:
    if not who.family_name:
        raise error("PID-5 carries no family name: the tracker registers a patient with her name "
                    "and date of birth.", "PID-5")
    if not who.given_name:
        raise error("PID-5.2 carries no given name.", "PID-5")
    if who.date_of_birth is None:
        raise error("PID-7 carries no date of birth.", "PID-7")


def _update(patient: Patient, who: Identity) -> bool:
    changed = False
    for name in ("family_name", "given_name", "date_of_birth"):
        value = getattr(who, name)
        if value and getattr(patient, name) != value:
            setattr(patient, name, value)
            changed = True
    if changed:
        _save(patient)
    return changed


def _merge(ctx) -> Outcome:
    """A40: the patient of MRG-1 (prior MRN) is merged into the patient of PID-3."""
    who = identity(ctx.reader, ctx.rep)
    prior_mrn = ctx.reader.value("MRG", 1, 1, 1)
    if not ctx.reader.has("MRG") or not prior_mrn:
        raise error("ADT^A40 needs MRG-1, the medical record number being merged away.", "MRG-1")
    ids = {p.mrn: p for p in Patient.objects.select_for_update().filter(site=ctx.site,
                                                                          mrn__in=[who.mrn, prior_mrn])}
    survivor, prior = ids.get(who.mrn), ids.get(prior_mrn)
    if prior is None:
        detail = ("The prior MRN has no patient in the tracker: nothing to merge."
                  if survivor else "Neither MRN has a patient in the tracker: nothing to merge.")
        return Outcome(status=Message.Status.IGNORED, detail=detail, patient=survivor)
    if survivor is None:
        prior.mrn = who.mrn
        _save(prior)
        ctx.release_held(prior)
        return Outcome(patient=prior, detail="The patient's MRN changed to the surviving MRN.")
    try:
        # patient_merge is atomic: a conflict rolls back its savepoint, nothing has moved.
        patient_merge(survivor=survivor, merged=prior)
    except MergeConflict as exc:
        return Outcome.held(Message.HoldReason.MERGE_CONFLICT, str(exc), patient=survivor)
    audit_record(action=Action.UPDATE, obj=survivor, actor=ctx.user,
                 changes={"merged_patient": {"before": prior.pk, "after": None},
                          "via": {"before": None, "after": f"HL7 message {ctx.message.pk}"}})
    ctx.release_held(survivor)
    return Outcome(patient=survivor, detail="The prior record was merged into the surviving one.")

