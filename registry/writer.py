"""Write the import's new rows: one `bulk_create` per table, in batches.

Parents are written first; `bulk_create` gives them their ids (PostgreSQL, SQLite ≥
3.35), which their children take through the relation (`child.patient = patient`). No
signals, as with any `bulk_create`: the import writes its own audit events and outbox rows.
"""

from collections.abc import Sequence

from django.db import models

BATCH_SIZE = 1000


def create(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    """Insert the unsaved `objs`; each gets its primary key."""
    model._default_manager.bulk_create(objs, batch_size=BATCH_SIZE)
