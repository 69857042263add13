"""ORM^O01 / OMI^O23: an imaging order, linked to the surveillance item it fulfils.

The link is the pending scheduled item of the same kind (mammogram for MG, MRI for MR)
whose matching window holds the order's date, nearest to its due date. The plan itself is
not changed: the study the order produces is matched to the plan when it is signed.
"""

from datetime import date

from django.core.exceptions import ValidationError

from patients.models import Patient
from surveillance.models import ScheduledItem

from ..models import Message, Order
from ..parsing import error, parse_date
from .common import Outcome, find_patient, identity
from .results import Result, procedure

NEW = {"NW", "SC", "XO", "SN", "RO", ""}
CANCEL = {"CA", "DC", "OC", "CR", "OD"}
KINDS = {"MG": [ScheduledItem.Kind.MAMMOGRAM, ScheduledItem.Kind.DIAGNOSTIC_MAMMOGRAM],
         "MR": [ScheduledItem.Kind.MRI]}


def process(ctx) -> Outcome:
    who = identity(ctx.reader, ctx.rep)
    ctx.message.mrn = who.mrn
    reader = ctx.reader
    control = reader.value("ORC", 1).upper()
    placer = reader.value("ORC", 2) or reader.value("OBR", 2)
    if not placer:
        raise error("ORC-2 (placer order number) is empty: the tracker follows an order by it.", "ORC-2")
    if len(placer) > 64:
        raise error("ORC-2 (placer order number) is longer than 64 characters.", "ORC-2")
    if control not in NEW | CANCEL:
        return Outcome(status=Message.Status.IGNORED,
                       detail=f"Order control {control} (ORC-1) is not used by the tracker.")
    ctx.message.accession = (reader.value("ORC", 3) or reader.value("OBR", 3))[:64]
    patient = ctx.forced_patient
    if patient is None:
        patient, hold = find_patient(ctx.site, who)
        if hold is not None:
            return hold
    order = Order.objects.select_for_update().filter(patient=patient, placer_number=placer).first()
    if control in CANCEL:
        if order is None:
            return Outcome(status=Message.Status.IGNORED, patient=patient,
                           detail="Cancellation of an order the tracker never received.")
        order.status, order.message = Order.Status.CANCELLED, ctx.message
        order.save(update_fields=["status", "message", "updated_at"])
        return Outcome(patient=patient, detail=f"Order {placer} cancelled.")
    return _schedule(ctx, patient, order, placer)


def _scheduled_date(reader) -> date | None:
    for args in (("TQ1", 7), ("ORC", 7, 1, 4), ("OBR", 27, 1, 4), ("OBR", 36), ("OBR", 6), ("ORC", 9)):
        if (value := parse_date(reader.value(*args))) is not None:
            return value
    return None


def _schedule(ctx, patient: Patient, order: Order | None, placer: str) -> Outcome:
    reader = ctx.reader
    result = Result(number=1, accession=ctx.message.accession, placer=placer, study_date=None,
                    code=reader.value("OBR", 4, 1, 1), procedure_text=reader.value("OBR", 4, 1, 2),
                    section=reader.value("OBR", 24), result_status="", report_text="", birads=None)
    modality, laterality = procedure(result)
    when = _scheduled_date(reader)
    order = order or Order(patient=patient, placer_number=placer)
    order.accession, order.procedure_code = ctx.message.accession, result.code[:50]
    order.modality, order.laterality, order.scheduled_for = modality, laterality or "", when
    order.status, order.message = Order.Status.SCHEDULED, ctx.message
    order.scheduled_item = item_for(patient, modality, when)
    try:
        order.full_clean(exclude=["message", "scheduled_item", "study"])
    except ValidationError as exc:
        raise error("; ".join(exc.messages), "ORC") from exc
    order.save()
    if order.scheduled_item is None:
        linked = "no pending surveillance item of this kind in its window"
    else:
        item = order.scheduled_item
        linked = f"linked to the {item.get_kind_display().lower()} due {item.due_date:%d %b %Y}"
    return Outcome(patient=patient, detail=f"Order {placer} for {when or 'an unknown date'}: {linked}.")


def item_for(patient: Patient, modality: str, when: date | None) -> ScheduledItem | None:
    """The pending item of this modality whose window holds `when`, nearest its due date."""
    kinds = KINDS.get(modality)
    if not kinds or when is None:
        return None
    items = ScheduledItem.objects.filter(patient=patient, kind__in=kinds, status=ScheduledItem.Status.PENDING,
                                         window_start__lte=when, window_end__gte=when)
    return min(items, key=lambda i: (abs((i.due_date - when).days), i.id), default=None)
