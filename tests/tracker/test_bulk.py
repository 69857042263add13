"""`core.bulk`: the rows its writers store equal what the ORM stores."""

from datetime import date, timedelta

import pytest
from django.db import ProgrammingError, connection
from django.test.utils import CaptureQueriesContext

from core import bulk
from surveillance.models import ContactLog, ScheduledItem
from tests.patients.factories import PatientFactory

FIELDS = ("kind", "laterality", "due_date", "interval_months", "due_from", "overdue_after", "lost_after_date",
          "window_start", "window_end", "status", "done_on", "done_source", "study_id", "visit_id",
          "cancel_reason", "became_due_on", "became_overdue_on", "lost_on", "lost_to_follow_up",
          "original_due_date")


@pytest.fixture
def patient(site):
    return PatientFactory(site=site)


def _row(patient, n: int, **extra) -> dict:
    due = date(2024, 1, 1) + timedelta(days=30 * n)
    return {"patient_id": patient.id, "kind": "mammogram", "laterality": "bilateral", "due_date": due,
            "interval_months": 12, "due_from": due - timedelta(days=30),
            "overdue_after": due + timedelta(days=60),
            "lost_after_date": due + timedelta(days=425), "window_start": due - timedelta(days=10),
            "window_end": due + timedelta(days=10), **extra}


@pytest.mark.django_db
def test_copy_objects_stores_what_bulk_create_stores(patient):
    odd = "tab\there, newline\nthere, back\\slash"
    rows = [_row(patient, n, cancel_reason=odd if n == 1 else "") for n in range(3)]
    rows[2].update(status=ScheduledItem.Status.DONE, done_on=date(2024, 3, 1),
                   done_source=ScheduledItem.Source.ELSEWHERE)
    bulk.copy_objects([ScheduledItem(**r) for r in rows])
    ScheduledItem.objects.bulk_create([ScheduledItem(**r) for r in rows])
    stored = list(ScheduledItem.objects.order_by("due_date", "id").values(*FIELDS, "uuid", "created_at"))
    assert len(stored) == 6
    for ours, orm in zip(stored[::2], stored[1::2], strict=True):
        assert {f: ours[f] for f in FIELDS} == {f: orm[f] for f in FIELDS}
        assert ours["uuid"] != orm["uuid"] and ours["created_at"] is not None
    assert stored[2]["cancel_reason"] == odd and stored[0]["status"] == "pending"
    assert len({r["uuid"] for r in stored}) == 6


def test_copy_rows_refuses_values_it_cannot_write(postgres_db, patient):
    fields = [ScheduledItem._meta.get_field(name) for name in ("patient", "kind", "cancel_reason")]
    with pytest.raises(ProgrammingError, match="dict"):
        bulk.copy_rows(ScheduledItem, fields, [(patient.id, "mammogram", {"no": 1})])


@pytest.mark.django_db
def test_update_rows_sets_each_row_its_own_values_nulls_included(patient):
    bulk.copy_objects([ScheduledItem(**_row(patient, n)) for n in range(5)])
    items = list(ScheduledItem.objects.order_by("due_date"))
    rows = [(i.id, "done", i.due_date + timedelta(days=n), "elsewhere", None, None)
            for n, i in enumerate(items)]
    with CaptureQueriesContext(connection) as ctx:
        assert bulk.update_rows(ScheduledItem, ["status", "done_on", "done_source", "study", "visit"],
                                     rows[:4]) == 4
    assert len(ctx.captured_queries) == 1  # one statement, not one per row or per field
    stored = {i.id: i for i in ScheduledItem.objects.all()}
    for item_id, status, done_on, source, _, _ in rows[:4]:
        assert (stored[item_id].status, stored[item_id].done_on, stored[item_id].done_source) == (
            status, done_on, source)
    assert stored[items[4].id].status == "pending" and stored[items[4].id].done_on is None
    assert bulk.update_rows(ScheduledItem, ["status"], []) == 0


@pytest.mark.django_db
def test_update_rows_batches_past_the_parameter_limit(patient, monkeypatch):
    monkeypatch.setattr(bulk, "PG_UPDATE_BATCH", 2)
    monkeypatch.setattr(connection.features, "max_query_params", 6)
    bulk.copy_objects([ScheduledItem(**_row(patient, n)) for n in range(5)])
    ids = list(ScheduledItem.objects.values_list("id", flat=True))
    with CaptureQueriesContext(connection) as ctx:
        assert bulk.update_rows(ScheduledItem, ["cancel_reason", "status"],
                                     [(i, f"reason {i}", "cancelled") for i in ids]) == 5
    assert len(ctx.captured_queries) == 3
    assert all(r == f"reason {i}" for i, r in ScheduledItem.objects.values_list("id", "cancel_reason"))
    assert not ContactLog.objects.exists()


@pytest.mark.django_db
def test_update_rows_refuses_a_value_too_long_for_its_column_like_the_orm(patient):
    from django.db import DataError, IntegrityError, transaction

    bulk.copy_objects([ScheduledItem(**_row(patient, 0))])
    item = ScheduledItem.objects.get()
    if connection.vendor != "postgresql":
        pytest.skip("SQLite does not enforce varchar lengths")
    with pytest.raises((DataError, IntegrityError)), transaction.atomic():
        bulk.update_rows(ScheduledItem, ["status"], [(item.id, "x" * 11)])
