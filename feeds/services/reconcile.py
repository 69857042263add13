"""The reconciliation queue: staff match a held message to a patient, register her from the
message, or close a hold they dealt with by hand. The message is then processed."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from patients.models import Patient
from patients.services import record_save

from ..models import Message
from .intake import message_reprocess

PATIENT_HOLDS = (Message.HoldReason.UNMATCHED, Message.HoldReason.DOB_MISMATCH)


def _same_identifier(message: Message) -> list[Message]:
    """The held messages of the same MRN at the same site, oldest first: one decision each."""
    return list(Message.objects.filter(site=message.site_id, mrn=message.mrn, status=Message.Status.HELD,
                                       hold_reason__in=PATIENT_HOLDS).order_by("received_at", "id"))


@transaction.atomic
def held_match(*, message: Message, patient: Patient, by: AbstractBaseUser) -> list[Message]:
    """Process the message (and the others held for its MRN) for the patient staff chose."""
    if message.status != Message.Status.HELD or message.hold_reason not in PATIENT_HOLDS:
        raise ValidationError("This message is not waiting for a patient.")
    if patient.site_id != message.site_id:
        raise PermissionDenied("The patient belongs to another site.")
    done = []
    for held in _same_identifier(message):
        done.append(message_reprocess(message=held, by=by, patient=patient))
    audit_record(action=Action.UPDATE, obj=message, patient=patient, actor=by,
                 changes={"matched": {"before": None, "after": patient.pk},
                          "messages": [m.pk for m in done]})
    return done


@transaction.atomic
def held_register(*, message: Message, data: dict, by: AbstractBaseUser) -> Patient:
    """Register the patient the message is about (values checked by staff), then process it."""
    if message.status != Message.Status.HELD or message.hold_reason != Message.HoldReason.UNMATCHED:
        raise ValidationError("Only a message whose MRN has no patient can register one.")
    patient = Patient(site_id=message.site_id, mrn=message.mrn, **data)
    record_save(patient)
    for held in _same_identifier(message):
        message_reprocess(message=held, by=by, patient=patient)
    return patient


@transaction.atomic
def held_close(*, message: Message, by: AbstractBaseUser, note: str) -> Message:
    """A hold staff dealt with by hand (a signed study amended, records merged by hand)."""
    if message.status != Message.Status.HELD:
        raise ValidationError("This message is not held.")
    if not note.strip():
        raise ValidationError({"note": "Say what was done."})
    message = Message.objects.select_for_update().get(pk=message.pk)
    message.status, message.hold_reason = Message.Status.IGNORED, ""
    message.detail = f"{message.detail} Closed by hand: {note.strip()}"
    message.resolved_by, message.resolved_at = by, timezone.now()
    message.save()
    audit_record(action=Action.UPDATE, obj=message, patient=message.patient, actor=by,
                 changes={"closed": {"before": "held", "after": note.strip()}})
    return message
