"""The coordinator's contact log and worklist actions, for one item or many at once.

Each contact entry may change the item it is about (rescheduled, declined, done elsewhere).
The bulk actions of the worklist (record a contact, reschedule, assign) are all or nothing:
every item is checked first and, if one cannot take the action, nothing is written and the
error names that item.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from audit.models import Action
from audit.receivers import audit_created
from audit.services import audit_event, audit_record_many
from core.permissions import WORKLIST_WORKER_ROLES, can_work_worklist
from patients.models import Patient
from patients.vocabulary import FollowUpStatus

from .. import schedule
from ..models import ContactLog, ScheduledItem
from .plans import Protocols

Outcome = ContactLog.Outcome
MAX_ASSIGN_AHEAD_DAYS = 366


class BulkError(ValidationError):
    """Items that cannot take a bulk action: {item uuid: message}, plus field errors."""

    def __init__(self, item_errors: dict[str, str], field_errors: dict[str, str] | None = None):
        super().__init__(field_errors or {"__all__": ["Some of the chosen items cannot take this action."]})
        self.item_errors = item_errors
        self.field_errors = field_errors or {}


def _require_worker(by: User) -> None:
    if not can_work_worklist(by):
        raise PermissionDenied("Only coordinators, clinic staff and admins log contacts.")


def _locked(items: Sequence[ScheduledItem]) -> list[ScheduledItem]:
    rows = (ScheduledItem.objects.select_for_update().select_related("patient")
            .filter(pk__in=[i.pk for i in items]).order_by("due_date", "id"))
    return list(rows)


@transaction.atomic
def contact_log(*, item: ScheduledItem, by: User, outcome: str, note: str = "",
                new_date: date | None = None, done_on: date | None = None,
                today: date | None = None) -> ContactLog:
    """Record a contact attempt and apply it to the item.

    rescheduled → the item moves to `new_date` (original kept), its state starts afresh;
    declined → the item is cancelled; done_elsewhere → the item is done on `done_on`.
    """
    _require_worker(by)
    today = today or timezone.localdate()
    (locked,) = _locked([item])
    errors = _validate(locked, outcome, new_date, done_on, today)
    if errors:
        raise ValidationError(errors)
    (entry,) = _apply(locked_items=[locked], by=by, outcome=outcome, note=note, new_date=new_date,
                      done_on=done_on)
    return entry


@transaction.atomic
def contacts_log(*, items: Sequence[ScheduledItem], by: User, outcome: str, note: str = "",
                 new_date: date | None = None, done_on: date | None = None,
                 today: date | None = None) -> list[ContactLog]:
    """The same contact for many items (the worklist's bulk "record contact" and
    "reschedule"): one entry per item, all or nothing (`BulkError`)."""
    _require_worker(by)
    today = today or timezone.localdate()
    locked = _locked(items)
    field_errors = _validate_input(outcome, new_date, done_on, today)
    item_errors: dict[str, str] = {}
    if not field_errors:
        for item in locked:
            for message in _validate_item(item, outcome, done_on).values():
                item_errors[str(item.uuid)] = message
    if len(locked) != len(items):
        field_errors.setdefault("__all__", "Some of the chosen items no longer exist; reload the worklist.")
    if item_errors or field_errors:
        raise BulkError(item_errors, field_errors)
    return _apply(locked_items=locked, by=by, outcome=outcome, note=note, new_date=new_date,
                  done_on=done_on)


def _apply(*, locked_items: list[ScheduledItem], by, outcome: str, note: str, new_date: date | None,
           done_on: date | None) -> list[ContactLog]:
    entries = [ContactLog(item=item, patient_id=item.patient_id, outcome=outcome, note=note.strip(), by=by,
                          new_date=new_date if outcome == Outcome.RESCHEDULED else None,
                          done_on=done_on if outcome == Outcome.DONE_ELSEWHERE else None)
               for item in locked_items]
    for entry in entries:
        entry.full_clean(exclude=["item", "patient", "by"])
    entries = ContactLog.objects.bulk_create(entries)
    audit_created(entries)  # bulk inserts send no signals: the trail's create events
    patient_ids = {item.patient_id for item in locked_items}
    if outcome in (Outcome.RESCHEDULED, Outcome.DONE_ELSEWHERE):
        # The patient is back in touch: no longer lost to follow-up.
        Patient.objects.filter(id__in=patient_ids, follow_up_status=FollowUpStatus.LOST_TO_FOLLOW_UP).update(
            follow_up_status=FollowUpStatus.ACTIVE)
    if outcome == Outcome.RESCHEDULED and new_date is not None:  # _validate_input requires it
        protocols = Protocols()
        for item in locked_items:
            _reschedule(item, new_date, protocols)
    elif outcome == Outcome.DECLINED:
        for item in locked_items:
            item.status, item.cancel_reason = ScheduledItem.Status.CANCELLED, "declined by the patient"
            item.save(update_fields=["status", "cancel_reason", "updated_at"])
    elif outcome == Outcome.DONE_ELSEWHERE:
        for item in locked_items:
            item.status, item.done_on = ScheduledItem.Status.DONE, done_on
            item.done_source = ScheduledItem.Source.ELSEWHERE
            item.save(update_fields=["status", "done_on", "done_source", "updated_at"])
    return entries


def _validate(item: ScheduledItem, outcome: str, new_date: date | None, done_on: date | None,
              today: date) -> dict[str, str]:
    return _validate_input(outcome, new_date, done_on, today) or _validate_item(item, outcome, done_on)


def _validate_input(outcome: str, new_date: date | None, done_on: date | None, today: date) -> dict[str, str]:
    """What is wrong with the action whatever the item."""
    if outcome not in Outcome.values:
        return {"outcome": "Choose what happened."}
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
    return errors


def _validate_item(item: ScheduledItem, outcome: str, done_on: date | None) -> dict[str, str]:
    """What stops this item taking the action."""
    if item.status != ScheduledItem.Status.PENDING:
        return {"outcome": f"This item is already {item.get_status_display().lower()}; nothing to log."}
    if outcome == Outcome.DONE_ELSEWHERE and done_on is not None and done_on < item.window_start:
        return {"done_on": (f"That is before this item's window (from {item.window_start:%d %b %Y}); "
                            "it belongs to an earlier item.")}
    return {}


def _reschedule(item: ScheduledItem, new_date: date, protocols: Protocols) -> None:
    rules = protocols.rules(protocols.for_site(item.patient.site_id))
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


@dataclass(frozen=True)
class Assignment:
    owner: User | None  # None: hand the items back to nobody
    due_date: date | None


def assignable_owners(*, site_ids: set[int]):
    """Active users with a worklist working role who belong to every one of `site_ids`."""
    users = get_user_model().objects.filter(is_active=True, groups__name__in=WORKLIST_WORKER_ROLES)
    for site_id in site_ids:
        users = users.filter(sites__id=site_id)
    return users.distinct().order_by("first_name", "last_name", "username")


@transaction.atomic
def items_assign(*, items: Sequence[ScheduledItem], by: User, owner: User | None,
                 due_date: date | None, today: date | None = None) -> int:
    """Hand items to a colleague (owner) to act on by `due_date`; audited per item.

    The owner must work the worklist and belong to each item's site; the date is today or
    later, within a year. `owner=None` clears the assignment.
    """
    _require_worker(by)
    today = today or timezone.localdate()
    locked = _locked(items)
    errors: dict[str, str] = {}
    if owner is not None:
        if not (owner.is_active and can_work_worklist(owner)):
            errors["owner"] = "Items go to a coordinator, clinic staff member or admin."
        else:
            member_of = set(owner.sites.values_list("id", flat=True))
            outside = [i for i in locked if i.patient.site_id not in member_of]
            if outside:
                name = owner.get_full_name() or owner.get_username()
                errors["owner"] = f"{name} does not work at the site of {len(outside)} of these items."
        if due_date is None:
            errors["due_date"] = "Give the date by which the owner should act."
        elif due_date < today:
            errors["due_date"] = "The date cannot be in the past."
        elif (due_date - today).days > MAX_ASSIGN_AHEAD_DAYS:
            errors["due_date"] = "The date must be within a year."
    if len(locked) != len(items):
        errors.setdefault("__all__", "Some of the chosen items no longer exist; reload the worklist.")
    if errors:
        raise BulkError({}, errors)
    events = []
    due_date = due_date if owner is not None else None
    for item in locked:
        before = {"owner": item.owner_id, "owner_due_date": item.owner_due_date}
        item.owner, item.owner_due_date = owner, due_date
        after = {"owner": item.owner_id, "owner_due_date": item.owner_due_date}
        changes = {k: {"before": _plain(before[k]), "after": _plain(after[k])}
                   for k in before if before[k] != after[k]}
        if changes:
            events.append(audit_event(action=Action.UPDATE, obj=item, changes=changes))
    ScheduledItem.objects.bulk_update(locked, ["owner", "owner_due_date"])
    audit_record_many(events)
    return len(locked)


def _plain(value):
    return value.isoformat() if isinstance(value, date) else value
