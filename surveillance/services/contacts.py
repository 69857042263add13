"""The coordinator's contact log: each entry may also change the item it is about."""

from datetime import date

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core.permissions import can_work_worklist
from patients.models import Patient
from patients.vocabulary import FollowUpStatus

from .. import schedule
from ..models import ContactLog, ScheduledItem
from .plans import Protocols

Outcome = ContactLog.Outcome


@transaction.atomic
def contact_log(*, item: ScheduledItem, by: User, outcome: str, note: str = "",
                new_date: date | None = None, done_on: date | None = None,
                today: date | None = None) -> ContactLog:
    """Record a contact attempt and apply it to the item.

    rescheduled → the item moves to `new_date` (original kept), its state starts afresh;
    declined → the item is cancelled; done_elsewhere → the item is done on `done_on`.
    """
    if not can_work_worklist(by):
        raise PermissionDenied("Only coordinators, clinic staff and admins log contacts.")
    today = today or timezone.localdate()
    item = ScheduledItem.objects.select_for_update().select_related("patient").get(pk=item.pk)
    errors = _validate(item, outcome, new_date, done_on, today)
    if errors:
        raise ValidationError(errors)
    entry = ContactLog(item=item, patient_id=item.patient_id, outcome=outcome, note=note.strip(), by=by,
                       new_date=new_date if outcome == Outcome.RESCHEDULED else None,
                       done_on=done_on if outcome == Outcome.DONE_ELSEWHERE else None)
    entry.full_clean()
    entry.save()
    if outcome in (Outcome.RESCHEDULED, Outcome.DONE_ELSEWHERE):
        # The patient is back in touch: no longer lost to follow-up.
        Patient.objects.filter(id=item.patient_id, follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP).update(
            follow_up_status=FollowUpStatus.ACTIVE)
    if outcome == Outcome.RESCHEDULED:
        assert new_date is not None  # _validate requires it
        _reschedule(item, new_date)
    elif outcome == Outcome.DECLINED:
        item.status, item.cancel_reason = ScheduledItem.Status.CANCELLED, "declined by the patient"
        item.save()
    elif outcome == Outcome.DONE_ELSEWHERE:
        item.status, item.done_on = ScheduledItem.Status.DONE, done_on
        item.done_source = ScheduledItem.Source.ELSEWHERE
        item.save()
    return entry


def _validate(item: ScheduledItem, outcome: str, new_date: date | None, done_on: date | None,
              today: date) -> dict[str, str]:
    if outcome not in Outcome.values:
        return {"outcome": "Choose what happened."}
    if item.status != ScheduledItem.Status.PENDING:
        return {"outcome": f"This item is already {item.get_status_display().lower()}; nothing to log."}
    errors = {}
    if outcome == Outcome.RESCHEDULED:
        if new_date is None:
            errors["new_date"] = "Give the new date the patient agreed to."
        elif new_date < today:
            errors["new_date"] = "The new date cannot be in the past."
        elif new_date > schedule.add_months(today, 24):
            errors["new_date"] = "The new date must be within two years."
    if outcome == Outcome.DONE_ELSEWHERE:
        if done_on is None:
            errors["done_on"] = "Give the date of the imaging done elsewhere."
        elif done_on > today:
            errors["done_on"] = "The imaging date cannot be in the future."
        elif done_on < item.window_start:
            errors["done_on"] = (f"That is before this item's window (from {item.window_start:%d %b %Y}); "
                                 "it belongs to an earlier item.")
    return errors


def _reschedule(item: ScheduledItem, new_date: date) -> None:
    rules = Protocols().rules(Protocols().for_site(item.patient.site_id))
    planned = schedule.make_item(item.kind, item.laterality, new_date, item.interval_months, rules)
    item.original_due_date = item.original_due_date or item.due_date
    item.due_date, item.due_from = planned.due_date, planned.due_from
    item.overdue_after = planned.overdue_after
    item.window_start = min(item.window_start, planned.window_start)
    item.window_end, item.lost_after_date = planned.window_end, planned.lost_after_date
    # The item starts its states afresh from the new date (the digest reports them again).
    item.became_due_on = item.became_overdue_on = item.lost_on = None
    item.lost_to_follow_up = False
    item.save()
