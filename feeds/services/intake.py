"""One message in, one acknowledgement out, after commit.

`receive` is what the MLLP listener calls for every message:

1. Read the header and decode the bytes as MSH-18 says; parse (python-hl7). A message that
   cannot be read is kept as rejected and answered AR with the reason.
2. In one transaction: the raw message row, inserted as accepted, which claims its control
   ID (MSH-10) for its sender; the processing of its type, its status, and the audit event.
   An AE or AR rolls all of it back and keeps the row, with why, in a transaction of its own.
3. Idempotency: when the claim fails (the database's unique constraint on accepted control
   IDs), the message is not processed again; the same bytes get the same answer (AA), other
   bytes with that ID an AR.
4. The ACK is built only after that transaction committed. When the database cannot be
   reached nothing is acknowledged (`None`): the listener closes the connection and the
   sender resends, as MLLP senders do with anything not acknowledged.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from audit.models import Action
from audit.services import audit_record
from patients.models import Patient, Site

from ..models import Message
from ..parsing import FeedError, Header, Reader, ack, decode, parse, read_header, reject
from . import adt, orders, results
from .common import FEED_USERNAME, Outcome, clear_configuration, feed_user, source_for, unique_row

log = logging.getLogger(__name__)

HANDLERS: dict[str, Callable] = {"ADT": adt.process, "ORU": results.process, "ORM": orders.process,
                                 "OMI": orders.process}
# What processing and `_record` write on a message row after inserting it.
OUTCOME_FIELDS = ["site", "mrn", "accession", "encoding", "status", "ack_code", "hold_reason", "detail",
                  "patient", "study", "processed_at"]
# Message types and the triggers of each the tracker takes (others of a known type are AR).
TRIGGERS = {"ORU": {"R01"}, "ORM": {"O01"}, "OMI": {"O23"}}


@dataclass
class Context:
    """What a message type's processing reads: the message, its row, site and acting user."""

    message: Message
    reader: Reader
    header: Header
    site: Site
    rep: str
    user: AbstractBaseUser
    trigger: str
    forced_patient: Patient | None = None  # chosen by staff in the reconciliation queue
    released: list[int] = field(default_factory=list)

    def release_held(self, patient: Patient) -> int:
        """Process again the messages held because this MRN had no patient (an ORU that came
        before its ADT): they now find her. Each in its own savepoint."""
        held = list(Message.objects.filter(site=self.site, mrn=patient.mrn, status=Message.Status.HELD,
                                           hold_reason=Message.HoldReason.UNMATCHED)
                    .exclude(pk=self.message.pk).order_by("received_at", "id").values_list("pk", flat=True))
        for pk in held:
            _reprocess(pk, by=self.user, patient=None)
        self.released.extend(held)
        return len(held)


def receive(raw: bytes, *, size: int | None = None, limit: int = 0) -> bytes | None:
    """Process one message (raw bytes, without the MLLP frame); the ACK, or None when it could
    not be stored. `size` is the real size when `raw` is the beginning of a message larger
    than `limit` bytes (kept in the log, refused)."""
    header = read_header(raw)
    try:
        return _receive(raw, header, size, limit)
    except (OperationalError, InterfaceError):
        log.exception("database unavailable: message not acknowledged, the sender will resend")
        connection.close()  # a fresh connection for the next message
        return None


def _receive(raw: bytes, header: Header, size: int | None, limit: int) -> bytes:
    if size is not None:
        too_large = reject(f"The message is {size:,} bytes; the tracker takes at most {limit:,} "
                           "(HL7_MAX_MESSAGE_BYTES); nothing of it was processed.", "MSH")
        return _refuse(raw, header, too_large, size=size)
    try:
        text, codec = decode(raw, header)
        message = parse(text)
        _check_header(header, message)
    except FeedError as exc:
        return _refuse(raw, header, exc)
    for _attempt in range(2):
        try:
            return _accept(raw, header, codec, message)
        except IntegrityError:
            # The control ID was accepted before, or by another connection at this moment (the
            # insert waited for its commit): answered as a duplicate. None found when that
            # other message ended refused: it is processed again.
            with transaction.atomic():
                duplicate = unique_row(Message.objects.select_for_update().filter(
                    sending_application=header.sending_application, sending_facility=header.sending_facility,
                    control_id=header.control_id, status__in=Message.ACCEPTED))
                if duplicate is not None:
                    return _duplicate(duplicate, raw, header, message)
    raise OperationalError("the same control ID kept colliding")


def refuse_unframed() -> bytes:
    """The AR for bytes outside any MLLP frame (nothing to keep: no message was sent)."""
    log.warning("bytes outside an MLLP frame were refused")
    return ack(None, Header(), "AR", "Bytes outside an MLLP frame: wrap each message in <VT> … <FS><CR>.")


def _check_header(header: Header, message) -> None:
    if not header.control_id:
        raise reject("MSH-10 (message control ID) is empty: the tracker needs it to take each "
                     "message exactly once.", "MSH-10")
    if not header.message_type or "^" not in header.message_type:
        raise reject("MSH-9 (message type) must give the type and trigger event, e.g. ORU^R01.", "MSH-9")
    version = Reader(message).value("MSH", 12)
    if not version.startswith("2."):
        raise reject(f"MSH-12 (version) is '{version[:10]}'; the tracker reads HL7 version 2.x.", "MSH-12")
    kind, trigger = header.message_type.split("^", 1)
    if kind not in HANDLERS:
        raise reject(f"Message type {kind} is not taken by the tracker (it takes ADT, ORM, OMI and ORU).",
                     "MSH-9")
    if kind in TRIGGERS and trigger not in TRIGGERS[kind]:
        raise reject(f"{header.message_type} is not taken by the tracker; for {kind} it takes "
                     f"{', '.join(sorted(TRIGGERS[kind]))}.", "MSH-9")


def _refuse(raw: bytes, header: Header, exc: FeedError, *, size: int | None = None) -> bytes:
    with transaction.atomic():
        row = Message.objects.create(
            raw=raw, size=size or len(raw), control_id=header.control_id,
            sending_application=header.sending_application, sending_facility=header.sending_facility,
            message_type=header.message_type, message_time=header.message_time,
            status=Message.Status.REJECTED if exc.code == "AR" else Message.Status.ERROR,
            ack_code=exc.code, detail=exc.reason, processed_at=timezone.now())
        _audit(row, None, feed_user())
    return ack(None, header, exc.code, exc.reason, exc.where)


def _accept(raw: bytes, header: Header, codec: str, message) -> bytes:
    """Claim the control ID and process the message; IntegrityError when it was accepted before.

    The row goes in as accepted before it is processed, so the database's unique constraint
    on accepted control IDs is the duplicate check: no query first, and the same message on
    two connections at once waits for the first one's commit. A refused message (AE, AR)
    rolls the whole transaction back, claim included, and is kept by a second one: no
    savepoint around the processing of every message for the few refused (three statements
    fewer per message with the claim, docs/performance.md row 9).
    """
    user = feed_user()
    with transaction.atomic():
        row = Message.objects.create(
            raw=raw, size=len(raw), encoding=codec, control_id=header.control_id,
            sending_application=header.sending_application, sending_facility=header.sending_facility,
            message_type=header.message_type, message_time=header.message_time,
            status=Message.Status.PROCESSED, ack_code="AA")
        outcome, failure = _run(row, message, header, user=user)
        if failure is None:
            _record(row, outcome, None, user)
        else:
            transaction.set_rollback(True)
    if failure is not None:
        with transaction.atomic():
            row.pk, row._state.adding = None, True  # the claim was rolled back: a new row
            _record(row, outcome, failure, user)
        return ack(message, header, failure.code, failure.reason, failure.where)
    return ack(message, header, "AA", row.detail)


def _duplicate(row: Message, raw: bytes, header: Header, message) -> bytes:
    if bytes(row.raw) != raw:
        # Not the same message: keep it, refuse it, leave the accepted one alone.
        exc = reject(f"Control ID {header.control_id} (MSH-10) was used by another message accepted "
                     f"on {row.received_at:%Y-%m-%d %H:%M}; give each message its own control ID.", "MSH-10")
        Message.objects.create(raw=raw, size=len(raw), control_id=header.control_id,
                               sending_application=header.sending_application,
                               sending_facility=header.sending_facility, message_type=header.message_type,
                               message_time=header.message_time, status=Message.Status.REJECTED,
                               ack_code="AR", detail=exc.reason, processed_at=timezone.now())
        return ack(message, header, "AR", exc.reason, exc.where)
    Message.objects.filter(pk=row.pk).update(deliveries=row.deliveries + 1, last_received_at=timezone.now())
    return ack(message, header, "AA", f"Duplicate of a message already accepted. {row.detail}".strip())


def _run(row: Message, message, header: Header, *, user: AbstractBaseUser,
         patient: Patient | None = None) -> tuple[Outcome, FeedError | None]:
    """Run the message type's processing: its outcome, and the AE/AR error when it refused the
    message, whose writes the caller then rolls back (the transaction may be unusable)."""
    reader = Reader(message)
    kind, trigger = header.message_type.split("^", 1)
    try:
        source, rep = source_for(header.sending_facility, reader)
        row.site = source.site
        ctx = Context(message=row, reader=reader, header=header, site=source.site, rep=rep, user=user,
                      trigger=trigger, forced_patient=patient)
        return HANDLERS[kind](ctx), None
    except FeedError as exc:
        return Outcome(detail=exc.reason), exc
    except ValidationError as exc:
        failure = FeedError("AE", "; ".join(exc.messages))
    except (OperationalError, InterfaceError):
        raise
    except DatabaseError as exc:
        # A constraint the validation did not foresee: refused, never half-written.
        log.exception("feed message (control ID %s): database refused its writes", header.control_id)
        failure = FeedError("AE", f"The tracker's database refused the message ({type(exc).__name__}); "
                                  "it is kept and can be processed again.")
    except Exception:
        log.exception("feed message (control ID %s) failed", header.control_id)
        failure = FeedError("AE", "The tracker failed to process the message; it is kept and an "
                                  "administrator can process it again.")
    return Outcome(detail=failure.reason), failure


def _process(row: Message, message, header: Header, *, user: AbstractBaseUser,
             patient: Patient | None = None) -> FeedError | None:
    """Process a kept row again in a savepoint (an AE or AR undoes every write but the row's
    outcome) and record the outcome on it. Returns the AE/AR error, or None when accepted."""
    with transaction.atomic():
        outcome, failure = _run(row, message, header, user=user, patient=patient)
        if failure is not None:
            transaction.set_rollback(True)
    _record(row, outcome, failure, user)
    return failure


def _record(row: Message, outcome: Outcome, failure: FeedError | None, user: AbstractBaseUser) -> None:
    if failure is not None:
        row.status = Message.Status.REJECTED if failure.code == "AR" else Message.Status.ERROR
        row.ack_code, row.hold_reason = failure.code, ""
    else:
        row.status, row.ack_code, row.hold_reason = outcome.status, "AA", outcome.hold_reason
    row.detail = outcome.detail
    row.patient = outcome.patient if outcome.patient is not None and outcome.patient.pk else None
    row.study_id = outcome.study_id
    row.processed_at = timezone.now()
    # Not `raw` again: the message's bytes are stored once. A row without a key is a refused
    # message whose claim was rolled back: it is inserted, with its outcome.
    row.save(update_fields=OUTCOME_FIELDS if row.pk is not None else None)
    _audit(row, row.patient, user)


def _audit(row: Message, patient: Patient | None, user: AbstractBaseUser) -> None:
    audit_record(action=Action.IMPORT, obj=row, patient=patient, actor=user, changes={
        "message_type": row.message_type, "control_id": row.control_id, "status": row.status,
        "ack": row.ack_code, "study_id": row.study_id})


def _reprocess(pk: int, *, by: AbstractBaseUser, patient: Patient | None) -> Message:
    """Process a kept message again (held, error or rejected), in a savepoint."""
    with transaction.atomic():
        row = Message.objects.select_for_update().get(pk=pk)
        if row.status in (Message.Status.PROCESSED, Message.Status.IGNORED):
            return row
        raw = bytes(row.raw)
        header = read_header(raw)
        try:
            if row.size > len(raw):
                raise reject("Only the beginning of this oversized message was kept; the sender must "
                             "send it again, smaller.", "MSH")
            text, codec = decode(raw, header)
            message = parse(text)
            _check_header(header, message)
        except FeedError as exc:
            _record(row, Outcome(detail=exc.reason), exc, by)
            return row
        clash = (Message.objects.filter(sending_application=row.sending_application,
                                        sending_facility=row.sending_facility, control_id=row.control_id,
                                        status__in=Message.ACCEPTED).exclude(pk=row.pk).exists())
        if clash:
            _record(row, Outcome(detail="Another message with this control ID was accepted since."),
                    reject("Another message with this control ID was accepted since.", "MSH-10"), by)
            return row
        row.encoding = codec
        _process(row, message, header, user=by, patient=patient)
        if row.status != Message.Status.HELD and by.username != FEED_USERNAME:
            row.resolved_by, row.resolved_at = by, timezone.now()
            row.save(update_fields=["resolved_by", "resolved_at"])
        return row


def message_reprocess(*, message: Message, by: AbstractBaseUser, patient: Patient | None = None) -> Message:
    """Staff process a kept message again: after an administrator fixed the configuration
    (an error or rejection), or with the patient they matched it to (a held message)."""
    clear_configuration()  # the configuration as the administrator just left it
    return _reprocess(message.pk, by=by, patient=patient)
