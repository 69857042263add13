"""Vacuum the items table after 10,000 dead rows, not after 20% of it (PostgreSQL only).

Each daily sweep rewrites the day's few hundred items (stamps, matches), and a first
sweep or a protocol change tens of thousands. Their old versions stay in the partial
indexes the sweep reads (`item_not_yet_due_idx` …) until the table is vacuumed, and each
one costs a heap visit per day; with the default scale factor a 3-million-row table is
vacuumed only after 600,000 dead rows (months of sweeps).
"""

from django.db import migrations

TABLE = "surveillance_scheduleditem"


def set_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (autovacuum_vacuum_scale_factor = 0, "
                              "autovacuum_vacuum_threshold = 10000)")


def reset_autovacuum(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (autovacuum_vacuum_scale_factor, "
                              "autovacuum_vacuum_threshold)")


class Migration(migrations.Migration):

    dependencies = [
        ("surveillance", "0004_scheduleditem_item_became_due_idx_and_more"),
    ]

    operations = [migrations.RunPython(set_autovacuum, reset_autovacuum)]
