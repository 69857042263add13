"""Writing many rows at once, beside the ORM: the seeding, the import, the sweep and the alerts.

`bulk_create` and `bulk_update` do per-instance, per-field work in Python that dominated
writing a cohort, an import, a first sweep or a chunk's alerts (issue 9,
docs/performance.md). One module holds the ways round it, each for one kind of write:

- `copy_rows(model, fields, rows)`: rows given as tuples in the order of `fields`, values
  already what the ORM would store. PostgreSQL receives them with COPY in its text format
  (written here: psycopg's `write_row` adapts value by value), other databases with
  `executemany`.
- `insert_dicts(model, rows)`: rows given as {attname: value}; a field a row leaves out
  gets its model default (`Defaults`), as the ORM would store it; then `copy_rows`.
- `update_rows(model, fields, rows)`: one `UPDATE … FROM (VALUES …)` per batch, instead
  of `bulk_update`'s `CASE WHEN id = …` per field.
- `insert_values(objs, on_conflict=…, returning=…)`: model instances with
  `INSERT … VALUES … ON CONFLICT … RETURNING`, when the caller needs to know which rows
  were written.
- `reserve_ids(model, n)`: primary keys taken from the table's sequence up front, so
  children can point at parents written in the same COPY pass.

None of them sends model signals (nor do `bulk_create` and `bulk_update`).
"""

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any, cast
from uuid import UUID

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.utils import timezone

# Rows per UPDATE on PostgreSQL (a statement of a few hundred kB).
PG_UPDATE_BATCH = 2000
# Rows per write to the COPY stream.
COPY_BATCH = 1000


# --- COPY --------------------------------------------------------------------------------------

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
# Written by str() as PostgreSQL reads them (a datetime with its offset).
_AS_STR = {int, date, datetime, Decimal, UUID}


def copy_text(value) -> str:
    """One value in COPY's text format.

    Values must be None, bool, str, int, float, Decimal, date, datetime or UUID.
    """
    kind = type(value)
    if kind in _AS_STR:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "t" if value else "f"
    if kind is str:
        return value.translate(_ESCAPES)
    if kind is float:
        return repr(value)
    # Subclasses, e.g. the models' TextChoices members: str() gives their value.
    if isinstance(value, str):
        return str(value).translate(_ESCAPES)
    if isinstance(value, (int, Decimal, date, UUID)):
        return str(value)
    raise TypeError(f"copy_text cannot write {kind.__name__} values")


def copy_rows(model: type[models.Model], fields: Sequence[models.Field], rows: Sequence[tuple]) -> int:
    """Insert `rows` (tuples in the order of `fields`): COPY on PostgreSQL, executemany
    elsewhere. Values must already be what the ORM would store (defaults filled in,
    auto_now fields set). Returns the number of rows."""
    if not rows:
        return 0
    qn = connection.ops.quote_name
    table = qn(model._meta.db_table)
    cols = ", ".join(qn(_column(f)) for f in fields)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for start in range(0, len(rows), COPY_BATCH):
                    lines = ["\t".join([copy_text(v) for v in row]) for row in rows[start:start + COPY_BATCH]]
                    lines.append("")
                    copy.write("\n".join(lines))
        else:
            marks = ", ".join(["%s"] * len(fields))
            prepped = [tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))
                       for row in rows]
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", prepped)
    return len(rows)


class Defaults:
    """Turns {attname: value} into a tuple in the order of `fields`, a missing field given
    what the ORM would store: `now` for auto_now(_add) fields, a new value of a callable
    default (uuid4) per row, the field's default otherwise."""

    def __init__(self, fields: Sequence[models.Field], now: datetime | None = None):
        now = now or timezone.now()
        self.fields = list(fields)
        self._plan: list[tuple[str, int, Any]] = []  # (attname, kind, value): kind 0 constant, 1 callable
        for f in self.fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self._plan.append((f.attname, 0, now))
            elif f.has_default() and callable(f.default):
                self._plan.append((f.attname, 1, f.default))
            else:
                self._plan.append((f.attname, 0, f.get_default()))

    def row(self, values: dict) -> tuple:
        return tuple(values[name] if name in values else (default() if kind else default)
                     for name, kind, default in self._plan)


def insert_dicts(model: type[models.Model], rows: Sequence[dict]) -> int:
    """Insert rows given as {attname: value}; the primary key comes from the database."""
    if not rows:
        return 0
    defaults = Defaults([f for f in model._meta.concrete_fields if not f.primary_key])
    return copy_rows(model, defaults.fields, [defaults.row(r) for r in rows])


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """Reserve `n` primary keys for `model` (inside the writing transaction)."""
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                           [table, n])
            return [r[0] for r in cursor.fetchall()]
        # SQLite: the transaction holds the write lock, so nobody else takes these ids;
        # past the AUTOINCREMENT counter too, so ids of deleted rows are never reused.
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")
        start = cursor.fetchone()[0]
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        start = max(start, row[0] if row else 0) + 1
        return list(range(start, start + n))


# --- UPDATE … FROM (VALUES …) ---------------------------------------------------------------------

def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
    """Set `fields` of the rows whose primary key is each tuple's first value.

    `rows` are (pk, value of fields[0], value of fields[1], …). Returns rows updated.
    PostgreSQL and SQLite (≥ 3.33) both speak `UPDATE … FROM`.
    """
    if not rows:
        return 0
    meta = model._meta
    pk = meta.pk
    assert pk is not None
    columns = [pk, *(cast(models.Field, meta.get_field(name)) for name in fields)]
    qn = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    # PostgreSQL types a VALUES column from its values (NULLs alone would be text), so each
    # value is cast to its column's type; strings to text, since an explicit cast to
    # varchar(n) would silently cut a value the column's own check refuses.
    marks = ", ".join(f"CAST(%s AS {_cast_type(f)})" if postgres else "%s" for f in columns)
    assignments = ", ".join(f"{qn(_column(f))} = v.column{n}" for n, f in enumerate(columns[1:], start=2))
    table = qn(meta.db_table)
    if postgres:
        batch = PG_UPDATE_BATCH
    else:
        batch = max(1, (connection.features.max_query_params or 999) // len(columns))
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch):
            chunk = rows[start:start + batch]
            values = ", ".join([f"({marks})"] * len(chunk))
            params = [f.get_db_prep_save(v, connection) for row in chunk
                      for f, v in zip(columns, row, strict=True)]
            cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v"
                           f" WHERE {table}.{qn(_column(pk))} = v.column1", params)
            updated += cursor.rowcount
    return updated


def _column(field: models.Field) -> str:
    assert field.column is not None  # a concrete field
    return field.column


def _cast_type(field: models.Field) -> str:
    db_type = field.cast_db_type(connection)
    assert db_type is not None  # a concrete field
    return "text" if db_type.startswith("varchar") else db_type


# --- INSERT … VALUES … RETURNING ------------------------------------------------------------------

def insert_values(objs: Sequence[models.Model], *, on_conflict: str = "",
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
    conn = connections[DEFAULT_DB_ALIAS]
    model = type(objs[0])
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    ops = conn.ops
    table = ops.quote_name(model._meta.db_table)
    columns = ", ".join(ops.quote_name(_column(f)) for f in fields)
    returned = ", ".join(ops.quote_name(_column(cast(models.Field, model._meta.get_field(name))))
                         for name in (model._meta.pk.name, *returning))
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    size = max(1, ops.bulk_batch_size(fields, objs))
    out: list[tuple] = []
    with conn.cursor() as cursor:
        for start in range(0, len(objs), size):
            batch = objs[start:start + size]
            params = [f.get_db_prep_save(f.pre_save(obj, True), conn) for obj in batch for f in fields]
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * len(batch))} "
                           f"{on_conflict} RETURNING {returned}", params)
            rows = cursor.fetchall()
            if not on_conflict:
                for obj, returned_row in zip(batch, rows, strict=True):
                    obj.pk = returned_row[0]
                    obj._state.adding, obj._state.db = False, conn.alias
            out += rows
    return out
