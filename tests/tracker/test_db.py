"""`insert_rows`: what `bulk_create` does (ids back, auto_now_add set), in batches, and
what it does not (ON CONFLICT with the inserted rows' keys returned)."""

from unittest import mock

import pytest
from django.db import connection

from audit.models import AuditEvent
from tracker.db import insert_rows

pytestmark = pytest.mark.django_db


def test_rows_get_their_ids_and_timestamps_in_batches():
    events = [AuditEvent(action="export", object_id=str(i), changes={"q": f'"{i}"\\'}) for i in range(7)]
    with mock.patch.object(connection.ops, "bulk_batch_size", return_value=3):
        rows = insert_rows(events)
    assert len(rows) == 7 and [r[0] for r in rows] == [e.pk for e in events]
    saved = {e.pk: e for e in AuditEvent.objects.all()}
    for e in events:
        assert not e._state.adding and e.at is not None
        assert (saved[e.pk].object_id, saved[e.pk].changes, saved[e.pk].at) == (e.object_id, e.changes, e.at)


def test_conflicting_rows_are_skipped_and_the_others_returned(site):
    from alerts.models import Alert
    from tests.patients.factories import PatientFactory

    patient = PatientFactory(site=site)

    def alert(key):
        return Alert(patient=patient, rule="mri_washout", severity="high", dedup_key=key, reason=key)

    insert_rows([alert("a")], on_conflict="ON CONFLICT (dedup_key) DO NOTHING")
    rows = insert_rows([alert("a"), alert("b")], on_conflict="ON CONFLICT (dedup_key) DO NOTHING",
                       returning=("dedup_key",))
    assert [key for _, key in rows] == ["b"]
    assert sorted(Alert.objects.values_list("dedup_key", flat=True)) == ["a", "b"]
    assert insert_rows([]) == []
