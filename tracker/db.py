"""Database helpers shared by the apps."""

from collections.abc import Sequence

from django.db import DEFAULT_DB_ALIAS, connections, models


def insert_rows(objs: Sequence[models.Model], *, on_conflict: str = "",
                returning: Sequence[str] = ()) -> list[tuple]:
    """Insert unsaved `objs` of one model with `INSERT … VALUES (…), (…) {on_conflict}
    RETURNING pk, {returning}`, in batches; returns the rows RETURNING gives.

    Values are prepared as `save()` prepares them (`pre_save`, so `auto_now_add` fields
    are set on the objects, then `get_db_prep_save`). Without `on_conflict`, every object
    gets its primary key back, as from `bulk_create`; with it, rows it skipped return
    nothing, so the caller matches the rows by a returned unique column.

    Why not `bulk_create`: it cannot tell which rows `ignore_conflicts` skipped (no ids
    come back), and on PostgreSQL Django 5.2 sends a bulk insert as one array per column
    (`UNNEST`), which psycopg's client-side quoting escapes element by element in Python
    (a callback per quote character of a JSON value): 60 audit events of new alerts cost
    ~29 ms of CPU that way and ~11 ms with `VALUES`, whose values libpq quotes in C.
    PostgreSQL, and SQLite ≥ 3.35 for RETURNING.
    """
    if not objs:
        return []
    # The connection itself, not the `django.db.connection` proxy: values are prepared
    # with it ~15 times per row, and each proxy access looks the connection up again.
    connection = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    ops = connection.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(f.column) for f in fields)
    returned = ", ".join(ops.quote_name(model._meta.get_field(name).column)
                         for name in (model._meta.pk.name, *returning))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, ops.bulk_batch_size(fields, objs))
    out: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(objs), size):
            batch = objs[start:start + size]
            params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for obj in batch for f in fields]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "
                           f"{on_conflict} RETURNING {returned}", params)
            rows = cursor.fetchall()
            if not on_conflict:
                for obj, returned_row in zip(batch, rows, strict=True):
                    obj.pk = returned_row[0]
                    obj._state.adding, obj._state.db = False, connection.alias
            out += rows
    return out
