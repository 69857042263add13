"""Writing outbox rows: called inside the transaction of the clinical change."""

from django.db import transaction

from .models import Outbox


def outbox_write(*, patient_id: int, study_id: int | None, kind: str) -> Outbox:
    """Record work to do after commit. Must run inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox_write must run in the transaction of the change it records")
    return Outbox.objects.create(patient_id=patient_id, study_id=study_id, kind=kind)
