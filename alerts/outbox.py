"""Writing outbox rows: called inside the transaction of the clinical change."""

from django.db import transaction

from .models import Outbox


def outbox_write(*, patient_id: int, study_id: int | None, kind: str) -> Outbox:
    """Record work to do, and enqueue it after commit.

    Must run inside the caller's transaction. If the broker is down at commit, the error
    is logged and swallowed (the clinical change is saved) and the sweep processes the row.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_write must run in the transaction of the change it records")
    row = Outbox.objects.create(patient_id=patient_id, study_id=study_id, kind=kind)
    transaction.on_commit(lambda: _enqueue(row.id))
    return row


def _enqueue(outbox_id: int) -> None:
    from .tasks import enqueue, process_outbox

    enqueue(process_outbox, outbox_id)
