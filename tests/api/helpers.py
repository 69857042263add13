"""Builders shared by the API tests."""

from datetime import date

from surveillance import schedule
from surveillance.models import ScheduledItem


def scheduled(patient, due: date, kind: str = "mammogram", laterality: str = "bilateral",
              **fields) -> ScheduledItem:
    """A scheduled item with the state dates of the default protocol."""
    planned = schedule.make_item(kind, laterality if kind != "clinical_exam" else "", due, 12)
    return ScheduledItem.objects.create(
        patient=patient, kind=planned.kind, laterality=planned.laterality,
        due_date=planned.due_date, interval_months=planned.interval_months,
        due_from=planned.due_from, overdue_after=planned.overdue_after,
        lost_after_date=planned.lost_after_date, window_start=planned.window_start,
        window_end=planned.window_end, **fields)
